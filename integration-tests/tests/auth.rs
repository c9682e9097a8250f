//! The denial matrix: who may do what on a secure cluster of real binaries (TLS, x509 and
//! token authentication, `Node,RBAC` authorization, NodeRestriction, the kubelet API's own
//! authentication and SubjectAccessReview). Each case makes one call as one identity and
//! asserts the exact gRPC code and message of the refusal; most have an allowed counterpart,
//! the same call by an identity that holds the permission, so that a refusal proves the
//! rule and not a broken path. Calls go through the generated gRPC stubs on a TLS channel of
//! `pki::tls`, so the code seen is the server's and not a client library's mapping.
//!
//! Identities: the admin (admin.kubeconfig); users with certificates the test issues from the
//! cluster CA (`alice` edit, `bob` admin, `carol` view in namespace `team`, `dave` one
//! configmap, `erin` nodes/proxy + nodes/stats cluster-wide); the kubelets' own certificates
//! from the CSR join; ServiceAccount tokens from TokenRequest (and forged ones); bootstrap
//! tokens; a pod reading the API with its mounted token through `ctl`'s in-cluster config.
//!
//! Every case is recorded; the test prints the whole table (also to
//! `target/auth-report.txt`) and fails naming every case that did not hold.
//!
//! Needs root, Docker and busybox-static: skipped with a message outside CI, failing in CI.

use integration_tests::cluster::{Cluster, Options, is_ready, prerequisites, wait_for};
use integration_tests::text;
use proto::k8s::api_client::ApiClient;
use proto::k8s::authentication_client::AuthenticationClient;
use proto::k8s::authorization_client::AuthorizationClient;
use proto::kubelet_api::kubelet_client::KubeletClient;
use proto::kubelet_api::{ExecRequest, LogsRequest, StatsRequest};
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};
use tonic::Code;
use tonic::Status;
use tonic::metadata::{Ascii, MetadataValue};
use tonic::service::interceptor::InterceptedService;
use tonic::transport::{Channel, Endpoint};

const NS: &str = "team";
/// A CSR for the approval case (the refusal comes before the object is looked at).
const CSR_SOMEONE: &str = "apiVersion: certificates.k8s.io/v1\nkind: CertificateSigningRequest\n\
    metadata: {name: someone}\n\
    spec: {signerName: kubernetes.io/kube-apiserver-client, usages: [client auth]}\n";
const OTHER_NS: &str = "other";

// ---------------------------------------------------------------------------------------
// Callers: one TLS channel per identity, an optional bearer token on every request.

#[derive(Clone)]
struct Bearer(Option<MetadataValue<Ascii>>);

impl tonic::service::Interceptor for Bearer {
    fn call(&mut self, mut req: tonic::Request<()>) -> Result<tonic::Request<()>, Status> {
        if let Some(v) = &self.0 {
            req.metadata_mut().insert("authorization", v.clone());
        }
        Ok(req)
    }
}

type Svc = InterceptedService<Channel, Bearer>;

/// What a caller presents: a client certificate, a bearer token, both or nothing.
#[derive(Clone, Default)]
struct Credentials {
    cert: Option<(String, String)>,
    token: Option<String>,
}

impl Credentials {
    fn anonymous() -> Self {
        Self::default()
    }
    fn cert(issued: &pki::ca::Issued) -> Self {
        Credentials {
            cert: Some((issued.cert_pem.clone(), issued.key_pem.clone())),
            token: None,
        }
    }
    fn pem(cert_pem: &str, key_pem: &str) -> Self {
        Credentials {
            cert: Some((cert_pem.to_string(), key_pem.to_string())),
            token: None,
        }
    }
    fn token(token: &str) -> Self {
        Credentials {
            cert: None,
            token: Some(token.to_string()),
        }
    }
}

/// One identity's stubs on one TLS channel (to the apiserver, or straight to a kubelet).
#[derive(Clone)]
struct Caller {
    api: ApiClient<Svc>,
    kubelet: KubeletClient<Svc>,
    authn: AuthenticationClient<Svc>,
    authz: AuthorizationClient<Svc>,
}

/// A lazy channel to `addr` (host:port) trusting `ca_pem`, presenting `creds`.
fn dial(addr: &str, ca_pem: &str, creds: &Credentials) -> Caller {
    let identity = creds.cert.as_ref().map(|(c, k)| {
        pki::tls::ClientIdentity::from_pem(c, k).expect("a client identity from PEM")
    });
    let config = pki::tls::client_config(&pki::tls::ServerTrust::Ca(ca_pem.to_string()), identity)
        .expect("a TLS client config");
    let connector = pki::tls::Connector::new(config, None);
    let channel = Endpoint::from_shared(format!("http://{addr}"))
        .expect("endpoint")
        .connect_timeout(Duration::from_secs(5))
        .connect_with_connector_lazy(connector);
    let bearer = Bearer(creds.token.as_ref().map(|t| {
        format!("Bearer {t}")
            .parse()
            .expect("a token is ASCII metadata")
    }));
    let svc = InterceptedService::new(channel, bearer);
    Caller {
        api: ApiClient::new(svc.clone()),
        kubelet: KubeletClient::new(svc.clone()),
        authn: AuthenticationClient::new(svc.clone()),
        authz: AuthorizationClient::new(svc),
    }
}

fn object(yaml: &str) -> proto::k8s::Object {
    let mut objects = proto::manifest::load_documents(yaml).expect("a valid manifest");
    assert_eq!(objects.len(), 1, "one object: {yaml}");
    objects.remove(0)
}

impl Caller {
    async fn get(
        &self,
        resource: &str,
        ns: &str,
        name: &str,
    ) -> Result<proto::k8s::Object, Status> {
        let req = proto::k8s::GetRequest {
            resource: resource.into(),
            namespace: ns.into(),
            name: name.into(),
        };
        self.api.clone().get(req).await.map(|r| r.into_inner())
    }

    async fn list(&self, resource: &str, ns: &str) -> Result<usize, Status> {
        let req = proto::k8s::ListRequest {
            resource: resource.into(),
            namespace: ns.into(),
            ..Default::default()
        };
        self.api
            .clone()
            .list(req)
            .await
            .map(|r| r.into_inner().items.len())
    }

    async fn create(&self, yaml: &str) -> Result<proto::k8s::Object, Status> {
        let req = proto::k8s::CreateRequest {
            object: Some(object(yaml)),
            dry_run: false,
            ..Default::default()
        };
        self.api.clone().create(req).await.map(|r| r.into_inner())
    }

    async fn update(&self, yaml: &str, subresource: &str) -> Result<proto::k8s::Object, Status> {
        let req = proto::k8s::UpdateRequest {
            object: Some(object(yaml)),
            subresource: subresource.into(),
            dry_run: false,
            ..Default::default()
        };
        self.api.clone().update(req).await.map(|r| r.into_inner())
    }

    async fn patch(
        &self,
        resource: &str,
        ns: &str,
        name: &str,
        patch: serde_json::Value,
        subresource: &str,
    ) -> Result<proto::k8s::Object, Status> {
        let req = proto::k8s::PatchRequest {
            resource: resource.into(),
            namespace: ns.into(),
            name: name.into(),
            patch_type: "merge".into(),
            patch: patch.to_string(),
            subresource: subresource.into(),
            dry_run: false,
            ..Default::default()
        };
        self.api.clone().patch(req).await.map(|r| r.into_inner())
    }

    async fn delete(
        &self,
        resource: &str,
        ns: &str,
        name: &str,
    ) -> Result<proto::k8s::Object, Status> {
        let req = proto::k8s::DeleteRequest {
            resource: resource.into(),
            namespace: ns.into(),
            name: name.into(),
            ..Default::default()
        };
        self.api.clone().delete(req).await.map(|r| r.into_inner())
    }

    async fn exec(&self, ns: &str, pod: &str, command: &[&str]) -> Result<String, Status> {
        let req = ExecRequest {
            namespace: ns.into(),
            pod: pod.into(),
            container: String::new(),
            command: command.iter().map(|s| s.to_string()).collect(),
        };
        let resp = self.kubelet.clone().exec(req).await?.into_inner();
        Ok(text(&resp.output))
    }

    /// The first chunk of a pod's log (or the refusal).
    async fn logs(&self, ns: &str, pod: &str) -> Result<(), Status> {
        let req = LogsRequest {
            namespace: ns.into(),
            pod: pod.into(),
            ..Default::default()
        };
        let mut stream = self.kubelet.clone().logs(req).await?.into_inner();
        stream.message().await.map(|_| ())
    }

    async fn stats(&self, node: &str) -> Result<usize, Status> {
        let req = StatsRequest {
            node: node.into(),
            ..Default::default()
        };
        self.kubelet
            .clone()
            .stats(req)
            .await
            .map(|r| r.into_inner().pods.len())
    }

    /// `whoami`: the user name the apiserver authenticated.
    async fn whoami(&self) -> Result<String, Status> {
        let resp = self
            .authn
            .clone()
            .create_self_subject_review(proto::k8s::SelfSubjectReview::default())
            .await?
            .into_inner();
        Ok(resp
            .status
            .and_then(|s| s.user_info)
            .map(|u| u.username)
            .unwrap_or_default())
    }

    /// A TokenRequest for `ns/sa` with `audiences` (empty: the apiserver's), bound to the
    /// pod `(name, uid)` when given.
    async fn create_token(
        &self,
        ns: &str,
        sa: &str,
        audiences: &[&str],
        pod: Option<(&str, &str)>,
    ) -> Result<String, Status> {
        let req = proto::k8s::TokenRequest {
            metadata: Some(proto::k8s::ObjectMeta {
                name: sa.into(),
                namespace: ns.into(),
                ..Default::default()
            }),
            spec: Some(proto::k8s::TokenRequestSpec {
                audiences: audiences.iter().map(|s| s.to_string()).collect(),
                bound_object_ref: pod.map(|(name, uid)| proto::k8s::BoundObjectReference {
                    kind: "Pod".into(),
                    api_version: "v1".into(),
                    name: name.into(),
                    uid: uid.into(),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let resp = self.authn.clone().create_token(req).await?.into_inner();
        Ok(resp.status.map(|s| s.token).unwrap_or_default())
    }
}

// ---------------------------------------------------------------------------------------
// The matrix: every case's outcome, printed as a table at the end.

struct Matrix {
    rows: Vec<(String, Result<(), String>)>,
    denials: usize,
}

impl Matrix {
    fn new() -> Self {
        Matrix {
            rows: vec![],
            denials: 0,
        }
    }

    fn record(&mut self, case: &str, outcome: Result<(), String>) {
        let mark = if outcome.is_ok() { "PASS" } else { "FAIL" };
        eprintln!(
            "{mark} {case}{}",
            outcome
                .as_ref()
                .err()
                .map(|e| format!(": {e}"))
                .unwrap_or_default()
        );
        self.rows.push((case.to_string(), outcome));
    }

    /// The call must fail with exactly `code` and `message`.
    fn denied<T: std::fmt::Debug>(
        &mut self,
        case: &str,
        got: Result<T, Status>,
        code: Code,
        message: &str,
    ) {
        self.denials += 1;
        let outcome = match got {
            Ok(v) => Err(format!(
                "allowed, expected {code:?} {message:?}; got {:.200}",
                format!("{v:?}")
            )),
            Err(s) if s.code() == code && s.message() == message => Ok(()),
            Err(s) => Err(format!(
                "got {:?} {:?}, expected {code:?} {message:?}",
                s.code(),
                s.message()
            )),
        };
        self.record(&format!("DENY  {case}"), outcome);
    }

    /// The call must succeed; gives its value.
    fn allowed<T>(&mut self, case: &str, got: Result<T, Status>) -> Option<T> {
        match got {
            Ok(v) => {
                self.record(&format!("ALLOW {case}"), Ok(()));
                Some(v)
            }
            Err(s) => {
                self.record(
                    &format!("ALLOW {case}"),
                    Err(format!("refused: {:?} {:?}", s.code(), s.message())),
                );
                None
            }
        }
    }

    /// A condition checked by hand (a value, not only success).
    fn check(&mut self, case: &str, ok: bool, detail: impl FnOnce() -> String) {
        self.record(
            &format!("CHECK {case}"),
            if ok { Ok(()) } else { Err(detail()) },
        );
    }

    fn finish(self) {
        let failed: Vec<&(String, Result<(), String>)> =
            self.rows.iter().filter(|(_, r)| r.is_err()).collect();
        let mut table = format!(
            "auth matrix: {} cases ({} denials), {} failed\n",
            self.rows.len(),
            self.denials,
            failed.len()
        );
        for (case, r) in &self.rows {
            match r {
                Ok(()) => table.push_str(&format!("  pass  {case}\n")),
                Err(e) => table.push_str(&format!("  FAIL  {case}: {e}\n")),
            }
        }
        eprintln!("{table}");
        let path = integration_tests::target_dir().join("auth-report.txt");
        let _ = std::fs::write(path, &table);
        assert!(
            self.denials >= 40,
            "at least 40 denial cases, got {}",
            self.denials
        );
        assert!(failed.is_empty(), "{} cases failed:\n{table}", failed.len());
    }
}

// ---------------------------------------------------------------------------------------
// Kubernetes' refusal messages.

/// `User "u" cannot VERB resource "RES[/SUB]" in API group "G" in the namespace "ns"` (or
/// at the cluster scope), prefixed by the resource (and name) refused, as kube-apiserver.
/// `resource` may name a subresource: `pods/exec`.
fn forbidden(
    user: &str,
    verb: &str,
    group: &str,
    resource: &str,
    ns: &str,
    name: &str,
    reason: &str,
) -> String {
    let base = resource.split('/').next().unwrap_or(resource);
    let qualified = if group.is_empty() {
        base.to_string()
    } else {
        format!("{base}.{group}")
    };
    let head = if name.is_empty() {
        format!("{qualified} is forbidden")
    } else {
        format!("{qualified} \"{name}\" is forbidden")
    };
    let scope = if ns.is_empty() {
        "at the cluster scope".to_string()
    } else {
        format!("in the namespace \"{ns}\"")
    };
    let tail = if reason.is_empty() {
        String::new()
    } else {
        format!(": {reason}")
    };
    format!(
        "{head}: User \"{user}\" cannot {verb} resource \"{resource}\" in API group \"{group}\" {scope}{tail}"
    )
}

/// The kubelet's refusal (Kubernetes' kubelet server wording).
fn kubelet_forbidden(user: &str, subresource: &str) -> String {
    format!("Forbidden (user={user}, verb=get, resource=nodes, subresource={subresource})")
}

/// The Node authorizer's reason for a graph object no pod of the node references.
fn no_relationship(node: &str) -> String {
    format!("no relationship found between node '{node}' and this object")
}

// ---------------------------------------------------------------------------------------
// Fixtures.

fn now_secs() -> i64 {
    SystemTime::now()
        .duration_since(UNIX_EPOCH)
        .map(|d| d.as_secs() as i64)
        .unwrap_or(0)
}

/// A client certificate from `ca` (usages: client auth unless given).
fn issue(ca: &pki::ca::Ca, cn: &str, orgs: &[&str], usages: &[pki::ca::Usage]) -> pki::ca::Issued {
    let spec = spec(cn, orgs, usages);
    ca.issue(&spec).expect("issue a certificate")
}

fn spec(cn: &str, orgs: &[&str], usages: &[pki::ca::Usage]) -> pki::ca::CertSpec {
    pki::ca::CertSpec {
        common_name: cn.to_string(),
        organizations: orgs.iter().map(|s| s.to_string()).collect(),
        dns_names: vec![],
        ip_addresses: vec![],
        usages: usages.to_vec(),
        validity: Duration::from_secs(3600),
    }
}

/// The cert and key PEM blocks of a combined file (the kubelet's `*-current.pem`).
fn split_pem(pem: &str) -> (String, String) {
    let mut cert = String::new();
    let mut key = String::new();
    let mut current: Option<bool> = None;
    for line in pem.lines() {
        if line.starts_with("-----BEGIN ") {
            current = Some(line.contains("PRIVATE KEY"));
        }
        match current {
            Some(true) => key.push_str(&format!("{line}\n")),
            Some(false) => cert.push_str(&format!("{line}\n")),
            None => {}
        }
        if line.starts_with("-----END ") {
            current = None;
        }
    }
    (cert, key)
}

/// A sleeping busybox pod pinned to `node` with a Secret and a ConfigMap volume.
fn node_pod(name: &str, node: &str, secret: &str, configmap: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Pod
metadata: {{name: {name}, namespace: {NS}}}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: local/busybox:1
    command: ["sh", "-c", "echo started; sleep 3600"]
    volumeMounts:
    - {{name: s, mountPath: /s}}
    - {{name: c, mountPath: /c}}
  volumes:
  - {{name: s, secret: {{secretName: {secret}}}}}
  - {{name: c, configMap: {{name: {configmap}}}}}
"#
    )
}

fn role_binding(name: &str, ns: &str, role_kind: &str, role: &str, user: &str) -> String {
    format!(
        r#"apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: {name}, namespace: {ns}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: {role_kind}, name: {role}}}
subjects:
- {{apiGroup: rbac.authorization.k8s.io, kind: User, name: {user}}}
"#
    )
}

async fn wait_pod_ready(c: &Cluster, ns: &str, name: &str) -> proto::k8s::Pod {
    let pods = c.pods_api(ns);
    wait_for(
        Duration::from_secs(120),
        &format!("pod {ns}/{name} ready"),
        async || pods.get_opt(name).await.ok().flatten().filter(is_ready),
    )
    .await
}

fn uid_of(o: &proto::k8s::Object) -> String {
    use proto::k8s::object::Kind;
    let meta = match &o.kind {
        Some(Kind::ServiceAccount(sa)) => sa.metadata.as_ref(),
        Some(Kind::Pod(p)) => p.metadata.as_ref(),
        _ => None,
    };
    meta.map(|m| m.uid.clone()).unwrap_or_default()
}

// ---------------------------------------------------------------------------------------

#[test]
fn denial_matrix_through_the_real_binaries() {
    if !prerequisites("auth_denial_matrix") {
        return;
    }
    // The matrix is one long async fn: in a debug build its poll frame outgrows the 2 MiB
    // of a test thread, so it runs on a thread of its own with room (the cluster's Drop
    // still runs there on a panic, which is then passed on).
    let runner = std::thread::Builder::new()
        .name("auth-matrix".into())
        .stack_size(64 << 20)
        .spawn(|| {
            tokio::runtime::Builder::new_multi_thread()
                .worker_threads(2)
                .enable_all()
                .build()
                .expect("a tokio runtime")
                .block_on(denial_matrix())
        })
        .expect("spawn the matrix thread");
    if let Err(panic) = runner.join() {
        std::panic::resume_unwind(panic);
    }
}

async fn denial_matrix() {
    let started = Instant::now();
    let opts = Options {
        nodes: 2,
        ..Options::default()
    };
    let mut c = Cluster::start("auth", opts).await;
    let up = started.elapsed();
    let mut m = Matrix::new();

    let addr = c.addr().to_string();
    let ca_pem = c.ca_pem();
    let ca_key = std::fs::read_to_string(c.pki_file("ca.key")).expect("the CA key");
    let ca = pki::ca::Ca::from_pem(&ca_pem, &ca_key).expect("the cluster CA");
    let at = |creds: &Credentials| dial(&addr, &ca_pem, creds);
    let admin_kc = std::fs::read_to_string(c.kubeconfig("admin")).expect("admin.kubeconfig");
    let admin_kc = client::Kubeconfig::from_yaml(&admin_kc).expect("admin kubeconfig");
    let admin = match admin_kc
        .connection(None)
        .expect("admin connection")
        .credentials
    {
        client::Credentials::ClientCert { cert_pem, key_pem } => {
            at(&Credentials::pem(&cert_pem, &key_pem))
        }
        other => panic!("the admin kubeconfig holds a client certificate, not {other:?}"),
    };
    let n0 = c.nodes[0].name.clone();
    let n1 = c.nodes[1].name.clone();
    let node_user = |n: &str| format!("system:node:{n}");

    // ---- Setup, as the admin. ----
    let setup = |r: Result<proto::k8s::Object, Status>, what: &str| {
        r.unwrap_or_else(|s| panic!("setup: {what}: {:?} {}", s.code(), s.message()))
    };
    for ns in [NS, OTHER_NS] {
        setup(
            admin
                .create(&format!(
                    "apiVersion: v1\nkind: Namespace\nmetadata: {{name: {ns}}}\n"
                ))
                .await,
            "namespace",
        );
    }
    for ns in [NS, OTHER_NS] {
        c.wait_namespace_ready(ns).await;
    }
    for (name, value) in [("s0", "zero"), ("s1", "one"), ("unused", "none")] {
        setup(
            admin
                .create(&format!(
                    "apiVersion: v1\nkind: Secret\nmetadata: {{name: {name}, namespace: {NS}}}\nstringData: {{k: {value}}}\n"
                ))
                .await,
            "secret",
        );
    }
    for name in ["cm0", "cm1", "allowed", "other"] {
        setup(
            admin
                .create(&format!(
                    "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: {name}, namespace: {NS}}}\ndata: {{k: v}}\n"
                ))
                .await,
            "configmap",
        );
    }
    for (user, role) in [("alice", "edit"), ("bob", "admin"), ("carol", "view")] {
        setup(
            admin
                .create(&role_binding(
                    &format!("{user}-{role}"),
                    NS,
                    "ClusterRole",
                    role,
                    user,
                ))
                .await,
            "rolebinding",
        );
    }
    setup(
        admin
            .create(&format!(
                r#"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: one-configmap, namespace: {NS}}}
rules:
- {{apiGroups: [""], resources: [configmaps], resourceNames: [allowed], verbs: [get]}}
"#
            ))
            .await,
        "role",
    );
    setup(
        admin
            .create(&role_binding(
                "dave-one",
                NS,
                "Role",
                "one-configmap",
                "dave",
            ))
            .await,
        "rolebinding",
    );
    setup(
        admin
            .create(
                r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: e2e-node-proxy}
rules:
- {apiGroups: [""], resources: [nodes/proxy, nodes/stats], verbs: [get]}
"#,
            )
            .await,
        "clusterrole",
    );
    setup(
        admin
            .create(
                r#"apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: e2e-node-proxy-erin}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: e2e-node-proxy}
subjects:
- {apiGroup: rbac.authorization.k8s.io, kind: User, name: erin}
"#,
            )
            .await,
        "clusterrolebinding",
    );
    // The in-cluster reader: a ServiceAccount allowed to get and list pods in `team`.
    setup(
        admin
            .create(&format!("apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: reader, namespace: {NS}}}\n"))
            .await,
        "serviceaccount",
    );
    setup(
        admin
            .create(&format!(
                r#"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: pod-reader, namespace: {NS}}}
rules:
- {{apiGroups: [""], resources: [pods], verbs: [get, list]}}
"#
            ))
            .await,
        "role",
    );
    setup(
        admin
            .create(&format!(
                r#"apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {{name: reader-pods, namespace: {NS}}}
roleRef: {{apiGroup: rbac.authorization.k8s.io, kind: Role, name: pod-reader}}
subjects:
- {{kind: ServiceAccount, name: reader, namespace: {NS}}}
"#
            ))
            .await,
        "rolebinding",
    );
    // A pod per node, each with its own Secret and ConfigMap: the Node authorizer's graph.
    setup(
        admin.create(&node_pod("p0", &n0, "s0", "cm0")).await,
        "pod p0",
    );
    setup(
        admin.create(&node_pod("p1", &n1, "s1", "cm1")).await,
        "pod p1",
    );
    wait_pod_ready(&c, NS, "p0").await;
    wait_pod_ready(&c, NS, "p1").await;

    let alice_cert = issue(&ca, "alice", &[], &[pki::ca::Usage::ClientAuth]);
    let alice = at(&Credentials::cert(&alice_cert));
    let bob = at(&Credentials::cert(&issue(
        &ca,
        "bob",
        &[],
        &[pki::ca::Usage::ClientAuth],
    )));
    let carol = at(&Credentials::cert(&issue(
        &ca,
        "carol",
        &[],
        &[pki::ca::Usage::ClientAuth],
    )));
    let dave = at(&Credentials::cert(&issue(
        &ca,
        "dave",
        &[],
        &[pki::ca::Usage::ClientAuth],
    )));
    let erin_cert = issue(&ca, "erin", &[], &[pki::ca::Usage::ClientAuth]);
    let anonymous = at(&Credentials::anonymous());

    // ================= Authentication at the apiserver =================
    m.allowed(
        "admin (system:masters) lists pods",
        admin.list("pods", NS).await,
    );
    m.denied(
        "no certificate, no token: anonymous lists pods",
        anonymous.list("pods", NS).await,
        Code::PermissionDenied,
        &forbidden("system:anonymous", "list", "", "pods", NS, "", ""),
    );
    m.denied(
        "anonymous creates a namespace",
        anonymous
            .create("apiVersion: v1\nkind: Namespace\nmetadata: {name: anon}\n")
            .await,
        Code::PermissionDenied,
        &forbidden("system:anonymous", "create", "", "namespaces", "", "", ""),
    );
    let who = m.allowed(
        "a certificate from the cluster CA authenticates",
        alice.whoami().await,
    );
    m.check(
        "the certificate's CN is the user",
        who.as_deref() == Some("alice"),
        || format!("whoami: {who:?}"),
    );
    let other_ca = pki::ca::Ca::generate("other-ca", Duration::from_secs(86400)).expect("other CA");
    m.denied(
        "a certificate from another CA",
        at(&Credentials::cert(&issue(
            &other_ca,
            "alice",
            &[],
            &[pki::ca::Usage::ClientAuth],
        )))
        .list("pods", NS)
        .await,
        Code::Unauthenticated,
        "Unauthorized: x509: certificate signed by unknown authority",
    );
    m.denied(
        "system:masters from another CA",
        at(&Credentials::cert(&issue(
            &other_ca,
            "kubernetes-admin",
            &["system:masters"],
            &[pki::ca::Usage::ClientAuth],
        )))
        .list("secrets", NS)
        .await,
        Code::Unauthenticated,
        "Unauthorized: x509: certificate signed by unknown authority",
    );
    let now = SystemTime::now();
    let expired = ca
        .issue_with_validity(
            &spec("alice", &[], &[pki::ca::Usage::ClientAuth]),
            now - Duration::from_secs(2 * 86400),
            now - Duration::from_secs(86400),
        )
        .expect("an expired certificate");
    m.denied(
        "an expired certificate",
        at(&Credentials::cert(&expired)).list("pods", NS).await,
        Code::Unauthenticated,
        "Unauthorized: x509: certificate has expired or is not yet valid",
    );
    let future = ca
        .issue_with_validity(
            &spec("alice", &[], &[pki::ca::Usage::ClientAuth]),
            now + Duration::from_secs(86400),
            now + Duration::from_secs(2 * 86400),
        )
        .expect("a not yet valid certificate");
    m.denied(
        "a certificate not valid yet",
        at(&Credentials::cert(&future)).list("pods", NS).await,
        Code::Unauthenticated,
        "Unauthorized: x509: certificate has expired or is not yet valid",
    );
    m.denied(
        "a server-only certificate used as a client",
        at(&Credentials::cert(&issue(
            &ca,
            "alice",
            &[],
            &[pki::ca::Usage::ServerAuth],
        )))
        .list("pods", NS)
        .await,
        Code::Unauthenticated,
        "Unauthorized: x509: certificate specifies an incompatible key usage",
    );

    // ServiceAccount tokens.
    let reader_token = admin.create_token(NS, "reader", &[], None).await;
    let reader_token = m
        .allowed("TokenRequest for team/reader by the admin", reader_token)
        .unwrap_or_default();
    let reader = at(&Credentials::token(&reader_token));
    let who = m.allowed(
        "a bound ServiceAccount token authenticates",
        reader.whoami().await,
    );
    m.check(
        "the token's user is the ServiceAccount",
        who.as_deref() == Some("system:serviceaccount:team:reader"),
        || format!("whoami: {who:?}"),
    );
    m.allowed(
        "team/reader lists pods in team (its Role)",
        reader.list("pods", NS).await,
    );
    // A second token's signature on the first one's header and payload.
    let other_token = admin
        .create_token(NS, "default", &[], None)
        .await
        .unwrap_or_default();
    let spliced = match (reader_token.rsplit_once('.'), other_token.rsplit_once('.')) {
        (Some((signed, _)), Some((_, sig))) => format!("{signed}.{sig}"),
        _ => "x.y.z".to_string(),
    };
    m.denied(
        "a token with a bad signature",
        at(&Credentials::token(&spliced)).list("pods", NS).await,
        Code::Unauthenticated,
        "Unauthorized: invalid bearer token: token signature does not verify",
    );
    let sa_key = std::fs::read_to_string(c.pki_file("sa.key")).expect("sa.key");
    let sa_key = proto::satoken::decode_private_key(&sa_key).expect("the SA signing key");
    let issuer = "https://kubernetes.default.svc.cluster.local";
    let audiences = vec![issuer.to_string()];
    let reader_uid = uid_of(
        &admin
            .get("serviceaccounts", NS, "reader")
            .await
            .unwrap_or_default(),
    );
    let forged = proto::satoken::sign_bound(
        &proto::satoken::BoundClaims::new(
            issuer,
            &audiences,
            NS,
            "reader",
            &reader_uid,
            now_secs(),
            3600,
        ),
        &proto::satoken::private_key_from_seed([7; 32]),
    );
    m.denied(
        "a token signed by another key",
        at(&Credentials::token(&forged)).list("pods", NS).await,
        Code::Unauthenticated,
        "Unauthorized: invalid bearer token: token signature does not verify",
    );
    let expired_token = proto::satoken::sign_bound(
        &proto::satoken::BoundClaims::new(
            issuer,
            &audiences,
            NS,
            "reader",
            &reader_uid,
            now_secs() - 7200,
            3600,
        ),
        &sa_key,
    );
    m.denied(
        "an expired ServiceAccount token (real key)",
        at(&Credentials::token(&expired_token))
            .list("pods", NS)
            .await,
        Code::Unauthenticated,
        "Unauthorized: invalid bearer token: token has expired",
    );
    let fresh_forgery = proto::satoken::sign_bound(
        &proto::satoken::BoundClaims::new(
            issuer,
            &audiences,
            NS,
            "reader",
            &reader_uid,
            now_secs(),
            3600,
        ),
        &sa_key,
    );
    m.allowed(
        "the same claims, not expired, signed with the real key",
        at(&Credentials::token(&fresh_forgery))
            .list("pods", NS)
            .await,
    );
    let vault = admin.create_token(NS, "reader", &["vault"], None).await;
    let vault = m
        .allowed("TokenRequest with audience vault", vault)
        .unwrap_or_default();
    m.denied(
        "a token for another audience",
        at(&Credentials::token(&vault)).list("pods", NS).await,
        Code::Unauthenticated,
        "Unauthorized: invalid bearer token: token audience is not accepted",
    );
    let doomed_uid = uid_of(&setup(
        admin
            .create(&format!("apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: doomed, namespace: {NS}}}\n"))
            .await,
        "serviceaccount doomed",
    ));
    let doomed_token = admin
        .create_token(NS, "doomed", &[], None)
        .await
        .unwrap_or_default();
    let doomed = at(&Credentials::token(&doomed_token));
    m.allowed(
        "team/doomed's token before its account is deleted",
        doomed.whoami().await,
    );
    setup(
        admin.delete("serviceaccounts", NS, "doomed").await,
        "delete serviceaccount doomed",
    );
    m.denied(
        "the token of a deleted ServiceAccount",
        doomed.whoami().await,
        Code::Unauthenticated,
        "Unauthorized: invalid bearer token: service account team/doomed has been deleted",
    );
    // Same name again: a new uid, the old token stays dead.
    let reborn = setup(
        admin
            .create(&format!("apiVersion: v1\nkind: ServiceAccount\nmetadata: {{name: doomed, namespace: {NS}}}\n"))
            .await,
        "serviceaccount doomed again",
    );
    m.denied(
        "the token of a ServiceAccount deleted and made again (new uid)",
        doomed.whoami().await,
        Code::Unauthenticated,
        &format!(
            "Unauthorized: invalid bearer token: service account UID ({}) does not match claim ({doomed_uid})",
            uid_of(&reborn)
        ),
    );
    let not_yet = proto::satoken::sign_bound(
        &proto::satoken::BoundClaims::new(
            issuer,
            &audiences,
            NS,
            "reader",
            &reader_uid,
            now_secs() + 7200,
            3600,
        ),
        &sa_key,
    );
    m.denied(
        "a ServiceAccount token not valid yet (real key)",
        at(&Credentials::token(&not_yet)).list("pods", NS).await,
        Code::Unauthenticated,
        "Unauthorized: invalid bearer token: token is not valid yet",
    );
    let foreign_issuer = proto::satoken::sign_bound(
        &proto::satoken::BoundClaims::new(
            "https://elsewhere.example",
            &audiences,
            NS,
            "reader",
            &reader_uid,
            now_secs(),
            3600,
        ),
        &sa_key,
    );
    m.denied(
        "a ServiceAccount token from another issuer (real key)",
        at(&Credentials::token(&foreign_issuer))
            .list("pods", NS)
            .await,
        Code::Unauthenticated,
        "Unauthorized: invalid bearer token: token issuer is not accepted",
    );
    // A token bound to a pod dies with the pod.
    let ephemeral = setup(
        admin
            .create(&format!(
                "apiVersion: v1\nkind: Pod\nmetadata: {{name: ephemeral, namespace: {NS}}}\nspec:\n  serviceAccountName: reader\n  nodeName: {n0}\n  terminationGracePeriodSeconds: 0\n  containers:\n  - {{name: main, image: local/busybox:1, command: [sleep, '3600']}}\n"
            ))
            .await,
        "pod ephemeral",
    );
    let bound = admin
        .create_token(NS, "reader", &[], Some(("ephemeral", &uid_of(&ephemeral))))
        .await;
    let bound = m
        .allowed("TokenRequest bound to pod team/ephemeral", bound)
        .unwrap_or_default();
    let bound = at(&Credentials::token(&bound));
    m.allowed(
        "the pod-bound token while its pod exists",
        bound.whoami().await,
    );
    let gone = admin
        .api
        .clone()
        .delete(proto::k8s::DeleteRequest {
            resource: "pods".into(),
            namespace: NS.into(),
            name: "ephemeral".into(),
            grace_period_seconds: Some(0),
            ..Default::default()
        })
        .await;
    setup(gone.map(|r| r.into_inner()), "delete pod ephemeral");
    let pods = c.pods_api(NS);
    wait_for(Duration::from_secs(30), "pod ephemeral gone", async || {
        pods.get_opt("ephemeral")
            .await
            .ok()
            .and_then(|p| p.is_none().then_some(()))
    })
    .await;
    m.denied(
        "the pod-bound token after its pod was deleted",
        bound.whoami().await,
        Code::Unauthenticated,
        "Unauthorized: invalid bearer token: pod team/ephemeral has been deleted",
    );
    m.denied(
        "a bearer token nobody issued",
        at(&Credentials::token("not-a-token"))
            .list("pods", NS)
            .await,
        Code::Unauthenticated,
        "Unauthorized: invalid bearer token: token is not known",
    );

    // Bootstrap tokens: a fresh one authenticates, an expired one does not. The token
    // cleaner would delete the expired Secret: the controller-manager is stopped meanwhile.
    let fresh = c.create_bootstrap_token(Duration::from_secs(3600)).await;
    let fresh_id = fresh.split('.').next().unwrap_or_default().to_string();
    let who = m.allowed(
        "a valid bootstrap token authenticates",
        at(&Credentials::token(&fresh)).whoami().await,
    );
    m.check(
        "the bootstrap token's user is system:bootstrap:<id>",
        who.as_deref() == Some(format!("system:bootstrap:{fresh_id}").as_str()),
        || format!("whoami: {who:?}"),
    );
    m.denied(
        "a bootstrap token lists secrets in kube-system",
        at(&Credentials::token(&fresh))
            .list("secrets", "kube-system")
            .await,
        Code::PermissionDenied,
        &forbidden(
            &format!("system:bootstrap:{fresh_id}"),
            "list",
            "",
            "secrets",
            "kube-system",
            "",
            "",
        ),
    );
    let (fresh_id_part, _) = fresh.split_once('.').unwrap_or_default();
    m.denied(
        "a bootstrap token with a wrong secret",
        at(&Credentials::token(&format!(
            "{fresh_id_part}.0000000000000000"
        )))
        .whoami()
        .await,
        Code::Unauthenticated,
        "Unauthorized: invalid bearer token: bootstrap token secret does not match",
    );
    m.denied(
        "a bootstrap token nobody made",
        at(&Credentials::token("zzzzzz.0123456789abcdef"))
            .whoami()
            .await,
        Code::Unauthenticated,
        "Unauthorized: invalid bearer token: bootstrap token is not known",
    );
    c.stop(integration_tests::cluster::Daemon::ControllerManager);
    let token = proto::bootstrap_token::generate();
    let secret = proto::bootstrap_token::secret_for(
        &token,
        Some(Duration::from_secs(600)),
        now - Duration::from_secs(3600),
        "expired on purpose",
    );
    let secrets: client::Api<proto::k8s::Secret> =
        client::Api::namespaced(c.client.clone(), "kube-system");
    secrets
        .create(&secret)
        .await
        .expect("create an expired bootstrap token Secret");
    m.denied(
        "a bootstrap token used after it expired",
        at(&Credentials::token(&format!(
            "{}.{}",
            token.id, token.secret
        )))
        .whoami()
        .await,
        Code::Unauthenticated,
        "Unauthorized: invalid bearer token: bootstrap token has expired",
    );
    c.start_daemon(integration_tests::cluster::Daemon::ControllerManager);

    // ================= RBAC =================
    let default_sa = admin
        .create_token(NS, "default", &[], None)
        .await
        .unwrap_or_default();
    let default_sa = at(&Credentials::token(&default_sa));
    let sa_default = "system:serviceaccount:team:default";
    m.allowed("the admin lists secrets", admin.list("secrets", NS).await);
    m.denied(
        "the default ServiceAccount lists secrets",
        default_sa.list("secrets", NS).await,
        Code::PermissionDenied,
        &forbidden(sa_default, "list", "", "secrets", NS, "", ""),
    );
    m.denied(
        "the default ServiceAccount gets a secret",
        default_sa.get("secrets", NS, "s0").await,
        Code::PermissionDenied,
        &forbidden(sa_default, "get", "", "secrets", NS, "s0", ""),
    );
    let sa_reader = "system:serviceaccount:team:reader";
    m.denied(
        "team/reader lists pods in another namespace",
        reader.list("pods", OTHER_NS).await,
        Code::PermissionDenied,
        &forbidden(sa_reader, "list", "", "pods", OTHER_NS, "", ""),
    );
    m.denied(
        "team/reader deletes a pod (its Role only reads)",
        reader.delete("pods", NS, "p0").await,
        Code::PermissionDenied,
        &forbidden(sa_reader, "delete", "", "pods", NS, "p0", ""),
    );
    let rbac = "rbac.authorization.k8s.io";
    m.denied(
        "alice (edit) creates a RoleBinding to cluster-admin",
        alice
            .create(&role_binding(
                "alice-root",
                NS,
                "ClusterRole",
                "cluster-admin",
                "alice",
            ))
            .await,
        Code::PermissionDenied,
        &forbidden("alice", "create", rbac, "rolebindings", NS, "", ""),
    );
    m.allowed(
        "alice (edit) creates a ConfigMap",
        alice
            .create(&format!(
                "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: by-alice, namespace: {NS}}}\n"
            ))
            .await,
    );
    m.denied(
        "bob (admin) creates a RoleBinding to cluster-admin: escalation",
        bob.create(&role_binding("bob-root", NS, "ClusterRole", "cluster-admin", "bob")).await,
        Code::PermissionDenied,
        &format!(
            "rolebindings.{rbac} \"bob-root\" is forbidden: user \"bob\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{{APIGroups:[\"*\"], Resources:[\"*\"], Verbs:[\"*\"]}}\n{{NonResourceURLs:[\"*\"], Verbs:[\"*\"]}}"
        ),
    );
    m.allowed(
        "bob (admin) binds view in his namespace",
        bob.create(&role_binding(
            "frank-view",
            NS,
            "ClusterRole",
            "view",
            "frank",
        ))
        .await,
    );
    m.denied(
        "bob (admin) creates a Role with a permission he lacks: escalation",
        bob.create(&format!(
            r#"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: node-reader, namespace: {NS}}}
rules:
- {{apiGroups: [""], resources: [nodes], verbs: [get]}}
"#
        ))
        .await,
        Code::PermissionDenied,
        &format!(
            "roles.{rbac} \"node-reader\" is forbidden: user \"bob\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{{APIGroups:[\"\"], Resources:[\"nodes\"], Verbs:[\"get\"]}}"
        ),
    );
    m.allowed(
        "bob (admin) creates a Role within his permissions",
        bob.create(&format!(
            r#"apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {{name: pod-getter, namespace: {NS}}}
rules:
- {{apiGroups: [""], resources: [pods], verbs: [get]}}
"#
        ))
        .await,
    );
    m.allowed("carol (view) gets a pod", carol.get("pods", NS, "p0").await);
    m.denied(
        "carol (view) deletes a pod",
        carol.delete("pods", NS, "p0").await,
        Code::PermissionDenied,
        &forbidden("carol", "delete", "", "pods", NS, "p0", ""),
    );
    m.denied(
        "carol (view) reads a secret",
        carol.get("secrets", NS, "s0").await,
        Code::PermissionDenied,
        &forbidden("carol", "get", "", "secrets", NS, "s0", ""),
    );
    m.denied(
        "carol (view) patches a configmap",
        carol
            .patch(
                "configmaps",
                NS,
                "cm0",
                serde_json::json!({"data": {"k": "x"}}),
                "",
            )
            .await,
        Code::PermissionDenied,
        &forbidden("carol", "patch", "", "configmaps", NS, "cm0", ""),
    );
    m.denied(
        "carol (view) requests a token for team/reader",
        carol.create_token(NS, "reader", &[], None).await,
        Code::PermissionDenied,
        &forbidden(
            "carol",
            "create",
            "",
            "serviceaccounts/token",
            NS,
            "reader",
            "",
        ),
    );
    m.allowed(
        "alice (edit) lists pods in team",
        alice.list("pods", NS).await,
    );
    m.denied(
        "alice (edit in team) lists pods in another namespace",
        alice.list("pods", OTHER_NS).await,
        Code::PermissionDenied,
        &forbidden("alice", "list", "", "pods", OTHER_NS, "", ""),
    );
    m.denied(
        "alice lists nodes (cluster scope)",
        alice.list("nodes", "").await,
        Code::PermissionDenied,
        &forbidden("alice", "list", "", "nodes", "", "", ""),
    );
    m.allowed(
        "dave gets the one configmap his Role names",
        dave.get("configmaps", NS, "allowed").await,
    );
    m.denied(
        "dave gets another configmap (resourceNames)",
        dave.get("configmaps", NS, "other").await,
        Code::PermissionDenied,
        &forbidden("dave", "get", "", "configmaps", NS, "other", ""),
    );
    m.denied(
        "dave lists configmaps (resourceNames never allow list)",
        dave.list("configmaps", NS).await,
        Code::PermissionDenied,
        &forbidden("dave", "list", "", "configmaps", NS, "", ""),
    );
    let sar = proto::k8s::SubjectAccessReview {
        spec: Some(proto::k8s::SubjectAccessReviewSpec {
            user: "bob".into(),
            resource_attributes: Some(proto::k8s::ResourceAttributes {
                namespace: NS.into(),
                verb: "get".into(),
                resource: "pods".into(),
                ..Default::default()
            }),
            ..Default::default()
        }),
        ..Default::default()
    };
    m.denied(
        "alice creates a SubjectAccessReview",
        alice
            .authz
            .clone()
            .create_subject_access_review(sar.clone())
            .await,
        Code::PermissionDenied,
        &forbidden(
            "alice",
            "create",
            "authorization.k8s.io",
            "subjectaccessreviews",
            "",
            "",
            "",
        ),
    );
    let review = admin.authz.clone().create_subject_access_review(sar).await;
    let allowed = review
        .as_ref()
        .ok()
        .and_then(|r| r.get_ref().status.as_ref())
        .is_some_and(|s| s.allowed);
    m.check(
        "the admin's SubjectAccessReview: bob may get pods in team",
        allowed,
        || format!("{review:?}"),
    );
    m.denied(
        "alice approves a CSR",
        alice.update(CSR_SOMEONE, "approval").await,
        Code::PermissionDenied,
        &forbidden(
            "alice",
            "update",
            "certificates.k8s.io",
            "certificatesigningrequests/approval",
            "",
            "someone",
            "",
        ),
    );

    // ================= Node authorizer and NodeRestriction =================
    let node_identity = |i: usize| {
        let pem = std::fs::read_to_string(c.kubelet_root(i).join("pki/kubelet-client-current.pem"))
            .expect("the kubelet's client certificate from its join");
        let (cert, key) = split_pem(&pem);
        Credentials::pem(&cert, &key)
    };
    let kubelet0 = at(&node_identity(0));
    let kubelet1 = at(&node_identity(1));
    let who = m.allowed(
        "the kubelet's own certificate authenticates",
        kubelet0.whoami().await,
    );
    m.check(
        "node 0's certificate is system:node:<name>",
        who.as_deref() == Some(node_user(&n0).as_str()),
        || format!("whoami: {who:?}"),
    );
    m.allowed(
        "kubelet 0 reads the Secret of its own pod",
        kubelet0.get("secrets", NS, "s0").await,
    );
    m.allowed(
        "kubelet 1 reads the Secret of its own pod",
        kubelet1.get("secrets", NS, "s1").await,
    );
    m.denied(
        "kubelet 0 reads the Secret of a pod on node 1",
        kubelet0.get("secrets", NS, "s1").await,
        Code::PermissionDenied,
        &forbidden(
            &node_user(&n0),
            "get",
            "",
            "secrets",
            NS,
            "s1",
            &no_relationship(&n0),
        ),
    );
    m.allowed(
        "kubelet 0 reads the ConfigMap of its own pod",
        kubelet0.get("configmaps", NS, "cm0").await,
    );
    m.denied(
        "kubelet 0 reads the ConfigMap of a pod on node 1",
        kubelet0.get("configmaps", NS, "cm1").await,
        Code::PermissionDenied,
        &forbidden(
            &node_user(&n0),
            "get",
            "",
            "configmaps",
            NS,
            "cm1",
            &no_relationship(&n0),
        ),
    );
    m.denied(
        "kubelet 0 reads a Secret no pod uses",
        kubelet0.get("secrets", NS, "unused").await,
        Code::PermissionDenied,
        &forbidden(
            &node_user(&n0),
            "get",
            "",
            "secrets",
            NS,
            "unused",
            &no_relationship(&n0),
        ),
    );
    m.denied(
        "kubelet 0 lists secrets",
        kubelet0.list("secrets", NS).await,
        Code::PermissionDenied,
        &forbidden(
            &node_user(&n0),
            "list",
            "",
            "secrets",
            NS,
            "",
            "No Object name found",
        ),
    );
    m.allowed(
        "kubelet 0 labels its own Node",
        kubelet0
            .patch(
                "nodes",
                "",
                &n0,
                serde_json::json!({"metadata": {"labels": {"e2e/mine": "yes"}}}),
                "",
            )
            .await,
    );
    m.denied(
        "kubelet 0 patches node 1's Node",
        kubelet0
            .patch(
                "nodes",
                "",
                &n1,
                serde_json::json!({"metadata": {"labels": {"e2e/theirs": "yes"}}}),
                "",
            )
            .await,
        Code::PermissionDenied,
        &format!(
            "nodes \"{n1}\" is forbidden: node \"{n0}\" is not allowed to modify node \"{n1}\""
        ),
    );
    m.denied(
        "kubelet 0 patches node 1's status",
        kubelet0
            .patch(
                "nodes",
                "",
                &n1,
                serde_json::json!({"status": {"capacity": {"pods": "1"}}}),
                "status",
            )
            .await,
        Code::PermissionDenied,
        &format!(
            "nodes \"{n1}\" is forbidden: node \"{n0}\" is not allowed to modify node \"{n1}\""
        ),
    );
    m.denied(
        "kubelet 0 sets a node-restriction.kubernetes.io/ label on itself",
        kubelet0
            .patch(
                "nodes",
                "",
                &n0,
                serde_json::json!({"metadata": {"labels": {"node-restriction.kubernetes.io/trusted": "yes"}}}),
                "",
            )
            .await,
        Code::PermissionDenied,
        &format!("nodes \"{n0}\" is forbidden: is not allowed to modify labels: node-restriction.kubernetes.io/trusted"),
    );
    m.denied(
        "kubelet 0 adds a taint to itself",
        kubelet0
            .patch(
                "nodes",
                "",
                &n0,
                serde_json::json!({"spec": {"taints": [{"key": "e2e", "effect": "NoSchedule"}]}}),
                "",
            )
            .await,
        Code::PermissionDenied,
        &format!("nodes \"{n0}\" is forbidden: node \"{n0}\" is not allowed to modify taints"),
    );
    m.denied(
        "kubelet 0 changes its podCIDR",
        kubelet0
            .patch(
                "nodes",
                "",
                &n0,
                serde_json::json!({"spec": {"podCIDR": "10.99.0.0/24"}}),
                "",
            )
            .await,
        Code::PermissionDenied,
        &format!("nodes \"{n0}\" is forbidden: node \"{n0}\" is not allowed to modify podCIDR"),
    );
    m.denied(
        "kubelet 0 updates the status of a pod on node 1",
        kubelet0
            .patch("pods", NS, "p1", serde_json::json!({"status": {"message": "mine"}}), "status")
            .await,
        Code::PermissionDenied,
        &format!("pods \"p1\" is forbidden: node \"{n0}\" can only update pod status for pods with spec.nodeName set to itself"),
    );
    m.denied(
        "kubelet 0 deletes a pod on node 1",
        kubelet0.delete("pods", NS, "p1").await,
        Code::PermissionDenied,
        &format!("pods \"p1\" is forbidden: node \"{n0}\" can only delete pods with spec.nodeName set to itself"),
    );
    m.denied(
        "kubelet 0 renews node 1's Lease",
        kubelet0
            .patch("leases", "kube-node-lease", &n1, serde_json::json!({"spec": {"holderIdentity": n0}}), "")
            .await,
        Code::PermissionDenied,
        &format!("leases.coordination.k8s.io \"{n1}\" is forbidden: can only access node lease with the same name as the requesting node"),
    );
    m.denied(
        "kubelet 0 lists secrets in every namespace",
        kubelet0.list("secrets", "").await,
        Code::PermissionDenied,
        &forbidden(
            &node_user(&n0),
            "list",
            "",
            "secrets",
            "",
            "",
            "can only read namespaced object of this type",
        ),
    );

    // ================= The kubelet API: directly and through the apiserver =================
    let kubelet_addr = format!("{}:10250", c.nodes[1].ip);
    let direct = |creds: &Credentials| dial(&kubelet_addr, &ca_pem, creds);
    let echo = ["echo", "hello"];
    let admin_direct = match admin_kc.connection(None).map(|cc| cc.credentials) {
        Ok(client::Credentials::ClientCert { cert_pem, key_pem }) => {
            direct(&Credentials::pem(&cert_pem, &key_pem))
        }
        _ => direct(&Credentials::anonymous()),
    };
    let out = m.allowed(
        "the admin execs at node 1's kubelet directly",
        admin_direct.exec(NS, "p1", &echo).await,
    );
    m.check(
        "direct exec output",
        out.as_deref().map(str::trim) == Some("hello"),
        || format!("{out:?}"),
    );
    let erin_direct = direct(&Credentials::cert(&erin_cert));
    m.allowed(
        "erin (nodes/proxy) execs at the kubelet directly",
        erin_direct.exec(NS, "p1", &echo).await,
    );
    m.allowed(
        "erin (nodes/stats) reads stats at the kubelet directly",
        erin_direct.stats("").await,
    );
    m.denied(
        "exec at the kubelet without a client certificate",
        direct(&Credentials::anonymous())
            .exec(NS, "p1", &echo)
            .await,
        Code::Unauthenticated,
        "Unauthorized: no client certificate presented",
    );
    m.denied(
        "exec at the kubelet with a certificate from another CA",
        direct(&Credentials::cert(&issue(
            &other_ca,
            "erin",
            &[],
            &[pki::ca::Usage::ClientAuth],
        )))
        .exec(NS, "p1", &echo)
        .await,
        Code::Unauthenticated,
        "Unauthorized: x509: certificate signed by unknown authority",
    );
    let alice_direct = direct(&Credentials::cert(&alice_cert));
    m.denied(
        "alice (no nodes/proxy) execs at the kubelet directly",
        alice_direct.exec(NS, "p1", &echo).await,
        Code::PermissionDenied,
        &kubelet_forbidden("alice", "proxy"),
    );
    m.denied(
        "alice reads logs at the kubelet directly",
        alice_direct.logs(NS, "p1").await,
        Code::PermissionDenied,
        &kubelet_forbidden("alice", "proxy"),
    );
    m.denied(
        "alice reads stats at the kubelet directly",
        alice_direct.stats("").await,
        Code::PermissionDenied,
        &kubelet_forbidden("alice", "stats"),
    );
    m.denied(
        "kubelet 0 execs at node 1's kubelet",
        direct(&node_identity(0)).exec(NS, "p1", &echo).await,
        Code::PermissionDenied,
        &kubelet_forbidden(&node_user(&n0), "proxy"),
    );
    let out = m.allowed(
        "alice (edit) execs through the apiserver",
        alice.exec(NS, "p1", &echo).await,
    );
    m.check(
        "exec through the apiserver output",
        out.as_deref().map(str::trim) == Some("hello"),
        || format!("{out:?}"),
    );
    m.denied(
        "carol (view) execs through the apiserver",
        carol.exec(NS, "p1", &echo).await,
        Code::PermissionDenied,
        &forbidden("carol", "create", "", "pods/exec", NS, "p1", ""),
    );
    m.denied(
        "dave reads logs through the apiserver",
        dave.logs(NS, "p1").await,
        Code::PermissionDenied,
        &forbidden("dave", "get", "", "pods/log", NS, "p1", ""),
    );
    m.allowed(
        "carol (view) reads logs through the apiserver",
        carol.logs(NS, "p1").await,
    );
    m.denied(
        "alice reads node stats through the apiserver",
        alice.stats(&n1).await,
        Code::PermissionDenied,
        &forbidden("alice", "get", "", "nodes/stats", "", &n1, ""),
    );
    m.allowed(
        "erin reads node stats through the apiserver",
        at(&Credentials::cert(&erin_cert)).stats(&n1).await,
    );

    // ================= A pod reads the API with its mounted token =================
    let image = c.ctl_image();
    setup(
        admin
            .create(&format!(
                r#"apiVersion: v1
kind: Pod
metadata: {{name: in-cluster, namespace: {NS}}}
spec:
  serviceAccountName: reader
  nodeName: {n1}
  terminationGracePeriodSeconds: 0
  containers:
  - name: main
    image: {image}
    command: ["sleep", "3600"]
"#
            ))
            .await,
        "pod in-cluster",
    );
    let in_cluster_pod = wait_pod_ready(&c, NS, "in-cluster").await;
    let in_cluster_uid = in_cluster_pod
        .metadata
        .as_ref()
        .map(|m| m.uid.clone())
        .unwrap_or_default();
    let p0_uid = admin
        .get("pods", NS, "p0")
        .await
        .map(|o| uid_of(&o))
        .unwrap_or_default();
    // serviceaccounts/token: a kubelet may get tokens only for the accounts of its pods.
    m.allowed(
        "kubelet 1 requests a token for team/reader bound to its pod",
        kubelet1
            .create_token(NS, "reader", &[], Some(("in-cluster", &in_cluster_uid)))
            .await,
    );
    m.allowed(
        "kubelet 0 requests a token for team/default bound to its pod p0",
        kubelet0
            .create_token(NS, "default", &[], Some(("p0", &p0_uid)))
            .await,
    );
    m.denied(
        "kubelet 0 requests a token for team/reader, whose pod is on node 1",
        kubelet0
            .create_token(NS, "reader", &[], Some(("in-cluster", &in_cluster_uid)))
            .await,
        Code::PermissionDenied,
        &forbidden(
            &node_user(&n0),
            "create",
            "",
            "serviceaccounts/token",
            NS,
            "reader",
            &no_relationship(&n0),
        ),
    );
    let sa_dir = "/var/run/secrets/kubernetes.io/serviceaccount";
    let out = admin.exec(NS, "in-cluster", &["ls", sa_dir]).await;
    m.check(
        "the pod has token, ca.crt and namespace mounted",
        out.as_ref().is_ok_and(|o| {
            ["token", "ca.crt", "namespace"]
                .iter()
                .all(|f| o.contains(f))
        }),
        || format!("{out:?}"),
    );
    let ctl_in_pod = async |args: &[&str]| {
        // Exit code and both streams: `sh -c` joins stderr and reports the status.
        let script = format!("ctl {} 2>&1; echo exit=$?", args.join(" "));
        admin.exec(NS, "in-cluster", &["sh", "-c", &script]).await
    };
    let out = ctl_in_pod(&["auth", "whoami"]).await;
    m.check(
        "in the pod, ctl (in-cluster config) is the pod's ServiceAccount",
        out.as_ref()
            .is_ok_and(|o| o.contains(sa_reader) && o.contains("exit=0")),
        || format!("ctl auth whoami: {out:?}"),
    );
    let out = ctl_in_pod(&["get", "pods", "-n", NS]).await;
    m.check(
        "in the pod, ctl get pods in its namespace lists them (its Role)",
        out.as_ref()
            .is_ok_and(|o| o.contains("p0") && o.contains("p1") && o.contains("exit=0")),
        || format!("{out:?}"),
    );
    let out = ctl_in_pod(&["get", "pods", "p0", "-n", NS]).await;
    m.check(
        "in the pod, ctl get pod p0 succeeds",
        out.as_ref()
            .is_ok_and(|o| o.contains("p0") && o.contains("exit=0")),
        || format!("{out:?}"),
    );
    let out = ctl_in_pod(&["get", "secrets", "-n", NS]).await;
    let msg = forbidden(sa_reader, "list", "", "secrets", NS, "", "");
    m.check(
        "in the pod, ctl get secrets is forbidden, with Kubernetes' message",
        out.as_ref()
            .is_ok_and(|o| o.contains(&msg) && o.contains("exit=1")),
        || format!("{out:?}, expected {msg:?}"),
    );
    let out = ctl_in_pod(&["get", "pods", "-n", OTHER_NS]).await;
    let msg = forbidden(sa_reader, "list", "", "pods", OTHER_NS, "", "");
    m.check(
        "in the pod, ctl get pods in another namespace is forbidden",
        out.as_ref()
            .is_ok_and(|o| o.contains(&msg) && o.contains("exit=1")),
        || format!("{out:?}, expected {msg:?}"),
    );
    let out = ctl_in_pod(&["delete", "pod", "p0", "-n", NS]).await;
    let msg = forbidden(sa_reader, "delete", "", "pods", NS, "p0", "");
    m.check(
        "in the pod, ctl delete pod is forbidden",
        out.as_ref()
            .is_ok_and(|o| o.contains(&msg) && o.contains("exit=1")),
        || format!("{out:?}, expected {msg:?}"),
    );

    // ctl on the host with the admin kubeconfig: the same identity as the test's client.
    let out = c.ctl(&["auth", "whoami"], None);
    m.check(
        "ctl with admin.kubeconfig is kubernetes-admin",
        out.status.success() && text(&out.stdout).contains("kubernetes-admin"),
        || format!("{} {}", text(&out.stdout), text(&out.stderr)),
    );

    eprintln!(
        "auth matrix: cluster up in {:.1}s, total {:.1}s",
        up.as_secs_f64(),
        started.elapsed().as_secs_f64()
    );
    m.finish();
}

//! Authorization through real gRPC: an apiserver assembled in-process with the `Node,RBAC`
//! authorizer `auth::authz::build` makes (bootstrap policy reconciled, cache primed), the
//! Authorization service and an audit log; callers are told apart by bearer tokens a test
//! interceptor maps to users (authentication itself is tested in `authn.rs`). Proves RBAC
//! grants and refusals with Kubernetes' messages, escalation prevention, the Node
//! authorizer and NodeRestriction, CSR requestor fields and approval, ServiceAccount
//! admission, and the audit line of a refused request.

use std::collections::BTreeMap;
use std::net::SocketAddr;
use std::path::Path;
use std::sync::Arc;

use apiserver::audit::Audit;
use apiserver::auth::{Authenticated, User};
use apiserver::registry::Registry;
use apiserver::service::ApiService;
use apiserver::store::encrypted::EncryptedStore;
use apiserver::store::sled_store::{SledOptions, SledStore};
use apiserver::watch::WatchConfig;
use proto::k8s::api_client::ApiClient;
use proto::k8s::api_server::ApiServer;
use proto::k8s::authorization_client::AuthorizationClient;
use proto::k8s::authorization_server::AuthorizationServer;
use proto::k8s::*;
use proto::{ApiError, Reason, Resource};
use tonic::service::Interceptor;
use tonic::service::interceptor::InterceptedService;
use tonic::transport::Channel;
use tonic::{Request, Status};

const RBAC: &str = "rbac.authorization.k8s.io";

/// Test authentication: the bearer token is the user's key in this table.
fn users() -> BTreeMap<&'static str, User> {
    let auth = "system:authenticated";
    BTreeMap::from([
        (
            "admin",
            User::new("kubernetes-admin", &["system:masters", auth]),
        ),
        ("alice", User::new("alice", &[auth])),
        ("bob", User::new("bob", &[auth])),
        (
            "node-n1",
            User::new("system:node:n1", &["system:nodes", auth]),
        ),
        (
            "boot",
            User::new("system:bootstrap:abcdef", &["system:bootstrappers", auth]),
        ),
    ])
}

fn authenticate(mut req: Request<()>) -> Result<Request<()>, Status> {
    let token = req
        .metadata()
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .map(str::to_string);
    let user = match token {
        None => User::anonymous(),
        Some(t) => users()
            .remove(t.as_str())
            .ok_or_else(|| Status::unauthenticated("Unauthorized: unknown token"))?,
    };
    req.extensions_mut().insert(Authenticated(Arc::new(user)));
    Ok(req)
}

#[derive(Clone)]
struct Bearer(&'static str);

impl Interceptor for Bearer {
    fn call(&mut self, mut req: Request<()>) -> Result<Request<()>, Status> {
        let value = format!("Bearer {}", self.0)
            .parse()
            .map_err(|_| Status::internal("bad token"))?;
        req.metadata_mut().insert("authorization", value);
        Ok(req)
    }
}

type Api = ApiClient<InterceptedService<Channel, Bearer>>;

struct Server {
    addr: SocketAddr,
    stop: tokio::sync::watch::Sender<bool>,
    _dir: tempfile::TempDir,
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.stop.send(true);
    }
}

async fn start(audit_log: &Path) -> Server {
    let dir = tempfile::Builder::new()
        .prefix("apiserver-rbac-test-")
        .tempdir()
        .unwrap();
    let store = SledStore::open(&dir.path().join("data"), SledOptions::default()).unwrap();
    let store = Arc::new(EncryptedStore::new(
        store,
        apiserver::encryption::Encryption::none(),
    ));
    let registry = Registry::new(store);
    for ns in ["default", "kube-system", "kube-node-lease", "team", "other"] {
        let mut n = Namespace::default();
        n.meta_mut().name = ns.into();
        registry.create(n.into_object(), false).await.unwrap();
    }
    let (stop, stop_rx) = tokio::sync::watch::channel(false);
    let modes = vec!["Node".to_string(), "RBAC".to_string()];
    let authorizer = apiserver::auth::authz::build(&modes, &registry, stop_rx.clone())
        .await
        .unwrap();
    let audit = Audit::from_paths(Some(audit_log), None).unwrap();
    let api = ApiService::new(registry, WatchConfig::default(), stop_rx.clone())
        .with_authorizer(authorizer.clone())
        .with_audit(audit);
    let authz = apiserver::auth::authz_service::AuthorizationService::new(authorizer);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut until = stop_rx;
    tokio::spawn(
        tonic::transport::Server::builder()
            .add_service(ApiServer::with_interceptor(api, authenticate))
            .add_service(AuthorizationServer::with_interceptor(authz, authenticate))
            .serve_with_incoming_shutdown(
                tonic::transport::server::TcpIncoming::from(listener),
                async move {
                    let _ = until.wait_for(|s| *s).await;
                },
            ),
    );
    Server {
        addr,
        stop,
        _dir: dir,
    }
}

async fn channel(s: &Server) -> Channel {
    Channel::from_shared(format!("http://{}", s.addr))
        .unwrap()
        .connect()
        .await
        .unwrap()
}

async fn api(s: &Server, token: &'static str) -> Api {
    ApiClient::with_interceptor(channel(s).await, Bearer(token))
}

async fn api_at(url: &str, token: &'static str) -> Api {
    let channel = Channel::from_shared(url.to_string())
        .unwrap()
        .connect()
        .await
        .unwrap();
    ApiClient::with_interceptor(channel, Bearer(token))
}

fn err(s: Status) -> ApiError {
    ApiError::from_status(&s)
}

async fn create(c: &mut Api, o: Object) -> Result<Object, ApiError> {
    c.create(CreateRequest {
        object: Some(o),
        dry_run: false,
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
    .map_err(err)
}

async fn get(c: &mut Api, res: &str, ns: &str, name: &str) -> Result<Object, ApiError> {
    c.get(GetRequest {
        resource: res.into(),
        namespace: ns.into(),
        name: name.into(),
    })
    .await
    .map(|r| r.into_inner())
    .map_err(err)
}

async fn list(c: &mut Api, res: &str, ns: &str) -> Result<ListResponse, ApiError> {
    c.list(ListRequest {
        resource: res.into(),
        namespace: ns.into(),
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
    .map_err(err)
}

fn rule(verbs: &[&str], groups: &[&str], resources: &[&str]) -> PolicyRule {
    let v = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect();
    PolicyRule {
        verbs: v(verbs),
        api_groups: v(groups),
        resources: v(resources),
        ..Default::default()
    }
}

fn role(ns: &str, name: &str, rules: Vec<PolicyRule>) -> Object {
    let mut r = Role {
        rules,
        ..Default::default()
    };
    r.meta_mut().namespace = ns.into();
    r.meta_mut().name = name.into();
    r.into_object()
}

fn cluster_role(name: &str, rules: Vec<PolicyRule>) -> Object {
    let mut r = ClusterRole {
        rules,
        ..Default::default()
    };
    r.meta_mut().name = name.into();
    r.into_object()
}

fn user_subject(name: &str) -> Subject {
    Subject {
        kind: "User".into(),
        api_group: RBAC.into(),
        name: name.into(),
        namespace: String::new(),
    }
}

fn role_ref(kind: &str, name: &str) -> Option<RoleRef> {
    Some(RoleRef {
        api_group: RBAC.into(),
        kind: kind.into(),
        name: name.into(),
    })
}

fn role_binding(ns: &str, name: &str, user: &str, kind: &str, role: &str) -> Object {
    let mut b = RoleBinding {
        subjects: vec![user_subject(user)],
        role_ref: role_ref(kind, role),
        ..Default::default()
    };
    b.meta_mut().namespace = ns.into();
    b.meta_mut().name = name.into();
    b.into_object()
}

fn cluster_role_binding(name: &str, user: &str, role: &str) -> Object {
    let mut b = ClusterRoleBinding {
        subjects: vec![user_subject(user)],
        role_ref: role_ref("ClusterRole", role),
        ..Default::default()
    };
    b.meta_mut().name = name.into();
    b.into_object()
}

fn config_map(ns: &str, name: &str) -> Object {
    let mut c = ConfigMap::default();
    c.meta_mut().namespace = ns.into();
    c.meta_mut().name = name.into();
    c.into_object()
}

fn secret(ns: &str, name: &str) -> Object {
    let mut s = Secret::default();
    s.meta_mut().namespace = ns.into();
    s.meta_mut().name = name.into();
    s.into_object()
}

fn pod(ns: &str, name: &str, node: &str, secret: &str) -> Object {
    let mut p = Pod {
        spec: Some(PodSpec {
            node_name: node.into(),
            containers: vec![Container {
                name: "c".into(),
                image: "busybox".into(),
                env: vec![EnvVar {
                    name: "S".into(),
                    value_from: Some(EnvVarSource {
                        secret_key_ref: Some(SecretKeySelector {
                            name: secret.into(),
                            key: "k".into(),
                            optional: None,
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                }],
                ..Default::default()
            }],
            ..Default::default()
        }),
        ..Default::default()
    };
    p.meta_mut().namespace = ns.into();
    p.meta_mut().name = name.into();
    p.into_object()
}

fn forbidden(r: Result<impl std::fmt::Debug, ApiError>) -> String {
    match r {
        Err(e) if e.reason == Reason::Forbidden => e.message,
        other => panic!("expected Forbidden, got {other:?}"),
    }
}

#[tokio::test]
async fn rbac_grants_refuses_and_prevents_escalation() {
    let log_dir = tempfile::tempdir().unwrap();
    let log = log_dir.path().join("audit.log");
    let server = start(&log).await;
    let mut admin = api(&server, "admin").await;
    let mut alice = api(&server, "alice").await;

    // The bootstrap policy is in place.
    let roles = list(&mut admin, "clusterroles", "").await.unwrap();
    let names: Vec<String> = roles.items.iter().map(|o| o.meta().name.clone()).collect();
    for want in [
        "cluster-admin",
        "admin",
        "edit",
        "view",
        "system:node-proxier",
        "system:kube-controller-manager",
    ] {
        assert!(
            names.contains(&want.to_string()),
            "{want} missing from {names:?}"
        );
    }

    // Nothing bound: refused, in Kubernetes' words.
    assert_eq!(
        forbidden(list(&mut alice, "configmaps", "team").await),
        r#"configmaps is forbidden: User "alice" cannot list resource "configmaps" in API group "" in the namespace "team""#
    );
    assert_eq!(
        forbidden(get(&mut alice, "nodes", "", "n1").await),
        r#"nodes "n1" is forbidden: User "alice" cannot get resource "nodes" in API group "" at the cluster scope"#
    );

    // A Role and RoleBinding in team: reads there, nowhere else, and no writes.
    create(&mut admin, config_map("team", "settings"))
        .await
        .unwrap();
    create(
        &mut admin,
        role(
            "team",
            "cm-reader",
            vec![rule(&["get", "list", "watch"], &[""], &["configmaps"])],
        ),
    )
    .await
    .unwrap();
    create(
        &mut admin,
        role_binding("team", "alice-reads", "alice", "Role", "cm-reader"),
    )
    .await
    .unwrap();
    // No sleep: a request right after its binding was stored is decided on it.
    assert_eq!(
        list(&mut alice, "configmaps", "team")
            .await
            .unwrap()
            .items
            .len(),
        1
    );
    get(&mut alice, "configmaps", "team", "settings")
        .await
        .unwrap();
    forbidden(list(&mut alice, "configmaps", "other").await);
    let msg = forbidden(create(&mut alice, config_map("team", "mine")).await);
    assert_eq!(
        msg,
        r#"configmaps is forbidden: User "alice" cannot create resource "configmaps" in API group "" in the namespace "team""#
    );

    // A ClusterRole through a ClusterRoleBinding: everywhere.
    create(
        &mut admin,
        cluster_role(
            "node-reader",
            vec![rule(&["get", "list"], &[""], &["nodes"])],
        ),
    )
    .await
    .unwrap();
    create(
        &mut admin,
        cluster_role_binding("alice-nodes", "alice", "node-reader"),
    )
    .await
    .unwrap();
    list(&mut alice, "nodes", "").await.unwrap();
    // Deleting the binding takes it away again.
    admin
        .delete(DeleteRequest {
            resource: "clusterrolebindings".into(),
            name: "alice-nodes".into(),
            ..Default::default()
        })
        .await
        .unwrap();
    forbidden(list(&mut alice, "nodes", "").await);

    // Escalation: alice may manage roles and bindings in team, but grant only what she holds.
    create(
        &mut admin,
        role(
            "team",
            "rbac-manager",
            vec![rule(
                &["get", "list", "create", "update", "delete"],
                &[RBAC],
                &["roles", "rolebindings"],
            )],
        ),
    )
    .await
    .unwrap();
    create(
        &mut admin,
        role_binding("team", "alice-manages", "alice", "Role", "rbac-manager"),
    )
    .await
    .unwrap();
    create(
        &mut alice,
        role(
            "team",
            "cm-get",
            vec![rule(&["get"], &[""], &["configmaps"])],
        ),
    )
    .await
    .unwrap();
    create(
        &mut alice,
        role_binding("team", "bob-cm", "bob", "Role", "cm-get"),
    )
    .await
    .unwrap();
    let mut bob = api(&server, "bob").await;
    get(&mut bob, "configmaps", "team", "settings")
        .await
        .unwrap();
    assert_eq!(
        forbidden(
            create(
                &mut alice,
                role(
                    "team",
                    "secret-reader",
                    vec![rule(&["get"], &[""], &["secrets"])]
                )
            )
            .await
        ),
        "roles.rbac.authorization.k8s.io \"secret-reader\" is forbidden: user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:\n{APIGroups:[\"\"], Resources:[\"secrets\"], Verbs:[\"get\"]}"
    );
    let msg = forbidden(
        create(
            &mut alice,
            role_binding(
                "team",
                "alice-admin",
                "alice",
                "ClusterRole",
                "cluster-admin",
            ),
        )
        .await,
    );
    assert!(
        msg.starts_with("rolebindings.rbac.authorization.k8s.io \"alice-admin\" is forbidden: user \"alice\" (groups=[\"system:authenticated\"]) is attempting to grant RBAC permissions not currently held:"),
        "{msg}"
    );
    forbidden(create(&mut alice, cluster_role("mine", vec![])).await);

    // Reviews: for oneself (anyone) and for others (needs create subjectaccessreviews).
    let mut review = AuthorizationClient::with_interceptor(channel(&server).await, Bearer("bob"));
    let ask = |verb: &str, res: &str| SelfSubjectAccessReview {
        spec: Some(SelfSubjectAccessReviewSpec {
            resource_attributes: Some(ResourceAttributes {
                namespace: "team".into(),
                verb: verb.into(),
                resource: res.into(),
                ..Default::default()
            }),
            non_resource_attributes: None,
        }),
        ..Default::default()
    };
    let yes = review
        .create_self_subject_access_review(ask("get", "configmaps"))
        .await
        .unwrap()
        .into_inner();
    assert!(yes.status.unwrap().allowed);
    let no = review
        .create_self_subject_access_review(ask("delete", "configmaps"))
        .await
        .unwrap()
        .into_inner();
    assert!(!no.status.unwrap().allowed);
    let sar = SubjectAccessReview {
        spec: Some(SubjectAccessReviewSpec {
            resource_attributes: ask("list", "configmaps").spec.unwrap().resource_attributes,
            user: "alice".into(),
            ..Default::default()
        }),
        ..Default::default()
    };
    let denied = review
        .create_subject_access_review(sar.clone())
        .await
        .unwrap_err();
    assert_eq!(denied.code(), tonic::Code::PermissionDenied);
    let mut admin_review =
        AuthorizationClient::with_interceptor(channel(&server).await, Bearer("admin"));
    let answer = admin_review
        .create_subject_access_review(sar)
        .await
        .unwrap()
        .into_inner();
    assert!(
        answer.status.unwrap().allowed,
        "alice may list configmaps in team"
    );

    // The audit log has the refused list with its 403 and decision.
    let text = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("\"code\":403") {
                return text;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("audit lines are written");
    let refused: serde_json::Value = text
        .lines()
        .map(|l| serde_json::from_str::<serde_json::Value>(l).unwrap())
        .find(|e| {
            e["responseStatus"]["code"] == 403
                && e["verb"] == "list"
                && e["objectRef"]["namespace"] == "team"
        })
        .expect("the refused list is audited");
    assert_eq!(refused["user"]["username"], "alice");
    assert_eq!(refused["objectRef"]["resource"], "configmaps");
    assert_eq!(
        refused["annotations"]["authorization.k8s.io/decision"],
        "forbid"
    );
    assert_eq!(refused["level"], "Metadata");
}

#[tokio::test]
async fn kubelets_reach_only_what_their_pods_use_and_write_only_their_own() {
    let log_dir = tempfile::tempdir().unwrap();
    let server = start(&log_dir.path().join("audit.log")).await;
    let mut admin = api(&server, "admin").await;
    let mut node = api(&server, "node-n1").await;
    for s in ["used", "unused", "elsewhere"] {
        create(&mut admin, secret("team", s)).await.unwrap();
    }
    let mut sa = ServiceAccount::default();
    sa.meta_mut().namespace = "team".into();
    sa.meta_mut().name = "default".into();
    create(&mut admin, sa.into_object()).await.unwrap();
    create(&mut admin, pod("team", "here", "n1", "used"))
        .await
        .unwrap();
    create(&mut admin, pod("team", "there", "n2", "elsewhere"))
        .await
        .unwrap();

    get(&mut node, "secrets", "team", "used").await.unwrap();
    assert_eq!(
        forbidden(get(&mut node, "secrets", "team", "unused").await),
        r#"secrets "unused" is forbidden: User "system:node:n1" cannot get resource "secrets" in API group "" in the namespace "team": no relationship found between node 'n1' and this object"#
    );
    forbidden(get(&mut node, "secrets", "team", "elsewhere").await);
    forbidden(list(&mut node, "secrets", "team").await);
    // A watch narrowed to one referenced object by name is a read of that object.
    node.watch(WatchRequest {
        resource: "secrets".into(),
        namespace: "team".into(),
        field_selector: "metadata.name=used".into(),
        ..Default::default()
    })
    .await
    .unwrap();
    let refused = node
        .watch(WatchRequest {
            resource: "secrets".into(),
            namespace: "team".into(),
            field_selector: "metadata.name=unused".into(),
            ..Default::default()
        })
        .await
        .map(|_| ())
        .map_err(err);
    forbidden(refused);
    // Non-graph reads come from the node rules.
    list(&mut node, "pods", "").await.unwrap();
    list(&mut node, "services", "").await.unwrap();
    forbidden(list(&mut node, "deployments", "team").await);

    // NodeRestriction: status of its own pods only, its own Node only.
    let mut here = get(&mut node, "pods", "team", "here").await.unwrap();
    if let Some(object::Kind::Pod(p)) = &mut here.kind {
        p.status.get_or_insert_with(Default::default).phase = "Running".into();
    }
    node.update(UpdateRequest {
        object: Some(here),
        subresource: "status".into(),
        dry_run: false,
        ..Default::default()
    })
    .await
    .unwrap();
    let there = get(&mut node, "pods", "team", "there").await.unwrap();
    let refused = node
        .update(UpdateRequest {
            object: Some(there),
            subresource: "status".into(),
            dry_run: false,
            ..Default::default()
        })
        .await
        .map_err(err);
    assert_eq!(
        forbidden(refused),
        r#"pods "there" is forbidden: node "n1" can only update pod status for pods with spec.nodeName set to itself"#
    );
    let mut own = Node::default();
    own.meta_mut().name = "n1".into();
    create(&mut node, own.into_object()).await.unwrap();
    let mut other = Node::default();
    other.meta_mut().name = "n2".into();
    assert_eq!(
        forbidden(create(&mut node, other.into_object()).await),
        r#"nodes "n2" is forbidden: node "n1" is not allowed to modify node "n2""#
    );
}

#[tokio::test]
async fn csrs_carry_their_requestor_and_approval_is_its_own_subresource() {
    let log_dir = tempfile::tempdir().unwrap();
    let server = start(&log_dir.path().join("audit.log")).await;
    let mut admin = api(&server, "admin").await;
    let mut boot = api(&server, "boot").await;
    // Only the PEM framing is checked on create; the signer parses the request.
    let csr_pem = "-----BEGIN CERTIFICATE REQUEST-----\nMIIB\n-----END CERTIFICATE REQUEST-----\n"
        .to_string();
    let mut csr = CertificateSigningRequest {
        spec: Some(CertificateSigningRequestSpec {
            request: csr_pem.into_bytes(),
            signer_name: "kubernetes.io/kube-apiserver-client-kubelet".into(),
            usages: vec!["digital signature".into(), "client auth".into()],
            username: "kubernetes-admin".into(),
            groups: vec!["system:masters".into()],
            ..Default::default()
        }),
        ..Default::default()
    };
    csr.meta_mut().name = "node-csr-1".into();
    let created = create(&mut boot, csr.into_object()).await.unwrap();
    let Some(object::Kind::CertificateSigningRequest(c)) = &created.kind else {
        panic!("a CSR");
    };
    let spec = c.spec.clone().unwrap();
    assert_eq!(
        spec.username, "system:bootstrap:abcdef",
        "the requestor cannot be claimed"
    );
    assert!(spec.groups.contains(&"system:bootstrappers".to_string()));

    // The bootstrapper may not approve its own request.
    let mut approved = created.clone();
    if let Some(object::Kind::CertificateSigningRequest(c)) = &mut approved.kind {
        c.status
            .get_or_insert_with(Default::default)
            .conditions
            .push(CertificateSigningRequestCondition {
                r#type: "Approved".into(),
                status: "True".into(),
                reason: "AdminApproved".into(),
                ..Default::default()
            });
    }
    let refused = boot
        .update(UpdateRequest {
            object: Some(approved.clone()),
            subresource: "approval".into(),
            dry_run: false,
            ..Default::default()
        })
        .await
        .map_err(err);
    forbidden(refused);
    let done = admin
        .update(UpdateRequest {
            object: Some(approved),
            subresource: "approval".into(),
            dry_run: false,
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    let Some(object::Kind::CertificateSigningRequest(c)) = &done.kind else {
        panic!("a CSR");
    };
    assert_eq!(c.status.as_ref().unwrap().conditions[0].r#type, "Approved");
}

#[tokio::test]
async fn pods_run_as_an_existing_service_account_with_its_token_mounted() {
    let log_dir = tempfile::tempdir().unwrap();
    let server = start(&log_dir.path().join("audit.log")).await;
    let mut admin = api(&server, "admin").await;
    let bare = |name: &str| {
        let mut p = pod("other", name, "", "s");
        if let Some(object::Kind::Pod(p)) = &mut p.kind {
            p.spec.as_mut().unwrap().containers[0].env.clear();
        }
        p
    };
    assert_eq!(
        forbidden(create(&mut admin, bare("early")).await),
        r#"pods "early" is forbidden: error looking up service account other/default: serviceaccount "default" not found"#
    );
    let mut sa = ServiceAccount::default();
    sa.meta_mut().namespace = "other".into();
    sa.meta_mut().name = "default".into();
    create(&mut admin, sa.into_object()).await.unwrap();
    let created = create(&mut admin, bare("web")).await.unwrap();
    let Some(object::Kind::Pod(p)) = &created.kind else {
        panic!("a pod");
    };
    let spec = p.spec.clone().unwrap();
    assert_eq!(spec.service_account_name, "default");
    assert_eq!(spec.volumes.len(), 1);
    let volume = &spec.volumes[0].name;
    assert!(volume.starts_with("kube-api-access-") && volume.len() == "kube-api-access-".len() + 5);
    let mount = &spec.containers[0].volume_mounts[0];
    assert_eq!(
        (
            mount.name.as_str(),
            mount.mount_path.as_str(),
            mount.read_only
        ),
        (
            volume.as_str(),
            "/var/run/secrets/kubernetes.io/serviceaccount",
            true
        )
    );
    let mut opted_out = bare("quiet");
    if let Some(object::Kind::Pod(p)) = &mut opted_out.kind {
        p.spec.as_mut().unwrap().automount_service_account_token = Some(false);
    }
    let quiet = create(&mut admin, opted_out).await.unwrap();
    let Some(object::Kind::Pod(p)) = &quiet.kind else {
        panic!("a pod");
    };
    assert!(p.spec.as_ref().unwrap().volumes.is_empty());
    let mut named = bare("builder-pod");
    if let Some(object::Kind::Pod(p)) = &mut named.kind {
        p.spec.as_mut().unwrap().service_account_name = "builder".into();
    }
    assert!(
        forbidden(create(&mut admin, named).await)
            .ends_with(r#"serviceaccount "builder" not found"#)
    );
}

#[tokio::test]
async fn the_bootstrap_policy_is_reconciled_idempotently_and_repaired() {
    let dir = tempfile::tempdir().unwrap();
    let store = SledStore::open(&dir.path().join("data"), SledOptions::default()).unwrap();
    let store = Arc::new(EncryptedStore::new(
        store,
        apiserver::encryption::Encryption::none(),
    ));
    let registry = Registry::new(store);
    let reconcile = apiserver::auth::rbac::bootstrap::reconcile;
    reconcile(&registry).await.unwrap();
    let all = |r: Registry<_>| async move {
        let mut out = BTreeMap::new();
        for res in ["clusterroles", "clusterrolebindings"] {
            let list = r
                .list(&ListRequest {
                    resource: res.into(),
                    ..Default::default()
                })
                .await
                .unwrap();
            for o in list.items {
                out.insert(
                    format!("{res}/{}", o.meta().name),
                    o.meta().resource_version.clone(),
                );
            }
        }
        out
    };
    let first = all(registry.clone()).await;
    reconcile(&registry).await.unwrap();
    assert_eq!(
        all(registry.clone()).await,
        first,
        "a second start writes nothing"
    );

    // An administrator's edit that drops a default rule is repaired; one that opts out with
    // autoupdate "false" is left alone.
    let mut proxier = registry
        .get("clusterroles", "", "system:node-proxier")
        .await
        .unwrap();
    if let Some(object::Kind::ClusterRole(r)) = &mut proxier.kind {
        r.rules.clear();
    }
    registry.update(proxier, "", false).await.unwrap();
    let mut scheduler = registry
        .get("clusterroles", "", "system:kube-scheduler")
        .await
        .unwrap();
    if let Some(object::Kind::ClusterRole(r)) = &mut scheduler.kind {
        r.rules.clear();
        r.metadata.as_mut().unwrap().annotations.insert(
            "rbac.authorization.kubernetes.io/autoupdate".into(),
            "false".into(),
        );
    }
    registry.update(scheduler, "", false).await.unwrap();
    reconcile(&registry).await.unwrap();
    let rules = |o: Object| match o.kind {
        Some(object::Kind::ClusterRole(r)) => r.rules.len(),
        _ => 0,
    };
    assert!(
        rules(
            registry
                .get("clusterroles", "", "system:node-proxier")
                .await
                .unwrap()
        ) > 0
    );
    assert_eq!(
        rules(
            registry
                .get("clusterroles", "", "system:kube-scheduler")
                .await
                .unwrap()
        ),
        0
    );
}

/// The same through the real server assembly (`apiserver::start`): `--authorization-mode
/// Node,RBAC`, a static token file telling the callers apart, the audit log.
#[tokio::test]
async fn the_real_server_authorizes_with_node_and_rbac() {
    let files = tempfile::tempdir().unwrap();
    let tokens = files.path().join("tokens.csv");
    std::fs::write(
        &tokens,
        "admin-token,kubernetes-admin,u1,\"system:masters\"\nalice-token,alice,u2,\nnode-token,system:node:n1,u3,\"system:nodes\"\n",
    )
    .unwrap();
    let log = files.path().join("audit.log");
    let (tokens_path, log_path) = (tokens.clone(), log.clone());
    let server = apiserver::testing::TestServer::start_with(move |c| {
        c.authorization_mode = vec!["Node".into(), "RBAC".into()];
        c.token_auth_file = Some(tokens_path);
        c.audit_log_path = Some(log_path);
    })
    .await;
    let mut admin = api_at(&server.url, "admin-token").await;
    let mut alice = api_at(&server.url, "alice-token").await;
    let mut node = api_at(&server.url, "node-token").await;
    let mut ns = Namespace::default();
    ns.meta_mut().name = "team".into();
    create(&mut admin, ns.into_object()).await.unwrap();
    create(&mut admin, config_map("team", "settings"))
        .await
        .unwrap();

    assert_eq!(
        forbidden(get(&mut alice, "configmaps", "team", "settings").await),
        r#"configmaps "settings" is forbidden: User "alice" cannot get resource "configmaps" in API group "" in the namespace "team""#
    );
    create(
        &mut admin,
        role_binding("team", "alice-views", "alice", "ClusterRole", "view"),
    )
    .await
    .unwrap();
    get(&mut alice, "configmaps", "team", "settings")
        .await
        .unwrap();
    forbidden(get(&mut alice, "configmaps", "default", "anything").await);
    // view does not read Secrets; edit would.
    forbidden(list(&mut alice, "secrets", "team").await);

    // The kubelet: node rules, not RBAC.
    list(&mut node, "pods", "").await.unwrap();
    forbidden(list(&mut node, "configmaps", "team").await);

    // The Authorization service is served too.
    let channel = Channel::from_shared(server.url.clone())
        .unwrap()
        .connect()
        .await
        .unwrap();
    let mut reviews = AuthorizationClient::with_interceptor(channel, Bearer("alice-token"));
    let review = reviews
        .create_self_subject_access_review(SelfSubjectAccessReview {
            spec: Some(SelfSubjectAccessReviewSpec {
                resource_attributes: Some(ResourceAttributes {
                    namespace: "team".into(),
                    verb: "watch".into(),
                    resource: "pods".into(),
                    ..Default::default()
                }),
                non_resource_attributes: None,
            }),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(review.status.unwrap().allowed);

    let text = tokio::time::timeout(std::time::Duration::from_secs(5), async {
        loop {
            let text = std::fs::read_to_string(&log).unwrap_or_default();
            if text.contains("alice-views") && text.contains("\"code\":403") {
                return text;
            }
            tokio::time::sleep(std::time::Duration::from_millis(20)).await;
        }
    })
    .await
    .expect("the audit log names the binding's create and the refusals");
    assert!(
        text.lines()
            .all(|l| serde_json::from_str::<serde_json::Value>(l).is_ok())
    );
    server.stop().await;
}

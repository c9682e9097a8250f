//! Which priority level and flow a request belongs to: Kubernetes' built-in
//! PriorityLevelConfigurations and FlowSchemas (`apis/flowcontrol/bootstrap/default.go`),
//! matched in precedence order against the caller and what the request is (its verb and
//! target). Pure functions only; the request's description comes from its HTTP method and
//! path or its gRPC method ([`describe_http`], [`describe_grpc`]).

use crate::auth::User;
use crate::auth::user::names;

/// Kubernetes' built-in priority levels.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Level {
    Exempt,
    System,
    NodeHigh,
    LeaderElection,
    WorkloadHigh,
    WorkloadLow,
    GlobalDefault,
    CatchAll,
}

/// How a level holds requests it has no seat for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Queuing {
    pub queues: usize,
    pub hand_size: usize,
    pub queue_length_limit: usize,
}

/// A limited level: its share of the server's seats and what happens beyond them
/// (`None`: rejected at once, Kubernetes' `Reject` limit response).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct LevelSpec {
    pub nominal_concurrency_shares: u32,
    pub queuing: Option<Queuing>,
}

const fn queue(queues: usize, hand_size: usize) -> Option<Queuing> {
    Some(Queuing {
        queues,
        hand_size,
        queue_length_limit: 50,
    })
}

impl Level {
    pub const ALL: [Level; 8] = [
        Level::Exempt,
        Level::System,
        Level::NodeHigh,
        Level::LeaderElection,
        Level::WorkloadHigh,
        Level::WorkloadLow,
        Level::GlobalDefault,
        Level::CatchAll,
    ];

    pub fn name(self) -> &'static str {
        match self {
            Level::Exempt => "exempt",
            Level::System => "system",
            Level::NodeHigh => "node-high",
            Level::LeaderElection => "leader-election",
            Level::WorkloadHigh => "workload-high",
            Level::WorkloadLow => "workload-low",
            Level::GlobalDefault => "global-default",
            Level::CatchAll => "catch-all",
        }
    }

    pub fn index(self) -> usize {
        self as usize
    }

    /// Kubernetes' defaults (v1.29+): None for the exempt level (never limited).
    pub fn spec(self) -> Option<LevelSpec> {
        let (shares, queuing) = match self {
            Level::Exempt => return None,
            Level::System => (30, queue(64, 6)),
            Level::NodeHigh => (40, queue(64, 6)),
            Level::LeaderElection => (10, queue(16, 4)),
            Level::WorkloadHigh => (40, queue(128, 6)),
            Level::WorkloadLow => (100, queue(128, 6)),
            Level::GlobalDefault => (20, queue(128, 6)),
            Level::CatchAll => (5, None),
        };
        Some(LevelSpec {
            nominal_concurrency_shares: shares,
            queuing,
        })
    }
}

/// Each limited level's seats out of `total` (Kubernetes' nominal concurrency limit:
/// `ceil(total * shares / sum of shares)`); 0 for the exempt level.
pub fn nominal_seats(total: u32) -> [u32; 8] {
    let sum: u64 = Level::ALL
        .iter()
        .filter_map(|l| l.spec())
        .map(|s| u64::from(s.nominal_concurrency_shares))
        .sum();
    let mut out = [0; 8];
    for level in Level::ALL {
        if let Some(spec) = level.spec() {
            let shares = u64::from(spec.nominal_concurrency_shares);
            out[level.index()] = (u64::from(total) * shares).div_ceil(sum) as u32;
        }
    }
    out
}

/// Kubernetes' verbs, as authorization names them.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Verb {
    Get,
    List,
    Watch,
    Create,
    Update,
    Patch,
    Delete,
    DeleteCollection,
    /// exec, attach, port-forward, proxy, logs: served without flow control, as Kubernetes
    /// leaves long-running requests other than watches alone.
    Connect,
    Other,
}

impl Verb {
    pub fn mutating(self) -> bool {
        matches!(
            self,
            Verb::Create | Verb::Update | Verb::Patch | Verb::Delete | Verb::DeleteCollection
        )
    }
}

/// What a request targets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Target<'a> {
    Resource {
        group: &'a str,
        resource: &'a str,
        subresource: &'a str,
        namespace: &'a str,
    },
    NonResource {
        path: &'a str,
    },
    /// A gRPC call: the resource is in the message, not read before the call is admitted.
    /// Only rules for every resource match it.
    Unknown,
}

/// A request as flow control sees it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Described<'a> {
    pub verb: Verb,
    pub target: Target<'a>,
}

impl Described<'_> {
    /// Kubernetes' long-running requests: watches and the connect subresources. They have
    /// no deadline; a watch holds its seat only until it is established.
    pub fn long_running(&self) -> bool {
        matches!(self.verb, Verb::Watch | Verb::Connect)
    }
}

/// How a flow schema splits its requests into flows.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Distinguisher {
    None,
    ByUser,
    ByNamespace,
}

/// One of Kubernetes' built-in FlowSchemas.
pub struct FlowSchema {
    pub name: &'static str,
    pub precedence: u32,
    pub level: Level,
    pub distinguisher: Distinguisher,
    matches: fn(&User, &Described<'_>) -> bool,
}

impl std::fmt::Debug for FlowSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(self.name)
    }
}

fn kube_system_sa(u: &User) -> bool {
    u.service_account()
        .is_some_and(|(ns, _)| ns == "kube-system")
}

fn resource_is(d: &Described<'_>, verbs: &[Verb], group: &str, resources: &[&str]) -> bool {
    match d.target {
        Target::Resource {
            group: g, resource, ..
        } => verbs.contains(&d.verb) && g == group && resources.contains(&resource),
        _ => false,
    }
}

fn in_namespace(d: &Described<'_>, ns: &str) -> bool {
    matches!(d.target, Target::Resource { namespace, .. } if namespace == ns)
}

const GET_CREATE_UPDATE: &[Verb] = &[Verb::Get, Verb::Create, Verb::Update];
const ALL_VERBS: &[Verb] = &[
    Verb::Get,
    Verb::List,
    Verb::Watch,
    Verb::Create,
    Verb::Update,
    Verb::Patch,
    Verb::Delete,
    Verb::DeleteCollection,
    Verb::Connect,
    Verb::Other,
];
const COORDINATION: &str = "coordination.k8s.io";
/// The health probes: never limited.
const PROBE_PATHS: &[&str] = &[
    "/healthz",
    "/readyz",
    "/livez",
    "/grpc.health.v1.Health/Check",
];

/// The built-in FlowSchemas in precedence order (the first match wins). The
/// `system-daemons` schema is ours: kube-proxy and cluster DNS authenticate as users here,
/// where Kubernetes runs them as kube-system ServiceAccounts (kube-system-service-accounts,
/// workload-high); they get that level by name.
pub static FLOW_SCHEMAS: &[FlowSchema] = &[
    FlowSchema {
        name: "exempt",
        precedence: 1,
        level: Level::Exempt,
        distinguisher: Distinguisher::None,
        matches: |u, _| u.in_group(names::SYSTEM_MASTERS),
    },
    FlowSchema {
        name: "probes",
        precedence: 2,
        level: Level::Exempt,
        distinguisher: Distinguisher::None,
        matches: |_, d| matches!(d.target, Target::NonResource { path } if PROBE_PATHS.contains(&path)),
    },
    FlowSchema {
        name: "system-leader-election",
        precedence: 100,
        level: Level::LeaderElection,
        distinguisher: Distinguisher::ByUser,
        matches: |u, d| {
            (u.name == names::KUBE_CONTROLLER_MANAGER
                || u.name == names::KUBE_SCHEDULER
                || kube_system_sa(u))
                && ((resource_is(d, GET_CREATE_UPDATE, "", &["endpoints", "configmaps"])
                    && in_namespace(d, "kube-system"))
                    || resource_is(d, GET_CREATE_UPDATE, COORDINATION, &["leases"]))
        },
    },
    FlowSchema {
        name: "endpoint-controller",
        precedence: 150,
        level: Level::WorkloadHigh,
        distinguisher: Distinguisher::ByUser,
        matches: |u, d| {
            (u.name == names::KUBE_CONTROLLER_MANAGER
                || u.service_account() == Some(("kube-system", "endpoint-controller")))
                && resource_is(
                    d,
                    &[Verb::Get, Verb::Create, Verb::Update, Verb::Delete],
                    "",
                    &["endpoints"],
                )
        },
    },
    FlowSchema {
        name: "workload-leader-election",
        precedence: 200,
        level: Level::LeaderElection,
        distinguisher: Distinguisher::ByUser,
        matches: |u, d| {
            kube_system_sa(u)
                && (resource_is(d, GET_CREATE_UPDATE, "", &["endpoints", "configmaps"])
                    || resource_is(d, GET_CREATE_UPDATE, COORDINATION, &["leases"]))
        },
    },
    FlowSchema {
        name: "system-node-high",
        precedence: 400,
        level: Level::NodeHigh,
        distinguisher: Distinguisher::ByUser,
        matches: |u, d| {
            u.in_group(names::SYSTEM_NODES)
                && (resource_is(d, ALL_VERBS, "", &["nodes"])
                    || resource_is(d, ALL_VERBS, COORDINATION, &["leases"]))
        },
    },
    FlowSchema {
        name: "system-nodes",
        precedence: 500,
        level: Level::System,
        distinguisher: Distinguisher::ByUser,
        matches: |u, _| u.in_group(names::SYSTEM_NODES),
    },
    FlowSchema {
        name: "kube-controller-manager",
        precedence: 800,
        level: Level::WorkloadHigh,
        distinguisher: Distinguisher::ByNamespace,
        matches: |u, _| u.name == names::KUBE_CONTROLLER_MANAGER,
    },
    FlowSchema {
        name: "kube-scheduler",
        precedence: 800,
        level: Level::WorkloadHigh,
        distinguisher: Distinguisher::ByNamespace,
        matches: |u, _| u.name == names::KUBE_SCHEDULER,
    },
    FlowSchema {
        name: "system-daemons",
        precedence: 850,
        level: Level::WorkloadHigh,
        distinguisher: Distinguisher::ByNamespace,
        matches: |u, _| u.name == names::KUBE_PROXY || u.name == CLUSTER_DNS,
    },
    FlowSchema {
        name: "kube-system-service-accounts",
        precedence: 900,
        level: Level::WorkloadHigh,
        distinguisher: Distinguisher::ByNamespace,
        matches: |u, _| kube_system_sa(u),
    },
    FlowSchema {
        name: "service-accounts",
        precedence: 9000,
        level: Level::WorkloadLow,
        distinguisher: Distinguisher::ByUser,
        matches: |u, _| u.in_group(names::SYSTEM_SERVICEACCOUNTS) || u.service_account().is_some(),
    },
    FlowSchema {
        name: "global-default",
        precedence: 9900,
        level: Level::GlobalDefault,
        distinguisher: Distinguisher::ByUser,
        // Kubernetes' subjects: system:authenticated and system:unauthenticated, i.e.
        // every caller authentication let through.
        matches: |_, _| true,
    },
    FlowSchema {
        name: "catch-all",
        precedence: 10000,
        level: Level::CatchAll,
        distinguisher: Distinguisher::ByUser,
        matches: |_, _| true,
    },
];

/// The cluster DNS daemon's user (its kubeconfig's certificate CN).
pub const CLUSTER_DNS: &str = "system:cluster-dns";

/// The schema a request matches: the first in precedence order.
pub fn classify(user: &User, request: &Described<'_>) -> &'static FlowSchema {
    FLOW_SCHEMAS
        .iter()
        .find(|s| (s.matches)(user, request))
        // global-default matches everything; the last schema is the fallback anyway.
        .unwrap_or(&FLOW_SCHEMAS[FLOW_SCHEMAS.len() - 1])
}

/// The flow's hash (FNV-1a of the schema and its distinguisher), which picks the flow's
/// queues (Kubernetes hashes the same two strings).
pub fn flow_hash(schema: &FlowSchema, user: &User, request: &Described<'_>) -> u64 {
    let distinguisher = match schema.distinguisher {
        Distinguisher::None => "",
        Distinguisher::ByUser => user.name.as_str(),
        Distinguisher::ByNamespace => match request.target {
            Target::Resource { namespace, .. } => namespace,
            _ => "",
        },
    };
    let mut h: u64 = 0xcbf2_9ce4_8422_2325;
    for b in schema
        .name
        .bytes()
        .chain(std::iter::once(0))
        .chain(distinguisher.bytes())
    {
        h ^= u64::from(b);
        h = h.wrapping_mul(0x0000_0100_0000_01b3);
    }
    h
}

/// A gRPC call by its path (`/package.Service/Method`).
pub fn describe_grpc(path: &str) -> Described<'_> {
    let (service, method) = path
        .trim_start_matches('/')
        .split_once('/')
        .unwrap_or(("", path));
    let verb = match (service, method) {
        ("grpc.health.v1.Health", "Check") => {
            return Described {
                verb: Verb::Get,
                target: Target::NonResource { path },
            };
        }
        ("grpc.health.v1.Health", "Watch") => Verb::Connect,
        ("k8s.Kubelet", "Stats") => Verb::Get,
        ("k8s.Kubelet", _) => Verb::Connect,
        (_, "Get" | "GetScale") => Verb::Get,
        (_, "List" | "ListNodeMetrics" | "ListPodMetrics") => Verb::List,
        (_, "Watch") => Verb::Watch,
        (_, "Update" | "UpdateScale") => Verb::Update,
        (_, "Patch") => Verb::Patch,
        (_, "Delete") => Verb::Delete,
        (_, m) if m.starts_with("Create") || m == "Bind" || m == "Evict" => Verb::Create,
        _ => Verb::Other,
    };
    Described {
        verb,
        target: Target::Unknown,
    }
}

/// The subresources Kubernetes serves as long-running connections.
const CONNECT_SUBRESOURCES: &[&str] = &["log", "exec", "attach", "portforward", "proxy"];

/// An HTTP request by its method, path and query, as Kubernetes' RequestInfoFactory reads
/// them (without allocating).
pub fn describe_http<'a>(method: &http::Method, path: &'a str, query: &str) -> Described<'a> {
    let mut segments = [""; 8];
    let mut n = 0;
    for s in path.split('/').filter(|s| !s.is_empty()) {
        if n == segments.len() {
            break;
        }
        segments[n] = s;
        n += 1;
    }
    let segments = &segments[..n];
    let (group, mut rest) = match segments {
        ["api", _version, rest @ ..] if !rest.is_empty() => ("", rest),
        ["apis", group, _version, rest @ ..] if !rest.is_empty() => (*group, rest),
        _ => {
            let verb = match *method {
                http::Method::GET | http::Method::HEAD => Verb::Get,
                http::Method::POST => Verb::Create,
                http::Method::PUT => Verb::Update,
                http::Method::PATCH => Verb::Patch,
                http::Method::DELETE => Verb::Delete,
                _ => Verb::Other,
            };
            return Described {
                verb,
                target: Target::NonResource { path },
            };
        }
    };
    let watch_path = rest.first() == Some(&"watch");
    if watch_path {
        rest = &rest[1..];
    }
    let (namespace, resource, name, subresource) = match rest {
        ["namespaces", ns, resource, tail @ ..] if !matches!(*resource, "status" | "finalize") => {
            (*ns, *resource, tail.first().copied(), tail.get(1).copied())
        }
        ["namespaces", ns, tail @ ..] => ("", "namespaces", Some(*ns), tail.first().copied()),
        [resource, tail @ ..] => ("", *resource, tail.first().copied(), tail.get(1).copied()),
        [] => ("", "", None, None),
    };
    let subresource = subresource.unwrap_or("");
    let named = name.is_some();
    let watch_query = query.split('&').any(|pair| {
        let (k, v) = pair.split_once('=').unwrap_or((pair, ""));
        k == "watch" && v != "0" && !v.eq_ignore_ascii_case("false")
    });
    let verb = if CONNECT_SUBRESOURCES.contains(&subresource) {
        Verb::Connect
    } else {
        match *method {
            http::Method::GET | http::Method::HEAD if watch_path || watch_query => Verb::Watch,
            http::Method::GET | http::Method::HEAD if named => Verb::Get,
            http::Method::GET | http::Method::HEAD => Verb::List,
            http::Method::POST => Verb::Create,
            http::Method::PUT => Verb::Update,
            http::Method::PATCH => Verb::Patch,
            http::Method::DELETE if named => Verb::Delete,
            http::Method::DELETE => Verb::DeleteCollection,
            _ => Verb::Other,
        }
    };
    Described {
        verb,
        target: Target::Resource {
            group,
            resource,
            subresource,
            namespace,
        },
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::Method;

    fn user(name: &str, groups: &[&str]) -> User {
        User::new(name, groups)
    }

    fn schema_of(u: &User, d: Described<'_>) -> &'static str {
        classify(u, &d).name
    }

    #[test]
    fn seats_are_shared_as_kubernetes_computes_them() {
        let seats = nominal_seats(600);
        // Shares 30+40+10+40+100+20+5 = 245.
        assert_eq!(seats[Level::Exempt.index()], 0);
        assert_eq!(seats[Level::System.index()], 74);
        assert_eq!(seats[Level::NodeHigh.index()], 98);
        assert_eq!(seats[Level::LeaderElection.index()], 25);
        assert_eq!(seats[Level::WorkloadHigh.index()], 98);
        assert_eq!(seats[Level::WorkloadLow.index()], 245);
        assert_eq!(seats[Level::GlobalDefault.index()], 49);
        assert_eq!(seats[Level::CatchAll.index()], 13);
        // Every limited level keeps at least one seat however small the total.
        assert!(nominal_seats(1)[1..].iter().all(|s| *s == 1));
    }

    #[test]
    fn requests_land_in_kubernetes_schemas() {
        let lease = describe_http(
            &Method::PUT,
            "/apis/coordination.k8s.io/v1/namespaces/kube-node-lease/leases/n1",
            "",
        );
        let kubelet = user("system:node:n1", &["system:nodes", "system:authenticated"]);
        assert_eq!(schema_of(&kubelet, lease), "system-node-high");
        assert_eq!(classify(&kubelet, &lease).level, Level::NodeHigh);
        let pods = describe_http(&Method::GET, "/api/v1/pods", "fieldSelector=x");
        assert_eq!(schema_of(&kubelet, pods), "system-nodes");
        // Over gRPC the resource is not known before admission: the node's other schema.
        assert_eq!(
            schema_of(&kubelet, describe_grpc("/k8s.Api/Update")),
            "system-nodes"
        );

        let admin = user("kubernetes-admin", &["system:masters"]);
        assert_eq!(schema_of(&admin, pods), "exempt");
        let anon = User::anonymous();
        assert_eq!(
            schema_of(&anon, describe_http(&Method::GET, "/readyz", "")),
            "probes"
        );
        assert_eq!(
            schema_of(&anon, describe_grpc("/grpc.health.v1.Health/Check")),
            "probes"
        );
        assert_eq!(schema_of(&anon, pods), "global-default");
        let alice = user("alice", &["system:authenticated"]);
        assert_eq!(schema_of(&alice, pods), "global-default");

        let kcm = user("system:kube-controller-manager", &[]);
        let kcm_lease = describe_http(
            &Method::PUT,
            "/apis/coordination.k8s.io/v1/namespaces/kube-system/leases/kcm",
            "",
        );
        assert_eq!(schema_of(&kcm, kcm_lease), "system-leader-election");
        assert_eq!(
            schema_of(
                &kcm,
                describe_http(&Method::PUT, "/api/v1/namespaces/x/endpoints/web", "")
            ),
            "endpoint-controller"
        );
        assert_eq!(schema_of(&kcm, pods), "kube-controller-manager");
        let sched = user("system:kube-scheduler", &[]);
        assert_eq!(classify(&sched, &pods).level, Level::WorkloadHigh);
        for daemon in ["system:kube-proxy", CLUSTER_DNS] {
            assert_eq!(schema_of(&user(daemon, &[]), pods), "system-daemons");
        }

        let sa = user(
            "system:serviceaccount:team:builder",
            &["system:serviceaccounts", "system:serviceaccounts:team"],
        );
        assert_eq!(schema_of(&sa, pods), "service-accounts");
        assert_eq!(classify(&sa, &pods).level, Level::WorkloadLow);
        let ks = user("system:serviceaccount:kube-system:coredns", &[]);
        assert_eq!(schema_of(&ks, pods), "kube-system-service-accounts");
        assert_eq!(schema_of(&ks, kcm_lease), "system-leader-election");
    }

    #[test]
    fn schemas_are_in_precedence_order() {
        assert!(
            FLOW_SCHEMAS
                .windows(2)
                .all(|w| w[0].precedence <= w[1].precedence)
        );
        assert_eq!(FLOW_SCHEMAS.last().unwrap().level, Level::CatchAll);
    }

    #[test]
    fn http_requests_read_as_kubernetes_reads_them() {
        let d = describe_http(&Method::GET, "/api/v1/namespaces/team/pods", "watch=true");
        assert_eq!(d.verb, Verb::Watch);
        assert!(d.long_running());
        assert_eq!(
            d.target,
            Target::Resource {
                group: "",
                resource: "pods",
                subresource: "",
                namespace: "team"
            }
        );
        let d = describe_http(&Method::GET, "/api/v1/namespaces/team/pods", "watch=false");
        assert_eq!(d.verb, Verb::List);
        let d = describe_http(&Method::GET, "/api/v1/watch/namespaces/team/pods", "");
        assert_eq!(d.verb, Verb::Watch);
        let d = describe_http(&Method::POST, "/api/v1/namespaces/team/pods/web/exec", "");
        assert_eq!(d.verb, Verb::Connect);
        let d = describe_http(&Method::GET, "/api/v1/namespaces/team/pods/web/log", "");
        assert_eq!(d.verb, Verb::Connect);
        let d = describe_http(
            &Method::DELETE,
            "/apis/apps/v1/namespaces/a/deployments",
            "",
        );
        assert_eq!(d.verb, Verb::DeleteCollection);
        let d = describe_http(&Method::PUT, "/api/v1/namespaces/team/status", "");
        assert_eq!(
            d.target,
            Target::Resource {
                group: "",
                resource: "namespaces",
                subresource: "status",
                namespace: ""
            }
        );
        assert_eq!(d.verb, Verb::Update);
        let d = describe_http(&Method::GET, "/api/v1/nodes/n1", "");
        assert_eq!(d.verb, Verb::Get);
        let d = describe_http(&Method::GET, "/apis/apps/v1", "");
        assert!(matches!(d.target, Target::NonResource { .. }));
        assert!(
            describe_http(&Method::POST, "/x/y/z/a/b/c/d/e/f/g/h", "")
                .verb
                .mutating()
        );
    }

    #[test]
    fn grpc_calls_read_by_method() {
        assert_eq!(describe_grpc("/k8s.Api/List").verb, Verb::List);
        assert_eq!(describe_grpc("/k8s.Api/Watch").verb, Verb::Watch);
        assert!(describe_grpc("/k8s.Api/Create").verb.mutating());
        assert!(describe_grpc("/k8s.Api/Bind").verb.mutating());
        assert!(describe_grpc("/k8s.Kubelet/ExecStream").long_running());
        assert!(!describe_grpc("/k8s.Kubelet/Stats").long_running());
        assert_eq!(
            describe_grpc("/k8s.Authorization/CreateSubjectAccessReview").verb,
            Verb::Create
        );
        assert_eq!(describe_grpc("nonsense").verb, Verb::Other);
    }

    #[test]
    fn flows_split_by_user_or_namespace() {
        let pods_in = |ns| Described {
            verb: Verb::List,
            target: Target::Resource {
                group: "",
                resource: "pods",
                subresource: "",
                namespace: ns,
            },
        };
        let (a, b) = (user("alice", &[]), user("bob", &[]));
        let s = classify(&a, &pods_in("x"));
        assert_ne!(
            flow_hash(s, &a, &pods_in("x")),
            flow_hash(s, &b, &pods_in("x"))
        );
        assert_eq!(
            flow_hash(s, &a, &pods_in("x")),
            flow_hash(s, &a, &pods_in("y"))
        );
        let kcm = user("system:kube-controller-manager", &[]);
        let s = classify(&kcm, &pods_in("x"));
        assert_eq!(s.distinguisher, Distinguisher::ByNamespace);
        assert_ne!(
            flow_hash(s, &kcm, &pods_in("x")),
            flow_hash(s, &kcm, &pods_in("y"))
        );
    }
}

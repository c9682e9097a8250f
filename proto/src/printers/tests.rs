use super::*;
use crate::resource::ALL_KINDS;
use serde_json::json;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

fn now() -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(1_800_000_000)
}

fn ago(secs: u64) -> String {
    crate::time::format_rfc3339(now() - Duration::from_secs(secs))
}

/// The headers kubectl prints, upper-cased as it does, by default and with `-o wide`.
fn headers(kind: &str, wide: bool) -> Vec<String> {
    columns(kind)
        .iter()
        .filter(|c| wide || c.priority == 0)
        .map(|c| c.name.to_uppercase())
        .collect()
}

fn texts(cells: &[Cell]) -> Vec<String> {
    cells.iter().map(ToString::to_string).collect()
}

/// The cells shown by default (priority 0 columns).
fn shown(kind: &str, o: &serde_json::Value) -> Vec<String> {
    let cells = row_cells(kind, o, now());
    columns(kind)
        .iter()
        .zip(cells)
        .filter(|(c, _)| c.priority == 0)
        .map(|(_, cell)| cell.to_string())
        .collect()
}

/// What real Kubernetes (1.33) prints for each kind, default columns then the `-o wide`
/// additions: facts from `pkg/printers/internalversion/printers.go` and the apiserver's
/// default table (kinds without a printer).
const KUBERNETES_HEADERS: &[(&str, &[&str], &[&str])] = &[
    ("Namespace", &["NAME", "STATUS", "AGE"], &[]),
    (
        "Node",
        &["NAME", "STATUS", "ROLES", "AGE", "VERSION"],
        &[
            "INTERNAL-IP",
            "EXTERNAL-IP",
            "OS-IMAGE",
            "KERNEL-VERSION",
            "CONTAINER-RUNTIME",
        ],
    ),
    (
        "Pod",
        &["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        &["IP", "NODE", "NOMINATED NODE", "READINESS GATES"],
    ),
    (
        "Service",
        &[
            "NAME",
            "TYPE",
            "CLUSTER-IP",
            "EXTERNAL-IP",
            "PORT(S)",
            "AGE",
        ],
        &["SELECTOR"],
    ),
    ("Endpoints", &["NAME", "ENDPOINTS", "AGE"], &[]),
    ("ConfigMap", &["NAME", "DATA", "AGE"], &[]),
    ("Secret", &["NAME", "TYPE", "DATA", "AGE"], &[]),
    ("ServiceAccount", &["NAME", "SECRETS", "AGE"], &[]),
    (
        "Event",
        &["LAST SEEN", "TYPE", "REASON", "OBJECT", "MESSAGE"],
        &[],
    ),
    ("Lease", &["NAME", "HOLDER", "AGE"], &[]),
    (
        "ControllerRevision",
        &["NAME", "CONTROLLER", "REVISION", "AGE"],
        &[],
    ),
    (
        "ReplicaSet",
        &["NAME", "DESIRED", "CURRENT", "READY", "AGE"],
        &["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    (
        "Deployment",
        &["NAME", "READY", "UP-TO-DATE", "AVAILABLE", "AGE"],
        &["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    (
        "DaemonSet",
        &[
            "NAME",
            "DESIRED",
            "CURRENT",
            "READY",
            "UP-TO-DATE",
            "AVAILABLE",
            "NODE SELECTOR",
            "AGE",
        ],
        &["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    (
        "StatefulSet",
        &["NAME", "READY", "AGE"],
        &["CONTAINERS", "IMAGES"],
    ),
    (
        "Job",
        &["NAME", "STATUS", "COMPLETIONS", "DURATION", "AGE"],
        &["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    (
        "CronJob",
        &[
            "NAME",
            "SCHEDULE",
            "TIMEZONE",
            "SUSPEND",
            "ACTIVE",
            "LAST SCHEDULE",
            "AGE",
        ],
        &["CONTAINERS", "IMAGES", "SELECTOR"],
    ),
    (
        "HorizontalPodAutoscaler",
        &[
            "NAME",
            "REFERENCE",
            "TARGETS",
            "MINPODS",
            "MAXPODS",
            "REPLICAS",
            "AGE",
        ],
        &[],
    ),
    ("ResourceQuota", &["NAME", "REQUEST", "LIMIT", "AGE"], &[]),
    ("LimitRange", &["NAME", "CREATED AT"], &[]),
    (
        "PodDisruptionBudget",
        &[
            "NAME",
            "MIN AVAILABLE",
            "MAX UNAVAILABLE",
            "ALLOWED DISRUPTIONS",
            "AGE",
        ],
        &[],
    ),
    (
        "StorageClass",
        &[
            "NAME",
            "PROVISIONER",
            "RECLAIMPOLICY",
            "VOLUMEBINDINGMODE",
            "ALLOWVOLUMEEXPANSION",
            "AGE",
        ],
        &[],
    ),
    (
        "PersistentVolume",
        &[
            "NAME",
            "CAPACITY",
            "ACCESS MODES",
            "RECLAIM POLICY",
            "STATUS",
            "CLAIM",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "REASON",
            "AGE",
        ],
        &["VOLUMEMODE"],
    ),
    (
        "PersistentVolumeClaim",
        &[
            "NAME",
            "STATUS",
            "VOLUME",
            "CAPACITY",
            "ACCESS MODES",
            "STORAGECLASS",
            "VOLUMEATTRIBUTESCLASS",
            "AGE",
        ],
        &["VOLUMEMODE"],
    ),
    (
        "Ingress",
        &["NAME", "CLASS", "HOSTS", "ADDRESS", "PORTS", "AGE"],
        &[],
    ),
    ("Role", &["NAME", "CREATED AT"], &[]),
    ("ClusterRole", &["NAME", "CREATED AT"], &[]),
    (
        "RoleBinding",
        &["NAME", "ROLE", "AGE"],
        &["USERS", "GROUPS", "SERVICEACCOUNTS"],
    ),
    (
        "ClusterRoleBinding",
        &["NAME", "ROLE", "AGE"],
        &["USERS", "GROUPS", "SERVICEACCOUNTS"],
    ),
    (
        "CertificateSigningRequest",
        &[
            "NAME",
            "AGE",
            "SIGNERNAME",
            "REQUESTOR",
            "REQUESTEDDURATION",
            "CONDITION",
        ],
        &[],
    ),
];

#[test]
fn headers_are_kubernetes_for_every_kind() {
    for info in ALL_KINDS {
        let Some((_, default, wide)) = KUBERNETES_HEADERS.iter().find(|(k, ..)| *k == info.kind)
        else {
            panic!(
                "no expected headers for {}: add Kubernetes' to the table",
                info.kind
            );
        };
        assert_eq!(headers(info.kind, false), *default, "{}", info.kind);
        let all: Vec<&str> = default.iter().chain(wide.iter()).copied().collect();
        if info.kind == "Event" {
            // Wide columns interleave with the default ones for events.
            assert_eq!(
                headers("Event", true),
                [
                    "LAST SEEN",
                    "TYPE",
                    "REASON",
                    "OBJECT",
                    "SUBOBJECT",
                    "SOURCE",
                    "MESSAGE",
                    "FIRST SEEN",
                    "COUNT",
                    "NAME"
                ]
            );
        } else {
            assert_eq!(headers(info.kind, true), all, "{} -o wide", info.kind);
        }
    }
}

#[test]
fn column_definitions_carry_types_formats_and_descriptions() {
    for info in ALL_KINDS {
        let cols = columns(info.kind);
        for c in cols {
            assert!(!c.description.is_empty(), "{} {}", info.kind, c.name);
            assert!(
                ["string", "integer", "boolean", "date"].contains(&c.type_),
                "{} {}",
                info.kind,
                c.name
            );
        }
        assert_eq!(
            cols.iter().filter(|c| c.format == "name").count(),
            1,
            "{}: one name column",
            info.kind
        );
        // Every row has one cell per column, even for an empty object.
        assert_eq!(
            row_cells(info.kind, &json!({}), now()).len(),
            cols.len(),
            "{}",
            info.kind
        );
    }
    let rs = columns("ReplicaSet");
    assert_eq!((rs[1].name, rs[1].type_), ("Desired", "integer"));
    assert_eq!(rs[0].format, "name");
    assert!(
        rs[0]
            .description
            .starts_with("Name must be unique within a namespace.")
    );
    assert_eq!(columns("Role")[1].type_, "date");
    assert_eq!(columns("CronJob")[3].type_, "boolean");
}

fn running_pod(name: &str) -> serde_json::Value {
    json!({"metadata": {"name": name, "namespace": "default", "creationTimestamp": ago(200)},
        "spec": {"nodeName": "n1", "containers": [{"name": "a"}, {"name": "b"}]},
        "status": {"phase": "Running", "podIP": "10.244.0.5",
            "containerStatuses": [
                {"name": "a", "ready": true, "restartCount": 0, "state": {"running": {}}},
                {"name": "b", "ready": false, "restartCount": 2,
                 "state": {"waiting": {"reason": "CrashLoopBackOff"}},
                 "lastState": {"terminated": {"exitCode": 1, "finishedAt": ago(30)}}}]}})
}

#[test]
fn pods() {
    let cells = row_cells("Pod", &running_pod("web"), now());
    assert_eq!(
        texts(&cells),
        [
            "web",
            "1/2",
            "CrashLoopBackOff",
            "2 (30s ago)",
            "3m20s",
            "10.244.0.5",
            "n1",
            "<none>",
            "<none>"
        ]
    );
    let pending = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}});
    assert_eq!(shown("Pod", &pending)[1..3], ["0/1", "Pending"]);
    let mut term = running_pod("t");
    term["metadata"]["deletionTimestamp"] = json!(ago(1));
    assert_eq!(shown("Pod", &term)[2], "Terminating");
    let done = json!({"metadata": {"name": "d"}, "spec": {"containers": [{"name": "a"}]},
        "status": {"phase": "Succeeded", "containerStatuses": [{"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}});
    assert_eq!(shown("Pod", &done)[2], "Completed");
    // A finished pod being deleted keeps its final status.
    let mut done_deleted = done.clone();
    done_deleted["metadata"]["deletionTimestamp"] = json!(ago(1));
    assert_eq!(shown("Pod", &done_deleted)[2], "Completed");
    let init = json!({"metadata": {"name": "i"}, "spec": {"initContainers": [{"name": "x"}, {"name": "y"}], "containers": [{"name": "a"}]},
        "status": {"phase": "Pending", "initContainerStatuses": [
            {"name": "x", "state": {"terminated": {"exitCode": 0}}}, {"name": "y", "state": {"running": {}}}]}});
    assert_eq!(shown("Pod", &init)[2], "Init:1/2");
    let init_failed = json!({"metadata": {"name": "i"}, "spec": {"initContainers": [{"name": "x"}], "containers": [{"name": "a"}]},
        "status": {"phase": "Pending", "initContainerStatuses": [
            {"name": "x", "restartCount": 3, "state": {"terminated": {"exitCode": 2}}}]}});
    assert_eq!(shown("Pod", &init_failed)[2..4], ["Init:ExitCode:2", "3"]);
    // A sidecar (restartable init container) counts as a container once started.
    let sidecar = json!({"metadata": {"name": "s"},
        "spec": {"initContainers": [{"name": "proxy", "restartPolicy": "Always"}], "containers": [{"name": "a"}]},
        "status": {"phase": "Running", "conditions": [{"type": "Initialized", "status": "True"}],
            "initContainerStatuses": [{"name": "proxy", "started": true, "ready": true, "restartCount": 1, "state": {"running": {}}}],
            "containerStatuses": [{"name": "a", "ready": true, "state": {"running": {}}}]}});
    assert_eq!(shown("Pod", &sidecar)[1..4], ["2/2", "Running", "1"]);
    let gated = json!({"metadata": {"name": "g"}, "spec": {"containers": [{"name": "a"}]},
        "status": {"phase": "Pending", "conditions": [{"type": "PodScheduled", "status": "False", "reason": "SchedulingGated"}]}});
    assert_eq!(shown("Pod", &gated)[2], "SchedulingGated");
    let gates = json!({"metadata": {"name": "r"}, "spec": {"containers": [], "readinessGates": [{"conditionType": "x"}, {"conditionType": "y"}]},
        "status": {"podIPs": [{"ip": "fd00::1"}], "conditions": [{"type": "x", "status": "True"}]}});
    let cells = texts(&row_cells("Pod", &gates, now()));
    assert_eq!(cells[5], "fd00::1");
    assert_eq!(cells[8], "1/2");
}

#[test]
fn workloads() {
    let d = json!({"metadata": {"name": "web", "creationTimestamp": ago(5)},
        "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                 "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}, {"name": "log", "image": "busybox"}]}}},
        "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
    let cells = row_cells("Deployment", &d, now());
    assert_eq!(
        texts(&cells),
        [
            "web",
            "2/3",
            "3",
            "2",
            "5s",
            "web,log",
            "nginx,busybox",
            "app=web"
        ]
    );
    // UP-TO-DATE and AVAILABLE are numbers in the Table, as Kubernetes sends them.
    assert_eq!(cells[2], Cell::Int(3));
    assert_eq!(cells[2].to_json(), json!(3));
    let rs = json!({"metadata": {"name": "web-1"}, "spec": {"replicas": 2}, "status": {"replicas": 2, "readyReplicas": 1}});
    assert_eq!(
        shown("ReplicaSet", &rs),
        ["web-1", "2", "2", "1", "<unknown>"]
    );
    let sts = json!({"metadata": {"name": "db"}, "spec": {"replicas": 3}, "status": {"readyReplicas": 3}});
    assert_eq!(shown("StatefulSet", &sts)[1], "3/3");
    let ds = json!({"metadata": {"name": "agent"}, "spec": {"template": {"spec": {"nodeSelector": {"os": "linux"}}}},
        "status": {"desiredNumberScheduled": 2, "currentNumberScheduled": 2, "numberReady": 1, "updatedNumberScheduled": 2, "numberAvailable": 1}});
    assert_eq!(
        shown("DaemonSet", &ds)[1..7],
        ["2", "2", "1", "2", "1", "os=linux"]
    );
    let job = json!({"metadata": {"name": "j"}, "spec": {"completions": 3},
        "status": {"succeeded": 3, "startTime": ago(100), "completionTime": ago(40),
                   "conditions": [{"type": "Complete", "status": "True"}]}});
    assert_eq!(shown("Job", &job)[1..4], ["Complete", "3/3", "60s"]);
    let parallel =
        json!({"metadata": {"name": "p"}, "spec": {"parallelism": 2}, "status": {"succeeded": 1}});
    assert_eq!(shown("Job", &parallel)[1..4], ["Running", "1/1 of 2", ""]);
    let cj = json!({"metadata": {"name": "c"}, "spec": {"schedule": "*/5 * * * *"},
        "status": {"active": [{"name": "c-1"}], "lastScheduleTime": ago(61)}});
    assert_eq!(
        shown("CronJob", &cj)[1..6],
        ["*/5 * * * *", "<none>", "False", "1", "61s"]
    );
    let hpa = json!({"metadata": {"name": "h"},
        "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                 "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}},
                             {"type": "Resource", "resource": {"name": "memory", "target": {"type": "AverageValue", "averageValue": "100Mi"}}},
                             {"type": "Pods", "pods": {"metric": {"name": "qps"}, "target": {"type": "AverageValue", "averageValue": "10"}}}]},
        "status": {"currentReplicas": 2, "currentMetrics": [{"type": "Resource", "resource": {"name": "cpu", "current": {"averageUtilization": 40}}}]}});
    assert_eq!(
        shown("HorizontalPodAutoscaler", &hpa)[1..6],
        [
            "Deployment/web",
            "cpu: 40%/50%, memory: <unknown>/100Mi + 1 more...",
            "1",
            "5",
            "2"
        ]
    );
}

#[test]
fn services_ingresses_endpoints() {
    let s = json!({"metadata": {"name": "web", "creationTimestamp": ago(4 * 3600)},
        "spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "clusterIPs": ["10.96.0.10"], "selector": {"app": "web"},
                 "ports": [{"port": 80, "nodePort": 30080, "protocol": "TCP"}, {"port": 53, "protocol": "UDP"}]}});
    assert_eq!(
        texts(&row_cells("Service", &s, now())),
        [
            "web",
            "NodePort",
            "10.96.0.10",
            "<none>",
            "80:30080/TCP,53/UDP",
            "4h",
            "app=web"
        ]
    );
    let lb = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.11"}});
    assert_eq!(shown("Service", &lb)[3], "<pending>");
    let lb_up = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "externalIPs": ["1.2.3.4"]},
        "status": {"loadBalancer": {"ingress": [{"ip": "5.6.7.8"}, {"hostname": "lb.example"}]}}});
    assert_eq!(shown("Service", &lb_up)[3], "5.6.7.8,lb.example,1.2.3.4");
    let headless = json!({"metadata": {"name": "h"}, "spec": {"clusterIP": "None"}});
    assert_eq!(
        shown("Service", &headless)[1..5],
        ["ClusterIP", "None", "<none>", "<none>"]
    );
    let ext = json!({"metadata": {"name": "e"}, "spec": {"type": "ExternalName", "externalName": "db.example"}});
    assert_eq!(shown("Service", &ext)[3], "db.example");

    let ep = json!({"metadata": {"name": "e"}, "subsets": [{"addresses": [{"ip": "1.1.1.1"}, {"ip": "1.1.1.2"}], "ports": [{"port": 80}, {"port": 443}]}]});
    assert_eq!(
        shown("Endpoints", &ep)[1],
        "1.1.1.1:80,1.1.1.2:80,1.1.1.1:443 + 1 more..."
    );
    assert_eq!(
        shown("Endpoints", &json!({"metadata": {"name": "e"}}))[1],
        "<none>"
    );
    assert_eq!(
        shown(
            "Endpoints",
            &json!({"subsets": [{"notReadyAddresses": [{"ip": "1.1.1.1"}]}]})
        )[1],
        ""
    );

    let ing = json!({"metadata": {"name": "i"}, "spec": {"ingressClassName": "nginx",
            "rules": [{"host": "a"}, {"host": "b"}, {}, {"host": "c"}, {"host": "d"}], "tls": [{"hosts": ["a"]}]},
        "status": {"loadBalancer": {"ingress": [{"ip": "10.0.0.2"}, {"ip": "10.0.0.1"}]}}});
    assert_eq!(
        shown("Ingress", &ing)[1..5],
        ["nginx", "a,b,c + 2 more...", "10.0.0.1,10.0.0.2", "80, 443"]
    );
    assert_eq!(
        shown("Ingress", &json!({"spec": {"rules": [{}]}}))[1..5],
        ["<none>", "*", "", "80"]
    );
}

#[test]
fn nodes_events_and_small_kinds() {
    let n = json!({"metadata": {"name": "n1", "creationTimestamp": ago(2 * 86400),
            "labels": {"node-role.kubernetes.io/control-plane": "", "kubernetes.io/role": "edge"}},
        "spec": {"unschedulable": true},
        "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v0.1.0"},
                   "addresses": [{"type": "InternalIP", "address": "10.0.0.5"}]}});
    assert_eq!(
        texts(&row_cells("Node", &n, now())),
        [
            "n1",
            "Ready,SchedulingDisabled",
            "control-plane,edge",
            "2d",
            "v0.1.0",
            "10.0.0.5",
            "<none>",
            "<unknown>",
            "<unknown>",
            "<unknown>"
        ]
    );
    let ev = json!({"metadata": {"name": "web.1", "namespace": "default"},
        "involvedObject": {"kind": "Pod", "name": "web", "fieldPath": "spec.containers{a}"},
        "reason": "Scheduled", "type": "Normal", "source": {"component": "scheduler"},
        "message": " Successfully assigned\n", "firstTimestamp": ago(120), "lastTimestamp": ago(5), "count": 3});
    assert_eq!(
        texts(&row_cells("Event", &ev, now())),
        [
            "5s",
            "Normal",
            "Scheduled",
            "pod/web",
            "spec.containers{a}",
            "scheduler",
            "Successfully assigned",
            "2m",
            "3",
            "web.1"
        ]
    );
    let new_api = json!({"metadata": {"name": "x"}, "involvedObject": {"kind": "Node"}, "eventTime": "2027-01-15T08:00:00.000000Z",
        "reportingComponent": "kubelet", "reportingInstance": "n1"});
    let cells = texts(&row_cells("Event", &new_api, now()));
    assert_eq!(
        (cells[3].as_str(), cells[5].as_str(), cells[8].as_str()),
        ("node", "kubelet, n1", "1")
    );
    assert_eq!(cells[0], cells[7]);

    let cm = json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}, "binaryData": {"c": "AA=="}});
    assert_eq!(shown("ConfigMap", &cm), ["c", "3", "<unknown>"]);
    let sec = json!({"metadata": {"name": "s"}, "data": {"a": "MQ=="}});
    assert_eq!(shown("Secret", &sec)[1..3], ["Opaque", "1"]);
    let sa = json!({"metadata": {"name": "default"}, "secrets": [{"name": "t"}]});
    assert_eq!(shown("ServiceAccount", &sa)[1], "1");
    assert_eq!(
        shown("Namespace", &json!({"metadata": {"name": "ns"}}))[1],
        "Active"
    );
    assert_eq!(shown("Lease", &json!({"metadata": {"name": "l"}}))[1], "");
    let cr = json!({"metadata": {"name": "web-7d4b", "ownerReferences": [
        {"apiVersion": "apps/v1", "kind": "DaemonSet", "name": "web", "uid": "u", "controller": true}
    ]}, "revision": 3});
    assert_eq!(
        shown("ControllerRevision", &cr)[1..3],
        ["daemonset.apps/web", "3"]
    );
    assert_eq!(
        shown("ControllerRevision", &json!({"metadata": {"name": "x"}}))[1],
        "<none>"
    );
    let role =
        json!({"metadata": {"name": "r", "creationTimestamp": "2026-01-02T03:04:05.123456Z"}});
    assert_eq!(shown("Role", &role), ["r", "2026-01-02T03:04:05Z"]);
    assert_eq!(
        shown("LimitRange", &json!({"metadata": {"name": "l"}})),
        ["l", "0001-01-01T00:00:00Z"]
    );
}

#[test]
fn bindings_and_csrs() {
    let b = json!({"metadata": {"name": "b"},
        "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
        "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "devs"},
                     {"kind": "ServiceAccount", "name": "bot", "namespace": "ci"},
                     {"kind": "User", "name": "bob"}]});
    assert_eq!(
        texts(&row_cells("ClusterRoleBinding", &b, now()))[1..],
        [
            "ClusterRole/view",
            "<unknown>",
            "alice, bob",
            "devs",
            "ci/bot"
        ]
    );
    let pending = json!({"spec": {"signerName": "kubernetes.io/kube-apiserver-client-kubelet",
        "username": "system:bootstrap:abcdef"}});
    assert_eq!(
        shown("CertificateSigningRequest", &pending)[2..],
        [
            "kubernetes.io/kube-apiserver-client-kubelet",
            "system:bootstrap:abcdef",
            "<none>",
            "Pending"
        ]
    );
    let issued = json!({"spec": {"expirationSeconds": 3600},
        "status": {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "Q0VSVA=="}});
    assert_eq!(
        shown("CertificateSigningRequest", &issued)[2..],
        ["<none>", "", "60m", "Approved,Issued"]
    );
    let denied = json!({"status": {"conditions": [{"type": "Denied"}, {"type": "Failed"}]}});
    assert_eq!(csr_condition(&denied), "Denied,Failed");
}

#[test]
fn storage_and_quotas() {
    let pv = json!({"metadata": {"name": "pv1"},
        "spec": {"capacity": {"storage": "10Gi"}, "accessModes": ["ReadWriteOnce", "ReadOnlyMany"],
                 "claimRef": {"namespace": "default", "name": "data"}, "storageClassName": "fast"},
        "status": {"phase": "Bound"}});
    assert_eq!(
        texts(&row_cells("PersistentVolume", &pv, now())),
        [
            "pv1",
            "10Gi",
            "RWO,ROX",
            "Retain",
            "Bound",
            "default/data",
            "fast",
            "<unset>",
            "",
            "<unknown>",
            "Filesystem"
        ]
    );
    let pvc = json!({"metadata": {"name": "data", "annotations": {"volume.beta.kubernetes.io/storage-class": "slow"}},
        "spec": {"resources": {"requests": {"storage": "1Gi"}}},
        "status": {"phase": "Pending", "capacity": {"storage": "1Gi"}}});
    assert_eq!(
        shown("PersistentVolumeClaim", &pvc)[1..7],
        ["Pending", "", "", "", "slow", "<unset>"]
    );
    let quota = json!({"metadata": {"name": "q"},
        "status": {"hard": {"requests.cpu": "1", "limits.memory": "2Gi", "pods": "10", "limits.cpu": "2"},
                   "used": {"requests.cpu": "500m", "pods": "3"}}});
    assert_eq!(
        shown("ResourceQuota", &quota)[1..3],
        [
            "pods: 3/10, requests.cpu: 500m/1",
            "limits.cpu: 0/2, limits.memory: 0/2Gi"
        ]
    );
}

#[test]
fn storage_class_rows_mark_the_default_and_fill_kubernetes_defaults() {
    let default = json!({"metadata": {"name": "local-path", "creationTimestamp": ago(120),
        "annotations": {"storageclass.kubernetes.io/is-default-class": "true"}},
        "provisioner": "rancher.io/local-path", "reclaimPolicy": "Delete",
        "volumeBindingMode": "WaitForFirstConsumer", "allowVolumeExpansion": true});
    assert_eq!(
        shown("StorageClass", &default),
        [
            "local-path (default)",
            "rancher.io/local-path",
            "Delete",
            "WaitForFirstConsumer",
            "true",
            "2m"
        ]
    );
    let beta = json!({"metadata": {"name": "old",
        "annotations": {"storageclass.beta.kubernetes.io/is-default-class": "true"}},
        "provisioner": "p"});
    assert_eq!(
        shown("StorageClass", &beta)[..5],
        ["old (default)", "p", "Delete", "Immediate", "false"]
    );
    let not_default = json!({"metadata": {"name": "fast",
        "annotations": {"storageclass.kubernetes.io/is-default-class": "false"}}});
    assert_eq!(shown("StorageClass", &not_default)[0], "fast");
}

#[test]
fn pod_disruption_budget_rows_show_na_for_the_unset_bound() {
    let min = json!({"metadata": {"name": "web", "creationTimestamp": ago(90)},
        "spec": {"minAvailable": 2}, "status": {"disruptionsAllowed": 1}});
    assert_eq!(
        shown("PodDisruptionBudget", &min),
        ["web", "2", "N/A", "1", "90s"]
    );
    let max = json!({"metadata": {"name": "db"}, "spec": {"maxUnavailable": "25%"}});
    assert_eq!(
        shown("PodDisruptionBudget", &max)[1..4],
        ["N/A", "25%", "0"]
    );
}

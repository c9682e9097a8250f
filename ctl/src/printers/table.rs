//! kubectl-style tables: Kubernetes' columns and cells for each kind (shared with the
//! apiserver, `proto::printers`), the options kubectl adds (`-o wide`, `-A`, several kinds,
//! `--show-labels`) and tab-aligned rendering. Pure: `now` is passed in.

use super::age::seconds_since;
use crate::jv::{map_text, obj_at, str_at};
use crate::kinds::object_name;
use proto::KindInfo;
use proto::printers::{columns, row_cells};
use serde_json::Value;
use std::time::SystemTime;

pub use proto::printers::event_time;

/// kubectl's tabwriter: cells padded by 3 spaces, to at least 6 characters.
const PADDING: usize = 3;
const MIN_WIDTH: usize = 6;

#[derive(Debug, Clone)]
pub struct TableOptions {
    pub wide: bool,
    /// `-A`: a NAMESPACE column first (for namespaced kinds).
    pub namespace_column: bool,
    /// Several kinds shown: names read `deployment.apps/web`.
    pub kind_prefix: bool,
    pub show_labels: bool,
    /// `-L a,b`: a column per label key, headed by its last path segment upper-cased.
    pub label_columns: Vec<String>,
    pub now: SystemTime,
}

#[derive(Debug, Clone, PartialEq)]
pub struct Table {
    pub headers: Vec<String>,
    pub rows: Vec<Vec<String>>,
}

/// The table of `objects`, all of kind `kind`, as kubectl prints the server's table: the
/// priority 0 columns (all with `-o wide`), headers upper-cased.
pub fn build_table(kind: &KindInfo, objects: &[Value], opts: &TableOptions) -> Table {
    let cols = columns(kind.kind);
    let shown: Vec<usize> = (0..cols.len())
        .filter(|&i| opts.wide || cols[i].priority == 0)
        .collect();
    let name_column = cols.iter().position(|c| c.format == "name");
    let ns_col = opts.namespace_column && kind.namespaced;
    let mut headers: Vec<String> = Vec::new();
    if ns_col {
        headers.push("NAMESPACE".into());
    }
    headers.extend(shown.iter().map(|&i| cols[i].name.to_uppercase()));
    headers.extend(opts.label_columns.iter().map(|l| label_header(l)));
    if opts.show_labels {
        headers.push("LABELS".into());
    }
    let mut sorted: Vec<&Value> = objects.iter().collect();
    if kind.kind == "Event" {
        // Oldest first, as a log reads.
        sorted.sort_by_key(|e| {
            std::cmp::Reverse(seconds_since(event_time(e), opts.now).unwrap_or(i64::MAX))
        });
    }
    let rows = sorted
        .into_iter()
        .map(|obj| {
            let mut cells: Vec<String> = row_cells(kind.kind, obj, opts.now)
                .iter()
                .map(ToString::to_string)
                .collect();
            if opts.kind_prefix
                && let Some(i) = name_column
            {
                cells[i] = object_name(kind, str_at(obj, "/metadata/name"));
            }
            let mut row = Vec::with_capacity(headers.len());
            if ns_col {
                row.push(str_at(obj, "/metadata/namespace").to_string());
            }
            row.extend(shown.iter().map(|&i| std::mem::take(&mut cells[i])));
            let labels = obj_at(obj, "/metadata/labels");
            for key in &opts.label_columns {
                let value = labels.and_then(|l| l.get(key)).and_then(Value::as_str);
                row.push(value.unwrap_or_default().to_string());
            }
            if opts.show_labels {
                row.push(map_text(labels));
            }
            row
        })
        .collect();
    Table { headers, rows }
}

/// kubectl's header of a `-L` column: `app.kubernetes.io/name` -> `NAME`.
pub fn label_header(key: &str) -> String {
    key.rsplit('/').next().unwrap_or(key).to_uppercase()
}

/// Columns separated by three spaces, as kubectl's tabwriter (padding 3, minimum cell
/// width 6): every cell but a row's last is padded, so an empty last cell leaves the
/// padding of the one before it, as kubectl prints.
pub fn render(table: &Table, with_header: bool) -> String {
    render_with(table, with_header, &mut Vec::new())
}

/// As `render`, with column widths at least `widths`, which grow to fit: rows printed
/// later (watch events) stay aligned with those printed before.
pub fn render_with(table: &Table, with_header: bool, widths: &mut Vec<usize>) -> String {
    let ncols = table.headers.len();
    if widths.len() < ncols {
        widths.resize(ncols, 0);
    }
    // A header not printed does not widen its column (kubectl's `--no-headers`).
    let header = with_header.then_some(&table.headers);
    for row in header.into_iter().chain(table.rows.iter()) {
        for (i, cell) in row.iter().enumerate().take(ncols) {
            widths[i] = widths[i].max(cell.chars().count());
        }
    }
    let mut out = String::new();
    let mut line = |row: &[String]| {
        for (i, cell) in row.iter().enumerate().take(ncols) {
            out.push_str(cell);
            if i + 1 < ncols {
                let pad = (widths[i] + PADDING).max(MIN_WIDTH) - cell.chars().count();
                out.extend(std::iter::repeat_n(' ', pad));
            }
        }
        out.push('\n');
    };
    if with_header {
        line(&table.headers);
    }
    for r in &table.rows {
        line(r);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::resource::find_kind;
    use serde_json::json;
    use std::time::{Duration, UNIX_EPOCH};

    fn now() -> SystemTime {
        UNIX_EPOCH + Duration::from_secs(1_800_000_000)
    }
    fn ago(secs: u64) -> String {
        proto::time::format_rfc3339(now() - Duration::from_secs(secs))
    }
    fn opts() -> TableOptions {
        TableOptions {
            wide: false,
            namespace_column: false,
            kind_prefix: false,
            show_labels: false,
            label_columns: vec![],
            now: now(),
        }
    }
    fn kind(k: &str) -> &'static KindInfo {
        find_kind(k).unwrap()
    }

    fn running_pod(name: &str) -> Value {
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
    fn pods_table_with_crashloop_and_wide() {
        let t = build_table(kind("po"), &[running_pod("web")], &opts());
        assert_eq!(t.headers, ["NAME", "READY", "STATUS", "RESTARTS", "AGE"]);
        assert_eq!(
            t.rows[0],
            ["web", "1/2", "CrashLoopBackOff", "2 (30s ago)", "3m20s"]
        );
        let wide = build_table(
            kind("po"),
            &[running_pod("web")],
            &TableOptions {
                wide: true,
                ..opts()
            },
        );
        assert_eq!(&wide.rows[0][5..7], ["10.244.0.5", "n1"]);
    }

    #[test]
    fn pod_states() {
        let pending = json!({"metadata": {"name": "p"}, "spec": {"containers": [{"name": "a"}]}});
        assert_eq!(
            build_table(kind("po"), &[pending], &opts()).rows[0][1..3],
            ["0/1", "Pending"]
        );
        let mut term = running_pod("t");
        term["metadata"]["deletionTimestamp"] = json!(ago(1));
        assert_eq!(
            build_table(kind("po"), &[term], &opts()).rows[0][2],
            "Terminating"
        );
        let done = json!({"metadata": {"name": "d"}, "spec": {"containers": [{"name": "a"}]},
            "status": {"phase": "Succeeded", "containerStatuses": [{"name": "a", "state": {"terminated": {"exitCode": 0, "reason": "Completed"}}}]}});
        assert_eq!(
            build_table(kind("po"), &[done], &opts()).rows[0][2],
            "Completed"
        );
        let init = json!({"metadata": {"name": "i"}, "spec": {"initContainers": [{"name": "x"}, {"name": "y"}], "containers": [{"name": "a"}]},
            "status": {"phase": "Pending", "initContainerStatuses": [
                {"name": "x", "state": {"terminated": {"exitCode": 0}}}, {"name": "y", "state": {"running": {}}}]}});
        assert_eq!(
            build_table(kind("po"), &[init], &opts()).rows[0][2],
            "Init:1/2"
        );
    }

    #[test]
    fn deployments_and_services() {
        let d = json!({"metadata": {"name": "web", "creationTimestamp": ago(5)},
            "spec": {"replicas": 3, "selector": {"matchLabels": {"app": "web"}},
                     "template": {"spec": {"containers": [{"name": "web", "image": "nginx"}]}}},
            "status": {"readyReplicas": 2, "updatedReplicas": 3, "availableReplicas": 2}});
        let t = build_table(
            kind("deploy"),
            &[d],
            &TableOptions {
                wide: true,
                ..opts()
            },
        );
        assert_eq!(
            t.rows[0],
            ["web", "2/3", "3", "2", "5s", "web", "nginx", "app=web"]
        );

        let s = json!({"metadata": {"name": "web", "creationTimestamp": ago(4 * 3600)},
            "spec": {"type": "NodePort", "clusterIP": "10.96.0.10", "selector": {"app": "web"},
                     "ports": [{"port": 80, "nodePort": 30080}, {"port": 53, "protocol": "UDP"}]}});
        let t = build_table(kind("svc"), &[s], &opts());
        assert_eq!(
            t.headers,
            [
                "NAME",
                "TYPE",
                "CLUSTER-IP",
                "EXTERNAL-IP",
                "PORT(S)",
                "AGE"
            ]
        );
        assert_eq!(
            t.rows[0],
            [
                "web",
                "NodePort",
                "10.96.0.10",
                "<none>",
                "80:30080/TCP,53/UDP",
                "4h"
            ]
        );
        let lb = json!({"metadata": {"name": "lb"}, "spec": {"type": "LoadBalancer", "clusterIP": "10.96.0.11"}});
        assert_eq!(
            build_table(kind("svc"), &[lb], &opts()).rows[0][3],
            "<pending>"
        );
    }

    #[test]
    fn nodes_configmaps_secrets_events() {
        let n = json!({"metadata": {"name": "n1", "creationTimestamp": ago(2 * 86400),
                "labels": {"node-role.kubernetes.io/control-plane": ""}},
            "spec": {"unschedulable": true},
            "status": {"conditions": [{"type": "Ready", "status": "True"}], "nodeInfo": {"kubeletVersion": "v0.1.0"}}});
        assert_eq!(
            build_table(kind("no"), &[n], &opts()).rows[0],
            [
                "n1",
                "Ready,SchedulingDisabled",
                "control-plane",
                "2d",
                "v0.1.0"
            ]
        );
        let cm = json!({"metadata": {"name": "c"}, "data": {"a": "1", "b": "2"}});
        assert_eq!(
            build_table(kind("cm"), &[cm], &opts()).rows[0],
            ["c", "2", "<unknown>"]
        );
        let sec = json!({"metadata": {"name": "s"}, "data": {"a": "MQ=="}});
        assert_eq!(
            build_table(kind("secret"), &[sec], &opts()).rows[0][1..3],
            ["Opaque", "1"]
        );
        let ev = |name: &str, secs: u64| {
            json!({"metadata": {"name": name, "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web"}, "reason": "Scheduled", "type": "Normal",
            "message": "Successfully assigned", "lastTimestamp": ago(secs)})
        };
        let t = build_table(
            kind("ev"),
            &[ev("new", 5), ev("old", 60)],
            &TableOptions {
                namespace_column: true,
                ..opts()
            },
        );
        assert_eq!(
            t.headers,
            [
                "NAMESPACE",
                "LAST SEEN",
                "TYPE",
                "REASON",
                "OBJECT",
                "MESSAGE"
            ]
        );
        assert_eq!(
            t.rows[0],
            [
                "default",
                "60s",
                "Normal",
                "Scheduled",
                "pod/web",
                "Successfully assigned"
            ]
        );
        assert_eq!(t.rows[1][1], "5s");
    }

    #[test]
    fn namespace_column_kind_prefix_labels_and_generic() {
        let o =
            json!({"metadata": {"name": "x", "namespace": "prod", "labels": {"b": "2", "a": "1"}}});
        let t = build_table(
            kind("deploy"),
            std::slice::from_ref(&o),
            &TableOptions {
                namespace_column: true,
                kind_prefix: true,
                show_labels: true,
                ..opts()
            },
        );
        assert_eq!(t.headers[0], "NAMESPACE");
        assert_eq!(t.rows[0][0], "prod");
        assert_eq!(t.rows[0][1], "deployment.apps/x");
        assert_eq!(t.rows[0].last().unwrap(), "a=1,b=2");
        // Cluster-scoped kinds get no NAMESPACE column even with -A.
        let t = build_table(
            kind("ns"),
            std::slice::from_ref(&o),
            &TableOptions {
                namespace_column: true,
                ..opts()
            },
        );
        assert_eq!(t.headers, ["NAME", "STATUS", "AGE"]);
        assert_eq!(t.rows[0][1], "Active");
        // Kinds Kubernetes has no printer for: the apiserver's default table.
        let t = build_table(kind("limits"), &[o], &opts());
        assert_eq!(t.headers, ["NAME", "CREATED AT"]);
    }

    #[test]
    fn endpoints_jobs_hpa() {
        let ep = json!({"metadata": {"name": "e"}, "subsets": [{"addresses": [{"ip": "1.1.1.1"}, {"ip": "1.1.1.2"}, {"ip": "1.1.1.3"}, {"ip": "1.1.1.4"}], "ports": [{"port": 80}]}]});
        assert_eq!(
            build_table(kind("ep"), &[ep], &opts()).rows[0][1],
            "1.1.1.1:80,1.1.1.2:80,1.1.1.3:80 + 1 more..."
        );
        let job = json!({"metadata": {"name": "j"}, "spec": {"completions": 3},
            "status": {"succeeded": 3, "startTime": ago(100), "completionTime": ago(40),
                       "conditions": [{"type": "Complete", "status": "True"}]}});
        assert_eq!(
            build_table(kind("job"), &[job], &opts()).rows[0][1..4],
            ["Complete", "3/3", "60s"]
        );
        let hpa = json!({"metadata": {"name": "h"},
            "spec": {"scaleTargetRef": {"kind": "Deployment", "name": "web"}, "maxReplicas": 5,
                     "metrics": [{"type": "Resource", "resource": {"name": "cpu", "target": {"type": "Utilization", "averageUtilization": 50}}}]},
            "status": {"currentReplicas": 2}});
        assert_eq!(
            build_table(kind("hpa"), &[hpa], &opts()).rows[0][1..6],
            ["Deployment/web", "cpu: <unknown>/50%", "1", "5", "2"]
        );
    }

    #[test]
    fn event_wide_columns_interleave_and_kind_prefix_names_only_the_name_column() {
        let ev = json!({"metadata": {"name": "web.1", "namespace": "default"},
            "involvedObject": {"kind": "Pod", "name": "web"}, "reason": "Pulled", "type": "Normal",
            "message": "pulled", "lastTimestamp": ago(5), "count": 2});
        let t = build_table(
            kind("ev"),
            std::slice::from_ref(&ev),
            &TableOptions {
                wide: true,
                kind_prefix: true,
                ..opts()
            },
        );
        assert_eq!(
            t.headers,
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
        assert_eq!(t.rows[0][3], "pod/web");
        assert_eq!(t.rows[0][8], "2");
        assert_eq!(t.rows[0][9], "event/web.1");
        let t = build_table(
            kind("ev"),
            &[ev],
            &TableOptions {
                kind_prefix: true,
                ..opts()
            },
        );
        assert_eq!(t.rows[0], ["5s", "Normal", "Pulled", "pod/web", "pulled"]);
    }

    #[test]
    fn label_columns_come_before_labels_and_cells_are_at_least_six_wide() {
        let o = json!({"metadata": {"name": "x", "labels": {"app.kubernetes.io/name": "web", "b": "2"}}});
        let bare = json!({"metadata": {"name": "y"}});
        let t = build_table(
            kind("cm"),
            &[o, bare],
            &TableOptions {
                label_columns: vec!["app.kubernetes.io/name".into(), "b".into()],
                show_labels: true,
                ..opts()
            },
        );
        assert_eq!(t.headers, ["NAME", "DATA", "AGE", "NAME", "B", "LABELS"]);
        assert_eq!(
            t.rows[0][3..],
            ["web", "2", "app.kubernetes.io/name=web,b=2"]
        );
        assert_eq!(t.rows[1][3..], ["", "", "<none>"]);
        // A one-letter column is padded to kubectl's minimum cell width of 6.
        let narrow = Table {
            headers: vec!["A".into(), "B".into()],
            rows: vec![vec!["x".into(), "".into()]],
        };
        assert_eq!(render(&narrow, true), "A     B\nx     \n");
    }

    #[test]
    fn rendering_aligns_with_three_spaces() {
        let t = Table {
            headers: vec!["NAME".into(), "READY".into(), "AGE".into()],
            rows: vec![
                vec!["a-long-name".into(), "1/1".into(), "5s".into()],
                vec!["b".into(), "0/1".into(), "".into()],
            ],
        };
        assert_eq!(
            render(&t, true),
            "NAME          READY   AGE\na-long-name   1/1     5s\nb             0/1     \n"
        );
        assert_eq!(
            render(&t, false),
            "a-long-name   1/1   5s\nb             0/1   \n"
        );
    }
}

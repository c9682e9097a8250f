//! Kubernetes' defaults, applied to manifests as users write them.

use proto::defaults::{apply_defaults, default_pull_policy};
use proto::k8s::{Object, object::Kind};
use proto::manifest::load_documents;

fn load_one(text: &str) -> Object {
    let mut v = load_documents(text).unwrap();
    assert_eq!(v.len(), 1);
    v.remove(0)
}

fn defaulted(text: &str) -> Object {
    let mut o = load_one(text);
    apply_defaults(&mut o);
    o
}

const MINIMAL_DEPLOYMENT: &str = "
apiVersion: apps/v1
kind: Deployment
metadata: {name: web}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: web
        image: nginx
        ports: [{containerPort: 80}]
        resources: {limits: {cpu: 500m}}
        livenessProbe: {httpGet: {port: 80}}
        readinessProbe: {exec: {command: ['true']}, periodSeconds: 3}
";

#[test]
fn deployment_and_its_pod_template() {
    let o = defaulted(MINIMAL_DEPLOYMENT);
    let Some(Kind::Deployment(d)) = &o.kind else {
        panic!()
    };
    let spec = d.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(1));
    assert_eq!(spec.revision_history_limit, Some(10));
    assert_eq!(spec.progress_deadline_seconds, Some(600));
    let strategy = spec.strategy.as_ref().unwrap();
    assert_eq!(strategy.r#type, "RollingUpdate");
    let ru = strategy.rolling_update.as_ref().unwrap();
    assert_eq!(
        (ru.max_surge.as_str(), ru.max_unavailable.as_str()),
        ("25%", "25%")
    );

    let pod = spec.template.as_ref().unwrap().spec.as_ref().unwrap();
    assert_eq!(pod.restart_policy, "Always");
    assert_eq!(pod.dns_policy, "ClusterFirst");
    assert_eq!(pod.scheduler_name, "default-scheduler");
    assert_eq!(pod.termination_grace_period_seconds, Some(30));
    // Admission fills these on Pods only; a template stays as written.
    assert_eq!(pod.service_account_name, "");
    assert!(pod.tolerations.is_empty() && pod.priority.is_none());
    let c = &pod.containers[0];
    assert_eq!(c.image_pull_policy, "Always");
    assert_eq!(c.termination_message_path, "/dev/termination-log");
    assert_eq!(c.termination_message_policy, "File");
    assert_eq!(c.ports[0].protocol, "TCP");
    assert_eq!(c.resources.as_ref().unwrap().requests["cpu"], "500m");
    let live = c.liveness_probe.as_ref().unwrap();
    assert_eq!(
        (
            live.period_seconds,
            live.timeout_seconds,
            live.success_threshold,
            live.failure_threshold
        ),
        (10, 1, 1, 3)
    );
    let get = live.http_get.as_ref().unwrap();
    assert_eq!((get.path.as_str(), get.scheme.as_str()), ("/", "HTTP"));
    assert_eq!(c.readiness_probe.as_ref().unwrap().period_seconds, 3);
}

#[test]
fn pods_get_the_admission_defaults() {
    let o = defaulted(
        "apiVersion: v1\nkind: Pod\nspec:\n  containers:\n  - {name: a, image: 'nginx:1.25'}\n",
    );
    let Some(Kind::Pod(p)) = &o.kind else {
        panic!()
    };
    let pod = p.spec.as_ref().unwrap();
    assert_eq!(pod.service_account_name, "default");
    assert_eq!(pod.priority, Some(0));
    // The not-ready/unreachable tolerations are the apiserver's admission (its flags set
    // the seconds), not defaults: templates must not carry them.
    assert!(pod.tolerations.is_empty(), "{:?}", pod.tolerations);
}

#[test]
fn user_values_are_kept() {
    let o = defaulted(
        "apiVersion: v1\nkind: Pod\nspec:\n  restartPolicy: Never\n  terminationGracePeriodSeconds: 0\n  serviceAccount: legacy\n  tolerations:\n  - {key: node.kubernetes.io/unreachable, operator: Exists, effect: NoExecute, tolerationSeconds: 10}\n  containers:\n  - {name: a, image: 'nginx:1.25', imagePullPolicy: Never}\n",
    );
    let Some(Kind::Pod(p)) = &o.kind else {
        panic!()
    };
    let spec = p.spec.as_ref().unwrap();
    assert_eq!(spec.restart_policy, "Never");
    assert_eq!(spec.termination_grace_period_seconds, Some(0));
    assert_eq!(spec.service_account_name, "legacy");
    assert_eq!(spec.containers[0].image_pull_policy, "Never");
    let t: Vec<_> = spec
        .tolerations
        .iter()
        .map(|t| (t.key.as_str(), t.toleration_seconds))
        .collect();
    assert_eq!(t, [("node.kubernetes.io/unreachable", Some(10))]);
    assert_eq!(p.status.as_ref().unwrap().phase, "Pending");
}

#[test]
fn a_wildcard_toleration_covers_the_node_taints() {
    let o = defaulted(
        "apiVersion: v1\nkind: Pod\nspec:\n  tolerations: [{operator: Exists}]\n  containers: [{name: a, image: x}]\n",
    );
    let Some(Kind::Pod(p)) = &o.kind else {
        panic!()
    };
    assert_eq!(p.spec.as_ref().unwrap().tolerations.len(), 1);
}

#[test]
fn image_pull_policy_follows_the_tag() {
    for (image, want) in [
        ("nginx", "Always"),
        ("nginx:latest", "Always"),
        ("nginx:1.25", "IfNotPresent"),
        ("registry.local:5000/team/app", "Always"),
        ("registry.local:5000/team/app:v2", "IfNotPresent"),
        ("nginx@sha256:0123abcd", "IfNotPresent"),
    ] {
        assert_eq!(default_pull_policy(image), want, "{image}");
    }
}

#[test]
fn service_ports_and_types() {
    let o = defaulted(
        "apiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec:\n  type: NodePort\n  sessionAffinity: ClientIP\n  ports:\n  - {port: 80}\n  - {port: 443, targetPort: https, protocol: UDP}\n",
    );
    let Some(Kind::Service(s)) = &o.kind else {
        panic!()
    };
    let spec = s.spec.as_ref().unwrap();
    assert_eq!(spec.ports[0].protocol, "TCP");
    assert_eq!(spec.ports[0].target_port, "80");
    assert_eq!(spec.ports[1].protocol, "UDP");
    assert_eq!(spec.ports[1].target_port, "https");
    assert_eq!(spec.external_traffic_policy, "Cluster");
    let timeout = spec
        .session_affinity_config
        .as_ref()
        .unwrap()
        .client_ip
        .as_ref()
        .unwrap()
        .timeout_seconds;
    assert_eq!(timeout, Some(10800));

    let o = defaulted("apiVersion: v1\nkind: Service\nspec:\n  ports: [{port: 53}]\n");
    let Some(Kind::Service(s)) = &o.kind else {
        panic!()
    };
    let spec = s.spec.as_ref().unwrap();
    assert_eq!(
        (spec.r#type.as_str(), spec.session_affinity.as_str()),
        ("ClusterIP", "None")
    );
    assert_eq!(spec.external_traffic_policy, "");
}

#[test]
fn jobs_keep_restart_policy_unset_and_get_their_counts() {
    let o = defaulted(
        "apiVersion: batch/v1\nkind: Job\nspec:\n  template:\n    spec:\n      containers: [{name: a, image: x}]\n",
    );
    let Some(Kind::Job(j)) = &o.kind else {
        panic!()
    };
    let spec = j.spec.as_ref().unwrap();
    assert_eq!(
        (spec.parallelism, spec.completions, spec.backoff_limit),
        (Some(1), Some(1), Some(6))
    );
    assert_eq!(spec.completion_mode.as_deref(), Some("NonIndexed"));
    let pod = spec.template.as_ref().unwrap().spec.as_ref().unwrap();
    assert_eq!(pod.restart_policy, "");
    assert_eq!(pod.dns_policy, "ClusterFirst");

    // Parallelism alone means a work queue: completions stay unset.
    let o = defaulted("apiVersion: batch/v1\nkind: Job\nspec:\n  parallelism: 3\n");
    let Some(Kind::Job(j)) = &o.kind else {
        panic!()
    };
    assert_eq!(j.spec.as_ref().unwrap().completions, None);

    let o = defaulted(
        "apiVersion: batch/v1\nkind: CronJob\nspec:\n  schedule: '@hourly'\n  jobTemplate: {spec: {template: {spec: {containers: [{name: a, image: x}]}}}}\n",
    );
    let Some(Kind::CronJob(c)) = &o.kind else {
        panic!()
    };
    let spec = c.spec.as_ref().unwrap();
    assert_eq!(spec.concurrency_policy, "Allow");
    assert_eq!(spec.suspend, Some(false));
    assert_eq!(
        (
            spec.successful_jobs_history_limit,
            spec.failed_jobs_history_limit
        ),
        (Some(3), Some(1))
    );
    let pod = spec
        .job_template
        .as_ref()
        .unwrap()
        .spec
        .as_ref()
        .unwrap()
        .template
        .as_ref()
        .unwrap()
        .spec
        .as_ref()
        .unwrap();
    assert_eq!(pod.restart_policy, "");
    assert_eq!(pod.scheduler_name, "default-scheduler");
}

#[test]
fn workload_and_storage_kinds() {
    let o = defaulted(
        "apiVersion: apps/v1\nkind: StatefulSet\nspec:\n  volumeClaimTemplates: [{metadata: {name: d}, spec: {accessModes: [ReadWriteOnce]}}]\n",
    );
    let Some(Kind::StatefulSet(s)) = &o.kind else {
        panic!()
    };
    let spec = s.spec.as_ref().unwrap();
    assert_eq!(spec.replicas, Some(1));
    assert_eq!(spec.pod_management_policy, "OrderedReady");
    assert_eq!(
        spec.update_strategy.as_ref().unwrap().r#type,
        "RollingUpdate"
    );
    assert_eq!(
        spec.volume_claim_templates[0]
            .spec
            .as_ref()
            .unwrap()
            .volume_mode
            .as_deref(),
        Some("Filesystem")
    );

    let o = defaulted("apiVersion: apps/v1\nkind: DaemonSet\nspec: {}\n");
    let Some(Kind::DaemonSet(d)) = &o.kind else {
        panic!()
    };
    let st = d.spec.as_ref().unwrap().update_strategy.as_ref().unwrap();
    assert_eq!(st.r#type, "RollingUpdate");
    assert_eq!(st.rolling_update.as_ref().unwrap().max_unavailable, "1");

    let o = defaulted("apiVersion: apps/v1\nkind: ReplicaSet\nspec: {}\n");
    let Some(Kind::ReplicaSet(r)) = &o.kind else {
        panic!()
    };
    assert_eq!(r.spec.as_ref().unwrap().replicas, Some(1));

    let o = defaulted(
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nspec: {maxReplicas: 5}\n",
    );
    let Some(Kind::HorizontalPodAutoscaler(h)) = &o.kind else {
        panic!()
    };
    let spec = h.spec.as_ref().unwrap();
    assert_eq!(spec.min_replicas, Some(1));
    assert_eq!(
        spec.metrics[0]
            .resource
            .as_ref()
            .unwrap()
            .target
            .as_ref()
            .unwrap()
            .average_utilization,
        Some(80)
    );

    let o = defaulted(
        "apiVersion: v1\nkind: PersistentVolume\nspec: {capacity: {storage: 1Gi}, hostPath: {path: /x}}\n",
    );
    let Some(Kind::PersistentVolume(pv)) = &o.kind else {
        panic!()
    };
    let spec = pv.spec.as_ref().unwrap();
    assert_eq!(spec.persistent_volume_reclaim_policy, "Retain");
    assert_eq!(spec.volume_mode.as_deref(), Some("Filesystem"));

    let o = defaulted("apiVersion: v1\nkind: PersistentVolumeClaim\nspec: {}\n");
    let Some(Kind::PersistentVolumeClaim(pvc)) = &o.kind else {
        panic!()
    };
    assert_eq!(
        pvc.spec.as_ref().unwrap().volume_mode.as_deref(),
        Some("Filesystem")
    );

    let o = defaulted("apiVersion: v1\nkind: Namespace\nmetadata: {name: a}\n");
    let Some(Kind::Namespace(ns)) = &o.kind else {
        panic!()
    };
    assert_eq!(ns.status.as_ref().unwrap().phase, "Active");
}

#[test]
fn secret_string_data_merges_into_data() {
    let o = defaulted(
        "apiVersion: v1\nkind: Secret\ndata: {a: YQ==, b: Yg==}\nstringData: {b: two, c: three}\n",
    );
    let Some(Kind::Secret(s)) = &o.kind else {
        panic!()
    };
    assert_eq!(s.r#type, "Opaque");
    assert!(s.string_data.is_empty());
    let data: Vec<(&str, &[u8])> = s
        .data
        .iter()
        .map(|(k, v)| (k.as_str(), v.as_slice()))
        .collect();
    assert_eq!(data, [("a", &b"a"[..]), ("b", b"two"), ("c", b"three")]);
}

#[test]
fn defaults_are_idempotent_on_every_test_manifest() {
    let dir = std::path::PathBuf::from(env!("CARGO_MANIFEST_DIR")).join("tests/manifests");
    let mut count = 0;
    for entry in std::fs::read_dir(dir).unwrap() {
        let text = std::fs::read_to_string(entry.unwrap().path()).unwrap();
        for mut object in load_documents(&text).unwrap() {
            apply_defaults(&mut object);
            let once = object.clone();
            apply_defaults(&mut object);
            assert_eq!(object, once, "{}", object.meta().name);
            count += 1;
        }
    }
    let mut min = load_one(MINIMAL_DEPLOYMENT);
    apply_defaults(&mut min);
    let once = min.clone();
    apply_defaults(&mut min);
    assert_eq!(min, once);
    assert!(count > 20, "{count}");
}

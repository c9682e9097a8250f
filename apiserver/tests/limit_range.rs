//! LimitRanger admission through real gRPC (and once through the HTTP API with the real
//! kubectl) on the in-process apiserver: a namespace's LimitRanges default a new pod's
//! requests and limits and refuse pods and claims outside their bounds with Kubernetes'
//! messages.

use apiserver::testing::TestServer;
use proto::k8s::*;
use proto::{Reason, Resource};
use serde_json::{Value, json};

mod common;
use common::*;

fn namespace(name: &str) -> Object {
    let mut ns = Namespace::default();
    ns.meta_mut().name = name.into();
    ns.into_object()
}

fn limit_range(ns: &str, name: &str, limits: Value) -> Object {
    from_json(
        &proto::resource::info::LimitRange,
        json!({"apiVersion": "v1", "kind": "LimitRange",
               "metadata": {"name": name, "namespace": ns}, "spec": {"limits": limits}}),
    )
}

fn pod(ns: &str, name: &str, containers: Value) -> Object {
    from_json(
        &proto::resource::info::Pod,
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": ns},
               "spec": {"containers": containers}}),
    )
}

fn container(name: &str, requests: Value, limits: Value) -> Value {
    json!({"name": name, "image": "busybox:1",
           "resources": {"requests": requests, "limits": limits}})
}

fn bare(name: &str) -> Value {
    json!({"name": name, "image": "busybox:1"})
}

fn claim(ns: &str, name: &str, storage: &str) -> Object {
    from_json(
        &proto::resource::info::PersistentVolumeClaim,
        json!({"apiVersion": "v1", "kind": "PersistentVolumeClaim",
               "metadata": {"name": name, "namespace": ns},
               "spec": {"accessModes": ["ReadWriteOnce"],
                        "resources": {"requests": {"storage": storage}}}}),
    )
}

/// The first container's `resources` as JSON.
fn resources(o: &Object) -> Value {
    let Some(object::Kind::Pod(p)) = &o.kind else {
        panic!("not a pod: {o:?}");
    };
    serde_json::to_value(&p.spec.as_ref().expect("spec").containers[0].resources)
        .expect("resources as JSON")
}

fn annotation(o: &Object) -> Option<&str> {
    o.meta()
        .annotations
        .get("kubernetes.io/limit-ranger")
        .map(String::as_str)
}

async fn dry_run(c: &mut Client, o: Object) -> Result<Object, proto::ApiError> {
    c.create(CreateRequest {
        object: Some(o),
        dry_run: true,
        ..Default::default()
    })
    .await
    .map(|r| r.into_inner())
    .map_err(err)
}

/// Creates `o`, expecting Forbidden, and returns the message.
async fn refused(c: &mut Client, o: Object) -> String {
    let e = create(c, o).await.expect_err("refused by a LimitRange");
    assert_eq!(e.reason, Reason::Forbidden, "{e:?}");
    e.message
}

#[tokio::test]
async fn defaults_are_applied_and_recorded_and_dry_run_shows_them() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    create(&mut c, namespace("shop")).await.unwrap();
    create(
        &mut c,
        limit_range(
            "shop",
            "defaults",
            json!([{"type": "Container",
                    "default": {"cpu": "500m", "memory": "256Mi"},
                    "defaultRequest": {"cpu": "250m", "memory": "128Mi"}}]),
        ),
    )
    .await
    .unwrap();

    let created = create(&mut c, pod("shop", "web", json!([bare("web")])))
        .await
        .unwrap();
    let want = json!({"limits": {"cpu": "500m", "memory": "256Mi"},
                      "requests": {"cpu": "250m", "memory": "128Mi"}});
    assert_eq!(resources(&created), want);
    let note = "LimitRanger plugin set: cpu, memory request for container web; cpu, memory limit for container web";
    assert_eq!(annotation(&created), Some(note));
    let stored = get(&mut c, "pods", "shop", "web").await.unwrap();
    assert_eq!(resources(&stored), want);
    assert_eq!(annotation(&stored), Some(note));

    // A dry run answers with the defaults and stores nothing.
    let dry = dry_run(&mut c, pod("shop", "dry", json!([bare("web")])))
        .await
        .unwrap();
    assert_eq!(resources(&dry), want);
    assert_eq!(annotation(&dry), Some(note));
    let gone = get(&mut c, "pods", "shop", "dry").await.unwrap_err();
    assert_eq!(gone.reason, Reason::NotFound);

    // Explicit values are kept and nothing is recorded.
    let explicit = container(
        "web",
        json!({"cpu": "1", "memory": "1Gi"}),
        json!({"cpu": "2", "memory": "2Gi"}),
    );
    let own = create(&mut c, pod("shop", "own", json!([explicit])))
        .await
        .unwrap();
    assert_eq!(
        resources(&own),
        json!({"limits": {"cpu": "2", "memory": "2Gi"}, "requests": {"cpu": "1", "memory": "1Gi"}})
    );
    assert_eq!(annotation(&own), None);

    // A limit alone requests the limit (pod defaulting), not the range's defaultRequest.
    let limited = create(
        &mut c,
        pod(
            "shop",
            "limited",
            json!([container("web", json!({}), json!({"cpu": "1"}))]),
        ),
    )
    .await
    .unwrap();
    assert_eq!(
        resources(&limited),
        json!({"limits": {"cpu": "1", "memory": "256Mi"}, "requests": {"cpu": "1", "memory": "128Mi"}})
    );
    assert_eq!(
        annotation(&limited),
        Some(
            "LimitRanger plugin set: memory request for container web; memory limit for container web"
        )
    );

    // Other namespaces are not concerned.
    let plain = create(&mut c, pod("default", "web", json!([bare("web")])))
        .await
        .unwrap();
    assert_eq!(resources(&plain), Value::Null);
    s.stop().await;
}

/// Creates every object, in order.
async fn create_all(c: &mut Client, objects: Vec<Object>) {
    for o in objects {
        let what = format!("{}/{}", o.meta().namespace, o.meta().name);
        create(c, o)
            .await
            .unwrap_or_else(|e| panic!("{what}: {e:?}"));
    }
}

/// Creates each object expecting Forbidden with exactly its message.
async fn refuse_all(c: &mut Client, cases: Vec<(Object, &str)>) {
    for (o, want) in cases {
        assert_eq!(refused(c, o).await, want);
    }
}

// Each test keeps its awaits few (loops over tables, helpers): a debug build gives every
// await point of a test its own stack slot, and the test shares its thread's stack with the
// in-process server.
#[tokio::test]
async fn container_pod_and_claim_bounds_refuse_with_kubernetes_messages() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let mut setup = Vec::new();
    for (ns, limits) in [
        ("max", json!([{"type": "Container", "max": {"cpu": "1"}}])),
        (
            "min",
            json!([{"type": "Container", "min": {"memory": "64Mi"}}]),
        ),
        (
            "ratio",
            json!([{"type": "Container", "maxLimitRequestRatio": {"cpu": "2"}}]),
        ),
        ("pod", json!([{"type": "Pod", "max": {"cpu": "2"}}])),
        (
            "pvc",
            json!([{"type": "PersistentVolumeClaim",
                    "min": {"storage": "1Gi"}, "max": {"storage": "2Gi"}}]),
        ),
    ] {
        setup.push(namespace(ns));
        setup.push(limit_range(ns, "limits", limits));
    }
    create_all(&mut c, setup).await;

    let half = |n: &str| container(n, json!({"cpu": "1"}), json!({"cpu": "1500m"}));
    refuse_all(
        &mut c,
        vec![
            (
                pod("max", "x", json!([container("c", json!({"cpu": "1"}), json!({"cpu": "2"}))])),
                r#"pods "x" is forbidden: maximum cpu usage per Container is 1, but limit is 2"#,
            ),
            (
                pod("min", "x", json!([container("c", json!({"memory": "32Mi"}), json!({}))])),
                r#"pods "x" is forbidden: minimum memory usage per Container is 64Mi, but request is 32Mi"#,
            ),
            (
                pod("ratio", "x", json!([container("c", json!({"cpu": "250m"}), json!({"cpu": "1"}))])),
                r#"pods "x" is forbidden: cpu max limit to request ratio per Container is 2, but provided ratio is 4.000000"#,
            ),
            // Pod items count the containers together.
            (
                pod("pod", "x", json!([half("a"), half("b")])),
                r#"pods "x" is forbidden: maximum cpu usage per Pod is 2, but limit is 3"#,
            ),
            (
                claim("pvc", "big", "5Gi"),
                r#"persistentvolumeclaims "big" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 5Gi"#,
            ),
            (
                claim("pvc", "small", "500Mi"),
                r#"persistentvolumeclaims "small" is forbidden: minimum storage usage per PersistentVolumeClaim is 1Gi, but request is 500Mi"#,
            ),
        ],
    )
    .await;

    create_all(
        &mut c,
        vec![
            // The max is also the default limit (and so the default request): a bare pod fits.
            pod("max", "bare", json!([bare("c")])),
            // A ratio of exactly the max is allowed.
            pod(
                "ratio",
                "even",
                json!([container("c", json!({"cpu": "500m"}), json!({"cpu": "1"}))]),
            ),
            pod("pod", "one", json!([half("a")])),
        ],
    )
    .await;
    let fits = get(&mut c, "pods", "max", "bare").await.unwrap();
    assert_eq!(
        resources(&fits),
        json!({"limits": {"cpu": "1"}, "requests": {"cpu": "1"}})
    );

    // An invalid pod is Invalid, as Kubernetes validates before this check.
    let nameless = container("", json!({"cpu": "1"}), json!({"cpu": "2"}));
    let e = create(&mut c, pod("max", "bad", json!([nameless])))
        .await
        .unwrap_err();
    assert_eq!(e.reason, Reason::Invalid, "{e:?}");

    claim_updates(&mut c).await;
    s.stop().await;
}

/// In namespace `pvc` (storage 1Gi..2Gi): a changed request is checked again, a kept one
/// is not, even against a stricter range created later.
async fn claim_updates(c: &mut Client) {
    let mut ok = create(c, claim("pvc", "ok", "2Gi")).await.unwrap();
    // Kubernetes lets only a bound claim's request change.
    if let Some(object::Kind::PersistentVolumeClaim(pvc)) = &mut ok.kind {
        pvc.status.get_or_insert_with(Default::default).phase = "Bound".into();
    }
    let ok = update(c, ok, "status").await.unwrap();
    let with = |mut o: Object, storage: &str| {
        if let Some(object::Kind::PersistentVolumeClaim(pvc)) = &mut o.kind {
            let res = pvc.spec.as_mut().unwrap().resources.as_mut().unwrap();
            res.requests.insert("storage".into(), storage.into());
        }
        o
    };
    let e = update(c, with(ok.clone(), "3Gi"), "").await.unwrap_err();
    assert_eq!(e.reason, Reason::Forbidden, "{e:?}");
    assert_eq!(
        e.message,
        r#"persistentvolumeclaims "ok" is forbidden: maximum storage usage per PersistentVolumeClaim is 2Gi, but request is 3Gi"#
    );
    let stricter = json!([{"type": "PersistentVolumeClaim", "max": {"storage": "1Gi"}}]);
    create(c, limit_range("pvc", "stricter", stricter))
        .await
        .unwrap();
    let mut labelled = ok;
    labelled
        .meta_mut()
        .labels
        .insert("tier".into(), "db".into());
    labelled.meta_mut().resource_version.clear();
    let labelled = update(c, labelled, "").await.unwrap();
    assert_eq!(labelled.meta().labels["tier"], "db");
}

#[tokio::test]
async fn every_limit_range_of_the_namespace_applies() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    create(&mut c, namespace("two")).await.unwrap();
    create(
        &mut c,
        limit_range(
            "two",
            "a-cpu",
            json!([{"type": "Container", "default": {"cpu": "500m"}, "max": {"cpu": "1"}}]),
        ),
    )
    .await
    .unwrap();
    create(
        &mut c,
        limit_range(
            "two",
            "b-memory",
            json!([{"type": "Container", "default": {"memory": "256Mi"},
                    "defaultRequest": {"memory": "128Mi"}, "max": {"memory": "1Gi"}}]),
        ),
    )
    .await
    .unwrap();

    let created = create(&mut c, pod("two", "web", json!([bare("web")])))
        .await
        .unwrap();
    assert_eq!(
        resources(&created),
        json!({"limits": {"cpu": "500m", "memory": "256Mi"},
               "requests": {"cpu": "500m", "memory": "128Mi"}})
    );
    // Each range records what it set, the later one replacing the earlier's note, as
    // Kubernetes' plugin writes the annotation once per range.
    assert_eq!(
        annotation(&created),
        Some(
            "LimitRanger plugin set: memory request for container web; memory limit for container web"
        )
    );

    let cpu = container("c", json!({}), json!({"cpu": "2", "memory": "256Mi"}));
    assert_eq!(
        refused(&mut c, pod("two", "cpu", json!([cpu]))).await,
        r#"pods "cpu" is forbidden: maximum cpu usage per Container is 1, but limit is 2"#
    );
    let memory = container("c", json!({}), json!({"cpu": "1", "memory": "2Gi"}));
    assert_eq!(
        refused(&mut c, pod("two", "memory", json!([memory]))).await,
        r#"pods "memory" is forbidden: maximum memory usage per Container is 1Gi, but limit is 2Gi"#
    );
    s.stop().await;
}

/// The refusal as the real kubectl shows it, through the HTTP API (403).
#[tokio::test]
async fn kubectl_shows_the_forbidden_message() {
    const KUBECTL: &str = "/usr/lib/google-cloud-sdk/bin/kubectl.1.33";
    if !std::path::Path::new(KUBECTL).is_file() {
        assert!(
            std::env::var("CI").as_deref() != Ok("true"),
            "kubectl_shows_the_forbidden_message needs {KUBECTL}"
        );
        eprintln!("SKIPPED kubectl_shows_the_forbidden_message: needs {KUBECTL}");
        return;
    }
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    create(
        &mut c,
        limit_range(
            "default",
            "limits",
            json!([{"type": "Container", "max": {"cpu": "1"}}]),
        ),
    )
    .await
    .unwrap();
    let home = tempfile::Builder::new()
        .prefix("limit-range-kubectl-")
        .tempdir()
        .expect("kubectl home");
    let manifest = json!({"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "big"},
        "spec": {"containers": [container("c", json!({"cpu": "1"}), json!({"cpu": "2"}))]}});
    let url = s.url.clone();
    let out = tokio::task::spawn_blocking(move || {
        use std::io::Write;
        let mut child = std::process::Command::new(KUBECTL)
            .args(["--server", &url, "create", "-f", "-"])
            .env("HOME", home.path())
            .env("KUBECONFIG", "/dev/null")
            .stdin(std::process::Stdio::piped())
            .stdout(std::process::Stdio::piped())
            .stderr(std::process::Stdio::piped())
            .spawn()
            .expect("kubectl runs");
        child
            .stdin
            .take()
            .expect("stdin")
            .write_all(manifest.to_string().as_bytes())
            .expect("manifest written");
        child.wait_with_output().expect("kubectl finishes")
    })
    .await
    .expect("kubectl task");
    assert!(!out.status.success());
    assert_eq!(
        String::from_utf8_lossy(&out.stderr).trim_end(),
        r#"Error from server (Forbidden): error when creating "STDIN": pods "big" is forbidden: maximum cpu usage per Container is 1, but limit is 2"#
    );
    s.stop().await;
}

/// LimitRanges themselves are validated as Kubernetes' ValidateLimitRange does (after the
/// defaults: a missing default limit is the max, a missing default request the default).
#[tokio::test]
async fn limit_ranges_out_of_order_are_invalid() {
    let s = TestServer::start().await;
    let mut c = connect(&s).await;
    let cases = [
        (
            json!([{"type": "Container", "default": {"cpu": "2"}, "max": {"cpu": "1"}}]),
            vec![
                r#"spec.limits[0].defaultRequest[cpu]: Invalid value: "2": default request value 2 is greater than max value 1"#,
                r#"spec.limits[0].default[cpu]: Invalid value: "1": default value 2 is greater than max value 1"#,
            ],
        ),
        (
            json!([{"type": "Container", "default": {"memory": "1Gi"},
                    "defaultRequest": {"memory": "2Gi"}, "min": {"memory": "64Mi"}}]),
            vec![
                r#"spec.limits[0].defaultRequest[memory]: Invalid value: "2Gi": default request value 2Gi is greater than default limit value 1Gi"#,
            ],
        ),
        (
            json!([{"type": "Container", "default": {"cpu": "100m"}, "min": {"cpu": "200m"}}]),
            vec![
                r#"spec.limits[0].defaultRequest[cpu]: Invalid value: "100m": min value 200m is greater than default request value 100m"#,
                r#"spec.limits[0].default[cpu]: Invalid value: "200m": min value 200m is greater than default value 100m"#,
            ],
        ),
        (
            json!([{"type": "Pod", "default": {"cpu": "1"}, "max": {"cpu": "2"}},
                   {"type": "Pod", "max": {"cpu": "2"}}]),
            vec![
                "spec.limits[0].default: Forbidden: may not be specified when `type` is 'Pod'",
                r#"spec.limits[1].type: Duplicate value: "Pod""#,
            ],
        ),
        (
            json!([{"type": "PersistentVolumeClaim", "max": {"cpu": "1"}}]),
            vec![
                "spec.limits[0].limits: Required value: either minimum or maximum storage value is required, but neither was provided",
            ],
        ),
        (
            json!([{"type": "Container", "maxLimitRequestRatio": {"cpu": "500m"}},
                   {"type": "Pod", "min": {"cpu": "1"}, "max": {"cpu": "2"},
                    "maxLimitRequestRatio": {"cpu": "3"}}]),
            vec![
                r#"spec.limits[0].maxLimitRequestRatio[cpu]: Invalid value: "500m": ratio 500m is less than 1"#,
                r#"spec.limits[1].maxLimitRequestRatio[cpu]: Invalid value: "3": ratio 3 is greater than max/min = 2.000000"#,
            ],
        ),
        (
            json!([{"type": "Container", "default": {"example.com/gpu": "2"},
                    "defaultRequest": {"example.com/gpu": "1"}}]),
            vec![
                r#"spec.limits[0].defaultRequest[example.com/gpu]: Invalid value: "1": default value 2 must equal to defaultRequest value 1 in example.com/gpu"#,
            ],
        ),
        (
            json!([{"type": "Node", "max": {"cpu": "1"}}]),
            vec![
                r#"spec.limits[0].type: Invalid value: "Node": must be a standard limit type or fully qualified"#,
            ],
        ),
    ];
    for (limits, want) in cases {
        let e = create(&mut c, limit_range("default", "bad", limits.clone()))
            .await
            .expect_err("invalid");
        assert_eq!(e.reason, Reason::Invalid, "{limits}: {e:?}");
        // Several errors: this server's `; ` (Kubernetes prints `[a, b]`).
        let want = want.join("; ");
        assert_eq!(
            e.message,
            format!(r#"LimitRange "bad" is invalid: {want}"#),
            "{limits}"
        );
    }
    s.stop().await;
}

/// `--disable-admission-plugins LimitRanger` turns it off: no defaults, no refusals.
#[tokio::test]
async fn the_plugin_can_be_disabled() {
    let s =
        TestServer::start_with(|c| c.disable_admission_plugins.push("LimitRanger".into())).await;
    let mut c = connect(&s).await;
    let limits = json!([{"type": "Container", "max": {"cpu": "1"}}]);
    create(&mut c, limit_range("default", "limits", limits))
        .await
        .unwrap();
    let big = container("c", json!({"cpu": "2"}), json!({"cpu": "2"}));
    create_all(
        &mut c,
        vec![
            pod("default", "bare", json!([bare("c")])),
            pod("default", "big", json!([big])),
        ],
    )
    .await;
    let bare = get(&mut c, "pods", "default", "bare").await.unwrap();
    assert_eq!(resources(&bare), Value::Null);
    assert_eq!(annotation(&bare), None);
    s.stop().await;
}

//! Pod Security admission through real gRPC on the in-process apiserver: refusals with
//! Kubernetes' messages, warnings as `warning` response metadata, exemptions, and the
//! warnings a namespace relabel gives about the pods already in it.

use apiserver::testing::TestServer;
use proto::k8s::*;
use proto::{Reason, Resource};
use serde_json::{Value, json};

mod common;
use common::*;

fn pod_json(ns: &str, name: &str, spec: Value) -> Object {
    from_json(
        &proto::resource::info::Pod,
        json!({"apiVersion": "v1", "kind": "Pod",
               "metadata": {"name": name, "namespace": ns}, "spec": spec}),
    )
}

fn privileged_pod(ns: &str, name: &str) -> Object {
    pod_json(
        ns,
        name,
        json!({"containers": [{"name": "c", "image": "busybox:1",
                               "securityContext": {"privileged": true}}]}),
    )
}

fn host_path_pod(ns: &str, name: &str) -> Object {
    pod_json(
        ns,
        name,
        json!({"containers": [{"name": "c", "image": "busybox:1"}],
               "volumes": [{"name": "root", "hostPath": {"path": "/"}}]}),
    )
}

fn restricted_pod(ns: &str, name: &str) -> Object {
    pod_json(
        ns,
        name,
        json!({
            "securityContext": {"runAsNonRoot": true, "runAsUser": 1000,
                                "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "image": "busybox:1", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
            "volumes": [{"name": "scratch", "emptyDir": {}}]
        }),
    )
}

fn namespace(name: &str, labels: &[(&str, &str)]) -> Object {
    let mut ns = Namespace::default();
    ns.meta_mut().name = name.into();
    for (k, v) in labels {
        ns.meta_mut().labels.insert((*k).into(), (*v).into());
    }
    ns.into_object()
}

fn warnings<T>(r: &tonic::Response<T>) -> Vec<String> {
    r.metadata()
        .get_all("warning")
        .iter()
        .map(|v| v.to_str().expect("ascii warning").to_string())
        .collect()
}

async fn create(c: &mut Client, o: Object) -> Result<tonic::Response<Object>, proto::ApiError> {
    c.create(CreateRequest {
        object: Some(o),
        dry_run: false,
        ..Default::default()
    })
    .await
    .map_err(err)
}

async fn baseline_server() -> TestServer {
    TestServer::start_with(|c| {
        c.pod_security_enforce = apiserver::pod_security::Level::Baseline;
    })
    .await
}

#[tokio::test]
async fn privileged_and_host_path_pods_are_refused_in_a_baseline_namespace() {
    let server = baseline_server().await;
    let mut c = connect(&server).await;
    let e = create(&mut c, privileged_pod("default", "priv"))
        .await
        .expect_err("a privileged pod must be refused under baseline");
    assert_eq!(e.reason, Reason::Forbidden);
    assert_eq!(
        e.message,
        r#"pods "priv" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)"#
    );
    let e = create(&mut c, host_path_pod("default", "hostpath"))
        .await
        .expect_err("a hostPath pod must be refused under baseline");
    assert_eq!(
        e.message,
        r#"pods "hostpath" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes (volume "root")"#
    );
    // Both at once name both, in Kubernetes' order; generated names show their prefix.
    let mut both = host_path_pod("default", "");
    both.meta_mut().generate_name = "web-".into();
    if let Some(proto::k8s::object::Kind::Pod(p)) = &mut both.kind {
        p.spec.as_mut().unwrap().containers[0].security_context = Some(SecurityContext {
            privileged: Some(true),
            ..Default::default()
        });
    }
    let e = create(&mut c, both).await.expect_err("refused");
    assert_eq!(
        e.message,
        r#"pods "web-" is forbidden: violates PodSecurity "baseline:latest": hostPath volumes (volume "root"), privileged (container "c" must not set securityContext.privileged=true)"#
    );
    // Nothing was stored.
    let listed = c
        .list(ListRequest {
            resource: "pods".into(),
            namespace: "default".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    assert!(listed.items.is_empty());
    // An ordinary pod is admitted without warnings.
    let ok = create(
        &mut c,
        pod_json(
            "default",
            "plain",
            json!({"containers": [{"name": "c", "image": "busybox:1"}]}),
        ),
    )
    .await
    .expect("baseline admits an ordinary pod");
    assert!(warnings(&ok).is_empty());
    server.stop().await;
}

#[tokio::test]
async fn kube_system_is_exempt_and_a_namespace_label_can_allow_privileged() {
    let server = baseline_server().await;
    let mut c = connect(&server).await;
    create(&mut c, privileged_pod("kube-system", "proxy"))
        .await
        .expect("kube-system is exempt");
    // Labels asking kube-system for a policy are accepted and said to be ignored.
    let r = c
        .patch(PatchRequest {
            resource: "namespaces".into(),
            name: "kube-system".into(),
            patch: json!({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": "restricted"}}})
                .to_string(),
            ..Default::default()
        })
        .await
        .expect("labels on an exempt namespace are accepted");
    assert_eq!(
        warnings(&r),
        vec![
            r#"namespace "kube-system" is exempt from Pod Security, and the policy (enforce=restricted:latest) will be ignored"#
        ]
    );
    create(&mut c, privileged_pod("kube-system", "proxy-2"))
        .await
        .expect("still exempt");
    create(
        &mut c,
        namespace(
            "infra",
            &[("pod-security.kubernetes.io/enforce", "privileged")],
        ),
    )
    .await
    .unwrap();
    create(&mut c, host_path_pod("infra", "agent"))
        .await
        .expect("a namespace labelled privileged admits hostPath");
    server.stop().await;
}

#[tokio::test]
async fn the_default_is_privileged_as_in_kubernetes() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    create(&mut c, privileged_pod("default", "priv"))
        .await
        .expect("without flags or labels every pod is admitted");
    server.stop().await;
}

#[tokio::test]
async fn a_restricted_namespace_admits_a_compliant_pod_and_names_every_violation() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    create(
        &mut c,
        namespace(
            "secure",
            &[("pod-security.kubernetes.io/enforce", "restricted")],
        ),
    )
    .await
    .unwrap();
    let ok = create(&mut c, restricted_pod("secure", "good"))
        .await
        .expect("a compliant pod is admitted");
    assert!(warnings(&ok).is_empty(), "{:?}", warnings(&ok));
    let e = create(
        &mut c,
        pod_json(
            "secure",
            "bad",
            json!({"hostNetwork": true,
                   "containers": [{"name": "c", "image": "busybox:1",
                                   "securityContext": {"privileged": true, "runAsUser": 0}}],
                   "volumes": [{"name": "root", "hostPath": {"path": "/"}}]}),
        ),
    )
    .await
    .expect_err("refused");
    assert_eq!(e.reason, Reason::Forbidden);
    assert_eq!(
        e.message,
        concat!(
            r#"pods "bad" is forbidden: violates PodSecurity "restricted:latest": "#,
            r#"host namespaces (hostNetwork=true), "#,
            r#"privileged (container "c" must not set securityContext.privileged=true), "#,
            r#"allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false), "#,
            r#"unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]), "#,
            r#"restricted volume types (volume "root" uses restricted volume type "hostPath"), "#,
            r#"runAsNonRoot != true (pod or container "c" must set securityContext.runAsNonRoot=true), "#,
            r#"runAsUser=0 (container "c" must not set runAsUser=0), "#,
            r#"seccompProfile (pod or container "c" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#
        )
    );
    server.stop().await;
}

#[tokio::test]
async fn a_workload_with_a_violating_template_is_admitted_with_a_warning() {
    // As in Kubernetes, templates are only warned about at the warn level: the cluster
    // default sets it here, a namespace's enforce label sets it below.
    let server = TestServer::start_with(|c| {
        c.pod_security_enforce = apiserver::pod_security::Level::Baseline;
        c.pod_security_warn = apiserver::pod_security::Level::Baseline;
    })
    .await;
    let mut c = connect(&server).await;
    let mut d = deployment("web", 1);
    if let Some(proto::k8s::object::Kind::Deployment(dep)) = &mut d.kind {
        let spec = dep
            .spec
            .as_mut()
            .unwrap()
            .template
            .as_mut()
            .unwrap()
            .spec
            .as_mut()
            .unwrap();
        spec.host_network = true;
    }
    let r = create(&mut c, d.clone())
        .await
        .expect("templates are never refused");
    assert_eq!(
        warnings(&r),
        vec![r#"would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)"#]
    );
    // As in Kubernetes, every update of the workload is evaluated again, template changed
    // or not.
    let mut stored = r.into_inner();
    if let Some(proto::k8s::object::Kind::Deployment(dep)) = &mut stored.kind {
        dep.spec.as_mut().unwrap().replicas = Some(2);
    }
    let r = c
        .update(UpdateRequest {
            object: Some(stored),
            ..Default::default()
        })
        .await
        .expect("scaled");
    assert_eq!(
        warnings(&r),
        vec![r#"would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)"#]
    );

    // A CronJob in a namespace whose enforce label makes warn follow it.
    create(
        &mut c,
        namespace(
            "batch",
            &[("pod-security.kubernetes.io/enforce", "restricted")],
        ),
    )
    .await
    .unwrap();
    let cron = from_json(
        &proto::resource::info::CronJob,
        json!({"apiVersion": "batch/v1", "kind": "CronJob",
               "metadata": {"name": "nightly", "namespace": "batch"},
               "spec": {"schedule": "0 0 * * *", "jobTemplate": {"spec": {"template": {"spec": {
                   "restartPolicy": "Never",
                   "containers": [{"name": "job", "image": "busybox:1"}]}}}}}}),
    );
    let r = create(&mut c, cron)
        .await
        .expect("templates are never refused");
    let w = warnings(&r);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(
            r#"would violate PodSecurity "restricted:latest": allowPrivilegeEscalation != false (container "job" must set"#
        ),
        "{w:?}"
    );
    server.stop().await;
}

#[tokio::test]
async fn pod_updates_are_checked_only_when_they_change_what_the_checks_see() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    create(&mut c, namespace("team", &[])).await.unwrap();
    let stored = create(&mut c, privileged_pod("team", "old"))
        .await
        .unwrap()
        .into_inner();
    // The namespace turns baseline after the pod was admitted.
    let mut ns = c
        .get(GetRequest {
            resource: "namespaces".into(),
            name: "team".into(),
            ..Default::default()
        })
        .await
        .unwrap()
        .into_inner();
    ns.meta_mut().labels.insert(
        "pod-security.kubernetes.io/enforce".into(),
        "baseline".into(),
    );
    c.update(UpdateRequest {
        object: Some(ns),
        ..Default::default()
    })
    .await
    .unwrap();
    // A label change is not re-checked...
    let mut relabelled = stored.clone();
    relabelled
        .meta_mut()
        .labels
        .insert("tier".into(), "db".into());
    let updated = c
        .update(UpdateRequest {
            object: Some(relabelled),
            ..Default::default()
        })
        .await
        .expect("metadata-only updates of an existing pod pass")
        .into_inner();
    // ...an image change is.
    let mut new_image = updated;
    if let Some(proto::k8s::object::Kind::Pod(p)) = &mut new_image.kind {
        p.spec.as_mut().unwrap().containers[0].image = "busybox:2".into();
    }
    let e = c
        .update(UpdateRequest {
            object: Some(new_image),
            ..Default::default()
        })
        .await
        .map_err(err)
        .expect_err("an image change is checked against the namespace's level");
    assert_eq!(
        e.message,
        r#"pods "old" is forbidden: violates PodSecurity "baseline:latest": privileged (container "c" must not set securityContext.privileged=true)"#
    );
    server.stop().await;
}

#[tokio::test]
async fn relabelling_a_namespace_warns_about_its_existing_pods() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    create(&mut c, namespace("team", &[])).await.unwrap();
    create(&mut c, privileged_pod("team", "b-priv"))
        .await
        .unwrap();
    create(&mut c, privileged_pod("team", "a-priv"))
        .await
        .unwrap();
    create(&mut c, host_path_pod("team", "logs")).await.unwrap();
    create(&mut c, restricted_pod("team", "fine"))
        .await
        .unwrap();
    let patch = |level: &str| PatchRequest {
        resource: "namespaces".into(),
        name: "team".into(),
        patch: json!({"metadata": {"labels": {"pod-security.kubernetes.io/enforce": level}}})
            .to_string(),
        ..Default::default()
    };
    let r = c
        .patch(patch("baseline"))
        .await
        .expect("relabel is allowed");
    assert_eq!(
        warnings(&r),
        vec![
            r#"existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest""#,
            "a-priv (and 1 other pod): privileged",
            "logs: hostPath volumes",
        ]
    );
    // Relaxing warns about nothing.
    let r = c.patch(patch("privileged")).await.unwrap();
    assert!(warnings(&r).is_empty(), "{:?}", warnings(&r));
    // A label value Kubernetes does not know is refused.
    let e = c
        .patch(patch("strict"))
        .await
        .map_err(err)
        .expect_err("invalid level");
    assert_eq!(e.reason, Reason::Invalid);
    assert_eq!(
        e.message,
        r#"Namespace "team" is invalid: metadata.labels[pod-security.kubernetes.io/enforce]: Invalid value: "strict": must be one of privileged, baseline, restricted"#
    );
    server.stop().await;
}

#[tokio::test]
async fn a_warn_label_warns_about_pods_without_refusing_them() {
    let server = TestServer::start().await;
    let mut c = connect(&server).await;
    create(
        &mut c,
        namespace(
            "dev",
            &[
                ("pod-security.kubernetes.io/warn", "restricted"),
                ("pod-security.kubernetes.io/warn-version", "v1.30"),
            ],
        ),
    )
    .await
    .unwrap();
    let r = create(&mut c, host_path_pod("dev", "p"))
        .await
        .expect("warn only");
    let w = warnings(&r);
    assert_eq!(w.len(), 1, "{w:?}");
    assert!(
        w[0].starts_with(
            r#"would violate PodSecurity "restricted:v1.30": allowPrivilegeEscalation != false"#
        ),
        "{w:?}"
    );
    assert!(w[0].contains(
        r#"restricted volume types (volume "root" uses restricted volume type "hostPath")"#
    ));
    server.stop().await;
}

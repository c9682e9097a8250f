//! Table tests of every check, pass and fail, with Kubernetes' exact messages (cases from
//! pod-security-admission's `policy/check_*_test.go` where they exist).

use proto::k8s::Pod;
use serde_json::{Value, json};

use super::checks::{self, Violation};
use super::decision;
use super::policy::{Level, LevelVersion, Policy, Version, policy_from_labels};

fn pod(v: Value) -> Pod {
    serde_json::from_value(v).expect("test pod parses")
}

fn eval(lv: LevelVersion, p: &Pod) -> Vec<Violation> {
    checks::evaluate(
        lv,
        p.metadata.as_ref().unwrap_or(&Default::default()),
        p.spec.as_ref().unwrap_or(&Default::default()),
    )
}

const BASELINE: LevelVersion = LevelVersion::latest(Level::Baseline);
const RESTRICTED: LevelVersion = LevelVersion::latest(Level::Restricted);

/// A pod that passes restricted; cases change one thing of it.
fn compliant() -> Value {
    json!({
        "metadata": {"name": "p"},
        "spec": {
            "securityContext": {"runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}},
            "containers": [{"name": "c", "image": "x", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
            "initContainers": [{"name": "i", "image": "x", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}}}],
            "volumes": [
                {"name": "a", "emptyDir": {}}, {"name": "b", "configMap": {"name": "x"}},
                {"name": "c", "secret": {"secretName": "x"}}, {"name": "d", "downwardAPI": {}},
                {"name": "e", "projected": {}}, {"name": "f", "persistentVolumeClaim": {"claimName": "x"}}
            ]
        }
    })
}

fn merge(base: &mut Value, patch: &Value) {
    match (base, patch) {
        (Value::Object(b), Value::Object(p)) => {
            for (k, v) in p {
                merge(b.entry(k.clone()).or_insert(Value::Null), v);
            }
        }
        (b, p) => *b = p.clone(),
    }
}

fn with(patch: Value) -> Pod {
    let mut v = compliant();
    merge(&mut v, &patch);
    pod(v)
}

fn container(sc: Value) -> Value {
    json!({"spec": {"containers": [{"name": "c", "image": "x", "securityContext": sc}]}})
}

fn rendered(lv: LevelVersion, p: &Pod) -> String {
    checks::forbidden_detail(&eval(lv, p))
}

#[test]
fn the_compliant_pod_passes_every_level() {
    let p = with(json!({}));
    for lv in [
        BASELINE,
        RESTRICTED,
        LevelVersion::latest(Level::Privileged),
    ] {
        assert_eq!(eval(lv, &p), vec![], "{lv}");
    }
    for minor in 0..=40 {
        let lv = LevelVersion {
            level: Level::Restricted,
            version: Version::Minor(minor),
        };
        assert_eq!(eval(lv, &p), vec![], "{lv}");
    }
}

/// (name, patch over the compliant pod, level, expected aggregate detail).
fn table() -> Vec<(&'static str, Value, LevelVersion, &'static str)> {
    let keep = |sc: Value| {
        let mut base =
            json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}});
        merge(&mut base, &sc);
        container(base)
    };
    vec![
        // ---- baseline ----
        (
            "hostProcess on pod and container",
            json!({"spec": {"securityContext": {"windowsOptions": {"hostProcess": true}},
                "containers": [{"name": "c", "image": "x", "securityContext": {"allowPrivilegeEscalation": false,
                "capabilities": {"drop": ["ALL"]}, "windowsOptions": {"hostProcess": true}}}]}}),
            BASELINE,
            r#"hostProcess (pod and container "c" must not set securityContext.windowsOptions.hostProcess=true)"#,
        ),
        (
            "host namespaces",
            json!({"spec": {"hostNetwork": true, "hostPID": true, "hostIPC": true}}),
            BASELINE,
            "host namespaces (hostNetwork=true, hostPID=true, hostIPC=true)",
        ),
        (
            "privileged",
            keep(json!({"privileged": true})),
            BASELINE,
            r#"privileged (container "c" must not set securityContext.privileged=true)"#,
        ),
        (
            "baseline capabilities",
            keep(json!({"capabilities": {"add": ["NET_RAW", "CHOWN", "SYS_ADMIN", "NET_RAW"]}})),
            BASELINE,
            r#"non-default capabilities (container "c" must not include "NET_RAW", "SYS_ADMIN" in securityContext.capabilities.add)"#,
        ),
        (
            "hostPath volume",
            json!({"spec": {"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}}),
            BASELINE,
            r#"hostPath volumes (volume "root")"#,
        ),
        (
            "hostPorts sorted as strings",
            json!({"spec": {"containers": [
                {"name": "a", "image": "x", "ports": [{"containerPort": 80, "hostPort": 8080}]},
                {"name": "b", "image": "x", "ports": [{"containerPort": 81, "hostPort": 10000}, {"containerPort": 82}]}]}}),
            BASELINE,
            r#"hostPort (containers "a", "b" use hostPorts 10000, 8080)"#,
        ),
        (
            "probe and lifecycle hosts",
            json!({"spec": {"containers": [{"name": "c", "image": "x",
                "livenessProbe": {"httpGet": {"port": "80", "host": "10.0.0.1"}},
                "lifecycle": {"preStop": {"tcpSocket": {"port": "80", "host": "node"}}}}]}}),
            BASELINE,
            r#"probe or lifecycle host (container "c" uses probe or lifecycle hosts "10.0.0.1", "node")"#,
        ),
        (
            "appArmor field and annotations",
            json!({"metadata": {"annotations": {
                "container.apparmor.security.beta.kubernetes.io/e": "unconfined",
                "container.apparmor.security.beta.kubernetes.io/b": "runtime/default",
                "container.apparmor.security.beta.kubernetes.io/d": "localhost/foo",
                "container.apparmor.security.beta.kubernetes.io/a": ""}},
              "spec": {"securityContext": {"appArmorProfile": {"type": "Unconfined"}}}}),
            BASELINE,
            r#"forbidden AppArmor profiles (pod and annotation must not set AppArmor profile type to "Unconfined", "container.apparmor.security.beta.kubernetes.io/e=\"unconfined\"")"#,
        ),
        (
            "appArmor on a container",
            keep(json!({"appArmorProfile": {"type": "Unconfined"}})),
            BASELINE,
            r#"forbidden AppArmor profile (container "c" must not set AppArmor profile type to "Unconfined")"#,
        ),
        (
            "seLinux type, user and role",
            json!({"spec": {"securityContext": {"seLinuxOptions": {"type": "spc_t", "user": "u", "role": "r"}}}}),
            BASELINE,
            r#"seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "spc_t"; user may not be set; role may not be set)"#,
        ),
        (
            "seLinux user only",
            json!({"spec": {"securityContext": {"seLinuxOptions": {"user": "bad"}}}}),
            BASELINE,
            "seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: user may not be set)",
        ),
        (
            "seLinux container_engine_t before v1.31",
            json!({"spec": {"securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}}}),
            LevelVersion {
                level: Level::Baseline,
                version: Version::Minor(30),
            },
            r#"seLinuxOptions (pod set forbidden securityContext.seLinuxOptions: type "container_engine_t")"#,
        ),
        (
            "procMount",
            keep(json!({"procMount": "Unmasked"})),
            BASELINE,
            r#"procMount (container "c" must not set securityContext.procMount to "Unmasked")"#,
        ),
        (
            "seccomp Unconfined",
            json!({"spec": {"securityContext": {"seccompProfile": {"type": "Unconfined"}}}}),
            BASELINE,
            r#"seccompProfile (pod must not set securityContext.seccompProfile.type to "Unconfined")"#,
        ),
        (
            "seccomp annotations before v1.19",
            json!({"metadata": {"annotations": {"seccomp.security.alpha.kubernetes.io/pod": "unconfined",
                "container.seccomp.security.alpha.kubernetes.io/c": "docker/default"}}}),
            LevelVersion {
                level: Level::Baseline,
                version: Version::Minor(18),
            },
            r#"seccompProfile (forbidden annotation seccomp.security.alpha.kubernetes.io/pod="unconfined")"#,
        ),
        (
            "sysctls in spec order",
            json!({"spec": {"securityContext": {"sysctls": [
                {"name": "net.core.somaxconn", "value": "1"}, {"name": "kernel.shm_rmid_forced", "value": "1"},
                {"name": "kernel.msgmax", "value": "1"}]}}}),
            BASELINE,
            "forbidden sysctls (net.core.somaxconn, kernel.msgmax)",
        ),
        (
            "sysctls newer than the pinned version",
            json!({"spec": {"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_rmem", "value": "1"},
                {"name": "net.ipv4.tcp_keepalive_time", "value": "1"}]}}}),
            LevelVersion {
                level: Level::Baseline,
                version: Version::Minor(29),
            },
            "forbidden sysctls (net.ipv4.tcp_rmem)",
        ),
        // ---- restricted ----
        (
            "restricted volume types",
            json!({"spec": {"volumes": [{"name": "b1", "hostPath": {"path": "/"}},
                {"name": "b2", "nfs": {"server": "s", "path": "/"}}, {"name": "c1"}]}}),
            RESTRICTED,
            r#"restricted volume types (volumes "b1", "b2", "c1" use restricted volume types "hostPath", "nfs", "unknown")"#,
        ),
        (
            "allowPrivilegeEscalation unset",
            container(json!({"capabilities": {"drop": ["ALL"]}})),
            RESTRICTED,
            r#"allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)"#,
        ),
        (
            "allowPrivilegeEscalation true",
            keep(json!({"allowPrivilegeEscalation": true})),
            RESTRICTED,
            r#"allowPrivilegeEscalation != false (container "c" must set securityContext.allowPrivilegeEscalation=false)"#,
        ),
        (
            "capabilities not dropped, forbidden add",
            container(
                json!({"allowPrivilegeEscalation": false, "capabilities": {"add": ["NET_BIND_SERVICE", "SYS_TIME"]}}),
            ),
            RESTRICTED,
            r#"unrestricted capabilities (container "c" must set securityContext.capabilities.drop=["ALL"]; container "c" must not include "SYS_TIME" in securityContext.capabilities.add)"#,
        ),
        (
            "runAsNonRoot false on pod and container",
            json!({"spec": {"securityContext": {"runAsNonRoot": false}, "containers": [{"name": "c", "image": "x",
                "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": false}}]}}),
            RESTRICTED,
            r#"runAsNonRoot != true (pod and container "c" must not set securityContext.runAsNonRoot=false)"#,
        ),
        (
            "runAsNonRoot unset",
            json!({"spec": {"securityContext": {"runAsNonRoot": null}}}),
            RESTRICTED,
            r#"runAsNonRoot != true (pod or containers "c", "i" must set securityContext.runAsNonRoot=true)"#,
        ),
        (
            "runAsUser 0",
            json!({"spec": {"securityContext": {"runAsUser": 0}}}),
            RESTRICTED,
            "runAsUser=0 (pod must not set runAsUser=0)",
        ),
        (
            "seccomp unset",
            json!({"spec": {"securityContext": {"seccompProfile": null}}}),
            RESTRICTED,
            r#"seccompProfile (pod or containers "c", "i" must set securityContext.seccompProfile.type to "RuntimeDefault" or "Localhost")"#,
        ),
        (
            "seccomp Unconfined on a container (restricted overrides baseline: reported once)",
            keep(json!({"seccompProfile": {"type": "Unconfined"}})),
            RESTRICTED,
            r#"seccompProfile (container "c" must not set securityContext.seccompProfile.type to "Unconfined")"#,
        ),
        (
            "hostPath under restricted is a restricted volume type, not also hostPath volumes",
            json!({"spec": {"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}}),
            RESTRICTED,
            r#"restricted volume types (volume "root" uses restricted volume type "hostPath")"#,
        ),
        (
            "procMount under restricted at v1.35 sorts among restricted checks",
            json!({"spec": {"containers": [{"name": "c", "image": "x", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "procMount": "Unmasked"}}],
                "securityContext": {"runAsUser": 0}}}),
            RESTRICTED,
            r#"procMount (container "c" must not set securityContext.procMount to "Unmasked"), runAsUser=0 (pod must not set runAsUser=0)"#,
        ),
    ]
}

#[test]
fn every_check_refuses_with_kubernetes_wording() {
    let mut failures = Vec::new();
    for (name, patch, lv, want) in table() {
        let got = rendered(lv, &with(patch));
        if got != want {
            failures.push(format!("{name} at {lv}:\n  want {want}\n  got  {got}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[test]
fn what_baseline_allows() {
    for (name, patch) in [
        (
            "default capabilities",
            json!({"spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"capabilities": {"add": ["CHOWN", "NET_BIND_SERVICE", "SYS_CHROOT"]}}}]}}),
        ),
        (
            "privileged false",
            json!({"spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"privileged": false}}]}}),
        ),
        (
            "procMount Default",
            json!({"spec": {"containers": [{"name": "c", "image": "x", "securityContext": {"procMount": "Default"}}]}}),
        ),
        (
            "seccomp Localhost",
            json!({"spec": {"securityContext": {"seccompProfile": {"type": "Localhost", "localhostProfile": "p.json"}}}}),
        ),
        (
            "seLinux allowed type",
            json!({"spec": {"securityContext": {"seLinuxOptions": {"type": "container_init_t", "level": "s0:c1"}}}}),
        ),
        (
            "seLinux container_engine_t at latest",
            json!({"spec": {"securityContext": {"seLinuxOptions": {"type": "container_engine_t"}}}}),
        ),
        (
            "safe sysctls",
            json!({"spec": {"securityContext": {"sysctls": [{"name": "net.ipv4.ip_unprivileged_port_start", "value": "0"}, {"name": "net.ipv4.tcp_wmem", "value": "1 2 3"}]}}}),
        ),
        (
            "appArmor RuntimeDefault and Localhost",
            json!({"spec": {"securityContext": {"appArmorProfile": {"type": "RuntimeDefault"}}, "containers": [{"name": "c", "image": "x", "securityContext": {"appArmorProfile": {"type": "Localhost", "localhostProfile": "x"}}}]}}),
        ),
        (
            "containerPort without hostPort",
            json!({"spec": {"containers": [{"name": "c", "image": "x", "ports": [{"containerPort": 80}]}]}}),
        ),
        (
            "hostProcess false",
            json!({"spec": {"securityContext": {"windowsOptions": {"hostProcess": false}}}}),
        ),
        (
            "nfs volume",
            json!({"spec": {"volumes": [{"name": "n", "nfs": {"server": "s", "path": "/"}}]}}),
        ),
        (
            "runAsUser 0",
            json!({"spec": {"securityContext": {"runAsUser": 0}}}),
        ),
    ] {
        let p = pod(patch);
        assert_eq!(eval(BASELINE, &p), vec![], "{name}");
    }
}

#[test]
fn what_restricted_allows() {
    for (name, patch) in [
        (
            "NET_BIND_SERVICE added",
            container(
                json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"], "add": ["NET_BIND_SERVICE"]}}),
            ),
        ),
        (
            "runAsNonRoot per container",
            json!({"spec": {"securityContext": {"runAsNonRoot": null},
            "containers": [{"name": "c", "image": "x", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}}],
            "initContainers": [{"name": "i", "image": "x", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}}]}}),
        ),
        (
            "seccomp per container",
            json!({"spec": {"securityContext": {"seccompProfile": null},
            "containers": [{"name": "c", "image": "x", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "Localhost", "localhostProfile": "x"}}}],
            "initContainers": [{"name": "i", "image": "x", "securityContext": {"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seccompProfile": {"type": "RuntimeDefault"}}}]}}),
        ),
        (
            "runAsUser 1000",
            json!({"spec": {"securityContext": {"runAsUser": 1000}}}),
        ),
    ] {
        assert_eq!(eval(RESTRICTED, &with(patch)), vec![], "{name}");
    }
}

#[test]
fn versions_before_a_check_existed_do_not_run_it() {
    let root = with(json!({"spec": {"securityContext": {"runAsUser": 0}}}));
    let at = |m| LevelVersion {
        level: Level::Restricted,
        version: Version::Minor(m),
    };
    assert_eq!(eval(at(22), &root), vec![], "runAsUser arrived in v1.23");
    assert_eq!(eval(at(23), &root).len(), 1);
    let probe = pod(json!({"spec": {"containers": [{"name": "c", "image": "x",
        "readinessProbe": {"tcpSocket": {"port": "80", "host": "h"}}}]}}));
    let b = |m| LevelVersion {
        level: Level::Baseline,
        version: Version::Minor(m),
    };
    assert_eq!(eval(b(33), &probe), vec![], "probe hosts arrived in v1.34");
    assert_eq!(eval(b(34), &probe).len(), 1);
    // A version newer than any check evaluates as the newest.
    assert_eq!(eval(b(99), &probe).len(), 1);
}

#[test]
fn the_issue_example_reads_as_in_kubernetes() {
    let p = pod(json!({"metadata": {"name": "x"}, "spec": {
        "containers": [{"name": "c", "image": "x", "securityContext": {"privileged": true}}],
        "volumes": [{"name": "root", "hostPath": {"path": "/"}}]}}));
    let d = decision::evaluate(
        &Policy {
            enforce: BASELINE,
            ..Policy::default()
        },
        p.metadata.as_ref().unwrap(),
        p.spec.as_ref().unwrap(),
        true,
    );
    assert_eq!(
        d.refusal.as_deref(),
        Some(
            r#"violates PodSecurity "baseline:latest": hostPath volumes (volume "root"), privileged (container "c" must not set securityContext.privileged=true)"#
        )
    );
    assert!(
        d.warnings.is_empty(),
        "a refused request carries no warnings"
    );
}

#[test]
fn labels_choose_the_policy_and_bad_values_read_as_restricted() {
    let labels = |pairs: &[(&str, &str)]| {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    };
    let defaults = Policy {
        enforce: BASELINE,
        ..Policy::default()
    };
    let (p, e) = policy_from_labels(&labels(&[]), defaults);
    assert_eq!((p, e.len()), (defaults, 0));

    let (p, e) = policy_from_labels(
        &labels(&[
            ("pod-security.kubernetes.io/enforce", "restricted"),
            ("pod-security.kubernetes.io/enforce-version", "v1.25"),
        ]),
        defaults,
    );
    assert!(e.is_empty());
    assert_eq!(p.enforce.to_string(), "restricted:v1.25");
    assert_eq!(
        p.warn.to_string(),
        "restricted:v1.25",
        "warn follows a stricter explicit enforce"
    );
    assert_eq!(p.audit.to_string(), "privileged:latest");

    let (p, e) = policy_from_labels(
        &labels(&[
            ("pod-security.kubernetes.io/enforce", "bogus"),
            ("pod-security.kubernetes.io/warn", "nope"),
            ("pod-security.kubernetes.io/audit-version", "v1.02"),
        ]),
        defaults,
    );
    assert_eq!(p.enforce.level, Level::Restricted);
    assert_eq!(p.warn.level, Level::Privileged);
    assert_eq!(
        proto::validation::join(&e),
        proto::validation::join(&[
            proto::validation::FieldError {
                path: "metadata.labels[pod-security.kubernetes.io/enforce]".into(),
                message:
                    "Invalid value: \"bogus\": must be one of privileged, baseline, restricted"
                        .into()
            },
            proto::validation::FieldError {
                path: "metadata.labels[pod-security.kubernetes.io/audit-version]".into(),
                message: "Invalid value: \"v1.02\": must be \"latest\" or \"v1.x\"".into()
            },
            proto::validation::FieldError {
                path: "metadata.labels[pod-security.kubernetes.io/warn]".into(),
                message: "Invalid value: \"nope\": must be one of privileged, baseline, restricted"
                    .into()
            },
        ])
    );
}

#[test]
fn templates_warn_and_pods_update_checks_only_what_matters() {
    let d = decision::evaluate(
        &Policy {
            warn: RESTRICTED,
            audit: BASELINE,
            ..Policy::default()
        },
        &Default::default(),
        with(json!({"spec": {"hostNetwork": true}}))
            .spec
            .as_ref()
            .unwrap(),
        false,
    );
    assert_eq!(d.refusal, None);
    assert_eq!(
        d.warnings,
        vec![
            r#"would violate PodSecurity "restricted:latest": host namespaces (hostNetwork=true)"#
                .to_string()
        ]
    );
    assert_eq!(
        d.audit.as_deref(),
        Some(r#"would violate PodSecurity "baseline:latest": host namespaces (hostNetwork=true)"#)
    );

    let old = with(json!({}));
    let mut relabelled = old.clone();
    relabelled
        .metadata
        .as_mut()
        .unwrap()
        .labels
        .insert("a".into(), "b".into());
    relabelled.spec.as_mut().unwrap().active_deadline_seconds = Some(5);
    assert!(!decision::pod_update_is_significant(&relabelled, &old));
    let mut new_image = old.clone();
    new_image.spec.as_mut().unwrap().containers[0].image = "y".into();
    assert!(decision::pod_update_is_significant(&new_image, &old));
    let mut seccomp = old.clone();
    seccomp.metadata.as_mut().unwrap().annotations.insert(
        "container.seccomp.security.alpha.kubernetes.io/i".into(),
        "unconfined".into(),
    );
    assert!(decision::pod_update_is_significant(&seccomp, &old));
}

#[test]
fn a_stricter_namespace_names_its_violating_pods() {
    let mk = |name: &str, owner: Option<&str>, patch: Value| {
        let mut p = with(patch);
        let m = p.metadata.as_mut().unwrap();
        m.name = name.into();
        if let Some(uid) = owner {
            m.owner_references.push(proto::k8s::OwnerReference {
                uid: uid.into(),
                controller: Some(true),
                ..Default::default()
            });
        }
        p
    };
    let host = json!({"spec": {"hostNetwork": true}});
    let pods = vec![
        mk("web-b", Some("rs1"), host.clone()),
        mk("web-a", Some("rs1"), host.clone()),
        mk("web-c", Some("rs1"), host.clone()),
        mk(
            "db",
            None,
            json!({"spec": {"volumes": [{"name": "root", "hostPath": {"path": "/"}}]}}),
        ),
        mk("ok", None, json!({})),
    ];
    assert_eq!(
        decision::namespace_pod_warnings("team", BASELINE, &pods),
        vec![
            r#"existing pods in namespace "team" violate the new PodSecurity enforce level "baseline:latest""#.to_string(),
            "db: hostPath volumes".to_string(),
            "web-a (and 2 other pods): host namespaces".to_string(),
        ]
    );
    let old = Policy {
        enforce: BASELINE,
        ..Policy::default()
    };
    let stricter = Policy {
        enforce: RESTRICTED,
        ..Policy::default()
    };
    assert!(decision::namespace_update_needs_pod_check(&old, &stricter));
    assert!(
        !decision::namespace_update_needs_pod_check(&stricter, &old),
        "relaxed"
    );
    assert!(
        !decision::namespace_update_needs_pod_check(&old, &old),
        "unchanged"
    );
}

/// Cases in the shape of Kubernetes' generated fixtures
/// (`pod-security-admission/test/testdata/<level>/v1.N/{pass,fail}/<check><n>.yaml`): a base
/// pod with `container1` and `initcontainer1` that passes the level, and one change that
/// must pass or fail at exactly that level and version. Restated here, not copied.
#[test]
fn fixture_shaped_cases_pass_and_fail_where_kubernetes_says() {
    let base = |restricted: bool| {
        let sc = if restricted {
            json!({"allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}})
        } else {
            json!(null)
        };
        let mut v = json!({"metadata": {"name": "fixture"}, "spec": {
            "containers": [{"name": "container1", "image": "registry.k8s.io/pause", "securityContext": sc}],
            "initContainers": [{"name": "initcontainer1", "image": "registry.k8s.io/pause", "securityContext": sc}]}});
        if restricted {
            merge(
                &mut v,
                &json!({"spec": {"securityContext": {
                "runAsNonRoot": true, "seccompProfile": {"type": "RuntimeDefault"}}}}),
            );
        }
        v
    };
    let at = |level, minor| LevelVersion {
        level,
        version: Version::Minor(minor),
    };
    let (b, r) = (Level::Baseline, Level::Restricted);
    let cases: Vec<(&str, LevelVersion, Value, bool)> = vec![
        ("base", at(b, 35), json!({}), true),
        ("base_linux", at(r, 29), json!({}), true),
        (
            "selinuxoptions: empty options on containers pass",
            at(r, 29),
            json!({"spec": {"containers": [{"name": "container1", "image": "registry.k8s.io/pause", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "seLinuxOptions": {}}}]}}),
            true,
        ),
        (
            "selinuxoptions4: a role on the pod",
            at(r, 29),
            json!({"spec": {"securityContext": {"seLinuxOptions": {"role": "somevalue"}}}}),
            false,
        ),
        (
            "capabilities_baseline1: NET_RAW added by the init container despite drop ALL",
            at(r, 29),
            json!({"spec": {"initContainers": [{"name": "initcontainer1", "image": "registry.k8s.io/pause", "securityContext": {
                "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"], "add": ["NET_RAW"]}}}]}}),
            false,
        ),
        (
            "sysctls1: the v1.29 safe set",
            at(r, 29),
            json!({"spec": {"securityContext": {"sysctls": [
                {"name": "kernel.shm_rmid_forced", "value": "0"}, {"name": "net.ipv4.ip_local_port_range", "value": "1024 65535"},
                {"name": "net.ipv4.tcp_syncookies", "value": "0"}, {"name": "net.ipv4.ping_group_range", "value": "1 0"},
                {"name": "net.ipv4.ip_unprivileged_port_start", "value": "1024"},
                {"name": "net.ipv4.ip_local_reserved_ports", "value": "1024-4999"},
                {"name": "net.ipv4.tcp_keepalive_time", "value": "7200"}]}}}),
            true,
        ),
        (
            "sysctls: tcp_keepalive_time before v1.29",
            at(b, 28),
            json!({"spec": {"securityContext": {"sysctls": [{"name": "net.ipv4.tcp_keepalive_time", "value": "7200"}]}}}),
            false,
        ),
        (
            "hostprobesandhostlifecycle4: an IPv6 tcpSocket host",
            at(b, 35),
            json!({"spec": {"containers": [{"name": "container1", "image": "registry.k8s.io/pause",
                "readinessProbe": {"tcpSocket": {"host": "::1", "port": "8080"}}}]}}),
            false,
        ),
        (
            "hostprobesandhostlifecycle: an empty host passes",
            at(b, 35),
            json!({"spec": {"containers": [{"name": "container1", "image": "registry.k8s.io/pause",
                "livenessProbe": {"httpGet": {"host": "", "port": "8080"}}}]}}),
            true,
        ),
        (
            "procmount_baseline1: Unmasked on the init container",
            at(b, 35),
            json!({"spec": {"initContainers": [{"name": "initcontainer1", "image": "registry.k8s.io/pause",
                "securityContext": {"procMount": "Unmasked"}}]}}),
            false,
        ),
        (
            "restrictedvolumes: nfs",
            at(r, 29),
            json!({"spec": {"volumes": [{"name": "volume1", "nfs": {"server": "example.com", "path": "/"}}]}}),
            false,
        ),
        (
            "runasnonroot: per container instead of per pod",
            at(r, 29),
            json!({"spec": {"securityContext": {"runAsNonRoot": null},
                "containers": [{"name": "container1", "image": "registry.k8s.io/pause", "securityContext": {
                    "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}}],
                "initContainers": [{"name": "initcontainer1", "image": "registry.k8s.io/pause", "securityContext": {
                    "allowPrivilegeEscalation": false, "capabilities": {"drop": ["ALL"]}, "runAsNonRoot": true}}]}}),
            true,
        ),
    ];
    for (name, lv, patch, pass) in cases {
        let mut v = base(lv.level == Level::Restricted);
        merge(&mut v, &patch);
        let got = eval(lv, &pod(v));
        assert_eq!(got.is_empty(), pass, "{name} at {lv}: {got:?}");
    }
}

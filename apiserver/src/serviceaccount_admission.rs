//! ServiceAccount admission (Kubernetes' `plugin/pkg/admission/serviceaccount`): a new pod
//! runs as ServiceAccount `default` unless it names one, the ServiceAccount must exist, and
//! unless automounting is turned off (by the pod, else the ServiceAccount) every container
//! gets the projected `kube-api-access-<random>` volume (a bound token, the cluster CA and
//! the namespace) at `/var/run/secrets/kubernetes.io/serviceaccount`. The registry looks the
//! ServiceAccount up; the mutation here is pure.

use proto::ApiError;
use proto::k8s::{
    ConfigMapProjection, DownwardApiProjection, DownwardApiVolumeFile, KeyToPath,
    ObjectFieldSelector, Pod, ProjectedVolumeSource, ServiceAccount, ServiceAccountTokenProjection,
    Volume, VolumeMount, VolumeProjection, volume::VolumeSource,
};

pub const NAME: &str = "ServiceAccount";
pub const DEFAULT_SERVICE_ACCOUNT: &str = "default";
pub const MOUNT_PATH: &str = "/var/run/secrets/kubernetes.io/serviceaccount";
pub const VOLUME_PREFIX: &str = "kube-api-access-";
/// Kubernetes' default: an hour and seven seconds, so kubelets can tell it from a token a
/// user asked an hour for.
pub const TOKEN_EXPIRATION_SECONDS: i32 = 3607;
pub const ROOT_CA_CONFIG_MAP: &str = "kube-root-ca.crt";

/// Sets `default` when the pod names no ServiceAccount; returns the name it runs as.
pub fn default_service_account(pod: &mut Pod) -> String {
    let spec = pod.spec.get_or_insert_with(Default::default);
    if spec.service_account_name.is_empty() {
        spec.service_account_name = if spec.service_account.is_empty() {
            DEFAULT_SERVICE_ACCOUNT.to_string()
        } else {
            spec.service_account.clone()
        };
    }
    // The deprecated alias always follows the name, as Kubernetes keeps them.
    spec.service_account = spec.service_account_name.clone();
    spec.service_account_name.clone()
}

/// Kubernetes' Forbidden for a pod whose ServiceAccount does not exist.
pub fn missing(pod_name: &str, namespace: &str, sa: &str) -> ApiError {
    let why = format!(
        "error looking up service account {namespace}/{sa}: serviceaccount {sa:?} not found"
    );
    if pod_name.is_empty() {
        ApiError::forbidden(format!("pods is forbidden: {why}"))
    } else {
        ApiError::forbidden(format!("pods {pod_name:?} is forbidden: {why}"))
    }
}

fn should_automount(pod: &Pod, sa: &ServiceAccount) -> bool {
    pod.spec
        .as_ref()
        .and_then(|s| s.automount_service_account_token)
        .or(sa.automount_service_account_token)
        .unwrap_or(true)
}

fn token_volume(name: &str) -> Volume {
    Volume {
        name: name.to_string(),
        volume_source: Some(VolumeSource::Projected(ProjectedVolumeSource {
            default_mode: Some(0o644),
            sources: vec![
                VolumeProjection {
                    service_account_token: Some(ServiceAccountTokenProjection {
                        audience: String::new(),
                        expiration_seconds: Some(TOKEN_EXPIRATION_SECONDS),
                        path: "token".to_string(),
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    config_map: Some(ConfigMapProjection {
                        name: ROOT_CA_CONFIG_MAP.to_string(),
                        items: vec![KeyToPath {
                            key: "ca.crt".to_string(),
                            path: "ca.crt".to_string(),
                            mode: None,
                        }],
                        optional: None,
                    }),
                    ..Default::default()
                },
                VolumeProjection {
                    downward_api: Some(DownwardApiProjection {
                        items: vec![DownwardApiVolumeFile {
                            path: "namespace".to_string(),
                            field_ref: Some(ObjectFieldSelector {
                                api_version: "v1".to_string(),
                                field_path: "metadata.namespace".to_string(),
                            }),
                            ..Default::default()
                        }],
                    }),
                    ..Default::default()
                },
            ],
        })),
    }
}

/// Mounts the API access volume into every container that has nothing at the mount path;
/// `suffix` names a volume the pod does not have yet (5 random characters).
pub fn mount_token(pod: &mut Pod, sa: &ServiceAccount, suffix: &str) {
    if !should_automount(pod, sa) {
        return;
    }
    let spec = pod.spec.get_or_insert_with(Default::default);
    let existing = spec
        .volumes
        .iter()
        .find(|v| v.name.starts_with(VOLUME_PREFIX))
        .map(|v| v.name.clone());
    let name = existing
        .clone()
        .unwrap_or_else(|| format!("{VOLUME_PREFIX}{suffix}"));
    let mut needed = false;
    for c in spec
        .init_containers
        .iter_mut()
        .chain(spec.containers.iter_mut())
    {
        if c.volume_mounts.iter().any(|m| m.mount_path == MOUNT_PATH) {
            continue;
        }
        c.volume_mounts.push(VolumeMount {
            name: name.clone(),
            read_only: true,
            mount_path: MOUNT_PATH.to_string(),
            ..Default::default()
        });
        needed = true;
    }
    if needed && existing.is_none() {
        spec.volumes.push(token_volume(&name));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{Container, PodSpec};

    fn pod() -> Pod {
        Pod {
            spec: Some(PodSpec {
                containers: vec![
                    Container {
                        name: "a".into(),
                        ..Default::default()
                    },
                    Container {
                        name: "b".into(),
                        volume_mounts: vec![VolumeMount {
                            name: "mine".into(),
                            mount_path: MOUNT_PATH.into(),
                            ..Default::default()
                        }],
                        ..Default::default()
                    },
                ],
                init_containers: vec![Container {
                    name: "init".into(),
                    ..Default::default()
                }],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn pods_run_as_default_unless_they_name_an_account() {
        let mut p = pod();
        assert_eq!(default_service_account(&mut p), "default");
        p.spec.as_mut().unwrap().service_account_name = "builder".into();
        assert_eq!(default_service_account(&mut p), "builder");
        assert_eq!(p.spec.as_ref().unwrap().service_account, "builder");
        assert_eq!(
            missing("web", "team", "builder").message,
            r#"pods "web" is forbidden: error looking up service account team/builder: serviceaccount "builder" not found"#
        );
    }

    #[test]
    fn the_token_volume_goes_into_every_container_without_a_mount_there() {
        let mut p = pod();
        mount_token(&mut p, &ServiceAccount::default(), "x2b4z");
        let spec = p.spec.as_ref().unwrap();
        assert_eq!(spec.volumes.len(), 1);
        assert_eq!(spec.volumes[0].name, "kube-api-access-x2b4z");
        let Some(VolumeSource::Projected(projected)) = &spec.volumes[0].volume_source else {
            panic!("a projected volume");
        };
        assert_eq!(
            projected.sources[0]
                .service_account_token
                .as_ref()
                .unwrap()
                .expiration_seconds,
            Some(3607)
        );
        assert_eq!(
            projected.sources[1].config_map.as_ref().unwrap().name,
            "kube-root-ca.crt"
        );
        let mounts = |c: &Container| {
            c.volume_mounts
                .iter()
                .map(|m| (m.name.clone(), m.read_only))
                .collect::<Vec<_>>()
        };
        assert_eq!(
            mounts(&spec.containers[0]),
            vec![("kube-api-access-x2b4z".to_string(), true)]
        );
        assert_eq!(
            mounts(&spec.containers[1]),
            vec![("mine".to_string(), false)]
        );
        assert_eq!(
            mounts(&spec.init_containers[0]),
            vec![("kube-api-access-x2b4z".to_string(), true)]
        );
        // Admitting again changes nothing.
        let before = p.clone();
        mount_token(&mut p, &ServiceAccount::default(), "other");
        assert_eq!(p, before);
    }

    #[test]
    fn automount_false_on_the_pod_wins_over_the_service_account() {
        let sa_off = ServiceAccount {
            automount_service_account_token: Some(false),
            ..Default::default()
        };
        let mut p = pod();
        mount_token(&mut p, &sa_off, "aaaaa");
        assert!(p.spec.as_ref().unwrap().volumes.is_empty());
        let mut p = pod();
        p.spec.as_mut().unwrap().automount_service_account_token = Some(true);
        mount_token(&mut p, &sa_off, "aaaaa");
        assert_eq!(p.spec.as_ref().unwrap().volumes.len(), 1);
        let mut p = pod();
        p.spec.as_mut().unwrap().automount_service_account_token = Some(false);
        mount_token(&mut p, &ServiceAccount::default(), "aaaaa");
        assert!(p.spec.as_ref().unwrap().volumes.is_empty());
    }
}

//! Which objects a pod makes its node need (Kubernetes' node authorizer graph, computed per
//! request from the pod instead of kept as a graph): the Secrets, ConfigMaps and
//! PersistentVolumeClaims it references and its ServiceAccount. Pure.

use std::collections::BTreeSet;

use proto::k8s::{Pod, volume::VolumeSource};

#[derive(Debug, Default, PartialEq, Eq)]
pub struct References {
    pub secrets: BTreeSet<String>,
    pub config_maps: BTreeSet<String>,
    pub claims: BTreeSet<String>,
    pub service_account: String,
}

pub fn references(pod: &Pod) -> References {
    let mut r = References::default();
    let Some(spec) = &pod.spec else {
        return r;
    };
    r.service_account = if spec.service_account_name.is_empty() {
        spec.service_account.clone()
    } else {
        spec.service_account_name.clone()
    };
    for s in &spec.image_pull_secrets {
        r.secrets.insert(s.name.clone());
    }
    for v in &spec.volumes {
        match &v.volume_source {
            Some(VolumeSource::Secret(s)) => {
                r.secrets.insert(s.secret_name.clone());
            }
            Some(VolumeSource::ConfigMap(c)) => {
                r.config_maps.insert(c.name.clone());
            }
            Some(VolumeSource::PersistentVolumeClaim(c)) => {
                r.claims.insert(c.claim_name.clone());
            }
            Some(VolumeSource::Projected(p)) => {
                for source in &p.sources {
                    if let Some(s) = &source.secret {
                        r.secrets.insert(s.name.clone());
                    }
                    if let Some(c) = &source.config_map {
                        r.config_maps.insert(c.name.clone());
                    }
                }
            }
            _ => {}
        }
    }
    for c in spec.containers.iter().chain(&spec.init_containers) {
        for from in &c.env_from {
            if let Some(s) = &from.secret_ref {
                r.secrets.insert(s.name.clone());
            }
            if let Some(cm) = &from.config_map_ref {
                r.config_maps.insert(cm.name.clone());
            }
        }
        for e in &c.env {
            let Some(src) = &e.value_from else { continue };
            if let Some(s) = &src.secret_key_ref {
                r.secrets.insert(s.name.clone());
            }
            if let Some(cm) = &src.config_map_key_ref {
                r.config_maps.insert(cm.name.clone());
            }
        }
    }
    r.secrets.remove("");
    r.config_maps.remove("");
    r.claims.remove("");
    r
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::{
        ConfigMapProjection, Container, EnvFromSource, EnvVar, EnvVarSource, LocalObjectReference,
        PodSpec, ProjectedVolumeSource, SecretEnvSource, SecretKeySelector, SecretProjection,
        Volume, VolumeProjection,
    };

    #[test]
    fn every_place_a_pod_names_an_object_is_found() {
        let pod = Pod {
            spec: Some(PodSpec {
                service_account_name: "builder".into(),
                image_pull_secrets: vec![LocalObjectReference {
                    name: "pull".into(),
                }],
                volumes: vec![
                    Volume {
                        name: "a".into(),
                        volume_source: Some(VolumeSource::Secret(proto::k8s::SecretVolumeSource {
                            secret_name: "vol-secret".into(),
                            ..Default::default()
                        })),
                    },
                    Volume {
                        name: "b".into(),
                        volume_source: Some(VolumeSource::PersistentVolumeClaim(
                            proto::k8s::PersistentVolumeClaimVolumeSource {
                                claim_name: "data".into(),
                                read_only: false,
                            },
                        )),
                    },
                    Volume {
                        name: "c".into(),
                        volume_source: Some(VolumeSource::Projected(ProjectedVolumeSource {
                            sources: vec![VolumeProjection {
                                secret: Some(SecretProjection {
                                    name: "projected".into(),
                                    ..Default::default()
                                }),
                                config_map: Some(ConfigMapProjection {
                                    name: "kube-root-ca.crt".into(),
                                    ..Default::default()
                                }),
                                ..Default::default()
                            }],
                            ..Default::default()
                        })),
                    },
                ],
                init_containers: vec![Container {
                    env_from: vec![EnvFromSource {
                        secret_ref: Some(SecretEnvSource {
                            name: "init-env".into(),
                            optional: None,
                        }),
                        ..Default::default()
                    }],
                    ..Default::default()
                }],
                containers: vec![Container {
                    env: vec![EnvVar {
                        name: "X".into(),
                        value_from: Some(EnvVarSource {
                            secret_key_ref: Some(SecretKeySelector {
                                name: "env-key".into(),
                                ..Default::default()
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
        let r = references(&pod);
        let set = |xs: &[&str]| xs.iter().map(|x| x.to_string()).collect::<BTreeSet<_>>();
        assert_eq!(
            r.secrets,
            set(&["env-key", "init-env", "projected", "pull", "vol-secret"])
        );
        assert_eq!(r.config_maps, set(&["kube-root-ca.crt"]));
        assert_eq!(r.claims, set(&["data"]));
        assert_eq!(r.service_account, "builder");
    }
}

//! DefaultStorageClass admission (Kubernetes' `plugin/pkg/admission/storage/storageclass/
//! setdefault`): a PersistentVolumeClaim created without a class gets the class annotated
//! `storageclass.kubernetes.io/is-default-class: "true"`, the newest one when several are.
//! A claim that names a class, even `""` (explicitly none), is left alone.

use proto::k8s::{ListRequest, PersistentVolumeClaim, StorageClass, object::Kind as K};
use proto::{ApiError, Object, Resource};

use crate::registry::Registry;
use crate::store::Store;

/// The plugin's name for `--disable-admission-plugins`.
pub const NAME: &str = "DefaultStorageClass";

pub const IS_DEFAULT_CLASS: &str = "storageclass.kubernetes.io/is-default-class";
pub const BETA_IS_DEFAULT_CLASS: &str = "storageclass.beta.kubernetes.io/is-default-class";
/// The class annotation claims carried before `spec.storageClassName` existed.
pub use proto::claims::ANN_BETA_STORAGE_CLASS as BETA_STORAGE_CLASS;

/// Kubernetes' `IsDefaultAnnotation`.
pub fn is_default(sc: &StorageClass) -> bool {
    let ann = &sc.meta().annotations;
    ann.get(IS_DEFAULT_CLASS).is_some_and(|v| v == "true")
        || ann.get(BETA_IS_DEFAULT_CLASS).is_some_and(|v| v == "true")
}

/// Kubernetes' `GetDefaultClass`: among the default classes, the newest; at equal creation
/// times, the name that sorts first.
pub fn default_class(classes: &[StorageClass]) -> Option<&StorageClass> {
    classes.iter().filter(|c| is_default(c)).max_by(|a, b| {
        let created = |c: &StorageClass| {
            proto::time::parse_rfc3339(&c.meta().creation_timestamp)
                .unwrap_or(std::time::UNIX_EPOCH)
        };
        created(a)
            .cmp(&created(b))
            .then_with(|| b.meta().name.cmp(&a.meta().name))
    })
}

/// Kubernetes' `PersistentVolumeClaimHasClass`: the field set (even to "") or the beta
/// annotation present.
pub fn has_class(pvc: &PersistentVolumeClaim) -> bool {
    pvc.spec
        .as_ref()
        .is_some_and(|s| s.storage_class_name.is_some())
        || pvc.meta().annotations.contains_key(BETA_STORAGE_CLASS)
}

/// Sets the default class on a new claim that has none (`enabled`: the plugin is not
/// disabled). No default class: the claim stays without one, as in Kubernetes.
pub async fn admit<S: Store>(
    registry: &Registry<S>,
    object: &mut Object,
    enabled: bool,
) -> Result<(), ApiError> {
    let Some(K::PersistentVolumeClaim(pvc)) = &mut object.kind else {
        return Ok(());
    };
    if !enabled || has_class(pvc) {
        return Ok(());
    }
    let list = registry
        .list(&ListRequest {
            resource: "storageclasses".to_string(),
            ..ListRequest::default()
        })
        .await?;
    let classes: Vec<StorageClass> = list
        .items
        .into_iter()
        .filter_map(|o| match o.kind {
            Some(K::StorageClass(sc)) => Some(sc),
            _ => None,
        })
        .collect();
    if let Some(class) = default_class(&classes) {
        tracing::debug!(claim = %pvc.meta().name, class = %class.meta().name, "default storage class set");
        pvc.spec
            .get_or_insert_with(Default::default)
            .storage_class_name = Some(class.meta().name.clone());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestServer;
    use proto::k8s::PersistentVolumeClaimSpec;

    fn class(name: &str, created: &str, annotation: Option<(&str, &str)>) -> StorageClass {
        let mut sc = StorageClass {
            provisioner: "rancher.io/local-path".into(),
            ..Default::default()
        };
        let m = sc.meta_mut();
        m.name = name.into();
        m.creation_timestamp = created.into();
        if let Some((k, v)) = annotation {
            m.annotations.insert(k.into(), v.into());
        }
        sc
    }

    #[test]
    fn the_newest_default_class_wins() {
        let t1 = "2026-01-01T00:00:00Z";
        let t2 = "2026-01-02T00:00:00Z";
        let yes = Some((IS_DEFAULT_CLASS, "true"));
        let pick = |cs: &[StorageClass]| default_class(cs).map(|c| c.meta().name.clone());
        assert_eq!(pick(&[]), None);
        assert_eq!(pick(&[class("a", t1, None)]), None);
        assert_eq!(
            pick(&[class("a", t1, Some((IS_DEFAULT_CLASS, "false")))]),
            None
        );
        assert_eq!(
            pick(&[
                class("old", t1, yes),
                class("new", t2, yes),
                class("x", t2, None)
            ]),
            Some("new".into())
        );
        assert_eq!(
            pick(&[class("b", t1, yes), class("a", t1, yes)]),
            Some("a".into()),
            "same age: the first name"
        );
        assert_eq!(
            pick(&[class("beta", t1, Some((BETA_IS_DEFAULT_CLASS, "true")))]),
            Some("beta".into())
        );
    }

    fn claim(class: Option<&str>) -> PersistentVolumeClaim {
        let mut pvc = PersistentVolumeClaim {
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: vec!["ReadWriteOnce".into()],
                storage_class_name: class.map(String::from),
                resources: Some(proto::k8s::VolumeResourceRequirements {
                    requests: [("storage".to_string(), "1Gi".to_string())].into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        pvc.meta_mut().namespace = "default".into();
        pvc
    }

    async fn created_class(
        api: &client::Api<PersistentVolumeClaim>,
        name: &str,
        asked: Option<&str>,
    ) -> Option<String> {
        let mut pvc = claim(asked);
        pvc.meta_mut().name = name.into();
        let c = api.create(&pvc).await.expect("create claim");
        c.spec.and_then(|s| s.storage_class_name)
    }

    #[tokio::test]
    async fn claims_without_a_class_get_the_default_through_the_apiserver() {
        let server = TestServer::start().await;
        let client = client::Client::connect(&server.url).await.expect("connect");
        let claims = client::Api::<PersistentVolumeClaim>::namespaced(client.clone(), "default");
        let classes = client::Api::<StorageClass>::all(client.clone());
        assert_eq!(
            created_class(&claims, "before", None).await,
            None,
            "no classes yet"
        );
        let mut plain = class("plain", "", None);
        plain.provisioner = "example.com/p".into();
        classes.create(&plain).await.expect("class");
        let default = class("local-path", "", Some((IS_DEFAULT_CLASS, "true")));
        let default = classes.create(&default).await.expect("class");
        assert_eq!(
            default.reclaim_policy.as_deref(),
            Some("Delete"),
            "defaulted"
        );
        assert_eq!(default.volume_binding_mode.as_deref(), Some("Immediate"));
        assert_eq!(
            created_class(&claims, "c1", None).await.as_deref(),
            Some("local-path")
        );
        for (name, asked) in [("explicit", Some("plain")), ("none", Some(""))] {
            assert_eq!(
                created_class(&claims, name, asked).await.as_deref(),
                asked,
                "{name}"
            );
        }
        // Provisioner and reclaim policy are immutable once stored.
        let mut changed = default.clone();
        changed.provisioner = "other.io/p".into();
        let err = classes.update(&changed).await.expect_err("immutable");
        assert!(
            err.message
                .contains("provisioner: Forbidden: updates to provisioner are forbidden."),
            "{}",
            err.message
        );
    }
}

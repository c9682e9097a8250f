//! PersistentVolumeClaimResize admission (Kubernetes' `plugin/pkg/admission/storage/
//! persistentvolume/resize`) with the request's floor from claim validation: a claim's
//! storage request may grow only when the claim is bound and its StorageClass has
//! `allowVolumeExpansion: true`, and never drops below what the volume already has
//! (`status.capacity`).

use proto::k8s::{PersistentVolumeClaim, object::Kind as K};
use proto::quantity::Quantity;
use proto::{ApiError, Object, Reason, Resource};

use crate::registry::Registry;
use crate::store::Store;

/// The plugin's name for `--disable-admission-plugins`.
pub const NAME: &str = "PersistentVolumeClaimResize";

fn request(pvc: &PersistentVolumeClaim) -> Option<Quantity> {
    pvc.spec
        .as_ref()?
        .resources
        .as_ref()?
        .requests
        .get("storage")?
        .parse()
        .ok()
}

fn capacity(pvc: &PersistentVolumeClaim) -> Option<Quantity> {
    pvc.status.as_ref()?.capacity.get("storage")?.parse().ok()
}

fn bound(pvc: &PersistentVolumeClaim) -> bool {
    pvc.status.as_ref().is_some_and(|s| s.phase == "Bound")
}

/// What an update of a claim needs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Resize {
    /// The request did not grow (or this is not a claim).
    NotAResize,
    /// Grows: allowed if this class allows expansion.
    NeedsClass(String),
    Refused(ApiError),
}

/// Pure: the decision for `new` replacing `cur`.
pub fn decide(new: &PersistentVolumeClaim, cur: &PersistentVolumeClaim) -> Resize {
    let (Some(want), Some(had)) = (request(new), request(cur)) else {
        return Resize::NotAResize;
    };
    let name = &new.meta().name;
    if want < had {
        return match capacity(cur) {
            Some(cap) if want < cap => Resize::Refused(ApiError::invalid(format!(
                "PersistentVolumeClaim {name:?} is invalid: spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"
            ))),
            _ => Resize::NotAResize,
        };
    }
    if want == had {
        return Resize::NotAResize;
    }
    let forbidden = |why: &str| {
        Resize::Refused(ApiError::forbidden(format!(
            "persistentvolumeclaims {name:?} is forbidden: {why}"
        )))
    };
    if !(bound(new) && bound(cur)) {
        return forbidden("Only bound persistent volume claims can be expanded");
    }
    match new
        .spec
        .as_ref()
        .and_then(|s| s.storage_class_name.as_deref())
    {
        Some(class) if !class.is_empty() => Resize::NeedsClass(class.to_string()),
        _ => forbidden(NOT_RESIZABLE),
    }
}

const NOT_RESIZABLE: &str = "only dynamically provisioned pvc can be resized and the storageclass that provisions the pvc must support resize";

/// Refuses a claim update that grows the request where Kubernetes would (`enabled`: the
/// plugin is not disabled; `subresource`: only the main resource carries the request).
pub async fn admit<S: Store>(
    registry: &Registry<S>,
    new: &Object,
    cur: &Object,
    subresource: &str,
    enabled: bool,
) -> Result<(), ApiError> {
    let (Some(K::PersistentVolumeClaim(n)), Some(K::PersistentVolumeClaim(c))) =
        (&new.kind, &cur.kind)
    else {
        return Ok(());
    };
    if !enabled || !subresource.is_empty() {
        return Ok(());
    }
    match decide(n, c) {
        Resize::NotAResize => Ok(()),
        Resize::Refused(e) => Err(e),
        Resize::NeedsClass(class) => {
            let allows = match registry.get("storageclasses", "", &class).await {
                Ok(o) => {
                    matches!(o.kind, Some(K::StorageClass(sc)) if sc.allow_volume_expansion == Some(true))
                }
                Err(e) if e.reason == Reason::NotFound => false,
                Err(e) => return Err(e),
            };
            if allows {
                Ok(())
            } else {
                Err(ApiError::forbidden(format!(
                    "persistentvolumeclaims {:?} is forbidden: {NOT_RESIZABLE}",
                    n.meta().name
                )))
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::testing::TestServer;
    use proto::k8s::{
        PersistentVolumeClaimSpec, PersistentVolumeClaimStatus, StorageClass,
        VolumeResourceRequirements,
    };

    fn claim(request: &str, phase: &str, capacity: &str) -> PersistentVolumeClaim {
        let mut pvc = PersistentVolumeClaim {
            spec: Some(PersistentVolumeClaimSpec {
                access_modes: vec!["ReadWriteOnce".into()],
                storage_class_name: Some("grow".into()),
                resources: Some(VolumeResourceRequirements {
                    requests: [("storage".to_string(), request.to_string())].into(),
                    ..Default::default()
                }),
                ..Default::default()
            }),
            status: Some(PersistentVolumeClaimStatus {
                phase: phase.into(),
                capacity: [("storage".to_string(), capacity.to_string())].into(),
                ..Default::default()
            }),
            ..Default::default()
        };
        pvc.meta_mut().name = "data".into();
        pvc.meta_mut().namespace = "default".into();
        pvc
    }

    #[test]
    fn growing_needs_a_bound_claim_and_a_class_shrinking_stops_at_the_capacity() {
        let cur = claim("2Gi", "Bound", "2Gi");
        assert_eq!(decide(&cur, &cur), Resize::NotAResize);
        assert_eq!(
            decide(&claim("2048Mi", "Bound", "2Gi"), &cur),
            Resize::NotAResize,
            "the same size in other units"
        );
        assert_eq!(
            decide(&claim("5Gi", "Bound", "2Gi"), &cur),
            Resize::NeedsClass("grow".into())
        );
        let pending = claim("2Gi", "Pending", "");
        let Resize::Refused(e) = decide(&claim("5Gi", "Pending", ""), &pending) else {
            panic!("a pending claim cannot grow");
        };
        assert_eq!(
            e.message,
            "persistentvolumeclaims \"data\" is forbidden: Only bound persistent volume claims can be expanded"
        );
        let mut classless = claim("5Gi", "Bound", "2Gi");
        classless.spec.as_mut().unwrap().storage_class_name = Some(String::new());
        assert!(
            matches!(decide(&classless, &cur), Resize::Refused(e) if e.reason == Reason::Forbidden)
        );
        // Back down after a failed expansion: fine while not below the capacity.
        let asked = claim("8Gi", "Bound", "2Gi");
        assert_eq!(
            decide(&claim("4Gi", "Bound", "2Gi"), &asked),
            Resize::NotAResize
        );
        let Resize::Refused(e) = decide(&claim("1Gi", "Bound", "2Gi"), &asked) else {
            panic!("below the capacity");
        };
        assert_eq!(e.reason, Reason::Invalid);
        assert!(e.message.ends_with(
            "spec.resources.requests.storage: Forbidden: field can not be less than status.capacity"
        ));
    }

    #[tokio::test]
    async fn the_class_decides_through_the_apiserver() {
        let server = TestServer::start().await;
        let client = client::Client::connect(&server.url).await.expect("connect");
        let claims = client::Api::<PersistentVolumeClaim>::namespaced(client.clone(), "default");
        let classes = client::Api::<StorageClass>::all(client.clone());
        for (name, allow) in [("grow", Some(true)), ("fixed", None)] {
            let mut sc = StorageClass {
                provisioner: "rancher.io/local-path".into(),
                allow_volume_expansion: allow,
                ..Default::default()
            };
            sc.meta_mut().name = name.into();
            classes.create(&sc).await.expect("class");
        }
        for class in ["grow", "fixed"] {
            let mut pvc = claim("1Gi", "", "");
            pvc.status = None;
            pvc.meta_mut().name = class.into();
            pvc.spec.as_mut().unwrap().storage_class_name = Some(class.into());
            let made = claims.create(&pvc).await.expect("claim");
            let mut bound = made.clone();
            bound.status = Some(PersistentVolumeClaimStatus {
                phase: "Bound".into(),
                capacity: [("storage".to_string(), "1Gi".to_string())].into(),
                ..Default::default()
            });
            let bound = claims.update_status(&bound).await.expect("status");
            let mut bigger = bound.clone();
            bigger
                .spec
                .as_mut()
                .unwrap()
                .resources
                .as_mut()
                .unwrap()
                .requests
                .insert("storage".into(), "3Gi".into());
            let res = claims.update(&bigger).await;
            match class {
                "grow" => {
                    res.expect("the class allows expansion");
                }
                _ => {
                    let e = res.expect_err("the class does not");
                    assert_eq!(e.reason, Reason::Forbidden);
                    assert!(e.message.contains(NOT_RESIZABLE), "{}", e.message);
                }
            }
        }
    }
}

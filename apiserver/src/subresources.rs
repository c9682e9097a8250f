//! The scale and binding subresources.

use proto::k8s::{
    Binding, ObjectMeta, PodCondition, Scale, ScaleSpec, ScaleStatus, object::Kind as K,
};
use proto::{ApiError, KindInfo, Object};

use crate::codec::{encode, parse_revision};
use crate::error::{Result, conflict, from_store, not_found};
use crate::keys::object_key;
use crate::registry::{
    ConflictRetry, Registry, check_size, request_namespace, resolve_kind, uid_precondition_failed,
};
use crate::store::Store;

/// Runs `$body` with `$x` bound to the typed object of each kind that serves the scale
/// subresource (their spec and status share the fields it needs), else `$none`.
macro_rules! with_scalable {
    ($kind:expr, $x:ident => $body:expr, _ => $none:expr) => {
        match $kind {
            Some(K::Deployment($x)) => $body,
            Some(K::ReplicaSet($x)) => $body,
            Some(K::StatefulSet($x)) => $body,
            _ => $none,
        }
    };
}

/// (spec.replicas, status.replicas, selector) of a kind with the scale subresource.
fn scale_view(object: &Object) -> Option<(i32, i32, Option<&proto::k8s::LabelSelector>)> {
    with_scalable!(&object.kind, d => {
        let s = d.spec.as_ref();
        Some((
            s.and_then(|s| s.replicas).unwrap_or(1),
            d.status.as_ref().map_or(0, |st| st.replicas),
            s.and_then(|s| s.selector.as_ref()),
        ))
    }, _ => None)
}

fn set_replicas(object: &mut Object, replicas: i32) {
    with_scalable!(&mut object.kind, d => {
        d.spec.get_or_insert_with(Default::default).replicas = Some(replicas)
    }, _ => {})
}

fn to_scale(info: &KindInfo, object: &Object) -> Result<Scale> {
    let (spec, status, selector) = scale_view(object).ok_or_else(|| {
        ApiError::bad_request(format!("{} has no scale subresource", info.plural))
    })?;
    let selector = match selector {
        Some(s) => proto::selector::LabelSelector::from_proto(s)
            .map(|s| s.to_string())
            .unwrap_or_default(),
        None => String::new(),
    };
    let m = object.meta();
    Ok(Scale {
        api_version: "autoscaling/v1".to_string(),
        kind: "Scale".to_string(),
        metadata: Some(ObjectMeta {
            name: m.name.clone(),
            namespace: m.namespace.clone(),
            uid: m.uid.clone(),
            resource_version: m.resource_version.clone(),
            creation_timestamp: m.creation_timestamp.clone(),
            ..Default::default()
        }),
        spec: Some(ScaleSpec { replicas: spec }),
        status: Some(ScaleStatus {
            replicas: status,
            selector,
        }),
    })
}

fn scalable(resource: &str) -> Result<&'static KindInfo> {
    let info = resolve_kind(resource)?;
    if !info.has_scale {
        return Err(ApiError::bad_request(format!(
            "{} has no scale subresource",
            info.plural
        )));
    }
    Ok(info)
}

impl<S: Store> Registry<S> {
    pub async fn get_scale(&self, resource: &str, namespace: &str, name: &str) -> Result<Scale> {
        let info = scalable(resource)?;
        let object = self.get(resource, namespace, name).await?;
        to_scale(info, &object)
    }

    /// Sets `spec.replicas`; a `field_manager` is recorded as owning it through the
    /// `scale` subresource.
    pub async fn update_scale(
        &self,
        resource: &str,
        scale: Scale,
        field_manager: &str,
        dry_run: bool,
    ) -> Result<Scale> {
        let info = scalable(resource)?;
        let meta = scale.metadata.unwrap_or_default();
        request_namespace(info, &meta.namespace)?;
        if meta.name.is_empty() {
            return Err(ApiError::bad_request("a name is required"));
        }
        let replicas = scale.spec.map_or(0, |s| s.replicas);
        if replicas < 0 {
            return Err(ApiError::invalid(format!(
                "Scale.autoscaling \"{}\" is invalid: spec.replicas: Invalid value: {replicas}: must be greater than or equal to 0",
                meta.name
            )));
        }
        let precondition = parse_revision(&meta.resource_version)?;
        if dry_run {
            // Everything a real update checks (the object, its kind, the precondition),
            // nothing written.
            let cur = self.get(resource, &meta.namespace, &meta.name).await?;
            if let Some(rv) = precondition
                && cur.meta().resource_version != rv.to_string()
            {
                return Err(conflict(info, &meta.name));
            }
            let mut new = cur;
            set_replicas(&mut new, replicas);
            return to_scale(info, &new);
        }
        let updated = self
            .read_modify_write(info, &meta.namespace, &meta.name, |cur| {
                if let Some(rv) = precondition
                    && cur.meta().resource_version != rv.to_string()
                {
                    return Err(conflict(info, &meta.name));
                }
                if scale_view(cur).map(|v| v.0) == Some(replicas) {
                    return Ok(None);
                }
                let mut new = cur.clone();
                set_replicas(&mut new, replicas);
                crate::registry::record_update(info, &mut new, Some(cur), field_manager, "scale");
                Ok(Some(new))
            })
            .await?;
        to_scale(info, &updated)
    }

    /// Assigns a pod to a node: sets spec.nodeName and the PodScheduled condition in one
    /// write. A pod is bound once; binding it again is a Conflict, as in Kubernetes.
    pub async fn bind(&self, binding: Binding) -> Result<()> {
        let info = &proto::resource::info::Pod;
        let meta = binding.metadata.unwrap_or_default();
        let node = binding.target.map(|t| t.name).unwrap_or_default();
        if meta.name.is_empty() || meta.namespace.is_empty() || node.is_empty() {
            return Err(ApiError::bad_request(
                "a binding needs metadata.name, metadata.namespace and target.name",
            ));
        }
        let bad_node = proto::validation::is_dns1123_subdomain(&node);
        if !bad_node.is_empty() {
            return Err(ApiError::invalid(format!(
                "Binding {:?} is invalid: target.name: Invalid value: {node:?}: {}",
                meta.name,
                bad_node.join("; ")
            )));
        }
        let key = object_key(info, &meta.namespace, &meta.name);
        let mut retry = ConflictRetry::new();
        loop {
            let kv = self
                .store
                .get(&key)
                .await
                .map_err(|e| from_store(info, &meta.name, e))?
                .ok_or_else(|| not_found(info, &meta.name))?;
            let mut object = crate::codec::decode(&kv.value, kv.mod_revision)?;
            let Some(K::Pod(pod)) = &mut object.kind else {
                return Err(ApiError::internal("stored pod is not a pod"));
            };
            let pod_meta = pod.metadata.clone().unwrap_or_default();
            if !meta.uid.is_empty() && meta.uid != pod_meta.uid {
                return Err(uid_precondition_failed(&meta.uid, &pod_meta.uid));
            }
            if !pod_meta.deletion_timestamp.is_empty() {
                return Err(ApiError::conflict(format!(
                    "pod {} is being deleted, cannot be assigned to a host",
                    meta.name
                )));
            }
            let spec = pod.spec.get_or_insert_with(Default::default);
            if !spec.node_name.is_empty() {
                return Err(ApiError::conflict(format!(
                    "pod {} is already assigned to node \"{}\"",
                    meta.name, spec.node_name
                )));
            }
            spec.node_name = node.clone();
            let status = pod.status.get_or_insert_with(Default::default);
            status.conditions.retain(|c| c.r#type != "PodScheduled");
            status.conditions.push(PodCondition {
                r#type: "PodScheduled".to_string(),
                status: "True".to_string(),
                last_transition_time: proto::time::now_rfc3339(),
                ..Default::default()
            });
            let bytes = encode(&object);
            check_size(info, &meta.name, bytes.len())?;
            match self.store.update(&key, bytes, kv.mod_revision).await {
                Ok(_) => return Ok(()),
                Err(crate::store::Error::Conflict { .. }) if retry.again().await => continue,
                Err(e) => return Err(from_store(info, &meta.name, e)),
            }
        }
    }
}

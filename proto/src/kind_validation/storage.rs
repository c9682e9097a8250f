//! storage.k8s.io API group: StorageClass (`pkg/apis/storage/validation`,
//! ValidateStorageClass and ValidateStorageClassUpdate).

use super::Errors;
use crate::k8s;
use crate::validation::{FieldError, is_qualified_name};

/// Kubernetes' limits on a class's parameters.
const MAX_PARAMETERS: usize = 512;
const MAX_PARAMETERS_SIZE: usize = 256 * (1 << 10);

const RECLAIM_POLICIES: &[&str] = &["Delete", "Retain"];
const BINDING_MODES: &[&str] = &["Immediate", "WaitForFirstConsumer"];

pub(super) fn storage_class(sc: &k8s::StorageClass, e: &mut Errors) {
    if sc.provisioner.is_empty() {
        e.push(FieldError::required("provisioner", ""));
    } else {
        // Kubernetes checks the lowercased name (`kubernetes.io/AWS-EBS` is fine).
        for m in is_qualified_name(&sc.provisioner.to_lowercase()) {
            e.push(FieldError::invalid("provisioner", &sc.provisioner, m));
        }
    }
    parameters(&sc.parameters, e);
    if let Some(p) = sc.reclaim_policy.as_deref()
        && !p.is_empty()
        && !RECLAIM_POLICIES.contains(&p)
    {
        e.push(FieldError::not_supported(
            "reclaimPolicy",
            p,
            RECLAIM_POLICIES,
        ));
    }
    // Unset is defaulted to Immediate before validation; only a value set wrong is refused.
    if let Some(m) = sc.volume_binding_mode.as_deref()
        && !BINDING_MODES.contains(&m)
    {
        e.push(FieldError::not_supported(
            "volumeBindingMode",
            m,
            BINDING_MODES,
        ));
    }
    allowed_topologies(&sc.allowed_topologies, e);
}

fn parameters(params: &std::collections::BTreeMap<String, String>, e: &mut Errors) {
    if params.len() > MAX_PARAMETERS {
        e.push(FieldError::new(
            "parameters",
            format!(
                "Too long: Provisioner Parameters exceeded max allowed: must have at most {MAX_PARAMETERS} items"
            ),
        ));
        return;
    }
    let mut size = 0;
    for (k, v) in params {
        if k.is_empty() {
            e.push(FieldError::invalid(
                "parameters",
                k,
                "field can not be empty.",
            ));
        }
        size += k.len() + v.len();
    }
    if size > MAX_PARAMETERS_SIZE {
        e.push(FieldError::too_long("parameters", MAX_PARAMETERS_SIZE));
    }
}

fn allowed_topologies(terms: &[k8s::TopologySelectorTerm], e: &mut Errors) {
    for (i, term) in terms.iter().enumerate() {
        let path = format!("allowedTopologies[{i}]");
        if term.match_label_expressions.is_empty() {
            e.push(FieldError::required(
                format!("{path}.matchLabelExpressions"),
                "must have at least one label expression",
            ));
        }
        let mut keys = std::collections::BTreeSet::new();
        for (j, r) in term.match_label_expressions.iter().enumerate() {
            let rpath = format!("{path}.matchLabelExpressions[{j}]");
            for m in is_qualified_name(&r.key) {
                e.push(FieldError::invalid(format!("{rpath}.key"), &r.key, m));
            }
            if !keys.insert(r.key.as_str()) {
                e.push(FieldError::duplicate(format!("{rpath}.key"), &r.key));
            }
            if r.values.is_empty() {
                e.push(FieldError::required(
                    format!("{rpath}.values"),
                    "must specify as least one value",
                ));
            }
        }
    }
}

/// Provisioner, parameters, reclaimPolicy and volumeBindingMode are immutable.
pub(super) fn storage_class_update(
    new: &k8s::StorageClass,
    cur: &k8s::StorageClass,
    e: &mut Errors,
) {
    if new.parameters != cur.parameters {
        e.push(FieldError::forbidden(
            "parameters",
            "updates to parameters are forbidden.",
        ));
    }
    if new.provisioner != cur.provisioner {
        e.push(FieldError::forbidden(
            "provisioner",
            "updates to provisioner are forbidden.",
        ));
    }
    if new.reclaim_policy != cur.reclaim_policy {
        e.push(FieldError::forbidden(
            "reclaimPolicy",
            "updates to reclaimPolicy are forbidden.",
        ));
    }
    if new.volume_binding_mode != cur.volume_binding_mode {
        e.push(FieldError::invalid(
            "volumeBindingMode",
            new.volume_binding_mode.as_deref().unwrap_or(""),
            "field is immutable",
        ));
    }
}

#[cfg(test)]
mod tests {
    use crate::k8s::{StorageClass, TopologySelectorLabelRequirement, TopologySelectorTerm};
    use crate::{Resource, kind_validation};

    fn class(provisioner: &str) -> StorageClass {
        let mut sc = StorageClass {
            provisioner: provisioner.into(),
            reclaim_policy: Some("Delete".into()),
            volume_binding_mode: Some("WaitForFirstConsumer".into()),
            ..Default::default()
        };
        sc.meta_mut().name = "local-path".into();
        sc
    }

    fn errors(sc: &StorageClass) -> Vec<String> {
        kind_validation::validate(&sc.clone().into_object())
            .iter()
            .map(ToString::to_string)
            .collect()
    }

    #[test]
    fn fields_as_kubernetes_checks_them() {
        assert!(errors(&class("rancher.io/local-path")).is_empty());
        assert!(errors(&class("kubernetes.io/AWS-EBS")).is_empty());
        assert_eq!(errors(&class("")), ["provisioner: Required value"]);
        assert!(errors(&class("bad provisioner!"))[0].starts_with("provisioner: Invalid value"));
        let mut sc = class("x.io/p");
        sc.reclaim_policy = Some("Recycle".into());
        sc.volume_binding_mode = Some("Later".into());
        assert_eq!(
            errors(&sc),
            [
                "reclaimPolicy: Unsupported value: \"Recycle\": supported values: \"Delete\", \"Retain\"",
                "volumeBindingMode: Unsupported value: \"Later\": supported values: \"Immediate\", \"WaitForFirstConsumer\"",
            ]
        );
        let mut sc = class("x.io/p");
        sc.parameters.insert(String::new(), "v".into());
        sc.allowed_topologies = vec![
            TopologySelectorTerm::default(),
            TopologySelectorTerm {
                match_label_expressions: vec![TopologySelectorLabelRequirement {
                    key: "kubernetes.io/hostname".into(),
                    values: vec![],
                }],
            },
        ];
        assert_eq!(
            errors(&sc),
            [
                "parameters: Invalid value: \"\": field can not be empty.",
                "allowedTopologies[0].matchLabelExpressions: Required value: must have at least one label expression",
                "allowedTopologies[1].matchLabelExpressions[0].values: Required value: must specify as least one value",
            ]
        );
    }

    #[test]
    fn provisioner_parameters_policy_and_mode_are_immutable() {
        let cur = class("rancher.io/local-path");
        let mut new = cur.clone();
        new.allow_volume_expansion = Some(true);
        new.meta_mut().labels.insert("a".into(), "b".into());
        let update = |n: &StorageClass| {
            kind_validation::validate_update(&n.clone().into_object(), &cur.clone().into_object())
                .iter()
                .map(ToString::to_string)
                .collect::<Vec<_>>()
        };
        assert!(update(&new).is_empty(), "expansion and labels may change");
        new.provisioner = "other.io/p".into();
        new.parameters.insert("k".into(), "v".into());
        new.reclaim_policy = Some("Retain".into());
        new.volume_binding_mode = Some("Immediate".into());
        assert_eq!(
            update(&new),
            [
                "parameters: Forbidden: updates to parameters are forbidden.",
                "provisioner: Forbidden: updates to provisioner are forbidden.",
                "reclaimPolicy: Forbidden: updates to reclaimPolicy are forbidden.",
                "volumeBindingMode: Invalid value: \"Immediate\": field is immutable",
            ]
        );
    }
}

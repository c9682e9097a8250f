//! Patch metadata of every list and struct field Kubernetes gives one: how a strategic
//! merge patch merges it (`x-kubernetes-patch-strategy`, `x-kubernetes-patch-merge-key`) and
//! how server-side apply tracks it (`x-kubernetes-list-type`, `x-kubernetes-list-map-keys`).
//! The facts come from the `patchStrategy`/`patchMergeKey` tags and `+listType`/`+listMapKey`
//! markers of Kubernetes' API types (k8s.io/api, k8s.io/apimachinery meta/v1), by our proto
//! message names. Fields not listed have the defaults: lists atomic (replaced whole), maps
//! and messages merged key by key.

/// How a strategic merge patch treats a field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum PatchStrategy {
    /// The patch's value replaces the field (lists are atomic).
    Replace,
    /// Lists merge element by element (by `merge_key`, or as sets of primitives).
    Merge,
    /// The struct keeps only the keys the patch's `$retainKeys` names (a union).
    RetainKeys,
    /// Both: list elements merge by key, and each element honours `$retainKeys`.
    MergeRetainKeys,
}

impl PatchStrategy {
    /// Kubernetes' spelling, for `x-kubernetes-patch-strategy`.
    pub fn as_str(self) -> &'static str {
        match self {
            PatchStrategy::Replace => "",
            PatchStrategy::Merge => "merge",
            PatchStrategy::RetainKeys => "retainKeys",
            PatchStrategy::MergeRetainKeys => "merge,retainKeys",
        }
    }

    /// Whether lists with this strategy merge element by element.
    pub fn merges(self) -> bool {
        matches!(self, PatchStrategy::Merge | PatchStrategy::MergeRetainKeys)
    }

    /// Whether `$retainKeys` directives apply.
    pub fn retains_keys(self) -> bool {
        matches!(
            self,
            PatchStrategy::RetainKeys | PatchStrategy::MergeRetainKeys
        )
    }
}

/// The patch metadata of one field.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldPatchMeta {
    pub strategy: PatchStrategy,
    pub merge_key: Option<&'static str>,
    /// `"atomic"`, `"set"` or `"map"`.
    pub list_type: Option<&'static str>,
    pub list_map_keys: &'static [&'static str],
}

/// Patch metadata of a field of a message, by proto message full name ("k8s.PodSpec") and the
/// field's JSON name ("containers"); None = the defaults (lists atomic, maps merged).
pub fn field(message: &str, json_field: &str) -> Option<&'static FieldPatchMeta> {
    TABLE
        .binary_search_by(|(m, f, _)| (*m, *f).cmp(&(message, json_field)))
        .ok()
        .map(|i| &TABLE[i].2)
}

/// Every (message, field) with metadata, in table order (for the OpenAPI document and tests).
pub fn all() -> impl Iterator<Item = (&'static str, &'static str, &'static FieldPatchMeta)> {
    TABLE.iter().map(|(m, f, meta)| (*m, *f, meta))
}

use PatchStrategy::{Merge, MergeRetainKeys, Replace, RetainKeys};

const fn m(
    strategy: PatchStrategy,
    merge_key: Option<&'static str>,
    list_type: Option<&'static str>,
    list_map_keys: &'static [&'static str],
) -> FieldPatchMeta {
    FieldPatchMeta {
        strategy,
        merge_key,
        list_type,
        list_map_keys,
    }
}

// Sorted by (message, field): `field` searches it.
#[rustfmt::skip]
static TABLE: &[(&str, &str, FieldPatchMeta)] = &[
    ("k8s.AggregationRule", "clusterRoleSelectors", m(Replace, None, Some("atomic"), &[])),
    ("k8s.Capabilities", "add", m(Replace, None, Some("atomic"), &[])),
    ("k8s.Capabilities", "drop", m(Replace, None, Some("atomic"), &[])),
    ("k8s.CertificateSigningRequestSpec", "groups", m(Replace, None, Some("atomic"), &[])),
    ("k8s.CertificateSigningRequestSpec", "usages", m(Replace, None, Some("atomic"), &[])),
    ("k8s.CertificateSigningRequestStatus", "conditions", m(Replace, None, Some("map"), &["type"])),
    ("k8s.ClusterRole", "rules", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ClusterRoleBinding", "subjects", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ConfigMapProjection", "items", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ConfigMapVolumeSource", "items", m(Replace, None, Some("atomic"), &[])),
    ("k8s.Container", "args", m(Replace, None, Some("atomic"), &[])),
    ("k8s.Container", "command", m(Replace, None, Some("atomic"), &[])),
    ("k8s.Container", "env", m(Merge, Some("name"), Some("map"), &["name"])),
    ("k8s.Container", "envFrom", m(Replace, None, Some("atomic"), &[])),
    ("k8s.Container", "ports", m(Merge, Some("containerPort"), Some("map"), &["containerPort", "protocol"])),
    ("k8s.Container", "resizePolicy", m(Replace, None, Some("atomic"), &[])),
    ("k8s.Container", "restartPolicyRules", m(Replace, None, Some("atomic"), &[])),
    ("k8s.Container", "volumeDevices", m(Merge, Some("devicePath"), Some("map"), &["devicePath"])),
    ("k8s.Container", "volumeMounts", m(Merge, Some("mountPath"), Some("map"), &["mountPath"])),
    ("k8s.ContainerImage", "names", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ContainerStatus", "allocatedResourcesStatus", m(Merge, Some("name"), Some("map"), &["name"])),
    ("k8s.ContainerStatus", "volumeMounts", m(Merge, Some("mountPath"), Some("map"), &["mountPath"])),
    ("k8s.CronJobStatus", "active", m(Replace, None, Some("atomic"), &[])),
    ("k8s.DaemonSetStatus", "conditions", m(Merge, Some("type"), Some("map"), &["type"])),
    ("k8s.DeploymentSpec", "strategy", m(RetainKeys, None, None, &[])),
    ("k8s.DeploymentStatus", "conditions", m(Merge, Some("type"), Some("map"), &["type"])),
    ("k8s.DownwardApiProjection", "items", m(Replace, None, Some("atomic"), &[])),
    ("k8s.DownwardApiVolumeSource", "items", m(Replace, None, Some("atomic"), &[])),
    ("k8s.EndpointSubset", "addresses", m(Replace, None, Some("atomic"), &[])),
    ("k8s.EndpointSubset", "notReadyAddresses", m(Replace, None, Some("atomic"), &[])),
    ("k8s.EndpointSubset", "ports", m(Replace, None, Some("atomic"), &[])),
    ("k8s.Endpoints", "subsets", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ExecAction", "command", m(Replace, None, Some("atomic"), &[])),
    ("k8s.HorizontalPodAutoscalerSpec", "metrics", m(Replace, None, Some("atomic"), &[])),
    ("k8s.HorizontalPodAutoscalerStatus", "conditions", m(Merge, Some("type"), Some("map"), &["type"])),
    ("k8s.HorizontalPodAutoscalerStatus", "currentMetrics", m(Replace, None, Some("atomic"), &[])),
    ("k8s.HostAlias", "hostnames", m(Replace, None, Some("atomic"), &[])),
    ("k8s.HpaScalingRules", "policies", m(Replace, None, Some("atomic"), &[])),
    ("k8s.HttpGetAction", "httpHeaders", m(Replace, None, Some("atomic"), &[])),
    ("k8s.HttpIngressRuleValue", "paths", m(Replace, None, Some("atomic"), &[])),
    ("k8s.IngressLoadBalancerIngress", "ports", m(Replace, None, Some("atomic"), &[])),
    ("k8s.IngressLoadBalancerStatus", "ingress", m(Replace, None, Some("atomic"), &[])),
    ("k8s.IngressSpec", "rules", m(Replace, None, Some("atomic"), &[])),
    ("k8s.IngressSpec", "tls", m(Replace, None, Some("atomic"), &[])),
    ("k8s.IngressTls", "hosts", m(Replace, None, Some("atomic"), &[])),
    ("k8s.JobStatus", "conditions", m(Merge, Some("type"), Some("atomic"), &[])),
    ("k8s.LimitRangeSpec", "limits", m(Replace, None, Some("atomic"), &[])),
    ("k8s.LoadBalancerIngress", "ports", m(Replace, None, Some("atomic"), &[])),
    ("k8s.LoadBalancerStatus", "ingress", m(Replace, None, Some("atomic"), &[])),
    ("k8s.NamespaceSpec", "finalizers", m(Replace, None, Some("atomic"), &[])),
    ("k8s.NamespaceStatus", "conditions", m(Merge, Some("type"), Some("map"), &["type"])),
    ("k8s.NodeAffinity", "preferredDuringSchedulingIgnoredDuringExecution", m(Replace, None, Some("atomic"), &[])),
    ("k8s.NodeSelector", "nodeSelectorTerms", m(Replace, None, Some("atomic"), &[])),
    ("k8s.NodeSelectorRequirement", "values", m(Replace, None, Some("atomic"), &[])),
    ("k8s.NodeSelectorTerm", "matchExpressions", m(Replace, None, Some("atomic"), &[])),
    ("k8s.NodeSelectorTerm", "matchFields", m(Replace, None, Some("atomic"), &[])),
    ("k8s.NodeSpec", "podCIDRs", m(Merge, None, Some("set"), &[])),
    ("k8s.NodeSpec", "taints", m(Replace, None, Some("atomic"), &[])),
    ("k8s.NodeStatus", "addresses", m(Merge, Some("type"), Some("map"), &["type"])),
    ("k8s.NodeStatus", "conditions", m(Merge, Some("type"), Some("map"), &["type"])),
    ("k8s.NodeStatus", "declaredFeatures", m(Replace, None, Some("atomic"), &[])),
    ("k8s.NodeStatus", "images", m(Replace, None, Some("atomic"), &[])),
    ("k8s.NodeStatus", "runtimeHandlers", m(Replace, None, Some("atomic"), &[])),
    ("k8s.NodeStatus", "volumesAttached", m(Replace, None, Some("atomic"), &[])),
    ("k8s.NodeStatus", "volumesInUse", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ObjectMeta", "finalizers", m(Merge, None, Some("set"), &[])),
    ("k8s.ObjectMeta", "managedFields", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ObjectMeta", "ownerReferences", m(Merge, Some("uid"), Some("map"), &["uid"])),
    ("k8s.PersistentVolumeClaimSpec", "accessModes", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PersistentVolumeClaimStatus", "accessModes", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PersistentVolumeClaimStatus", "conditions", m(Merge, Some("type"), Some("map"), &["type"])),
    ("k8s.PersistentVolumeSpec", "accessModes", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PersistentVolumeSpec", "mountOptions", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodAffinity", "preferredDuringSchedulingIgnoredDuringExecution", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodAffinity", "requiredDuringSchedulingIgnoredDuringExecution", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodAffinityTerm", "matchLabelKeys", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodAffinityTerm", "mismatchLabelKeys", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodAffinityTerm", "namespaces", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodAntiAffinity", "preferredDuringSchedulingIgnoredDuringExecution", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodAntiAffinity", "requiredDuringSchedulingIgnoredDuringExecution", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodDisruptionBudgetStatus", "conditions", m(Merge, Some("type"), Some("map"), &["type"])),
    ("k8s.PodDnsConfig", "nameservers", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodDnsConfig", "options", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodDnsConfig", "searches", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodSecurityContext", "supplementalGroups", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodSecurityContext", "sysctls", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodSpec", "containers", m(Merge, Some("name"), Some("map"), &["name"])),
    ("k8s.PodSpec", "ephemeralContainers", m(Merge, Some("name"), Some("map"), &["name"])),
    ("k8s.PodSpec", "evictionResponders", m(Merge, Some("name"), Some("map"), &["name"])),
    ("k8s.PodSpec", "hostAliases", m(Merge, Some("ip"), Some("map"), &["ip"])),
    ("k8s.PodSpec", "imagePullSecrets", m(Merge, Some("name"), Some("map"), &["name"])),
    ("k8s.PodSpec", "initContainers", m(Merge, Some("name"), Some("map"), &["name"])),
    ("k8s.PodSpec", "readinessGates", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodSpec", "resourceClaims", m(MergeRetainKeys, Some("name"), Some("map"), &["name"])),
    ("k8s.PodSpec", "schedulingGates", m(Merge, Some("name"), Some("map"), &["name"])),
    ("k8s.PodSpec", "tolerations", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodSpec", "topologySpreadConstraints", m(Merge, Some("topologyKey"), Some("map"), &["topologyKey", "whenUnsatisfiable"])),
    ("k8s.PodSpec", "volumes", m(MergeRetainKeys, Some("name"), Some("map"), &["name"])),
    ("k8s.PodStatus", "conditions", m(Merge, Some("type"), Some("map"), &["type"])),
    ("k8s.PodStatus", "containerStatuses", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodStatus", "ephemeralContainerStatuses", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodStatus", "hostIPs", m(Merge, Some("ip"), Some("atomic"), &[])),
    ("k8s.PodStatus", "initContainerStatuses", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PodStatus", "nodeAllocatableResourceClaimStatuses", m(Merge, Some("resourceClaimName"), Some("map"), &["resourceClaimName"])),
    ("k8s.PodStatus", "podIPs", m(Merge, Some("ip"), Some("map"), &["ip"])),
    ("k8s.PodStatus", "resourceClaimStatuses", m(MergeRetainKeys, Some("name"), Some("map"), &["name"])),
    ("k8s.PodStatus", "volumeHealth", m(Replace, None, Some("map"), &["name"])),
    ("k8s.PolicyRule", "apiGroups", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PolicyRule", "nonResourceURLs", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PolicyRule", "resourceNames", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PolicyRule", "resources", m(Replace, None, Some("atomic"), &[])),
    ("k8s.PolicyRule", "verbs", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ProjectedVolumeSource", "sources", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ReplicaSetStatus", "conditions", m(Merge, Some("type"), Some("map"), &["type"])),
    ("k8s.ResourceQuotaSpec", "scopes", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ResourceRequirements", "claims", m(Replace, None, Some("map"), &["name"])),
    ("k8s.Role", "rules", m(Replace, None, Some("atomic"), &[])),
    ("k8s.RoleBinding", "subjects", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ScopeSelector", "matchExpressions", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ScopedResourceSelectorRequirement", "values", m(Replace, None, Some("atomic"), &[])),
    ("k8s.SecretProjection", "items", m(Replace, None, Some("atomic"), &[])),
    ("k8s.SecretVolumeSource", "items", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ServiceAccount", "imagePullSecrets", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ServiceAccount", "secrets", m(Merge, Some("name"), Some("map"), &["name"])),
    ("k8s.ServiceSpec", "clusterIPs", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ServiceSpec", "externalIPs", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ServiceSpec", "ipFamilies", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ServiceSpec", "loadBalancerSourceRanges", m(Replace, None, Some("atomic"), &[])),
    ("k8s.ServiceSpec", "ports", m(Merge, Some("port"), Some("map"), &["port", "protocol"])),
    ("k8s.ServiceStatus", "conditions", m(Merge, Some("type"), Some("map"), &["type"])),
    ("k8s.StatefulSetSpec", "volumeClaimTemplates", m(Replace, None, Some("atomic"), &[])),
    ("k8s.StatefulSetStatus", "conditions", m(Merge, Some("type"), Some("map"), &["type"])),
    ("k8s.StorageClass", "allowedTopologies", m(Replace, None, Some("atomic"), &[])),
    ("k8s.StorageClass", "mountOptions", m(Replace, None, Some("atomic"), &[])),
    ("k8s.TopologySelectorLabelRequirement", "values", m(Replace, None, Some("atomic"), &[])),
    ("k8s.TopologySelectorTerm", "matchLabelExpressions", m(Replace, None, Some("atomic"), &[])),
    ("k8s.TopologySpreadConstraint", "matchLabelKeys", m(Replace, None, Some("atomic"), &[])),
    ("k8s.UncountedTerminatedPods", "failed", m(Replace, None, Some("set"), &[])),
    ("k8s.UncountedTerminatedPods", "succeeded", m(Replace, None, Some("set"), &[])),
    ("k8s.VolumeMount", "bindMountOptions", m(Replace, None, Some("set"), &[])),
];

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_table_is_sorted_for_binary_search() {
        for w in TABLE.windows(2) {
            assert!((w[0].0, w[0].1) < (w[1].0, w[1].1), "{} {}", w[1].0, w[1].1);
        }
    }

    #[test]
    fn kubernetes_merge_keys() {
        let c = field("k8s.PodSpec", "containers").unwrap();
        assert_eq!(c.strategy, Merge);
        assert_eq!(c.merge_key, Some("name"));
        let v = field("k8s.PodSpec", "volumes").unwrap();
        assert_eq!(v.strategy, MergeRetainKeys);
        let p = field("k8s.ServiceSpec", "ports").unwrap();
        assert_eq!(p.merge_key, Some("port"));
        assert_eq!(p.list_map_keys, &["port", "protocol"]);
        assert_eq!(
            field("k8s.Container", "ports").unwrap().merge_key,
            Some("containerPort")
        );
        assert_eq!(
            field("k8s.DeploymentSpec", "strategy").unwrap().strategy,
            RetainKeys
        );
        assert_eq!(
            field("k8s.ObjectMeta", "finalizers").unwrap().strategy,
            Merge
        );
        assert_eq!(
            field("k8s.ObjectMeta", "ownerReferences")
                .unwrap()
                .merge_key,
            Some("uid")
        );
        // Tolerations are atomic in Kubernetes.
        let t = field("k8s.PodSpec", "tolerations").unwrap();
        assert_eq!((t.strategy, t.list_type), (Replace, Some("atomic")));
        assert!(field("k8s.PodSpec", "nodeName").is_none());
    }
}

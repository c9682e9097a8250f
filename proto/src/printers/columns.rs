//! The columns of each kind's table, as Kubernetes' printers define them (Kubernetes 1.33,
//! `pkg/printers/internalversion/printers.go`); kinds without a printer there get the
//! apiserver's default table (`Name`, `Created At`).

use super::descriptions::*;

/// A `metav1.TableColumnDefinition`. `name` is Kubernetes' spelling (`Up-to-date`); kubectl
/// prints it upper-cased. Priority 0 columns are shown by default, priority 1 with `-o wide`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Column {
    pub name: &'static str,
    /// The OpenAPI type: `string`, `integer`, `boolean`, `date`.
    pub type_: &'static str,
    /// `name` for the column holding the object's name, else empty.
    pub format: &'static str,
    pub priority: i32,
    pub description: &'static str,
}

const fn col(name: &'static str, type_: &'static str, description: &'static str) -> Column {
    Column {
        name,
        type_,
        format: "",
        priority: 0,
        description,
    }
}

const fn text(name: &'static str, description: &'static str) -> Column {
    col(name, "string", description)
}

const fn int(name: &'static str, description: &'static str) -> Column {
    col(name, "integer", description)
}

/// A `-o wide` column.
const fn wide(name: &'static str, description: &'static str) -> Column {
    Column {
        priority: 1,
        ..text(name, description)
    }
}

const NAME: Column = Column {
    format: "name",
    ..text("Name", OBJECT_META_NAME)
};
const AGE: Column = text("Age", OBJECT_META_CREATION_TIMESTAMP);
const CONTAINERS: Column = wide("Containers", "Names of each container in the template.");
const IMAGES: Column = wide(
    "Images",
    "Images referenced by each container in the template.",
);

const POD: &[Column] = &[
    NAME,
    text(
        "Ready",
        "The aggregate readiness state of this pod for accepting traffic.",
    ),
    text(
        "Status",
        "The aggregate status of the containers in this pod.",
    ),
    text(
        "Restarts",
        "The number of times the containers in this pod have been restarted and when the last container in this pod has restarted.",
    ),
    AGE,
    wide("IP", POD_STATUS_POD_IP),
    wide("Node", POD_SPEC_NODE_NAME),
    wide("Nominated Node", POD_STATUS_NOMINATED_NODE_NAME),
    wide("Readiness Gates", POD_SPEC_READINESS_GATES),
];

const REPLICA_SET: &[Column] = &[
    NAME,
    int("Desired", REPLICA_SET_SPEC_REPLICAS),
    int("Current", REPLICA_SET_STATUS_REPLICAS),
    int("Ready", REPLICA_SET_STATUS_READY_REPLICAS),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", REPLICA_SET_SPEC_SELECTOR),
];

const DAEMON_SET: &[Column] = &[
    NAME,
    int("Desired", DAEMON_SET_STATUS_DESIRED_NUMBER_SCHEDULED),
    int("Current", DAEMON_SET_STATUS_CURRENT_NUMBER_SCHEDULED),
    int("Ready", DAEMON_SET_STATUS_NUMBER_READY),
    int("Up-to-date", DAEMON_SET_STATUS_UPDATED_NUMBER_SCHEDULED),
    int("Available", DAEMON_SET_STATUS_NUMBER_AVAILABLE),
    text("Node Selector", POD_SPEC_NODE_SELECTOR),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", DAEMON_SET_SPEC_SELECTOR),
];

const JOB: &[Column] = &[
    NAME,
    text("Status", "Status of the job."),
    text("Completions", JOB_STATUS_SUCCEEDED),
    text("Duration", "Time required to complete the job."),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", JOB_SPEC_SELECTOR),
];

const CRON_JOB: &[Column] = &[
    NAME,
    text("Schedule", CRON_JOB_SPEC_SCHEDULE),
    text("Timezone", CRON_JOB_SPEC_TIME_ZONE),
    col("Suspend", "boolean", CRON_JOB_SPEC_SUSPEND),
    int("Active", CRON_JOB_STATUS_ACTIVE),
    text("Last Schedule", CRON_JOB_STATUS_LAST_SCHEDULE_TIME),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", JOB_SPEC_SELECTOR),
];

const SERVICE: &[Column] = &[
    NAME,
    text("Type", SERVICE_SPEC_TYPE),
    text("Cluster-IP", SERVICE_SPEC_CLUSTER_IP),
    text("External-IP", SERVICE_SPEC_EXTERNAL_IPS),
    text("Port(s)", SERVICE_SPEC_PORTS),
    AGE,
    wide("Selector", SERVICE_SPEC_SELECTOR),
];

const INGRESS: &[Column] = &[
    NAME,
    text(
        "Class",
        "The name of the IngressClass resource that should be used for additional configuration",
    ),
    text(
        "Hosts",
        "Hosts that incoming requests are matched against before the ingress rule",
    ),
    text(
        "Address",
        "Address is a list containing ingress points for the load-balancer",
    ),
    text("Ports", "Ports of TLS configurations that open"),
    AGE,
];

const STATEFUL_SET: &[Column] = &[
    NAME,
    text("Ready", "Number of the pod with ready state"),
    AGE,
    CONTAINERS,
    IMAGES,
];

const ENDPOINTS: &[Column] = &[NAME, text("Endpoints", ENDPOINTS_SUBSETS), AGE];

const NODE: &[Column] = &[
    NAME,
    text("Status", "The status of the node"),
    text("Roles", "The roles of the node"),
    AGE,
    text("Version", NODE_SYSTEM_INFO_KUBELET_VERSION),
    wide("Internal-IP", NODE_STATUS_ADDRESSES),
    wide("External-IP", NODE_STATUS_ADDRESSES),
    wide("OS-Image", NODE_SYSTEM_INFO_OS_IMAGE),
    wide("Kernel-Version", NODE_SYSTEM_INFO_KERNEL_VERSION),
    wide(
        "Container-Runtime",
        NODE_SYSTEM_INFO_CONTAINER_RUNTIME_VERSION,
    ),
];

const EVENT: &[Column] = &[
    text("Last Seen", EVENT_LAST_TIMESTAMP),
    text("Type", EVENT_TYPE),
    text("Reason", EVENT_REASON),
    text("Object", EVENT_INVOLVED_OBJECT),
    wide("Subobject", OBJECT_REFERENCE_FIELD_PATH),
    wide("Source", EVENT_SOURCE),
    text("Message", EVENT_MESSAGE),
    wide("First Seen", EVENT_FIRST_TIMESTAMP),
    wide("Count", EVENT_COUNT),
    Column {
        priority: 1,
        ..NAME
    },
];

const NAMESPACE: &[Column] = &[NAME, text("Status", "The status of the namespace"), AGE];

const SECRET: &[Column] = &[
    NAME,
    text("Type", SECRET_TYPE),
    text("Data", SECRET_DATA),
    AGE,
];

const SERVICE_ACCOUNT: &[Column] = &[NAME, text("Secrets", SERVICE_ACCOUNT_SECRETS), AGE];

const PERSISTENT_VOLUME: &[Column] = &[
    NAME,
    text("Capacity", PERSISTENT_VOLUME_SPEC_CAPACITY),
    text("Access Modes", PERSISTENT_VOLUME_SPEC_ACCESS_MODES),
    text(
        "Reclaim Policy",
        PERSISTENT_VOLUME_SPEC_PERSISTENT_VOLUME_RECLAIM_POLICY,
    ),
    text("Status", PERSISTENT_VOLUME_STATUS_PHASE),
    text("Claim", PERSISTENT_VOLUME_SPEC_CLAIM_REF),
    text("StorageClass", "StorageClass of the pv"),
    text("VolumeAttributesClass", "VolumeAttributesClass of the pv"),
    text("Reason", PERSISTENT_VOLUME_STATUS_REASON),
    AGE,
    wide("VolumeMode", PERSISTENT_VOLUME_SPEC_VOLUME_MODE),
];

const PERSISTENT_VOLUME_CLAIM: &[Column] = &[
    NAME,
    text("Status", PERSISTENT_VOLUME_CLAIM_STATUS_PHASE),
    text("Volume", PERSISTENT_VOLUME_CLAIM_SPEC_VOLUME_NAME),
    text("Capacity", PERSISTENT_VOLUME_CLAIM_STATUS_CAPACITY),
    text("Access Modes", PERSISTENT_VOLUME_CLAIM_STATUS_ACCESS_MODES),
    text("StorageClass", "StorageClass of the pvc"),
    text("VolumeAttributesClass", "VolumeAttributesClass of the pvc"),
    AGE,
    wide("VolumeMode", PERSISTENT_VOLUME_CLAIM_SPEC_VOLUME_MODE),
];

const DEPLOYMENT: &[Column] = &[
    NAME,
    text("Ready", "Number of the pod with ready state"),
    text("Up-to-date", DEPLOYMENT_STATUS_UPDATED_REPLICAS),
    text("Available", DEPLOYMENT_STATUS_AVAILABLE_REPLICAS),
    AGE,
    CONTAINERS,
    IMAGES,
    wide("Selector", DEPLOYMENT_SPEC_SELECTOR),
];

const HORIZONTAL_POD_AUTOSCALER: &[Column] = &[
    NAME,
    text("Reference", HORIZONTAL_POD_AUTOSCALER_SPEC_SCALE_TARGET_REF),
    text("Targets", HORIZONTAL_POD_AUTOSCALER_SPEC_METRICS),
    text("MinPods", HORIZONTAL_POD_AUTOSCALER_SPEC_MIN_REPLICAS),
    text("MaxPods", HORIZONTAL_POD_AUTOSCALER_SPEC_MAX_REPLICAS),
    text(
        "Replicas",
        HORIZONTAL_POD_AUTOSCALER_STATUS_CURRENT_REPLICAS,
    ),
    AGE,
];

const CONFIG_MAP: &[Column] = &[NAME, text("Data", CONFIG_MAP_DATA), AGE];

const ROLE_BINDING: &[Column] = &[
    NAME,
    text("Role", ROLE_BINDING_ROLE_REF),
    AGE,
    wide("Users", "Users in the roleBinding"),
    wide("Groups", "Groups in the roleBinding"),
    wide("ServiceAccounts", "ServiceAccounts in the roleBinding"),
];

const CLUSTER_ROLE_BINDING: &[Column] = &[
    NAME,
    text("Role", CLUSTER_ROLE_BINDING_ROLE_REF),
    AGE,
    wide("Users", "Users in the clusterRoleBinding"),
    wide("Groups", "Groups in the clusterRoleBinding"),
    wide(
        "ServiceAccounts",
        "ServiceAccounts in the clusterRoleBinding",
    ),
];

const CERTIFICATE_SIGNING_REQUEST: &[Column] = &[
    NAME,
    AGE,
    text("SignerName", CERTIFICATE_SIGNING_REQUEST_SPEC_SIGNER_NAME),
    text("Requestor", CERTIFICATE_SIGNING_REQUEST_SPEC_REQUEST),
    text(
        "RequestedDuration",
        CERTIFICATE_SIGNING_REQUEST_SPEC_EXPIRATION_SECONDS,
    ),
    text("Condition", CERTIFICATE_SIGNING_REQUEST_STATUS_CONDITIONS),
];

const LEASE: &[Column] = &[NAME, text("Holder", LEASE_SPEC_HOLDER_IDENTITY), AGE];

const CONTROLLER_REVISION: &[Column] = &[
    NAME,
    text("Controller", "Controller of the object"),
    int("Revision", "Revision of the ControllerRevision"),
    AGE,
];

const STORAGE_CLASS: &[Column] = &[
    NAME,
    text("Provisioner", "Indicates the type of the provisioner."),
    text("ReclaimPolicy", "Indicates the type of the reclaim policy."),
    text(
        "VolumeBindingMode",
        "Indicates the mode of the volume binding.",
    ),
    text(
        "AllowVolumeExpansion",
        "Indicates whether the storage class allow volume expand.",
    ),
    AGE,
];

const POD_DISRUPTION_BUDGET: &[Column] = &[
    NAME,
    text(
        "Min Available",
        "The minimum number of pods that must be available.",
    ),
    text(
        "Max Unavailable",
        "The maximum number of pods that may be unavailable.",
    ),
    int(
        "Allowed Disruptions",
        "Calculated number of pods that may be disrupted at this time.",
    ),
    AGE,
];

const RESOURCE_QUOTA: &[Column] = &[
    NAME,
    text(
        "Request",
        "Request represents a minimum amount of cpu/memory that a container may consume.",
    ),
    text(
        "Limit",
        "Limits control the maximum amount of cpu/memory that a container may use independent of contention on the node.",
    ),
    AGE,
];

/// The apiserver's default table, for kinds Kubernetes has no printer for (LimitRange, Role,
/// ClusterRole): the creation time itself rather than an age.
const DEFAULT: &[Column] = &[
    NAME,
    col("Created At", "date", OBJECT_META_CREATION_TIMESTAMP),
];

/// The columns of `kind`'s table, default and `-o wide` ones in Kubernetes' order.
pub fn columns(kind: &str) -> &'static [Column] {
    match kind {
        "Pod" => POD,
        "ReplicaSet" => REPLICA_SET,
        "DaemonSet" => DAEMON_SET,
        "Job" => JOB,
        "CronJob" => CRON_JOB,
        "Service" => SERVICE,
        "Ingress" => INGRESS,
        "StatefulSet" => STATEFUL_SET,
        "Endpoints" => ENDPOINTS,
        "Node" => NODE,
        "Event" => EVENT,
        "Namespace" => NAMESPACE,
        "Secret" => SECRET,
        "ServiceAccount" => SERVICE_ACCOUNT,
        "PersistentVolume" => PERSISTENT_VOLUME,
        "PersistentVolumeClaim" => PERSISTENT_VOLUME_CLAIM,
        "Deployment" => DEPLOYMENT,
        "HorizontalPodAutoscaler" => HORIZONTAL_POD_AUTOSCALER,
        "ConfigMap" => CONFIG_MAP,
        "RoleBinding" => ROLE_BINDING,
        "ClusterRoleBinding" => CLUSTER_ROLE_BINDING,
        "CertificateSigningRequest" => CERTIFICATE_SIGNING_REQUEST,
        "Lease" => LEASE,
        "ControllerRevision" => CONTROLLER_REVISION,
        "ResourceQuota" => RESOURCE_QUOTA,
        "PodDisruptionBudget" => POD_DISRUPTION_BUDGET,
        "StorageClass" => STORAGE_CLASS,
        _ => DEFAULT,
    }
}

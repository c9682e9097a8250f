//! Kubernetes' API documentation of the kinds and fields we have, as its OpenAPI (v1.33)
//! publishes it (the types' doc comments): `kubectl explain` shows it. Where the proto
//! carries a comment and Kubernetes none, the proto comment stays.

pub(super) static MESSAGES: &[(&str, &str)] = &[
    (
        "k8s.ObjectMeta",
        "ObjectMeta is metadata that all persisted resources must have, which includes all objects users must create.",
    ),
    (
        "k8s.ManagedFieldsEntry",
        "ManagedFieldsEntry is a workflow-id, a FieldSet and the group version of the resource that the fieldset applies to.",
    ),
    (
        "k8s.FieldsV1",
        "FieldsV1 stores a set of fields in a data structure like a Trie, in JSON format.\n\nEach key is either a '.' representing the field itself, and will always map to an empty set, or a string representing a sub-field or item. The string will follow one of these four formats: 'f:<name>', where <name> is the name of a field in a struct, or key in a map 'v:<value>', where <value> is the exact json formatted value of a list item 'i:<index>', where <index> is position of a item in a list 'k:<keys>', where <keys> is a map of  a list item's key fields to their unique values If a key maps to an empty Fields value, the field that key represents is part of the set.\n\nThe exact format is defined in sigs.k8s.io/structured-merge-diff",
    ),
    (
        "k8s.OwnerReference",
        "OwnerReference contains enough information to let you identify an owning object. An owning object must be in the same namespace as the dependent, or be cluster-scoped, so there is no namespace field.",
    ),
    (
        "k8s.LabelSelector",
        "A label selector is a label query over a set of resources. The result of matchLabels and matchExpressions are ANDed. An empty label selector matches all objects. A null label selector matches no objects.",
    ),
    (
        "k8s.LabelSelectorRequirement",
        "A label selector requirement is a selector that contains values, a key, and an operator that relates the key and values.",
    ),
    (
        "k8s.ObjectReference",
        "ObjectReference contains enough information to let you inspect or modify the referred object.",
    ),
    (
        "k8s.LocalObjectReference",
        "LocalObjectReference contains enough information to let you locate the referenced object inside the same namespace.",
    ),
    (
        "k8s.Condition",
        "Condition contains details for one aspect of the current state of this API Resource.",
    ),
    (
        "k8s.Namespace",
        "Namespace provides a scope for Names. Use of multiple namespaces is optional.",
    ),
    (
        "k8s.NamespaceSpec",
        "NamespaceSpec describes the attributes on a Namespace.",
    ),
    (
        "k8s.NamespaceStatus",
        "NamespaceStatus is information about the current status of a Namespace.",
    ),
    (
        "k8s.NamespaceCondition",
        "NamespaceCondition contains details about state of namespace.",
    ),
    (
        "k8s.Node",
        "Node is a worker node in Kubernetes. Each node will have a unique identifier in the cache (i.e. in etcd).",
    ),
    (
        "k8s.NodeSpec",
        "NodeSpec describes the attributes that a node is created with.",
    ),
    (
        "k8s.Taint",
        "The node this Taint is attached to has the \"effect\" on any pod that does not tolerate the Taint.",
    ),
    (
        "k8s.NodeStatus",
        "NodeStatus is information about the current status of a node.",
    ),
    (
        "k8s.NodeCondition",
        "NodeCondition contains condition information for a node.",
    ),
    (
        "k8s.NodeAddress",
        "NodeAddress contains information for the node's address.",
    ),
    (
        "k8s.NodeDaemonEndpoints",
        "NodeDaemonEndpoints lists ports opened by daemons running on the Node.",
    ),
    (
        "k8s.DaemonEndpoint",
        "DaemonEndpoint contains information about a single Daemon endpoint.",
    ),
    (
        "k8s.NodeSystemInfo",
        "NodeSystemInfo is a set of ids/uuids to uniquely identify the node.",
    ),
    ("k8s.ContainerImage", "Describe a container image"),
    (
        "k8s.Pod",
        "Pod is a collection of containers that can run on a host. This resource is created by clients and scheduled onto hosts.",
    ),
    ("k8s.PodSpec", "PodSpec is a description of a pod."),
    (
        "k8s.Container",
        "A single application container that you want to run within a pod.",
    ),
    (
        "k8s.ContainerPort",
        "ContainerPort represents a network port in a single container.",
    ),
    (
        "k8s.EnvVar",
        "EnvVar represents an environment variable present in a Container.",
    ),
    (
        "k8s.EnvVarSource",
        "EnvVarSource represents a source for the value of an EnvVar.",
    ),
    (
        "k8s.ObjectFieldSelector",
        "ObjectFieldSelector selects an APIVersioned field of an object.",
    ),
    (
        "k8s.ResourceFieldSelector",
        "ResourceFieldSelector represents container resources (cpu, memory) and their output format",
    ),
    (
        "k8s.ConfigMapKeySelector",
        "Selects a key from a ConfigMap.",
    ),
    (
        "k8s.SecretKeySelector",
        "SecretKeySelector selects a key of a Secret.",
    ),
    (
        "k8s.EnvFromSource",
        "EnvFromSource represents the source of a set of ConfigMaps or Secrets",
    ),
    (
        "k8s.ConfigMapEnvSource",
        "ConfigMapEnvSource selects a ConfigMap to populate the environment variables with.\n\nThe contents of the target ConfigMap's Data field will represent the key-value pairs as environment variables.",
    ),
    (
        "k8s.SecretEnvSource",
        "SecretEnvSource selects a Secret to populate the environment variables with.\n\nThe contents of the target Secret's Data field will represent the key-value pairs as environment variables.",
    ),
    (
        "k8s.ResourceRequirements",
        "ResourceRequirements describes the compute resource requirements.",
    ),
    (
        "k8s.VolumeMount",
        "VolumeMount describes a mounting of a Volume within a container.",
    ),
    (
        "k8s.Probe",
        "Probe describes a health check to be performed against a container to determine whether it is alive or ready to receive traffic.",
    ),
    (
        "k8s.ExecAction",
        "ExecAction describes a \"run in container\" action.",
    ),
    (
        "k8s.HttpGetAction",
        "HTTPGetAction describes an action based on HTTP Get requests.",
    ),
    (
        "k8s.HttpHeader",
        "HTTPHeader describes a custom header to be used in HTTP probes",
    ),
    (
        "k8s.TcpSocketAction",
        "TCPSocketAction describes an action based on opening a socket",
    ),
    (
        "k8s.GrpcAction",
        "GRPCAction specifies an action involving a GRPC service.",
    ),
    (
        "k8s.SleepAction",
        "SleepAction describes a \"sleep\" action.",
    ),
    (
        "k8s.Lifecycle",
        "Lifecycle describes actions that the management system should take in response to container lifecycle events. For the PostStart and PreStop lifecycle handlers, management of the container blocks until the action is complete, unless the container process fails, in which case the handler is aborted.",
    ),
    (
        "k8s.LifecycleHandler",
        "LifecycleHandler defines a specific action that should be taken in a lifecycle hook. One and only one of the fields, except TCPSocket must be specified.",
    ),
    (
        "k8s.SecurityContext",
        "SecurityContext holds security configuration that will be applied to a container. Some fields are present in both SecurityContext and PodSecurityContext.  When both are set, the values in SecurityContext take precedence.",
    ),
    (
        "k8s.SELinuxOptions",
        "SELinuxOptions are the labels to be applied to the container",
    ),
    (
        "k8s.WindowsSecurityContextOptions",
        "WindowsSecurityContextOptions contain Windows-specific options and credentials.",
    ),
    (
        "k8s.AppArmorProfile",
        "AppArmorProfile defines a pod or container's AppArmor settings.",
    ),
    (
        "k8s.Capabilities",
        "Adds and removes POSIX capabilities from running containers.",
    ),
    (
        "k8s.SeccompProfile",
        "SeccompProfile defines a pod/container's seccomp profile settings. Only one profile source may be set.",
    ),
    (
        "k8s.PodSecurityContext",
        "PodSecurityContext holds pod-level security attributes and common container settings. Some fields are also present in container.securityContext.  Field values of container.securityContext take precedence over field values of PodSecurityContext.",
    ),
    ("k8s.Sysctl", "Sysctl defines a kernel parameter to be set"),
    (
        "k8s.Volume",
        "Volume represents a named volume in a pod that may be accessed by any container in the pod.",
    ),
    (
        "k8s.HostPathVolumeSource",
        "Represents a host path mapped into a pod. Host path volumes do not support ownership management or SELinux relabeling.",
    ),
    (
        "k8s.EmptyDirVolumeSource",
        "Represents an empty directory for a pod. Empty directory volumes support ownership management and SELinux relabeling.",
    ),
    (
        "k8s.KeyToPath",
        "Maps a string key to a path within a volume.",
    ),
    (
        "k8s.ConfigMapVolumeSource",
        "Adapts a ConfigMap into a volume.\n\nThe contents of the target ConfigMap's Data field will be presented in a volume as files using the keys in the Data field as the file names, unless the items element is populated with specific mappings of keys to paths. ConfigMap volumes support ownership management and SELinux relabeling.",
    ),
    (
        "k8s.SecretVolumeSource",
        "Adapts a Secret into a volume.\n\nThe contents of the target Secret's Data field will be presented in a volume as files using the keys in the Data field as the file names. Secret volumes support ownership management and SELinux relabeling.",
    ),
    (
        "k8s.PersistentVolumeClaimVolumeSource",
        "PersistentVolumeClaimVolumeSource references the user's PVC in the same namespace. This volume finds the bound PV and mounts that volume for the pod. A PersistentVolumeClaimVolumeSource is, essentially, a wrapper around another type of volume that is owned by someone else (the system).",
    ),
    (
        "k8s.DownwardApiVolumeSource",
        "DownwardAPIVolumeSource represents a volume containing downward API info. Downward API volumes support ownership management and SELinux relabeling.",
    ),
    (
        "k8s.DownwardApiVolumeFile",
        "DownwardAPIVolumeFile represents information to create the file containing the pod field",
    ),
    (
        "k8s.NfsVolumeSource",
        "Represents an NFS mount that lasts the lifetime of a pod. NFS volumes do not support ownership management or SELinux relabeling.",
    ),
    (
        "k8s.ProjectedVolumeSource",
        "Represents a projected volume source",
    ),
    (
        "k8s.VolumeProjection",
        "Projection that may be projected along with other supported volume types. Exactly one of these fields must be set.",
    ),
    (
        "k8s.ConfigMapProjection",
        "Adapts a ConfigMap into a projected volume.\n\nThe contents of the target ConfigMap's Data field will be presented in a projected volume as files using the keys in the Data field as the file names, unless the items element is populated with specific mappings of keys to paths. Note that this is identical to a configmap volume source without the default mode.",
    ),
    (
        "k8s.SecretProjection",
        "Adapts a secret into a projected volume.\n\nThe contents of the target Secret's Data field will be presented in a projected volume as files using the keys in the Data field as the file names. Note that this is identical to a secret volume source without the default mode.",
    ),
    (
        "k8s.DownwardApiProjection",
        "Represents downward API info for projecting into a projected volume. Note that this is identical to a downwardAPI volume source without the default mode.",
    ),
    (
        "k8s.ServiceAccountTokenProjection",
        "ServiceAccountTokenProjection represents a projected service account token volume. This projection can be used to insert a service account token into the pods runtime filesystem for use against APIs (Kubernetes API Server or otherwise).",
    ),
    (
        "k8s.Affinity",
        "Affinity is a group of affinity scheduling rules.",
    ),
    (
        "k8s.NodeAffinity",
        "Node affinity is a group of node affinity scheduling rules.",
    ),
    (
        "k8s.NodeSelector",
        "A node selector represents the union of the results of one or more label queries over a set of nodes; that is, it represents the OR of the selectors represented by the node selector terms.",
    ),
    (
        "k8s.NodeSelectorTerm",
        "A null or empty node selector term matches no objects. The requirements of them are ANDed. The TopologySelectorTerm type implements a subset of the NodeSelectorTerm.",
    ),
    (
        "k8s.NodeSelectorRequirement",
        "A node selector requirement is a selector that contains values, a key, and an operator that relates the key and values.",
    ),
    (
        "k8s.PreferredSchedulingTerm",
        "An empty preferred scheduling term matches all objects with implicit weight 0 (i.e. it's a no-op). A null preferred scheduling term matches no objects (i.e. is also a no-op).",
    ),
    (
        "k8s.PodAffinity",
        "Pod affinity is a group of inter pod affinity scheduling rules.",
    ),
    (
        "k8s.PodAntiAffinity",
        "Pod anti affinity is a group of inter pod anti affinity scheduling rules.",
    ),
    (
        "k8s.PodAffinityTerm",
        "Defines a set of pods (namely those matching the labelSelector relative to the given namespace(s)) that this pod should be co-located (affinity) or not co-located (anti-affinity) with, where co-located is defined as running on a node whose value of the label with key <topologyKey> matches that of any node on which a pod of the set of pods is running",
    ),
    (
        "k8s.WeightedPodAffinityTerm",
        "The weights of all of the matched WeightedPodAffinityTerm fields are added per-node to find the most preferred node(s)",
    ),
    (
        "k8s.Toleration",
        "The pod this Toleration is attached to tolerates any taint that matches the triple <key,value,effect> using the matching operator <operator>.",
    ),
    (
        "k8s.TopologySpreadConstraint",
        "TopologySpreadConstraint specifies how to spread matching pods among the given topology.",
    ),
    (
        "k8s.HostAlias",
        "HostAlias holds the mapping between IP and hostnames that will be injected as an entry in the pod's hosts file.",
    ),
    (
        "k8s.PodDnsConfig",
        "PodDNSConfig defines the DNS parameters of a pod in addition to those generated from DNSPolicy.",
    ),
    (
        "k8s.PodDnsConfigOption",
        "PodDNSConfigOption defines DNS resolver options of a pod.",
    ),
    (
        "k8s.PodReadinessGate",
        "PodReadinessGate contains the reference to a pod condition",
    ),
    (
        "k8s.PodStatus",
        "PodStatus represents information about the status of a pod. Status may trail the actual state of a system, especially if the node that hosts the pod cannot contact the control plane.",
    ),
    (
        "k8s.PodCondition",
        "PodCondition contains details for the current condition of this pod.",
    ),
    (
        "k8s.HostIp",
        "HostIP represents a single IP address allocated to the host.",
    ),
    (
        "k8s.PodIp",
        "PodIP represents a single IP address allocated to the pod.",
    ),
    (
        "k8s.ContainerStatus",
        "ContainerStatus contains details for the current status of this container.",
    ),
    (
        "k8s.ContainerState",
        "ContainerState holds a possible state of container. Only one of its members may be specified. If none of them is specified, the default one is ContainerStateWaiting.",
    ),
    (
        "k8s.ContainerStateWaiting",
        "ContainerStateWaiting is a waiting state of a container.",
    ),
    (
        "k8s.ContainerStateRunning",
        "ContainerStateRunning is a running state of a container.",
    ),
    (
        "k8s.ContainerStateTerminated",
        "ContainerStateTerminated is a terminated state of a container.",
    ),
    (
        "k8s.PodTemplateSpec",
        "PodTemplateSpec describes the data a pod should have when created from a template",
    ),
    (
        "k8s.Service",
        "Service is a named abstraction of software service (for example, mysql) consisting of local port (for example 3306) that the proxy listens on, and the selector that determines which pods will answer requests sent through the proxy.",
    ),
    (
        "k8s.ServiceSpec",
        "ServiceSpec describes the attributes that a user creates on a service.",
    ),
    (
        "k8s.ServicePort",
        "ServicePort contains information on service's port.",
    ),
    (
        "k8s.SessionAffinityConfig",
        "SessionAffinityConfig represents the configurations of session affinity.",
    ),
    (
        "k8s.ClientIpConfig",
        "ClientIPConfig represents the configurations of Client IP based session affinity.",
    ),
    (
        "k8s.ServiceStatus",
        "ServiceStatus represents the current status of a service.",
    ),
    (
        "k8s.LoadBalancerStatus",
        "LoadBalancerStatus represents the status of a load-balancer.",
    ),
    (
        "k8s.LoadBalancerIngress",
        "LoadBalancerIngress represents the status of a load-balancer ingress point: traffic intended for the service should be sent to an ingress point.",
    ),
    (
        "k8s.PortStatus",
        "PortStatus represents the error condition of a service port",
    ),
    (
        "k8s.Endpoints",
        "Endpoints is a collection of endpoints that implement the actual service. Example:\n\n\t Name: \"mysvc\",\n\t Subsets: [\n\t   {\n\t     Addresses: [{\"ip\": \"10.10.1.1\"}, {\"ip\": \"10.10.2.2\"}],\n\t     Ports: [{\"name\": \"a\", \"port\": 8675}, {\"name\": \"b\", \"port\": 309}]\n\t   },\n\t   {\n\t     Addresses: [{\"ip\": \"10.10.3.3\"}],\n\t     Ports: [{\"name\": \"a\", \"port\": 93}, {\"name\": \"b\", \"port\": 76}]\n\t   },\n\t]\n\nEndpoints is a legacy API and does not contain information about all Service features. Use discoveryv1.EndpointSlice for complete information about Service endpoints.\n\nDeprecated: This API is deprecated in v1.33+. Use discoveryv1.EndpointSlice.",
    ),
    (
        "k8s.EndpointSubset",
        "EndpointSubset is a group of addresses with a common set of ports. The expanded set of endpoints is the Cartesian product of Addresses x Ports. For example, given:\n\n\t{\n\t  Addresses: [{\"ip\": \"10.10.1.1\"}, {\"ip\": \"10.10.2.2\"}],\n\t  Ports:     [{\"name\": \"a\", \"port\": 8675}, {\"name\": \"b\", \"port\": 309}]\n\t}\n\nThe resulting set of endpoints can be viewed as:\n\n\ta: [ 10.10.1.1:8675, 10.10.2.2:8675 ],\n\tb: [ 10.10.1.1:309, 10.10.2.2:309 ]\n\nDeprecated: This API is deprecated in v1.33+.",
    ),
    (
        "k8s.EndpointAddress",
        "EndpointAddress is a tuple that describes single IP address. Deprecated: This API is deprecated in v1.33+.",
    ),
    (
        "k8s.EndpointPort",
        "EndpointPort is a tuple that describes a single port. Deprecated: This API is deprecated in v1.33+.",
    ),
    (
        "k8s.ConfigMap",
        "ConfigMap holds configuration data for pods to consume.",
    ),
    (
        "k8s.Secret",
        "Secret holds secret data of a certain type. The total bytes of the values in the Data field must be less than MaxSecretSize bytes.",
    ),
    (
        "k8s.ServiceAccount",
        "ServiceAccount binds together: * a name, understood by users, and perhaps by peripheral systems, for an identity * a principal that can be authenticated and authorized * a set of secrets",
    ),
    (
        "k8s.Event",
        "Event is a report of an event somewhere in the cluster.  Events have a limited retention time and triggers and messages may evolve with time.  Event consumers should not rely on the timing of an event with a given Reason reflecting a consistent underlying trigger, or the continued existence of events with that Reason.  Events should be treated as informative, best-effort, supplemental data.",
    ),
    (
        "k8s.EventSource",
        "EventSource contains information for an event.",
    ),
    (
        "k8s.EventSeries",
        "EventSeries contain information on series of events, i.e. thing that was/is happening continuously for some time.",
    ),
    (
        "k8s.ResourceQuota",
        "ResourceQuota sets aggregate quota restrictions enforced per namespace",
    ),
    (
        "k8s.ResourceQuotaSpec",
        "ResourceQuotaSpec defines the desired hard limits to enforce for Quota.",
    ),
    (
        "k8s.ScopeSelector",
        "A scope selector represents the AND of the selectors represented by the scoped-resource selector requirements.",
    ),
    (
        "k8s.ScopedResourceSelectorRequirement",
        "A scoped-resource selector requirement is a selector that contains values, a scope name, and an operator that relates the scope name and values.",
    ),
    (
        "k8s.ResourceQuotaStatus",
        "ResourceQuotaStatus defines the enforced hard limits and observed use.",
    ),
    (
        "k8s.LimitRange",
        "LimitRange sets resource usage limits for each kind of resource in a Namespace.",
    ),
    (
        "k8s.LimitRangeSpec",
        "LimitRangeSpec defines a min/max usage limit for resources that match on kind.",
    ),
    (
        "k8s.LimitRangeItem",
        "LimitRangeItem defines a min/max usage limit for any resource that matches on kind.",
    ),
    (
        "k8s.PersistentVolume",
        "PersistentVolume (PV) is a storage resource provisioned by an administrator. It is analogous to a node. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes",
    ),
    (
        "k8s.PersistentVolumeSpec",
        "PersistentVolumeSpec is the specification of a persistent volume.",
    ),
    (
        "k8s.LocalVolumeSource",
        "Local represents directly-attached storage with node affinity",
    ),
    (
        "k8s.VolumeNodeAffinity",
        "VolumeNodeAffinity defines constraints that limit what nodes this volume can be accessed from.",
    ),
    (
        "k8s.PersistentVolumeStatus",
        "PersistentVolumeStatus is the current status of a persistent volume.",
    ),
    (
        "k8s.PersistentVolumeClaim",
        "PersistentVolumeClaim is a user's request for and claim to a persistent volume",
    ),
    (
        "k8s.PersistentVolumeClaimSpec",
        "PersistentVolumeClaimSpec describes the common attributes of storage devices and allows a Source for provider-specific attributes",
    ),
    (
        "k8s.VolumeResourceRequirements",
        "VolumeResourceRequirements describes the storage resource requirements for a volume.",
    ),
    (
        "k8s.TypedLocalObjectReference",
        "TypedLocalObjectReference contains enough information to let you locate the typed referenced object inside the same namespace.",
    ),
    (
        "k8s.PersistentVolumeClaimStatus",
        "PersistentVolumeClaimStatus is the current status of a persistent volume claim.",
    ),
    (
        "k8s.PersistentVolumeClaimCondition",
        "PersistentVolumeClaimCondition contains details about state of pvc",
    ),
    (
        "k8s.ReplicaSet",
        "ReplicaSet ensures that a specified number of pod replicas are running at any given time.",
    ),
    (
        "k8s.ReplicaSetSpec",
        "ReplicaSetSpec is the specification of a ReplicaSet.",
    ),
    (
        "k8s.ReplicaSetStatus",
        "ReplicaSetStatus represents the current status of a ReplicaSet.",
    ),
    (
        "k8s.ReplicaSetCondition",
        "ReplicaSetCondition describes the state of a replica set at a certain point.",
    ),
    (
        "k8s.Deployment",
        "Deployment enables declarative updates for Pods and ReplicaSets.",
    ),
    (
        "k8s.DeploymentSpec",
        "DeploymentSpec is the specification of the desired behavior of the Deployment.",
    ),
    (
        "k8s.DeploymentStrategy",
        "DeploymentStrategy describes how to replace existing pods with new ones.",
    ),
    (
        "k8s.RollingUpdateDeployment",
        "Spec to control the desired behavior of rolling update.",
    ),
    (
        "k8s.DeploymentStatus",
        "DeploymentStatus is the most recently observed status of the Deployment.",
    ),
    (
        "k8s.DeploymentCondition",
        "DeploymentCondition describes the state of a deployment at a certain point.",
    ),
    (
        "k8s.DaemonSet",
        "DaemonSet represents the configuration of a daemon set.",
    ),
    (
        "k8s.DaemonSetSpec",
        "DaemonSetSpec is the specification of a daemon set.",
    ),
    (
        "k8s.DaemonSetUpdateStrategy",
        "DaemonSetUpdateStrategy is a struct used to control the update strategy for a DaemonSet.",
    ),
    (
        "k8s.RollingUpdateDaemonSet",
        "Spec to control the desired behavior of daemon set rolling update.",
    ),
    (
        "k8s.DaemonSetStatus",
        "DaemonSetStatus represents the current status of a daemon set.",
    ),
    (
        "k8s.DaemonSetCondition",
        "DaemonSetCondition describes the state of a DaemonSet at a certain point.",
    ),
    (
        "k8s.StatefulSet",
        "StatefulSet represents a set of pods with consistent identities. Identities are defined as:\n  - Network: A single stable DNS and hostname.\n  - Storage: As many VolumeClaims as requested.\n\nThe StatefulSet guarantees that a given network identity will always map to the same storage identity.",
    ),
    (
        "k8s.ControllerRevision",
        "ControllerRevision implements an immutable snapshot of state data. Clients are responsible for serializing and deserializing the objects that contain their internal state. Once a ControllerRevision has been successfully created, it can not be updated. The API Server will fail validation of all requests that attempt to mutate the Data field. ControllerRevisions may, however, be deleted. Note that, due to its use by both the DaemonSet and StatefulSet controllers for update and rollback, this object is beta. However, it may be subject to name and representation changes in future releases, and clients should not depend on its stability. It is primarily for internal use by controllers.",
    ),
    (
        "k8s.RawExtension",
        "RawExtension is used to hold extensions in external versions.",
    ),
    (
        "k8s.PodDisruptionBudget",
        "PodDisruptionBudget is an object to define the max disruption that can be caused to a collection of pods",
    ),
    (
        "k8s.PodDisruptionBudgetSpec",
        "PodDisruptionBudgetSpec is a description of a PodDisruptionBudget.",
    ),
    (
        "k8s.PodDisruptionBudgetStatus",
        "PodDisruptionBudgetStatus represents information about the status of a PodDisruptionBudget. Status may trail the actual state of a system.",
    ),
    (
        "k8s.Eviction",
        "Eviction evicts a pod from its node subject to certain policies and safety constraints. This is a subresource of Pod.  A request to cause such an eviction is created by POSTing to .../pods/<pod name>/evictions.",
    ),
    (
        "k8s.DeleteOptions",
        "DeleteOptions may be provided when deleting an API object.",
    ),
    (
        "k8s.Preconditions",
        "Preconditions must be fulfilled before an operation (update, delete, etc.) is carried out.",
    ),
    (
        "k8s.StorageClass",
        "StorageClass describes the parameters for a class of storage for which PersistentVolumes can be dynamically provisioned.\n\nStorageClasses are non-namespaced; the name of the storage class according to etcd is in ObjectMeta.Name.",
    ),
    (
        "k8s.TopologySelectorTerm",
        "A topology selector term represents the result of label queries. A null or empty topology selector term matches no objects. The requirements of them are ANDed. It provides a subset of functionality as NodeSelectorTerm. This is an alpha feature and may change in the future.",
    ),
    (
        "k8s.TopologySelectorLabelRequirement",
        "A topology selector requirement is a selector that matches given label. This is an alpha feature and may change in the future.",
    ),
    (
        "k8s.StatefulSetSpec",
        "A StatefulSetSpec is the specification of a StatefulSet.",
    ),
    (
        "k8s.StatefulSetUpdateStrategy",
        "StatefulSetUpdateStrategy indicates the strategy that the StatefulSet controller will use to perform updates. It includes any additional parameters necessary to perform the update for the indicated strategy.",
    ),
    (
        "k8s.RollingUpdateStatefulSetStrategy",
        "RollingUpdateStatefulSetStrategy is used to communicate parameter for RollingUpdateStatefulSetStrategyType.",
    ),
    (
        "k8s.StatefulSetPersistentVolumeClaimRetentionPolicy",
        "StatefulSetPersistentVolumeClaimRetentionPolicy describes the policy used for PVCs created from the StatefulSet VolumeClaimTemplates.",
    ),
    (
        "k8s.StatefulSetOrdinals",
        "StatefulSetOrdinals describes the policy used for replica ordinal assignment in this StatefulSet.",
    ),
    (
        "k8s.StatefulSetStatus",
        "StatefulSetStatus represents the current state of a StatefulSet.",
    ),
    (
        "k8s.StatefulSetCondition",
        "StatefulSetCondition describes the state of a statefulset at a certain point.",
    ),
    (
        "k8s.Job",
        "Job represents the configuration of a single job.",
    ),
    (
        "k8s.JobSpec",
        "JobSpec describes how the job execution will look like.",
    ),
    (
        "k8s.JobStatus",
        "JobStatus represents the current state of a Job.",
    ),
    (
        "k8s.JobCondition",
        "JobCondition describes current state of a job.",
    ),
    (
        "k8s.UncountedTerminatedPods",
        "UncountedTerminatedPods holds UIDs of Pods that have terminated but haven't been accounted in Job status counters.",
    ),
    (
        "k8s.CronJob",
        "CronJob represents the configuration of a single cron job.",
    ),
    (
        "k8s.CronJobSpec",
        "CronJobSpec describes how the job execution will look like and when it will actually run.",
    ),
    (
        "k8s.JobTemplateSpec",
        "JobTemplateSpec describes the data a Job should have when created from a template",
    ),
    (
        "k8s.CronJobStatus",
        "CronJobStatus represents the current state of a cron job.",
    ),
    (
        "k8s.HorizontalPodAutoscaler",
        "HorizontalPodAutoscaler is the configuration for a horizontal pod autoscaler, which automatically manages the replica count of any resource implementing the scale subresource based on the metrics specified.",
    ),
    (
        "k8s.HorizontalPodAutoscalerSpec",
        "HorizontalPodAutoscalerSpec describes the desired functionality of the HorizontalPodAutoscaler.",
    ),
    (
        "k8s.CrossVersionObjectReference",
        "CrossVersionObjectReference contains enough information to let you identify the referred resource.",
    ),
    (
        "k8s.MetricSpec",
        "MetricSpec specifies how to scale based on a single metric (only `type` and one other matching field should be set at once).",
    ),
    (
        "k8s.MetricTarget",
        "MetricTarget defines the target value, average value, or average utilization of a specific metric",
    ),
    (
        "k8s.MetricIdentifier",
        "MetricIdentifier defines the name and optionally selector for a metric",
    ),
    (
        "k8s.ResourceMetricSource",
        "ResourceMetricSource indicates how to scale on a resource metric known to Kubernetes, as specified in requests and limits, describing each pod in the current scale target (e.g. CPU or memory).  The values will be averaged together before being compared to the target.  Such metrics are built in to Kubernetes, and have special scaling options on top of those available to normal per-pod metrics using the \"pods\" source.  Only one \"target\" type should be set.",
    ),
    (
        "k8s.ContainerResourceMetricSource",
        "ContainerResourceMetricSource indicates how to scale on a resource metric known to Kubernetes, as specified in requests and limits, describing each pod in the current scale target (e.g. CPU or memory).  The values will be averaged together before being compared to the target.  Such metrics are built in to Kubernetes, and have special scaling options on top of those available to normal per-pod metrics using the \"pods\" source.  Only one \"target\" type should be set.",
    ),
    (
        "k8s.PodsMetricSource",
        "PodsMetricSource indicates how to scale on a metric describing each pod in the current scale target (for example, transactions-processed-per-second). The values will be averaged together before being compared to the target value.",
    ),
    (
        "k8s.ObjectMetricSource",
        "ObjectMetricSource indicates how to scale on a metric describing a kubernetes object (for example, hits-per-second on an Ingress object).",
    ),
    (
        "k8s.ExternalMetricSource",
        "ExternalMetricSource indicates how to scale on a metric not associated with any Kubernetes object (for example length of queue in cloud messaging service, or QPS from loadbalancer running outside of cluster).",
    ),
    (
        "k8s.HorizontalPodAutoscalerBehavior",
        "HorizontalPodAutoscalerBehavior configures the scaling behavior of the target in both Up and Down directions (scaleUp and scaleDown fields respectively).",
    ),
    (
        "k8s.HpaScalingRules",
        "HPAScalingRules configures the scaling behavior for one direction via scaling Policy Rules and a configurable metric tolerance.\n\nScaling Policy Rules are applied after calculating DesiredReplicas from metrics for the HPA. They can limit the scaling velocity by specifying scaling policies. They can prevent flapping by specifying the stabilization window, so that the number of replicas is not set instantly, instead, the safest value from the stabilization window is chosen.\n\nThe tolerance is applied to the metric values and prevents scaling too eagerly for small metric variations. (Note that setting a tolerance requires enabling the alpha HPAConfigurableTolerance feature gate.)",
    ),
    (
        "k8s.HpaScalingPolicy",
        "HPAScalingPolicy is a single policy which must hold true for a specified past interval.",
    ),
    (
        "k8s.HorizontalPodAutoscalerStatus",
        "HorizontalPodAutoscalerStatus describes the current status of a horizontal pod autoscaler.",
    ),
    (
        "k8s.MetricStatus",
        "MetricStatus describes the last-read state of a single metric.",
    ),
    (
        "k8s.MetricValueStatus",
        "MetricValueStatus holds the current value for a metric",
    ),
    (
        "k8s.ResourceMetricStatus",
        "ResourceMetricStatus indicates the current value of a resource metric known to Kubernetes, as specified in requests and limits, describing each pod in the current scale target (e.g. CPU or memory).  Such metrics are built in to Kubernetes, and have special scaling options on top of those available to normal per-pod metrics using the \"pods\" source.",
    ),
    (
        "k8s.ContainerResourceMetricStatus",
        "ContainerResourceMetricStatus indicates the current value of a resource metric known to Kubernetes, as specified in requests and limits, describing a single container in each pod in the current scale target (e.g. CPU or memory).  Such metrics are built in to Kubernetes, and have special scaling options on top of those available to normal per-pod metrics using the \"pods\" source.",
    ),
    (
        "k8s.PodsMetricStatus",
        "PodsMetricStatus indicates the current value of a metric describing each pod in the current scale target (for example, transactions-processed-per-second).",
    ),
    (
        "k8s.ObjectMetricStatus",
        "ObjectMetricStatus indicates the current value of a metric describing a kubernetes object (for example, hits-per-second on an Ingress object).",
    ),
    (
        "k8s.ExternalMetricStatus",
        "ExternalMetricStatus indicates the current value of a global metric not associated with any Kubernetes object.",
    ),
    (
        "k8s.HorizontalPodAutoscalerCondition",
        "HorizontalPodAutoscalerCondition describes the state of a HorizontalPodAutoscaler at a certain point.",
    ),
    (
        "k8s.Ingress",
        "Ingress is a collection of rules that allow inbound connections to reach the endpoints defined by a backend. An Ingress can be configured to give services externally-reachable urls, load balance traffic, terminate SSL, offer name based virtual hosting etc.",
    ),
    (
        "k8s.IngressSpec",
        "IngressSpec describes the Ingress the user wishes to exist.",
    ),
    (
        "k8s.IngressBackend",
        "IngressBackend describes all endpoints for a given service and port.",
    ),
    (
        "k8s.IngressServiceBackend",
        "IngressServiceBackend references a Kubernetes Service as a Backend.",
    ),
    (
        "k8s.ServiceBackendPort",
        "ServiceBackendPort is the service port being referenced.",
    ),
    (
        "k8s.IngressTls",
        "IngressTLS describes the transport layer security associated with an ingress.",
    ),
    (
        "k8s.IngressRule",
        "IngressRule represents the rules mapping the paths under a specified host to the related backend services. Incoming requests are first evaluated for a host match, then routed to the backend associated with the matching IngressRuleValue.",
    ),
    (
        "k8s.HttpIngressRuleValue",
        "HTTPIngressRuleValue is a list of http selectors pointing to backends. In the example: http://<host>/<path>?<searchpart> -> backend where where parts of the url correspond to RFC 3986, this resource will be used to match against everything after the last '/' and before the first '?' or '#'.",
    ),
    (
        "k8s.HttpIngressPath",
        "HTTPIngressPath associates a path with a backend. Incoming urls matching the path are forwarded to the backend.",
    ),
    (
        "k8s.IngressStatus",
        "IngressStatus describe the current state of the Ingress.",
    ),
    (
        "k8s.IngressLoadBalancerStatus",
        "IngressLoadBalancerStatus represents the status of a load-balancer.",
    ),
    (
        "k8s.IngressLoadBalancerIngress",
        "IngressLoadBalancerIngress represents the status of a load-balancer ingress point.",
    ),
    (
        "k8s.IngressPortStatus",
        "IngressPortStatus represents the error condition of a service port",
    ),
    ("k8s.Lease", "Lease defines a lease concept."),
    ("k8s.LeaseSpec", "LeaseSpec is a specification of a Lease."),
    (
        "k8s.PolicyRule",
        "PolicyRule holds information that describes a policy rule, but does not contain information about who the rule applies to or which namespace the rule applies to.",
    ),
    (
        "k8s.Role",
        "Role is a namespaced, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding.",
    ),
    (
        "k8s.AggregationRule",
        "AggregationRule describes how to locate ClusterRoles to aggregate into the ClusterRole",
    ),
    (
        "k8s.ClusterRole",
        "ClusterRole is a cluster level, logical grouping of PolicyRules that can be referenced as a unit by a RoleBinding or ClusterRoleBinding.",
    ),
    (
        "k8s.Subject",
        "Subject contains a reference to the object or user identities a role binding applies to.  This can either hold a direct API object reference, or a value for non-objects such as user and group names.",
    ),
    (
        "k8s.RoleRef",
        "RoleRef contains information that points to the role being used",
    ),
    (
        "k8s.RoleBinding",
        "RoleBinding references a role, but does not contain it.  It can reference a Role in the same namespace or a ClusterRole in the global namespace. It adds who information via Subjects and namespace information by which namespace it exists in.  RoleBindings in a given namespace only have effect in that namespace.",
    ),
    (
        "k8s.ClusterRoleBinding",
        "ClusterRoleBinding references a ClusterRole, but not contain it.  It can reference a ClusterRole in the global namespace, and adds who information via Subject.",
    ),
    (
        "k8s.CertificateSigningRequest",
        "CertificateSigningRequest objects provide a mechanism to obtain x509 certificates by submitting a certificate signing request, and having it asynchronously approved and issued.\n\nKubelets use this API to obtain:\n 1. client certificates to authenticate to kube-apiserver (with the \"kubernetes.io/kube-apiserver-client-kubelet\" signerName).\n 2. serving certificates for TLS endpoints kube-apiserver can connect to securely (with the \"kubernetes.io/kubelet-serving\" signerName).\n\nThis API can be used to request client certificates to authenticate to kube-apiserver (with the \"kubernetes.io/kube-apiserver-client\" signerName), or to obtain certificates from custom non-Kubernetes signers.",
    ),
    (
        "k8s.CertificateSigningRequestSpec",
        "CertificateSigningRequestSpec contains the certificate request.",
    ),
    (
        "k8s.CertificateSigningRequestStatus",
        "CertificateSigningRequestStatus contains conditions used to indicate approved/denied/failed status of the request, and the issued certificate.",
    ),
    (
        "k8s.CertificateSigningRequestCondition",
        "CertificateSigningRequestCondition describes a condition of a CertificateSigningRequest object",
    ),
    (
        "k8s.UserInfo",
        "UserInfo holds the information about the user needed to implement the user.Info interface.",
    ),
    (
        "k8s.TokenRequest",
        "TokenRequest requests a token for a given service account.",
    ),
    (
        "k8s.TokenRequestSpec",
        "TokenRequestSpec contains client provided parameters of a token request.",
    ),
    (
        "k8s.BoundObjectReference",
        "BoundObjectReference is a reference to an object that a token is bound to.",
    ),
    (
        "k8s.TokenRequestStatus",
        "TokenRequestStatus is the result of a token request.",
    ),
    (
        "k8s.TokenReview",
        "TokenReview attempts to authenticate a token to a known user. Note: TokenReview requests may be cached by the webhook token authenticator plugin in the kube-apiserver.",
    ),
    (
        "k8s.TokenReviewSpec",
        "TokenReviewSpec is a description of the token authentication request.",
    ),
    (
        "k8s.TokenReviewStatus",
        "TokenReviewStatus is the result of the token authentication request.",
    ),
    (
        "k8s.SelfSubjectReview",
        "SelfSubjectReview contains the user information that the kube-apiserver has about the user making this request. When using impersonation, users will receive the user info of the user being impersonated.  If impersonation or request header authentication is used, any extra keys will have their case ignored and returned as lowercase.",
    ),
    (
        "k8s.SelfSubjectReviewStatus",
        "SelfSubjectReviewStatus is filled by the kube-apiserver and sent back to a user.",
    ),
    (
        "k8s.ResourceAttributes",
        "ResourceAttributes includes the authorization attributes available for resource requests to the Authorizer interface",
    ),
    (
        "k8s.NonResourceAttributes",
        "NonResourceAttributes includes the authorization attributes available for non-resource requests to the Authorizer interface",
    ),
    (
        "k8s.SubjectAccessReviewSpec",
        "SubjectAccessReviewSpec is a description of the access request.  Exactly one of ResourceAuthorizationAttributes and NonResourceAuthorizationAttributes must be set",
    ),
    ("k8s.SubjectAccessReviewStatus", "SubjectAccessReviewStatus"),
    (
        "k8s.SubjectAccessReview",
        "SubjectAccessReview checks whether or not a user or group can perform an action.",
    ),
    (
        "k8s.SelfSubjectAccessReviewSpec",
        "SelfSubjectAccessReviewSpec is a description of the access request.  Exactly one of ResourceAuthorizationAttributes and NonResourceAuthorizationAttributes must be set",
    ),
    (
        "k8s.SelfSubjectAccessReview",
        "SelfSubjectAccessReview checks whether or the current user can perform an action.  Not filling in a spec.namespace means \"in all namespaces\".  Self is a special case, because users should always be able to check whether they can perform an action",
    ),
];

pub(super) static FIELDS: &[(&str, &str, &str)] = &[
    (
        "k8s.ObjectMeta",
        "annotations",
        "Annotations is an unstructured key value map stored with a resource that may be set by external tools to store and retrieve arbitrary metadata. They are not queryable and should be preserved when modifying objects. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/annotations",
    ),
    (
        "k8s.ObjectMeta",
        "deletionGracePeriodSeconds",
        "Number of seconds allowed for this object to gracefully terminate before it will be removed from the system. Only set when deletionTimestamp is also set. May only be shortened. Read-only.",
    ),
    (
        "k8s.ObjectMeta",
        "finalizers",
        "Must be empty before the object is deleted from the registry. Each entry is an identifier for the responsible component that will remove the entry from the list. If the deletionTimestamp of the object is non-nil, entries in this list can only be removed. Finalizers may be processed and removed in any order.  Order is NOT enforced because it introduces significant risk of stuck finalizers. finalizers is a shared field, any actor with permission can reorder it. If the finalizer list is processed in order, then this can lead to a situation in which the component responsible for the first finalizer in the list is waiting for a signal (field value, external system, or other) produced by a component responsible for a finalizer later in the list, resulting in a deadlock. Without enforced ordering finalizers are free to order amongst themselves and are not vulnerable to ordering changes in the list.",
    ),
    (
        "k8s.ObjectMeta",
        "generateName",
        "GenerateName is an optional prefix, used by the server, to generate a unique name ONLY IF the Name field has not been provided. If this field is used, the name returned to the client will be different than the name passed. This value will also be combined with a unique suffix. The provided value has the same validation rules as the Name field, and may be truncated by the length of the suffix required to make the value unique on the server.\n\nIf this field is specified and the generated name exists, the server will return a 409.\n\nApplied only if Name is not specified. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#idempotency",
    ),
    (
        "k8s.ObjectMeta",
        "generation",
        "A sequence number representing a specific generation of the desired state. Populated by the system. Read-only.",
    ),
    (
        "k8s.ObjectMeta",
        "labels",
        "Map of string keys and values that can be used to organize and categorize (scope and select) objects. May match selectors of replication controllers and services. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/labels",
    ),
    (
        "k8s.ObjectMeta",
        "managedFields",
        "ManagedFields maps workflow-id and version to the set of fields that are managed by that workflow. This is mostly for internal housekeeping, and users typically shouldn't need to set or understand this field. A workflow can be the user's name, a controller's name, or the name of a specific apply path like \"ci-cd\". The set of fields is always in the version that the workflow used when modifying the object.",
    ),
    (
        "k8s.ObjectMeta",
        "name",
        "Name must be unique within a namespace. Is required when creating resources, although some resources may allow a client to request the generation of an appropriate name automatically. Name is primarily intended for creation idempotence and configuration definition. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    ),
    (
        "k8s.ObjectMeta",
        "namespace",
        "Namespace defines the space within which each name must be unique. An empty namespace is equivalent to the \"default\" namespace, but \"default\" is the canonical representation. Not all objects are required to be scoped to a namespace - the value of this field for those objects will be empty.\n\nMust be a DNS_LABEL. Cannot be updated. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces",
    ),
    (
        "k8s.ObjectMeta",
        "ownerReferences",
        "List of objects depended by this object. If ALL objects in the list have been deleted, this object will be garbage collected. If this object is managed by a controller, then an entry in this list will point to this controller, with the controller field set to true. There cannot be more than one managing controller.",
    ),
    (
        "k8s.ObjectMeta",
        "resourceVersion",
        "An opaque value that represents the internal version of this object that can be used by clients to determine when objects have changed. May be used for optimistic concurrency, change detection, and the watch operation on a resource or set of resources. Clients must treat these values as opaque and passed unmodified back to the server. They may only be valid for a particular resource or set of resources.\n\nPopulated by the system. Read-only. Value must be treated as opaque by clients and . More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#concurrency-control-and-consistency",
    ),
    (
        "k8s.ObjectMeta",
        "selfLink",
        "Deprecated: selfLink is a legacy read-only field that is no longer populated by the system.",
    ),
    (
        "k8s.ObjectMeta",
        "uid",
        "UID is the unique in time and space value for this object. It is typically generated by the server on successful creation of a resource and is not allowed to change on PUT operations.\n\nPopulated by the system. Read-only. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#uids",
    ),
    (
        "k8s.ManagedFieldsEntry",
        "apiVersion",
        "APIVersion defines the version of this resource that this field set applies to. The format is \"group/version\" just like the top-level APIVersion field. It is necessary to track the version of a field set because it cannot be automatically converted.",
    ),
    (
        "k8s.ManagedFieldsEntry",
        "fieldsType",
        "FieldsType is the discriminator for the different fields format and version. There is currently only one possible value: \"FieldsV1\"",
    ),
    (
        "k8s.ManagedFieldsEntry",
        "manager",
        "Manager is an identifier of the workflow managing these fields.",
    ),
    (
        "k8s.ManagedFieldsEntry",
        "operation",
        "Operation is the type of operation which lead to this ManagedFieldsEntry being created. The only valid values for this field are 'Apply' and 'Update'.",
    ),
    (
        "k8s.ManagedFieldsEntry",
        "subresource",
        "Subresource is the name of the subresource used to update that object, or empty string if the object was updated through the main resource. The value of this field is used to distinguish between managers, even if they share the same name. For example, a status update will be distinct from a regular update using the same manager name. Note that the APIVersion field is not related to the Subresource field and it always corresponds to the version of the main resource.",
    ),
    (
        "k8s.OwnerReference",
        "apiVersion",
        "API version of the referent.",
    ),
    (
        "k8s.OwnerReference",
        "blockOwnerDeletion",
        "If true, AND if the owner has the \"foregroundDeletion\" finalizer, then the owner cannot be deleted from the key-value store until this reference is removed. See https://kubernetes.io/docs/concepts/architecture/garbage-collection/#foreground-deletion for how the garbage collector interacts with this field and enforces the foreground deletion. Defaults to false. To set this field, a user needs \"delete\" permission of the owner, otherwise 422 (Unprocessable Entity) will be returned.",
    ),
    (
        "k8s.OwnerReference",
        "controller",
        "If true, this reference points to the managing controller.",
    ),
    (
        "k8s.OwnerReference",
        "kind",
        "Kind of the referent. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.OwnerReference",
        "name",
        "Name of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#names",
    ),
    (
        "k8s.OwnerReference",
        "uid",
        "UID of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names#uids",
    ),
    (
        "k8s.LabelSelector",
        "matchExpressions",
        "matchExpressions is a list of label selector requirements. The requirements are ANDed.",
    ),
    (
        "k8s.LabelSelector",
        "matchLabels",
        "matchLabels is a map of {key,value} pairs. A single {key,value} in the matchLabels map is equivalent to an element of matchExpressions, whose key field is \"key\", the operator is \"In\", and the values array contains only \"value\". The requirements are ANDed.",
    ),
    (
        "k8s.LabelSelectorRequirement",
        "key",
        "key is the label key that the selector applies to.",
    ),
    (
        "k8s.LabelSelectorRequirement",
        "operator",
        "operator represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists and DoesNotExist.",
    ),
    (
        "k8s.LabelSelectorRequirement",
        "values",
        "values is an array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or DoesNotExist, the values array must be empty. This array is replaced during a strategic merge patch.",
    ),
    (
        "k8s.ObjectReference",
        "apiVersion",
        "API version of the referent.",
    ),
    (
        "k8s.ObjectReference",
        "fieldPath",
        "If referring to a piece of an object instead of an entire object, this string should contain a valid JSON/Go field access statement, such as desiredState.manifest.containers[2]. For example, if the object reference is to a container within a pod, this would take on a value like: \"spec.containers{name}\" (where \"name\" refers to the name of the container that triggered the event) or if no container name is specified \"spec.containers[2]\" (container with index 2 in this pod). This syntax is chosen only to have some well-defined way of referencing a part of an object.",
    ),
    (
        "k8s.ObjectReference",
        "kind",
        "Kind of the referent. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.ObjectReference",
        "name",
        "Name of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names",
    ),
    (
        "k8s.ObjectReference",
        "namespace",
        "Namespace of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/namespaces/",
    ),
    (
        "k8s.ObjectReference",
        "resourceVersion",
        "Specific resourceVersion to which this reference is made, if any. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#concurrency-control-and-consistency",
    ),
    (
        "k8s.ObjectReference",
        "uid",
        "UID of the referent. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#uids",
    ),
    (
        "k8s.LocalObjectReference",
        "name",
        "Name of the referent. This field is effectively required, but due to backwards compatibility is allowed to be empty. Instances of this type with an empty value here are almost certainly wrong. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names",
    ),
    (
        "k8s.Condition",
        "message",
        "message is a human readable message indicating details about the transition. This may be an empty string.",
    ),
    (
        "k8s.Condition",
        "observedGeneration",
        "observedGeneration represents the .metadata.generation that the condition was set based upon. For instance, if .metadata.generation is currently 12, but the .status.conditions[x].observedGeneration is 9, the condition is out of date with respect to the current state of the instance.",
    ),
    (
        "k8s.Condition",
        "reason",
        "reason contains a programmatic identifier indicating the reason for the condition's last transition. Producers of specific condition types may define expected values and meanings for this field, and whether the values are considered a guaranteed API. The value should be a CamelCase string. This field may not be empty.",
    ),
    (
        "k8s.Condition",
        "status",
        "status of the condition, one of True, False, Unknown.",
    ),
    (
        "k8s.Condition",
        "type",
        "type of condition in CamelCase or in foo.example.com/CamelCase.",
    ),
    (
        "k8s.Namespace",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.Namespace",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.NamespaceSpec",
        "finalizers",
        "Finalizers is an opaque list of values that must be empty to permanently remove object from storage. More info: https://kubernetes.io/docs/tasks/administer-cluster/namespaces/",
    ),
    (
        "k8s.NamespaceStatus",
        "conditions",
        "Represents the latest available observations of a namespace's current state.",
    ),
    (
        "k8s.NamespaceStatus",
        "phase",
        "Phase is the current lifecycle phase of the namespace. More info: https://kubernetes.io/docs/tasks/administer-cluster/namespaces/",
    ),
    (
        "k8s.NamespaceCondition",
        "message",
        "Human-readable message indicating details about last transition.",
    ),
    (
        "k8s.NamespaceCondition",
        "reason",
        "Unique, one-word, CamelCase reason for the condition's last transition.",
    ),
    (
        "k8s.NamespaceCondition",
        "status",
        "Status of the condition, one of True, False, Unknown.",
    ),
    (
        "k8s.NamespaceCondition",
        "type",
        "Type of namespace controller condition.",
    ),
    (
        "k8s.Node",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.Node",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.NodeSpec",
        "externalID",
        "Deprecated. Not all kubelets will set this field. Remove field after 1.13. see: https://issues.k8s.io/61966",
    ),
    (
        "k8s.NodeSpec",
        "podCIDR",
        "PodCIDR represents the pod IP range assigned to the node.",
    ),
    (
        "k8s.NodeSpec",
        "podCIDRs",
        "podCIDRs represents the IP ranges assigned to the node for usage by Pods on that node. If this field is specified, the 0th entry must match the podCIDR field. It may contain at most 1 value for each of IPv4 and IPv6.",
    ),
    (
        "k8s.NodeSpec",
        "providerID",
        "ID of the node assigned by the cloud provider in the format: <ProviderName>://<ProviderSpecificNodeID>",
    ),
    ("k8s.NodeSpec", "taints", "If specified, the node's taints."),
    (
        "k8s.NodeSpec",
        "unschedulable",
        "Unschedulable controls node schedulability of new pods. By default, node is schedulable. More info: https://kubernetes.io/docs/concepts/nodes/node/#manual-node-administration",
    ),
    (
        "k8s.Taint",
        "effect",
        "Required. The effect of the taint on pods that do not tolerate the taint. Valid effects are NoSchedule, PreferNoSchedule and NoExecute.",
    ),
    (
        "k8s.Taint",
        "key",
        "Required. The taint key to be applied to a node.",
    ),
    (
        "k8s.Taint",
        "value",
        "The taint value corresponding to the taint key.",
    ),
    (
        "k8s.NodeStatus",
        "addresses",
        "List of addresses reachable to the node. Queried from cloud provider, if available. More info: https://kubernetes.io/docs/reference/node/node-status/#addresses Note: This field is declared as mergeable, but the merge key is not sufficiently unique, which can cause data corruption when it is merged. Callers should instead use a full-replacement patch. See https://pr.k8s.io/79391 for an example. Consumers should assume that addresses can change during the lifetime of a Node. However, there are some exceptions where this may not be possible, such as Pods that inherit a Node's address in its own status or consumers of the downward API (status.hostIP).",
    ),
    (
        "k8s.NodeStatus",
        "allocatable",
        "Allocatable represents the resources of a node that are available for scheduling. Defaults to Capacity.",
    ),
    (
        "k8s.NodeStatus",
        "capacity",
        "Capacity represents the total resources of a node. More info: https://kubernetes.io/docs/reference/node/node-status/#capacity",
    ),
    (
        "k8s.NodeStatus",
        "conditions",
        "Conditions is an array of current observed node conditions. More info: https://kubernetes.io/docs/reference/node/node-status/#condition",
    ),
    (
        "k8s.NodeStatus",
        "images",
        "List of container images on this node",
    ),
    (
        "k8s.NodeStatus",
        "phase",
        "NodePhase is the recently observed lifecycle phase of the node. More info: https://kubernetes.io/docs/concepts/nodes/node/#phase The field is never populated, and now is deprecated.",
    ),
    (
        "k8s.NodeStatus",
        "runtimeHandlers",
        "The available runtime handlers.",
    ),
    (
        "k8s.NodeStatus",
        "volumesAttached",
        "List of volumes that are attached to the node.",
    ),
    (
        "k8s.NodeStatus",
        "volumesInUse",
        "List of attachable volumes in use (mounted) by the node.",
    ),
    (
        "k8s.NodeCondition",
        "message",
        "Human readable message indicating details about last transition.",
    ),
    (
        "k8s.NodeCondition",
        "reason",
        "(brief) reason for the condition's last transition.",
    ),
    (
        "k8s.NodeCondition",
        "status",
        "Status of the condition, one of True, False, Unknown.",
    ),
    ("k8s.NodeCondition", "type", "Type of node condition."),
    ("k8s.NodeAddress", "address", "The node address."),
    (
        "k8s.NodeAddress",
        "type",
        "Node address type, one of Hostname, ExternalIP or InternalIP.",
    ),
    (
        "k8s.DaemonEndpoint",
        "Port",
        "Port number of the given endpoint.",
    ),
    (
        "k8s.NodeSystemInfo",
        "architecture",
        "The Architecture reported by the node",
    ),
    (
        "k8s.NodeSystemInfo",
        "bootID",
        "Boot ID reported by the node.",
    ),
    (
        "k8s.NodeSystemInfo",
        "containerRuntimeVersion",
        "ContainerRuntime Version reported by the node through runtime remote API (e.g. containerd://1.4.2).",
    ),
    (
        "k8s.NodeSystemInfo",
        "kernelVersion",
        "Kernel Version reported by the node from 'uname -r' (e.g. 3.16.0-0.bpo.4-amd64).",
    ),
    (
        "k8s.NodeSystemInfo",
        "kubeProxyVersion",
        "Deprecated: KubeProxy Version reported by the node.",
    ),
    (
        "k8s.NodeSystemInfo",
        "kubeletVersion",
        "Kubelet Version reported by the node.",
    ),
    (
        "k8s.NodeSystemInfo",
        "machineID",
        "MachineID reported by the node. For unique machine identification in the cluster this field is preferred. Learn more from man(5) machine-id: http://man7.org/linux/man-pages/man5/machine-id.5.html",
    ),
    (
        "k8s.NodeSystemInfo",
        "operatingSystem",
        "The Operating System reported by the node",
    ),
    (
        "k8s.NodeSystemInfo",
        "osImage",
        "OS Image reported by the node from /etc/os-release (e.g. Debian GNU/Linux 7 (wheezy)).",
    ),
    (
        "k8s.NodeSystemInfo",
        "systemUUID",
        "SystemUUID reported by the node. For unique machine identification MachineID is preferred. This field is specific to Red Hat hosts https://access.redhat.com/documentation/en-us/red_hat_subscription_management/1/html/rhsm/uuid",
    ),
    (
        "k8s.ContainerImage",
        "names",
        "Names by which this image is known. e.g. [\"kubernetes.example/hyperkube:v1.0.7\", \"cloud-vendor.registry.example/cloud-vendor/hyperkube:v1.0.7\"]",
    ),
    (
        "k8s.ContainerImage",
        "sizeBytes",
        "The size of the image in bytes.",
    ),
    (
        "k8s.Pod",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.Pod",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.PodSpec",
        "activeDeadlineSeconds",
        "Optional duration in seconds the pod may be active on the node relative to StartTime before the system will actively try to mark it failed and kill associated containers. Value must be a positive integer.",
    ),
    (
        "k8s.PodSpec",
        "automountServiceAccountToken",
        "AutomountServiceAccountToken indicates whether a service account token should be automatically mounted.",
    ),
    (
        "k8s.PodSpec",
        "containers",
        "List of containers belonging to the pod. Containers cannot currently be added or removed. There must be at least one container in a Pod. Cannot be updated.",
    ),
    (
        "k8s.PodSpec",
        "dnsPolicy",
        "Set DNS policy for the pod. Defaults to \"ClusterFirst\". Valid values are 'ClusterFirstWithHostNet', 'ClusterFirst', 'Default' or 'None'. DNS parameters given in DNSConfig will be merged with the policy selected with DNSPolicy. To have DNS options set along with hostNetwork, you have to specify DNS policy explicitly to 'ClusterFirstWithHostNet'.",
    ),
    (
        "k8s.PodSpec",
        "enableServiceLinks",
        "EnableServiceLinks indicates whether information about services should be injected into pod's environment variables, matching the syntax of Docker links. Optional: Defaults to true.",
    ),
    (
        "k8s.PodSpec",
        "ephemeralContainers",
        "List of ephemeral containers run in this pod. Ephemeral containers may be run in an existing pod to perform user-initiated actions such as debugging. This list cannot be specified when creating a pod, and it cannot be modified by updating the pod spec. In order to add an ephemeral container to an existing pod, use the pod's ephemeralcontainers subresource.",
    ),
    (
        "k8s.PodSpec",
        "hostAliases",
        "HostAliases is an optional list of hosts and IPs that will be injected into the pod's hosts file if specified.",
    ),
    (
        "k8s.PodSpec",
        "hostIPC",
        "Use the host's ipc namespace. Optional: Default to false.",
    ),
    (
        "k8s.PodSpec",
        "hostNetwork",
        "Host networking requested for this pod. Use the host's network namespace. If this option is set, the ports that will be used must be specified. Default to false.",
    ),
    (
        "k8s.PodSpec",
        "hostPID",
        "Use the host's pid namespace. Optional: Default to false.",
    ),
    (
        "k8s.PodSpec",
        "hostUsers",
        "Use the host's user namespace. Optional: Default to true. If set to true or not present, the pod will be run in the host user namespace, useful for when the pod needs a feature only available to the host user namespace, such as loading a kernel module with CAP_SYS_MODULE. When set to false, a new userns is created for the pod. Setting false is useful for mitigating container breakout vulnerabilities even allowing users to run their containers as root without actually having root privileges on the host. This field is alpha-level and is only honored by servers that enable the UserNamespacesSupport feature.",
    ),
    (
        "k8s.PodSpec",
        "hostname",
        "Specifies the hostname of the Pod If not specified, the pod's hostname will be set to a system-defined value.",
    ),
    (
        "k8s.PodSpec",
        "imagePullSecrets",
        "ImagePullSecrets is an optional list of references to secrets in the same namespace to use for pulling any of the images used by this PodSpec. If specified, these secrets will be passed to individual puller implementations for them to use. More info: https://kubernetes.io/docs/concepts/containers/images#specifying-imagepullsecrets-on-a-pod",
    ),
    (
        "k8s.PodSpec",
        "initContainers",
        "List of initialization containers belonging to the pod. Init containers are executed in order prior to containers being started. If any init container fails, the pod is considered to have failed and is handled according to its restartPolicy. The name for an init container or normal container must be unique among all containers. Init containers may not have Lifecycle actions, Readiness probes, Liveness probes, or Startup probes. The resourceRequirements of an init container are taken into account during scheduling by finding the highest request/limit for each resource type, and then using the max of that value or the sum of the normal containers. Limits are applied to init containers in a similar fashion. Init containers cannot currently be added or removed. Cannot be updated. More info: https://kubernetes.io/docs/concepts/workloads/pods/init-containers/",
    ),
    (
        "k8s.PodSpec",
        "nodeName",
        "NodeName indicates in which node this pod is scheduled. If empty, this pod is a candidate for scheduling by the scheduler defined in schedulerName. Once this field is set, the kubelet for this node becomes responsible for the lifecycle of this pod. This field should not be used to express a desire for the pod to be scheduled on a specific node. https://kubernetes.io/docs/concepts/scheduling-eviction/assign-pod-node/#nodename",
    ),
    (
        "k8s.PodSpec",
        "nodeSelector",
        "NodeSelector is a selector which must be true for the pod to fit on a node. Selector which must match a node's labels for the pod to be scheduled on that node. More info: https://kubernetes.io/docs/concepts/configuration/assign-pod-node/",
    ),
    (
        "k8s.PodSpec",
        "overhead",
        "Overhead represents the resource overhead associated with running a pod for a given RuntimeClass. This field will be autopopulated at admission time by the RuntimeClass admission controller. If the RuntimeClass admission controller is enabled, overhead must not be set in Pod create requests. The RuntimeClass admission controller will reject Pod create requests which have the overhead already set. If RuntimeClass is configured and selected in the PodSpec, Overhead will be set to the value defined in the corresponding RuntimeClass, otherwise it will remain unset and treated as zero. More info: https://git.k8s.io/enhancements/keps/sig-node/688-pod-overhead/README.md",
    ),
    (
        "k8s.PodSpec",
        "preemptionPolicy",
        "PreemptionPolicy is the Policy for preempting pods with lower priority. One of Never, PreemptLowerPriority. Defaults to PreemptLowerPriority if unset.",
    ),
    (
        "k8s.PodSpec",
        "priority",
        "The priority value. Various system components use this field to find the priority of the pod. When Priority Admission Controller is enabled, it prevents users from setting this field. The admission controller populates this field from PriorityClassName. The higher the value, the higher the priority.",
    ),
    (
        "k8s.PodSpec",
        "priorityClassName",
        "If specified, indicates the pod's priority. \"system-node-critical\" and \"system-cluster-critical\" are two special keywords which indicate the highest priorities with the former being the highest priority. Any other name must be defined by creating a PriorityClass object with that name. If not specified, the pod priority will be default or zero if there is no default.",
    ),
    (
        "k8s.PodSpec",
        "readinessGates",
        "If specified, all readiness gates will be evaluated for pod readiness. A pod is ready when all its containers are ready AND all conditions specified in the readiness gates have status equal to \"True\" More info: https://git.k8s.io/enhancements/keps/sig-network/580-pod-readiness-gates",
    ),
    (
        "k8s.PodSpec",
        "resourceClaims",
        "ResourceClaims defines which ResourceClaims must be allocated and reserved before the Pod is allowed to start. The resources will be made available to those containers which consume them by name.\n\nThis is an alpha field and requires enabling the DynamicResourceAllocation feature gate.\n\nThis field is immutable.",
    ),
    (
        "k8s.PodSpec",
        "restartPolicy",
        "Restart policy for all containers within the pod. One of Always, OnFailure, Never. In some contexts, only a subset of those values may be permitted. Default to Always. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#restart-policy",
    ),
    (
        "k8s.PodSpec",
        "runtimeClassName",
        "RuntimeClassName refers to a RuntimeClass object in the node.k8s.io group, which should be used to run this pod.  If no RuntimeClass resource matches the named class, the pod will not be run. If unset or empty, the \"legacy\" RuntimeClass will be used, which is an implicit class with an empty definition that uses the default runtime handler. More info: https://git.k8s.io/enhancements/keps/sig-node/585-runtime-class",
    ),
    (
        "k8s.PodSpec",
        "schedulerName",
        "If specified, the pod will be dispatched by specified scheduler. If not specified, the pod will be dispatched by default scheduler.",
    ),
    (
        "k8s.PodSpec",
        "schedulingGates",
        "SchedulingGates is an opaque list of values that if specified will block scheduling the pod. If schedulingGates is not empty, the pod will stay in the SchedulingGated state and the scheduler will not attempt to schedule the pod.\n\nSchedulingGates can only be set at pod creation time, and be removed only afterwards.",
    ),
    (
        "k8s.PodSpec",
        "serviceAccount",
        "DeprecatedServiceAccount is a deprecated alias for ServiceAccountName. Deprecated: Use serviceAccountName instead.",
    ),
    (
        "k8s.PodSpec",
        "serviceAccountName",
        "ServiceAccountName is the name of the ServiceAccount to use to run this pod. More info: https://kubernetes.io/docs/tasks/configure-pod-container/configure-service-account/",
    ),
    (
        "k8s.PodSpec",
        "setHostnameAsFQDN",
        "If true the pod's hostname will be configured as the pod's FQDN, rather than the leaf name (the default). In Linux containers, this means setting the FQDN in the hostname field of the kernel (the nodename field of struct utsname). In Windows containers, this means setting the registry value of hostname for the registry key HKEY_LOCAL_MACHINE\\\\SYSTEM\\\\CurrentControlSet\\\\Services\\\\Tcpip\\\\Parameters to FQDN. If a pod does not have FQDN, this has no effect. Default to false.",
    ),
    (
        "k8s.PodSpec",
        "shareProcessNamespace",
        "Share a single process namespace between all of the containers in a pod. When this is set containers will be able to view and signal processes from other containers in the same pod, and the first process in each container will not be assigned PID 1. HostPID and ShareProcessNamespace cannot both be set. Optional: Default to false.",
    ),
    (
        "k8s.PodSpec",
        "subdomain",
        "If specified, the fully qualified Pod hostname will be \"<hostname>.<subdomain>.<pod namespace>.svc.<cluster domain>\". If not specified, the pod will not have a domainname at all.",
    ),
    (
        "k8s.PodSpec",
        "terminationGracePeriodSeconds",
        "Optional duration in seconds the pod needs to terminate gracefully. May be decreased in delete request. Value must be non-negative integer. The value zero indicates stop immediately via the kill signal (no opportunity to shut down). If this value is nil, the default grace period will be used instead. The grace period is the duration in seconds after the processes running in the pod are sent a termination signal and the time when the processes are forcibly halted with a kill signal. Set this value longer than the expected cleanup time for your process. Defaults to 30 seconds.",
    ),
    (
        "k8s.PodSpec",
        "tolerations",
        "If specified, the pod's tolerations.",
    ),
    (
        "k8s.PodSpec",
        "topologySpreadConstraints",
        "TopologySpreadConstraints describes how a group of pods ought to spread across topology domains. Scheduler will schedule pods in a way which abides by the constraints. All topologySpreadConstraints are ANDed.",
    ),
    (
        "k8s.PodSpec",
        "volumes",
        "List of volumes that can be mounted by containers belonging to the pod. More info: https://kubernetes.io/docs/concepts/storage/volumes",
    ),
    (
        "k8s.Container",
        "args",
        "Arguments to the entrypoint. The container image's CMD is used if this is not provided. Variable references $(VAR_NAME) are expanded using the container's environment. If a variable cannot be resolved, the reference in the input string will be unchanged. Double $$ are reduced to a single $, which allows for escaping the $(VAR_NAME) syntax: i.e. \"$$(VAR_NAME)\" will produce the string literal \"$(VAR_NAME)\". Escaped references will never be expanded, regardless of whether the variable exists or not. Cannot be updated. More info: https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/#running-a-command-in-a-shell",
    ),
    (
        "k8s.Container",
        "command",
        "Entrypoint array. Not executed within a shell. The container image's ENTRYPOINT is used if this is not provided. Variable references $(VAR_NAME) are expanded using the container's environment. If a variable cannot be resolved, the reference in the input string will be unchanged. Double $$ are reduced to a single $, which allows for escaping the $(VAR_NAME) syntax: i.e. \"$$(VAR_NAME)\" will produce the string literal \"$(VAR_NAME)\". Escaped references will never be expanded, regardless of whether the variable exists or not. Cannot be updated. More info: https://kubernetes.io/docs/tasks/inject-data-application/define-command-argument-container/#running-a-command-in-a-shell",
    ),
    (
        "k8s.Container",
        "env",
        "List of environment variables to set in the container. Cannot be updated.",
    ),
    (
        "k8s.Container",
        "envFrom",
        "List of sources to populate environment variables in the container. The keys defined within a source must be a C_IDENTIFIER. All invalid keys will be reported as an event when the container is starting. When a key exists in multiple sources, the value associated with the last source will take precedence. Values defined by an Env with a duplicate key will take precedence. Cannot be updated.",
    ),
    (
        "k8s.Container",
        "image",
        "Container image name. More info: https://kubernetes.io/docs/concepts/containers/images This field is optional to allow higher level config management to default or override container images in workload controllers like Deployments and StatefulSets.",
    ),
    (
        "k8s.Container",
        "imagePullPolicy",
        "Image pull policy. One of Always, Never, IfNotPresent. Defaults to Always if :latest tag is specified, or IfNotPresent otherwise. Cannot be updated. More info: https://kubernetes.io/docs/concepts/containers/images#updating-images",
    ),
    (
        "k8s.Container",
        "name",
        "Name of the container specified as a DNS_LABEL. Each container in a pod must have a unique name (DNS_LABEL). Cannot be updated.",
    ),
    (
        "k8s.Container",
        "ports",
        "List of ports to expose from the container. Not specifying a port here DOES NOT prevent that port from being exposed. Any port which is listening on the default \"0.0.0.0\" address inside a container will be accessible from the network. Modifying this array with strategic merge patch may corrupt the data. For more information See https://github.com/kubernetes/kubernetes/issues/108255. Cannot be updated.",
    ),
    (
        "k8s.Container",
        "resizePolicy",
        "Resources resize policy for the container.",
    ),
    (
        "k8s.Container",
        "restartPolicy",
        "RestartPolicy defines the restart behavior of individual containers in a pod. This field may only be set for init containers, and the only allowed value is \"Always\". For non-init containers or when this field is not specified, the restart behavior is defined by the Pod's restart policy and the container type. Setting the RestartPolicy as \"Always\" for the init container will have the following effect: this init container will be continually restarted on exit until all regular containers have terminated. Once all regular containers have completed, all init containers with restartPolicy \"Always\" will be shut down. This lifecycle differs from normal init containers and is often referred to as a \"sidecar\" container. Although this init container still starts in the init container sequence, it does not wait for the container to complete before proceeding to the next init container. Instead, the next init container starts immediately after this init container is started, or after any startupProbe has successfully completed.",
    ),
    (
        "k8s.Container",
        "stdin",
        "Whether this container should allocate a buffer for stdin in the container runtime. If this is not set, reads from stdin in the container will always result in EOF. Default is false.",
    ),
    (
        "k8s.Container",
        "stdinOnce",
        "Whether the container runtime should close the stdin channel after it has been opened by a single attach. When stdin is true the stdin stream will remain open across multiple attach sessions. If stdinOnce is set to true, stdin is opened on container start, is empty until the first client attaches to stdin, and then remains open and accepts data until the client disconnects, at which time stdin is closed and remains closed until the container is restarted. If this flag is false, a container processes that reads from stdin will never receive an EOF. Default is false",
    ),
    (
        "k8s.Container",
        "terminationMessagePath",
        "Optional: Path at which the file to which the container's termination message will be written is mounted into the container's filesystem. Message written is intended to be brief final status, such as an assertion failure message. Will be truncated by the node if greater than 4096 bytes. The total message length across all containers will be limited to 12kb. Defaults to /dev/termination-log. Cannot be updated.",
    ),
    (
        "k8s.Container",
        "terminationMessagePolicy",
        "Indicate how the termination message should be populated. File will use the contents of terminationMessagePath to populate the container status message on both success and failure. FallbackToLogsOnError will use the last chunk of container log output if the termination message file is empty and the container exited with an error. The log output is limited to 2048 bytes or 80 lines, whichever is smaller. Defaults to File. Cannot be updated.",
    ),
    (
        "k8s.Container",
        "tty",
        "Whether this container should allocate a TTY for itself, also requires 'stdin' to be true. Default is false.",
    ),
    (
        "k8s.Container",
        "volumeDevices",
        "volumeDevices is the list of block devices to be used by the container.",
    ),
    (
        "k8s.Container",
        "volumeMounts",
        "Pod volumes to mount into the container's filesystem. Cannot be updated.",
    ),
    (
        "k8s.Container",
        "workingDir",
        "Container's working directory. If not specified, the container runtime's default will be used, which might be configured in the container image. Cannot be updated.",
    ),
    (
        "k8s.ContainerPort",
        "containerPort",
        "Number of port to expose on the pod's IP address. This must be a valid port number, 0 < x < 65536.",
    ),
    (
        "k8s.ContainerPort",
        "hostIP",
        "What host IP to bind the external port to.",
    ),
    (
        "k8s.ContainerPort",
        "hostPort",
        "Number of port to expose on the host. If specified, this must be a valid port number, 0 < x < 65536. If HostNetwork is specified, this must match ContainerPort. Most containers do not need this.",
    ),
    (
        "k8s.ContainerPort",
        "name",
        "If specified, this must be an IANA_SVC_NAME and unique within the pod. Each named port in a pod must have a unique name. Name for the port that can be referred to by services.",
    ),
    (
        "k8s.ContainerPort",
        "protocol",
        "Protocol for port. Must be UDP, TCP, or SCTP. Defaults to \"TCP\".",
    ),
    (
        "k8s.EnvVar",
        "name",
        "Name of the environment variable. Must be a C_IDENTIFIER.",
    ),
    (
        "k8s.EnvVar",
        "value",
        "Variable references $(VAR_NAME) are expanded using the previously defined environment variables in the container and any service environment variables. If a variable cannot be resolved, the reference in the input string will be unchanged. Double $$ are reduced to a single $, which allows for escaping the $(VAR_NAME) syntax: i.e. \"$$(VAR_NAME)\" will produce the string literal \"$(VAR_NAME)\". Escaped references will never be expanded, regardless of whether the variable exists or not. Defaults to \"\".",
    ),
    (
        "k8s.ObjectFieldSelector",
        "apiVersion",
        "Version of the schema the FieldPath is written in terms of, defaults to \"v1\".",
    ),
    (
        "k8s.ObjectFieldSelector",
        "fieldPath",
        "Path of the field to select in the specified API version.",
    ),
    (
        "k8s.ResourceFieldSelector",
        "containerName",
        "Container name: required for volumes, optional for env vars",
    ),
    (
        "k8s.ResourceFieldSelector",
        "resource",
        "Required: resource to select",
    ),
    ("k8s.ConfigMapKeySelector", "key", "The key to select."),
    (
        "k8s.ConfigMapKeySelector",
        "name",
        "Name of the referent. This field is effectively required, but due to backwards compatibility is allowed to be empty. Instances of this type with an empty value here are almost certainly wrong. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names",
    ),
    (
        "k8s.ConfigMapKeySelector",
        "optional",
        "Specify whether the ConfigMap or its key must be defined",
    ),
    (
        "k8s.SecretKeySelector",
        "key",
        "The key of the secret to select from.  Must be a valid secret key.",
    ),
    (
        "k8s.SecretKeySelector",
        "name",
        "Name of the referent. This field is effectively required, but due to backwards compatibility is allowed to be empty. Instances of this type with an empty value here are almost certainly wrong. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names",
    ),
    (
        "k8s.SecretKeySelector",
        "optional",
        "Specify whether the Secret or its key must be defined",
    ),
    (
        "k8s.EnvFromSource",
        "prefix",
        "Optional text to prepend to the name of each environment variable. Must be a C_IDENTIFIER.",
    ),
    (
        "k8s.ConfigMapEnvSource",
        "name",
        "Name of the referent. This field is effectively required, but due to backwards compatibility is allowed to be empty. Instances of this type with an empty value here are almost certainly wrong. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names",
    ),
    (
        "k8s.ConfigMapEnvSource",
        "optional",
        "Specify whether the ConfigMap must be defined",
    ),
    (
        "k8s.SecretEnvSource",
        "name",
        "Name of the referent. This field is effectively required, but due to backwards compatibility is allowed to be empty. Instances of this type with an empty value here are almost certainly wrong. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names",
    ),
    (
        "k8s.SecretEnvSource",
        "optional",
        "Specify whether the Secret must be defined",
    ),
    (
        "k8s.ResourceRequirements",
        "claims",
        "Claims lists the names of resources, defined in spec.resourceClaims, that are used by this container.\n\nThis is an alpha field and requires enabling the DynamicResourceAllocation feature gate.\n\nThis field is immutable. It can only be set for containers.",
    ),
    (
        "k8s.ResourceRequirements",
        "limits",
        "Limits describes the maximum amount of compute resources allowed. More info: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
    ),
    (
        "k8s.ResourceRequirements",
        "requests",
        "Requests describes the minimum amount of compute resources required. If Requests is omitted for a container, it defaults to Limits if that is explicitly specified, otherwise to an implementation-defined value. Requests cannot exceed Limits. More info: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
    ),
    (
        "k8s.VolumeMount",
        "mountPath",
        "Path within the container at which the volume should be mounted.  Must not contain ':'.",
    ),
    (
        "k8s.VolumeMount",
        "mountPropagation",
        "mountPropagation determines how mounts are propagated from the host to container and the other way around. When not set, MountPropagationNone is used. This field is beta in 1.10. When RecursiveReadOnly is set to IfPossible or to Enabled, MountPropagation must be None or unspecified (which defaults to None).",
    ),
    (
        "k8s.VolumeMount",
        "name",
        "This must match the Name of a Volume.",
    ),
    (
        "k8s.VolumeMount",
        "readOnly",
        "Mounted read-only if true, read-write otherwise (false or unspecified). Defaults to false.",
    ),
    (
        "k8s.VolumeMount",
        "recursiveReadOnly",
        "RecursiveReadOnly specifies whether read-only mounts should be handled recursively.\n\nIf ReadOnly is false, this field has no meaning and must be unspecified.\n\nIf ReadOnly is true, and this field is set to Disabled, the mount is not made recursively read-only.  If this field is set to IfPossible, the mount is made recursively read-only, if it is supported by the container runtime.  If this field is set to Enabled, the mount is made recursively read-only if it is supported by the container runtime, otherwise the pod will not be started and an error will be generated to indicate the reason.\n\nIf this field is set to IfPossible or Enabled, MountPropagation must be set to None (or be unspecified, which defaults to None).\n\nIf this field is not specified, it is treated as an equivalent of Disabled.",
    ),
    (
        "k8s.VolumeMount",
        "subPath",
        "Path within the volume from which the container's volume should be mounted. Defaults to \"\" (volume's root).",
    ),
    (
        "k8s.VolumeMount",
        "subPathExpr",
        "Expanded path within the volume from which the container's volume should be mounted. Behaves similarly to SubPath but environment variable references $(VAR_NAME) are expanded using the container's environment. Defaults to \"\" (volume's root). SubPathExpr and SubPath are mutually exclusive.",
    ),
    (
        "k8s.Probe",
        "failureThreshold",
        "Minimum consecutive failures for the probe to be considered failed after having succeeded. Defaults to 3. Minimum value is 1.",
    ),
    (
        "k8s.Probe",
        "initialDelaySeconds",
        "Number of seconds after the container has started before liveness probes are initiated. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#container-probes",
    ),
    (
        "k8s.Probe",
        "periodSeconds",
        "How often (in seconds) to perform the probe. Default to 10 seconds. Minimum value is 1.",
    ),
    (
        "k8s.Probe",
        "successThreshold",
        "Minimum consecutive successes for the probe to be considered successful after having failed. Defaults to 1. Must be 1 for liveness and startup. Minimum value is 1.",
    ),
    (
        "k8s.Probe",
        "terminationGracePeriodSeconds",
        "Optional duration in seconds the pod needs to terminate gracefully upon probe failure. The grace period is the duration in seconds after the processes running in the pod are sent a termination signal and the time when the processes are forcibly halted with a kill signal. Set this value longer than the expected cleanup time for your process. If this value is nil, the pod's terminationGracePeriodSeconds will be used. Otherwise, this value overrides the value provided by the pod spec. Value must be non-negative integer. The value zero indicates stop immediately via the kill signal (no opportunity to shut down). This is a beta field and requires enabling ProbeTerminationGracePeriod feature gate. Minimum value is 1. spec.terminationGracePeriodSeconds is used if unset.",
    ),
    (
        "k8s.Probe",
        "timeoutSeconds",
        "Number of seconds after which the probe times out. Defaults to 1 second. Minimum value is 1. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#container-probes",
    ),
    (
        "k8s.ExecAction",
        "command",
        "Command is the command line to execute inside the container, the working directory for the command  is root ('/') in the container's filesystem. The command is simply exec'd, it is not run inside a shell, so traditional shell instructions ('|', etc) won't work. To use a shell, you need to explicitly call out to that shell. Exit status of 0 is treated as live/healthy and non-zero is unhealthy.",
    ),
    (
        "k8s.HttpGetAction",
        "host",
        "Host name to connect to, defaults to the pod IP. You probably want to set \"Host\" in httpHeaders instead.",
    ),
    (
        "k8s.HttpGetAction",
        "httpHeaders",
        "Custom headers to set in the request. HTTP allows repeated headers.",
    ),
    (
        "k8s.HttpGetAction",
        "path",
        "Path to access on the HTTP server.",
    ),
    (
        "k8s.HttpGetAction",
        "scheme",
        "Scheme to use for connecting to the host. Defaults to HTTP.",
    ),
    (
        "k8s.HttpHeader",
        "name",
        "The header field name. This will be canonicalized upon output, so case-variant names will be understood as the same header.",
    ),
    ("k8s.HttpHeader", "value", "The header field value"),
    (
        "k8s.TcpSocketAction",
        "host",
        "Optional: Host name to connect to, defaults to the pod IP.",
    ),
    (
        "k8s.GrpcAction",
        "port",
        "Port number of the gRPC service. Number must be in the range 1 to 65535.",
    ),
    (
        "k8s.GrpcAction",
        "service",
        "Service is the name of the service to place in the gRPC HealthCheckRequest (see https://github.com/grpc/grpc/blob/master/doc/health-checking.md).\n\nIf this is not specified, the default behavior is defined by gRPC.",
    ),
    (
        "k8s.SleepAction",
        "seconds",
        "Seconds is the number of seconds to sleep.",
    ),
    (
        "k8s.Lifecycle",
        "stopSignal",
        "StopSignal defines which signal will be sent to a container when it is being stopped. If not specified, the default is defined by the container runtime in use. StopSignal can only be set for Pods with a non-empty .spec.os.name",
    ),
    (
        "k8s.SecurityContext",
        "allowPrivilegeEscalation",
        "AllowPrivilegeEscalation controls whether a process can gain more privileges than its parent process. This bool directly controls if the no_new_privs flag will be set on the container process. AllowPrivilegeEscalation is true always when the container is: 1) run as Privileged 2) has CAP_SYS_ADMIN Note that this field cannot be set when spec.os.name is windows.",
    ),
    (
        "k8s.SecurityContext",
        "privileged",
        "Run container in privileged mode. Processes in privileged containers are essentially equivalent to root on the host. Defaults to false. Note that this field cannot be set when spec.os.name is windows.",
    ),
    (
        "k8s.SecurityContext",
        "procMount",
        "procMount denotes the type of proc mount to use for the containers. The default value is Default which uses the container runtime defaults for readonly paths and masked paths. This requires the ProcMountType feature flag to be enabled. Note that this field cannot be set when spec.os.name is windows.",
    ),
    (
        "k8s.SecurityContext",
        "readOnlyRootFilesystem",
        "Whether this container has a read-only root filesystem. Default is false. Note that this field cannot be set when spec.os.name is windows.",
    ),
    (
        "k8s.SecurityContext",
        "runAsGroup",
        "The GID to run the entrypoint of the container process. Uses runtime default if unset. May also be set in PodSecurityContext.  If set in both SecurityContext and PodSecurityContext, the value specified in SecurityContext takes precedence. Note that this field cannot be set when spec.os.name is windows.",
    ),
    (
        "k8s.SecurityContext",
        "runAsNonRoot",
        "Indicates that the container must run as a non-root user. If true, the Kubelet will validate the image at runtime to ensure that it does not run as UID 0 (root) and fail to start the container if it does. If unset or false, no such validation will be performed. May also be set in PodSecurityContext.  If set in both SecurityContext and PodSecurityContext, the value specified in SecurityContext takes precedence.",
    ),
    (
        "k8s.SecurityContext",
        "runAsUser",
        "The UID to run the entrypoint of the container process. Defaults to user specified in image metadata if unspecified. May also be set in PodSecurityContext.  If set in both SecurityContext and PodSecurityContext, the value specified in SecurityContext takes precedence. Note that this field cannot be set when spec.os.name is windows.",
    ),
    (
        "k8s.SELinuxOptions",
        "level",
        "Level is SELinux level label that applies to the container.",
    ),
    (
        "k8s.SELinuxOptions",
        "role",
        "Role is a SELinux role label that applies to the container.",
    ),
    (
        "k8s.SELinuxOptions",
        "type",
        "Type is a SELinux type label that applies to the container.",
    ),
    (
        "k8s.SELinuxOptions",
        "user",
        "User is a SELinux user label that applies to the container.",
    ),
    (
        "k8s.WindowsSecurityContextOptions",
        "gmsaCredentialSpec",
        "GMSACredentialSpec is where the GMSA admission webhook (https://github.com/kubernetes-sigs/windows-gmsa) inlines the contents of the GMSA credential spec named by the GMSACredentialSpecName field.",
    ),
    (
        "k8s.WindowsSecurityContextOptions",
        "gmsaCredentialSpecName",
        "GMSACredentialSpecName is the name of the GMSA credential spec to use.",
    ),
    (
        "k8s.WindowsSecurityContextOptions",
        "hostProcess",
        "HostProcess determines if a container should be run as a 'Host Process' container. All of a Pod's containers must have the same effective HostProcess value (it is not allowed to have a mix of HostProcess containers and non-HostProcess containers). In addition, if HostProcess is true then HostNetwork must also be set to true.",
    ),
    (
        "k8s.WindowsSecurityContextOptions",
        "runAsUserName",
        "The UserName in Windows to run the entrypoint of the container process. Defaults to the user specified in image metadata if unspecified. May also be set in PodSecurityContext. If set in both SecurityContext and PodSecurityContext, the value specified in SecurityContext takes precedence.",
    ),
    (
        "k8s.AppArmorProfile",
        "localhostProfile",
        "localhostProfile indicates a profile loaded on the node that should be used. The profile must be preconfigured on the node to work. Must match the loaded name of the profile. Must be set if and only if type is \"Localhost\".",
    ),
    (
        "k8s.AppArmorProfile",
        "type",
        "type indicates which kind of AppArmor profile will be applied. Valid options are:\n  Localhost - a profile pre-loaded on the node.\n  RuntimeDefault - the container runtime's default profile.\n  Unconfined - no AppArmor enforcement.",
    ),
    ("k8s.Capabilities", "add", "Added capabilities"),
    ("k8s.Capabilities", "drop", "Removed capabilities"),
    (
        "k8s.SeccompProfile",
        "localhostProfile",
        "localhostProfile indicates a profile defined in a file on the node should be used. The profile must be preconfigured on the node to work. Must be a descending path, relative to the kubelet's configured seccomp profile location. Must be set if type is \"Localhost\". Must NOT be set for any other type.",
    ),
    (
        "k8s.SeccompProfile",
        "type",
        "type indicates which kind of seccomp profile will be applied. Valid options are:\n\nLocalhost - a profile defined in a file on the node should be used. RuntimeDefault - the container runtime default profile should be used. Unconfined - no profile should be applied.",
    ),
    (
        "k8s.PodSecurityContext",
        "fsGroup",
        "A special supplemental group that applies to all containers in a pod. Some volume types allow the Kubelet to change the ownership of that volume to be owned by the pod:\n\n1. The owning GID will be the FSGroup 2. The setgid bit is set (new files created in the volume will be owned by FSGroup) 3. The permission bits are OR'd with rw-rw----\n\nIf unset, the Kubelet will not modify the ownership and permissions of any volume. Note that this field cannot be set when spec.os.name is windows.",
    ),
    (
        "k8s.PodSecurityContext",
        "fsGroupChangePolicy",
        "fsGroupChangePolicy defines behavior of changing ownership and permission of the volume before being exposed inside Pod. This field will only apply to volume types which support fsGroup based ownership(and permissions). It will have no effect on ephemeral volume types such as: secret, configmaps and emptydir. Valid values are \"OnRootMismatch\" and \"Always\". If not specified, \"Always\" is used. Note that this field cannot be set when spec.os.name is windows.",
    ),
    (
        "k8s.PodSecurityContext",
        "runAsGroup",
        "The GID to run the entrypoint of the container process. Uses runtime default if unset. May also be set in SecurityContext.  If set in both SecurityContext and PodSecurityContext, the value specified in SecurityContext takes precedence for that container. Note that this field cannot be set when spec.os.name is windows.",
    ),
    (
        "k8s.PodSecurityContext",
        "runAsNonRoot",
        "Indicates that the container must run as a non-root user. If true, the Kubelet will validate the image at runtime to ensure that it does not run as UID 0 (root) and fail to start the container if it does. If unset or false, no such validation will be performed. May also be set in SecurityContext.  If set in both SecurityContext and PodSecurityContext, the value specified in SecurityContext takes precedence.",
    ),
    (
        "k8s.PodSecurityContext",
        "runAsUser",
        "The UID to run the entrypoint of the container process. Defaults to user specified in image metadata if unspecified. May also be set in SecurityContext.  If set in both SecurityContext and PodSecurityContext, the value specified in SecurityContext takes precedence for that container. Note that this field cannot be set when spec.os.name is windows.",
    ),
    (
        "k8s.PodSecurityContext",
        "seLinuxChangePolicy",
        "seLinuxChangePolicy defines how the container's SELinux label is applied to all volumes used by the Pod. It has no effect on nodes that do not support SELinux or to volumes does not support SELinux. Valid values are \"MountOption\" and \"Recursive\".\n\n\"Recursive\" means relabeling of all files on all Pod volumes by the container runtime. This may be slow for large volumes, but allows mixing privileged and unprivileged Pods sharing the same volume on the same node.\n\n\"MountOption\" mounts all eligible Pod volumes with `-o context` mount option. This requires all Pods that share the same volume to use the same SELinux label. It is not possible to share the same volume among privileged and unprivileged Pods. Eligible volumes are in-tree FibreChannel and iSCSI volumes, and all CSI volumes whose CSI driver announces SELinux support by setting spec.seLinuxMount: true in their CSIDriver instance. Other volumes are always re-labelled recursively. \"MountOption\" value is allowed only when SELinuxMount feature gate is enabled.\n\nIf not specified and SELinuxMount feature gate is enabled, \"MountOption\" is used. If not specified and SELinuxMount feature gate is disabled, \"MountOption\" is used for ReadWriteOncePod volumes and \"Recursive\" for all other volumes.\n\nThis field affects only Pods that have SELinux label set, either in PodSecurityContext or in SecurityContext of all containers.\n\nAll Pods that use the same volume should use the same seLinuxChangePolicy, otherwise some pods can get stuck in ContainerCreating state. Note that this field cannot be set when spec.os.name is windows.",
    ),
    (
        "k8s.PodSecurityContext",
        "supplementalGroups",
        "A list of groups applied to the first process run in each container, in addition to the container's primary GID and fsGroup (if specified).  If the SupplementalGroupsPolicy feature is enabled, the supplementalGroupsPolicy field determines whether these are in addition to or instead of any group memberships defined in the container image. If unspecified, no additional groups are added, though group memberships defined in the container image may still be used, depending on the supplementalGroupsPolicy field. Note that this field cannot be set when spec.os.name is windows.",
    ),
    (
        "k8s.PodSecurityContext",
        "supplementalGroupsPolicy",
        "Defines how supplemental groups of the first container processes are calculated. Valid values are \"Merge\" and \"Strict\". If not specified, \"Merge\" is used. (Alpha) Using the field requires the SupplementalGroupsPolicy feature gate to be enabled and the container runtime must implement support for this feature. Note that this field cannot be set when spec.os.name is windows.",
    ),
    (
        "k8s.PodSecurityContext",
        "sysctls",
        "Sysctls hold a list of namespaced sysctls used for the pod. Pods with unsupported sysctls (by the container runtime) might fail to launch. Note that this field cannot be set when spec.os.name is windows.",
    ),
    ("k8s.Sysctl", "name", "Name of a property to set"),
    ("k8s.Sysctl", "value", "Value of a property to set"),
    (
        "k8s.Volume",
        "name",
        "name of the volume. Must be a DNS_LABEL and unique within the pod. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names",
    ),
    (
        "k8s.HostPathVolumeSource",
        "path",
        "path of the directory on the host. If the path is a symlink, it will follow the link to the real path. More info: https://kubernetes.io/docs/concepts/storage/volumes#hostpath",
    ),
    (
        "k8s.HostPathVolumeSource",
        "type",
        "type for HostPath Volume Defaults to \"\" More info: https://kubernetes.io/docs/concepts/storage/volumes#hostpath",
    ),
    (
        "k8s.EmptyDirVolumeSource",
        "medium",
        "medium represents what type of storage medium should back this directory. The default is \"\" which means to use the node's default medium. Must be an empty string (default) or Memory. More info: https://kubernetes.io/docs/concepts/storage/volumes#emptydir",
    ),
    ("k8s.KeyToPath", "key", "key is the key to project."),
    (
        "k8s.KeyToPath",
        "mode",
        "mode is Optional: mode bits used to set permissions on this file. Must be an octal value between 0000 and 0777 or a decimal value between 0 and 511. YAML accepts both octal and decimal values, JSON requires decimal values for mode bits. If not specified, the volume defaultMode will be used. This might be in conflict with other options that affect the file mode, like fsGroup, and the result can be other mode bits set.",
    ),
    (
        "k8s.KeyToPath",
        "path",
        "path is the relative path of the file to map the key to. May not be an absolute path. May not contain the path element '..'. May not start with the string '..'.",
    ),
    (
        "k8s.ConfigMapVolumeSource",
        "defaultMode",
        "defaultMode is optional: mode bits used to set permissions on created files by default. Must be an octal value between 0000 and 0777 or a decimal value between 0 and 511. YAML accepts both octal and decimal values, JSON requires decimal values for mode bits. Defaults to 0644. Directories within the path are not affected by this setting. This might be in conflict with other options that affect the file mode, like fsGroup, and the result can be other mode bits set.",
    ),
    (
        "k8s.ConfigMapVolumeSource",
        "items",
        "items if unspecified, each key-value pair in the Data field of the referenced ConfigMap will be projected into the volume as a file whose name is the key and content is the value. If specified, the listed keys will be projected into the specified paths, and unlisted keys will not be present. If a key is specified which is not present in the ConfigMap, the volume setup will error unless it is marked optional. Paths must be relative and may not contain the '..' path or start with '..'.",
    ),
    (
        "k8s.ConfigMapVolumeSource",
        "name",
        "Name of the referent. This field is effectively required, but due to backwards compatibility is allowed to be empty. Instances of this type with an empty value here are almost certainly wrong. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names",
    ),
    (
        "k8s.ConfigMapVolumeSource",
        "optional",
        "optional specify whether the ConfigMap or its keys must be defined",
    ),
    (
        "k8s.SecretVolumeSource",
        "defaultMode",
        "defaultMode is Optional: mode bits used to set permissions on created files by default. Must be an octal value between 0000 and 0777 or a decimal value between 0 and 511. YAML accepts both octal and decimal values, JSON requires decimal values for mode bits. Defaults to 0644. Directories within the path are not affected by this setting. This might be in conflict with other options that affect the file mode, like fsGroup, and the result can be other mode bits set.",
    ),
    (
        "k8s.SecretVolumeSource",
        "items",
        "items If unspecified, each key-value pair in the Data field of the referenced Secret will be projected into the volume as a file whose name is the key and content is the value. If specified, the listed keys will be projected into the specified paths, and unlisted keys will not be present. If a key is specified which is not present in the Secret, the volume setup will error unless it is marked optional. Paths must be relative and may not contain the '..' path or start with '..'.",
    ),
    (
        "k8s.SecretVolumeSource",
        "optional",
        "optional field specify whether the Secret or its keys must be defined",
    ),
    (
        "k8s.SecretVolumeSource",
        "secretName",
        "secretName is the name of the secret in the pod's namespace to use. More info: https://kubernetes.io/docs/concepts/storage/volumes#secret",
    ),
    (
        "k8s.PersistentVolumeClaimVolumeSource",
        "claimName",
        "claimName is the name of a PersistentVolumeClaim in the same namespace as the pod using this volume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#persistentvolumeclaims",
    ),
    (
        "k8s.PersistentVolumeClaimVolumeSource",
        "readOnly",
        "readOnly Will force the ReadOnly setting in VolumeMounts. Default false.",
    ),
    (
        "k8s.DownwardApiVolumeSource",
        "defaultMode",
        "Optional: mode bits to use on created files by default. Must be a Optional: mode bits used to set permissions on created files by default. Must be an octal value between 0000 and 0777 or a decimal value between 0 and 511. YAML accepts both octal and decimal values, JSON requires decimal values for mode bits. Defaults to 0644. Directories within the path are not affected by this setting. This might be in conflict with other options that affect the file mode, like fsGroup, and the result can be other mode bits set.",
    ),
    (
        "k8s.DownwardApiVolumeSource",
        "items",
        "Items is a list of downward API volume file",
    ),
    (
        "k8s.DownwardApiVolumeFile",
        "mode",
        "Optional: mode bits used to set permissions on this file, must be an octal value between 0000 and 0777 or a decimal value between 0 and 511. YAML accepts both octal and decimal values, JSON requires decimal values for mode bits. If not specified, the volume defaultMode will be used. This might be in conflict with other options that affect the file mode, like fsGroup, and the result can be other mode bits set.",
    ),
    (
        "k8s.DownwardApiVolumeFile",
        "path",
        "Required: Path is  the relative path name of the file to be created. Must not be absolute or contain the '..' path. Must be utf-8 encoded. The first item of the relative path must not start with '..'",
    ),
    (
        "k8s.NfsVolumeSource",
        "path",
        "path that is exported by the NFS server. More info: https://kubernetes.io/docs/concepts/storage/volumes#nfs",
    ),
    (
        "k8s.NfsVolumeSource",
        "readOnly",
        "readOnly here will force the NFS export to be mounted with read-only permissions. Defaults to false. More info: https://kubernetes.io/docs/concepts/storage/volumes#nfs",
    ),
    (
        "k8s.NfsVolumeSource",
        "server",
        "server is the hostname or IP address of the NFS server. More info: https://kubernetes.io/docs/concepts/storage/volumes#nfs",
    ),
    (
        "k8s.ProjectedVolumeSource",
        "defaultMode",
        "defaultMode are the mode bits used to set permissions on created files by default. Must be an octal value between 0000 and 0777 or a decimal value between 0 and 511. YAML accepts both octal and decimal values, JSON requires decimal values for mode bits. Directories within the path are not affected by this setting. This might be in conflict with other options that affect the file mode, like fsGroup, and the result can be other mode bits set.",
    ),
    (
        "k8s.ProjectedVolumeSource",
        "sources",
        "sources is the list of volume projections. Each entry in this list handles one source.",
    ),
    (
        "k8s.ConfigMapProjection",
        "items",
        "items if unspecified, each key-value pair in the Data field of the referenced ConfigMap will be projected into the volume as a file whose name is the key and content is the value. If specified, the listed keys will be projected into the specified paths, and unlisted keys will not be present. If a key is specified which is not present in the ConfigMap, the volume setup will error unless it is marked optional. Paths must be relative and may not contain the '..' path or start with '..'.",
    ),
    (
        "k8s.ConfigMapProjection",
        "name",
        "Name of the referent. This field is effectively required, but due to backwards compatibility is allowed to be empty. Instances of this type with an empty value here are almost certainly wrong. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names",
    ),
    (
        "k8s.ConfigMapProjection",
        "optional",
        "optional specify whether the ConfigMap or its keys must be defined",
    ),
    (
        "k8s.SecretProjection",
        "items",
        "items if unspecified, each key-value pair in the Data field of the referenced Secret will be projected into the volume as a file whose name is the key and content is the value. If specified, the listed keys will be projected into the specified paths, and unlisted keys will not be present. If a key is specified which is not present in the Secret, the volume setup will error unless it is marked optional. Paths must be relative and may not contain the '..' path or start with '..'.",
    ),
    (
        "k8s.SecretProjection",
        "name",
        "Name of the referent. This field is effectively required, but due to backwards compatibility is allowed to be empty. Instances of this type with an empty value here are almost certainly wrong. More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names",
    ),
    (
        "k8s.SecretProjection",
        "optional",
        "optional field specify whether the Secret or its key must be defined",
    ),
    (
        "k8s.DownwardApiProjection",
        "items",
        "Items is a list of DownwardAPIVolume file",
    ),
    (
        "k8s.ServiceAccountTokenProjection",
        "audience",
        "audience is the intended audience of the token. A recipient of a token must identify itself with an identifier specified in the audience of the token, and otherwise should reject the token. The audience defaults to the identifier of the apiserver.",
    ),
    (
        "k8s.ServiceAccountTokenProjection",
        "expirationSeconds",
        "expirationSeconds is the requested duration of validity of the service account token. As the token approaches expiration, the kubelet volume plugin will proactively rotate the service account token. The kubelet will start trying to rotate the token if the token is older than 80 percent of its time to live or if the token is older than 24 hours.Defaults to 1 hour and must be at least 10 minutes.",
    ),
    (
        "k8s.ServiceAccountTokenProjection",
        "path",
        "path is the path relative to the mount point of the file to project the token into.",
    ),
    (
        "k8s.NodeAffinity",
        "preferredDuringSchedulingIgnoredDuringExecution",
        "The scheduler will prefer to schedule pods to nodes that satisfy the affinity expressions specified by this field, but it may choose a node that violates one or more of the expressions. The node that is most preferred is the one with the greatest sum of weights, i.e. for each node that meets all of the scheduling requirements (resource request, requiredDuringScheduling affinity expressions, etc.), compute a sum by iterating through the elements of this field and adding \"weight\" to the sum if the node matches the corresponding matchExpressions; the node(s) with the highest sum are the most preferred.",
    ),
    (
        "k8s.NodeSelector",
        "nodeSelectorTerms",
        "Required. A list of node selector terms. The terms are ORed.",
    ),
    (
        "k8s.NodeSelectorTerm",
        "matchExpressions",
        "A list of node selector requirements by node's labels.",
    ),
    (
        "k8s.NodeSelectorTerm",
        "matchFields",
        "A list of node selector requirements by node's fields.",
    ),
    (
        "k8s.NodeSelectorRequirement",
        "key",
        "The label key that the selector applies to.",
    ),
    (
        "k8s.NodeSelectorRequirement",
        "operator",
        "Represents a key's relationship to a set of values. Valid operators are In, NotIn, Exists, DoesNotExist. Gt, and Lt.",
    ),
    (
        "k8s.NodeSelectorRequirement",
        "values",
        "An array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or DoesNotExist, the values array must be empty. If the operator is Gt or Lt, the values array must have a single element, which will be interpreted as an integer. This array is replaced during a strategic merge patch.",
    ),
    (
        "k8s.PreferredSchedulingTerm",
        "weight",
        "Weight associated with matching the corresponding nodeSelectorTerm, in the range 1-100.",
    ),
    (
        "k8s.PodAffinity",
        "preferredDuringSchedulingIgnoredDuringExecution",
        "The scheduler will prefer to schedule pods to nodes that satisfy the affinity expressions specified by this field, but it may choose a node that violates one or more of the expressions. The node that is most preferred is the one with the greatest sum of weights, i.e. for each node that meets all of the scheduling requirements (resource request, requiredDuringScheduling affinity expressions, etc.), compute a sum by iterating through the elements of this field and adding \"weight\" to the sum if the node has pods which matches the corresponding podAffinityTerm; the node(s) with the highest sum are the most preferred.",
    ),
    (
        "k8s.PodAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "If the affinity requirements specified by this field are not met at scheduling time, the pod will not be scheduled onto the node. If the affinity requirements specified by this field cease to be met at some point during pod execution (e.g. due to a pod label update), the system may or may not try to eventually evict the pod from its node. When there are multiple elements, the lists of nodes corresponding to each podAffinityTerm are intersected, i.e. all terms must be satisfied.",
    ),
    (
        "k8s.PodAntiAffinity",
        "preferredDuringSchedulingIgnoredDuringExecution",
        "The scheduler will prefer to schedule pods to nodes that satisfy the anti-affinity expressions specified by this field, but it may choose a node that violates one or more of the expressions. The node that is most preferred is the one with the greatest sum of weights, i.e. for each node that meets all of the scheduling requirements (resource request, requiredDuringScheduling anti-affinity expressions, etc.), compute a sum by iterating through the elements of this field and adding \"weight\" to the sum if the node has pods which matches the corresponding podAffinityTerm; the node(s) with the highest sum are the most preferred.",
    ),
    (
        "k8s.PodAntiAffinity",
        "requiredDuringSchedulingIgnoredDuringExecution",
        "If the anti-affinity requirements specified by this field are not met at scheduling time, the pod will not be scheduled onto the node. If the anti-affinity requirements specified by this field cease to be met at some point during pod execution (e.g. due to a pod label update), the system may or may not try to eventually evict the pod from its node. When there are multiple elements, the lists of nodes corresponding to each podAffinityTerm are intersected, i.e. all terms must be satisfied.",
    ),
    (
        "k8s.PodAffinityTerm",
        "matchLabelKeys",
        "MatchLabelKeys is a set of pod label keys to select which pods will be taken into consideration. The keys are used to lookup values from the incoming pod labels, those key-value labels are merged with `labelSelector` as `key in (value)` to select the group of existing pods which pods will be taken into consideration for the incoming pod's pod (anti) affinity. Keys that don't exist in the incoming pod labels will be ignored. The default value is empty. The same key is forbidden to exist in both matchLabelKeys and labelSelector. Also, matchLabelKeys cannot be set when labelSelector isn't set.",
    ),
    (
        "k8s.PodAffinityTerm",
        "mismatchLabelKeys",
        "MismatchLabelKeys is a set of pod label keys to select which pods will be taken into consideration. The keys are used to lookup values from the incoming pod labels, those key-value labels are merged with `labelSelector` as `key notin (value)` to select the group of existing pods which pods will be taken into consideration for the incoming pod's pod (anti) affinity. Keys that don't exist in the incoming pod labels will be ignored. The default value is empty. The same key is forbidden to exist in both mismatchLabelKeys and labelSelector. Also, mismatchLabelKeys cannot be set when labelSelector isn't set.",
    ),
    (
        "k8s.PodAffinityTerm",
        "namespaces",
        "namespaces specifies a static list of namespace names that the term applies to. The term is applied to the union of the namespaces listed in this field and the ones selected by namespaceSelector. null or empty namespaces list and null namespaceSelector means \"this pod's namespace\".",
    ),
    (
        "k8s.PodAffinityTerm",
        "topologyKey",
        "This pod should be co-located (affinity) or not co-located (anti-affinity) with the pods matching the labelSelector in the specified namespaces, where co-located is defined as running on a node whose value of the label with key topologyKey matches that of any node on which any of the selected pods is running. Empty topologyKey is not allowed.",
    ),
    (
        "k8s.WeightedPodAffinityTerm",
        "weight",
        "weight associated with matching the corresponding podAffinityTerm, in the range 1-100.",
    ),
    (
        "k8s.Toleration",
        "effect",
        "Effect indicates the taint effect to match. Empty means match all taint effects. When specified, allowed values are NoSchedule, PreferNoSchedule and NoExecute.",
    ),
    (
        "k8s.Toleration",
        "key",
        "Key is the taint key that the toleration applies to. Empty means match all taint keys. If the key is empty, operator must be Exists; this combination means to match all values and all keys.",
    ),
    (
        "k8s.Toleration",
        "operator",
        "Operator represents a key's relationship to the value. Valid operators are Exists and Equal. Defaults to Equal. Exists is equivalent to wildcard for value, so that a pod can tolerate all taints of a particular category.",
    ),
    (
        "k8s.Toleration",
        "tolerationSeconds",
        "TolerationSeconds represents the period of time the toleration (which must be of effect NoExecute, otherwise this field is ignored) tolerates the taint. By default, it is not set, which means tolerate the taint forever (do not evict). Zero and negative values will be treated as 0 (evict immediately) by the system.",
    ),
    (
        "k8s.Toleration",
        "value",
        "Value is the taint value the toleration matches to. If the operator is Exists, the value should be empty, otherwise just a regular string.",
    ),
    (
        "k8s.TopologySpreadConstraint",
        "matchLabelKeys",
        "MatchLabelKeys is a set of pod label keys to select the pods over which spreading will be calculated. The keys are used to lookup values from the incoming pod labels, those key-value labels are ANDed with labelSelector to select the group of existing pods over which spreading will be calculated for the incoming pod. The same key is forbidden to exist in both MatchLabelKeys and LabelSelector. MatchLabelKeys cannot be set when LabelSelector isn't set. Keys that don't exist in the incoming pod labels will be ignored. A null or empty list means only match against labelSelector.\n\nThis is a beta field and requires the MatchLabelKeysInPodTopologySpread feature gate to be enabled (enabled by default).",
    ),
    (
        "k8s.TopologySpreadConstraint",
        "maxSkew",
        "MaxSkew describes the degree to which pods may be unevenly distributed. When `whenUnsatisfiable=DoNotSchedule`, it is the maximum permitted difference between the number of matching pods in the target topology and the global minimum. The global minimum is the minimum number of matching pods in an eligible domain or zero if the number of eligible domains is less than MinDomains. For example, in a 3-zone cluster, MaxSkew is set to 1, and pods with the same labelSelector spread as 2/2/1: In this case, the global minimum is 1. | zone1 | zone2 | zone3 | |  P P  |  P P  |   P   | - if MaxSkew is 1, incoming pod can only be scheduled to zone3 to become 2/2/2; scheduling it onto zone1(zone2) would make the ActualSkew(3-1) on zone1(zone2) violate MaxSkew(1). - if MaxSkew is 2, incoming pod can be scheduled onto any zone. When `whenUnsatisfiable=ScheduleAnyway`, it is used to give higher precedence to topologies that satisfy it. It's a required field. Default value is 1 and 0 is not allowed.",
    ),
    (
        "k8s.TopologySpreadConstraint",
        "minDomains",
        "MinDomains indicates a minimum number of eligible domains. When the number of eligible domains with matching topology keys is less than minDomains, Pod Topology Spread treats \"global minimum\" as 0, and then the calculation of Skew is performed. And when the number of eligible domains with matching topology keys equals or greater than minDomains, this value has no effect on scheduling. As a result, when the number of eligible domains is less than minDomains, scheduler won't schedule more than maxSkew Pods to those domains. If value is nil, the constraint behaves as if MinDomains is equal to 1. Valid values are integers greater than 0. When value is not nil, WhenUnsatisfiable must be DoNotSchedule.\n\nFor example, in a 3-zone cluster, MaxSkew is set to 2, MinDomains is set to 5 and pods with the same labelSelector spread as 2/2/2: | zone1 | zone2 | zone3 | |  P P  |  P P  |  P P  | The number of domains is less than 5(MinDomains), so \"global minimum\" is treated as 0. In this situation, new pod with the same labelSelector cannot be scheduled, because computed skew will be 3(3 - 0) if new Pod is scheduled to any of the three zones, it will violate MaxSkew.",
    ),
    (
        "k8s.TopologySpreadConstraint",
        "nodeAffinityPolicy",
        "NodeAffinityPolicy indicates how we will treat Pod's nodeAffinity/nodeSelector when calculating pod topology spread skew. Options are: - Honor: only nodes matching nodeAffinity/nodeSelector are included in the calculations. - Ignore: nodeAffinity/nodeSelector are ignored. All nodes are included in the calculations.\n\nIf this value is nil, the behavior is equivalent to the Honor policy.",
    ),
    (
        "k8s.TopologySpreadConstraint",
        "nodeTaintsPolicy",
        "NodeTaintsPolicy indicates how we will treat node taints when calculating pod topology spread skew. Options are: - Honor: nodes without taints, along with tainted nodes for which the incoming pod has a toleration, are included. - Ignore: node taints are ignored. All nodes are included.\n\nIf this value is nil, the behavior is equivalent to the Ignore policy.",
    ),
    (
        "k8s.TopologySpreadConstraint",
        "topologyKey",
        "TopologyKey is the key of node labels. Nodes that have a label with this key and identical values are considered to be in the same topology. We consider each <key, value> as a \"bucket\", and try to put balanced number of pods into each bucket. We define a domain as a particular instance of a topology. Also, we define an eligible domain as a domain whose nodes meet the requirements of nodeAffinityPolicy and nodeTaintsPolicy. e.g. If TopologyKey is \"kubernetes.io/hostname\", each Node is a domain of that topology. And, if TopologyKey is \"topology.kubernetes.io/zone\", each zone is a domain of that topology. It's a required field.",
    ),
    (
        "k8s.TopologySpreadConstraint",
        "whenUnsatisfiable",
        "WhenUnsatisfiable indicates how to deal with a pod if it doesn't satisfy the spread constraint. - DoNotSchedule (default) tells the scheduler not to schedule it. - ScheduleAnyway tells the scheduler to schedule the pod in any location,\n  but giving higher precedence to topologies that would help reduce the\n  skew.\nA constraint is considered \"Unsatisfiable\" for an incoming pod if and only if every possible node assignment for that pod would violate \"MaxSkew\" on some topology. For example, in a 3-zone cluster, MaxSkew is set to 1, and pods with the same labelSelector spread as 3/1/1: | zone1 | zone2 | zone3 | | P P P |   P   |   P   | If WhenUnsatisfiable is set to DoNotSchedule, incoming pod can only be scheduled to zone2(zone3) to become 3/2/1(3/1/2) as ActualSkew(2-1) on zone2(zone3) satisfies MaxSkew(1). In other words, the cluster can still be imbalanced, but scheduler won't make it *more* imbalanced. It's a required field.",
    ),
    (
        "k8s.HostAlias",
        "hostnames",
        "Hostnames for the above IP address.",
    ),
    ("k8s.HostAlias", "ip", "IP address of the host file entry."),
    (
        "k8s.PodDnsConfig",
        "nameservers",
        "A list of DNS name server IP addresses. This will be appended to the base nameservers generated from DNSPolicy. Duplicated nameservers will be removed.",
    ),
    (
        "k8s.PodDnsConfig",
        "options",
        "A list of DNS resolver options. This will be merged with the base options generated from DNSPolicy. Duplicated entries will be removed. Resolution options given in Options will override those that appear in the base DNSPolicy.",
    ),
    (
        "k8s.PodDnsConfig",
        "searches",
        "A list of DNS search domains for host-name lookup. This will be appended to the base search paths generated from DNSPolicy. Duplicated search paths will be removed.",
    ),
    (
        "k8s.PodDnsConfigOption",
        "name",
        "Name is this DNS resolver option's name. Required.",
    ),
    (
        "k8s.PodDnsConfigOption",
        "value",
        "Value is this DNS resolver option's value.",
    ),
    (
        "k8s.PodReadinessGate",
        "conditionType",
        "ConditionType refers to a condition in the pod's condition list with matching type.",
    ),
    (
        "k8s.PodStatus",
        "conditions",
        "Current service state of pod. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#pod-conditions",
    ),
    (
        "k8s.PodStatus",
        "containerStatuses",
        "Statuses of containers in this pod. Each container in the pod should have at most one status in this list, and all statuses should be for containers in the pod. However this is not enforced. If a status for a non-existent container is present in the list, or the list has duplicate names, the behavior of various Kubernetes components is not defined and those statuses might be ignored. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#pod-and-container-status",
    ),
    (
        "k8s.PodStatus",
        "ephemeralContainerStatuses",
        "Statuses for any ephemeral containers that have run in this pod. Each ephemeral container in the pod should have at most one status in this list, and all statuses should be for containers in the pod. However this is not enforced. If a status for a non-existent container is present in the list, or the list has duplicate names, the behavior of various Kubernetes components is not defined and those statuses might be ignored. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#pod-and-container-status",
    ),
    (
        "k8s.PodStatus",
        "hostIP",
        "hostIP holds the IP address of the host to which the pod is assigned. Empty if the pod has not started yet. A pod can be assigned to a node that has a problem in kubelet which in turns mean that HostIP will not be updated even if there is a node is assigned to pod",
    ),
    (
        "k8s.PodStatus",
        "hostIPs",
        "hostIPs holds the IP addresses allocated to the host. If this field is specified, the first entry must match the hostIP field. This list is empty if the pod has not started yet. A pod can be assigned to a node that has a problem in kubelet which in turns means that HostIPs will not be updated even if there is a node is assigned to this pod.",
    ),
    (
        "k8s.PodStatus",
        "initContainerStatuses",
        "Statuses of init containers in this pod. The most recent successful non-restartable init container will have ready = true, the most recently started container will have startTime set. Each init container in the pod should have at most one status in this list, and all statuses should be for containers in the pod. However this is not enforced. If a status for a non-existent container is present in the list, or the list has duplicate names, the behavior of various Kubernetes components is not defined and those statuses might be ignored. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-and-container-status",
    ),
    (
        "k8s.PodStatus",
        "message",
        "A human readable message indicating details about why the pod is in this condition.",
    ),
    (
        "k8s.PodStatus",
        "nominatedNodeName",
        "nominatedNodeName is set only when this pod preempts other pods on the node, but it cannot be scheduled right away as preemption victims receive their graceful termination periods. This field does not guarantee that the pod will be scheduled on this node. Scheduler may decide to place the pod elsewhere if other nodes become available sooner. Scheduler may also decide to give the resources on this node to a higher priority pod that is created after preemption. As a result, this field may be different than PodSpec.nodeName when the pod is scheduled.",
    ),
    (
        "k8s.PodStatus",
        "observedGeneration",
        "If set, this represents the .metadata.generation that the pod status was set based upon. This is an alpha field. Enable PodObservedGenerationTracking to be able to use this field.",
    ),
    (
        "k8s.PodStatus",
        "phase",
        "The phase of a Pod is a simple, high-level summary of where the Pod is in its lifecycle. The conditions array, the reason and message fields, and the individual container status arrays contain more detail about the pod's status. There are five possible phase values:\n\nPending: The pod has been accepted by the Kubernetes system, but one or more of the container images has not been created. This includes time before being scheduled as well as time spent downloading images over the network, which could take a while. Running: The pod has been bound to a node, and all of the containers have been created. At least one container is still running, or is in the process of starting or restarting. Succeeded: All containers in the pod have terminated in success, and will not be restarted. Failed: All containers in the pod have terminated, and at least one container has terminated in failure. The container either exited with non-zero status or was terminated by the system. Unknown: For some reason the state of the pod could not be obtained, typically due to an error in communicating with the host of the pod.\n\nMore info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#pod-phase",
    ),
    (
        "k8s.PodStatus",
        "podIP",
        "podIP address allocated to the pod. Routable at least within the cluster. Empty if not yet allocated.",
    ),
    (
        "k8s.PodStatus",
        "podIPs",
        "podIPs holds the IP addresses allocated to the pod. If this field is specified, the 0th entry must match the podIP field. Pods may be allocated at most 1 value for each of IPv4 and IPv6. This list is empty if no IPs have been allocated yet.",
    ),
    (
        "k8s.PodStatus",
        "qosClass",
        "The Quality of Service (QOS) classification assigned to the pod based on resource requirements See PodQOSClass type for available QOS classes More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-qos/#quality-of-service-classes",
    ),
    (
        "k8s.PodStatus",
        "reason",
        "A brief CamelCase message indicating details about why the pod is in this state. e.g. 'Evicted'",
    ),
    (
        "k8s.PodStatus",
        "resize",
        "Status of resources resize desired for pod's containers. It is empty if no resources resize is pending. Any changes to container resources will automatically set this to \"Proposed\" Deprecated: Resize status is moved to two pod conditions PodResizePending and PodResizeInProgress. PodResizePending will track states where the spec has been resized, but the Kubelet has not yet allocated the resources. PodResizeInProgress will track in-progress resizes, and should be present whenever allocated resources != acknowledged resources.",
    ),
    (
        "k8s.PodStatus",
        "resourceClaimStatuses",
        "Status of resource claims.",
    ),
    (
        "k8s.PodCondition",
        "message",
        "Human-readable message indicating details about last transition.",
    ),
    (
        "k8s.PodCondition",
        "observedGeneration",
        "If set, this represents the .metadata.generation that the pod condition was set based upon. This is an alpha field. Enable PodObservedGenerationTracking to be able to use this field.",
    ),
    (
        "k8s.PodCondition",
        "reason",
        "Unique, one-word, CamelCase reason for the condition's last transition.",
    ),
    (
        "k8s.PodCondition",
        "status",
        "Status is the status of the condition. Can be True, False, Unknown. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#pod-conditions",
    ),
    (
        "k8s.PodCondition",
        "type",
        "Type is the type of the condition. More info: https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle#pod-conditions",
    ),
    (
        "k8s.HostIp",
        "ip",
        "IP is the IP address assigned to the host",
    ),
    (
        "k8s.PodIp",
        "ip",
        "IP is the IP address assigned to the pod",
    ),
    (
        "k8s.ContainerStatus",
        "allocatedResources",
        "AllocatedResources represents the compute resources allocated for this container by the node. Kubelet sets this value to Container.Resources.Requests upon successful pod admission and after successfully admitting desired pod resize.",
    ),
    (
        "k8s.ContainerStatus",
        "allocatedResourcesStatus",
        "AllocatedResourcesStatus represents the status of various resources allocated for this Pod.",
    ),
    (
        "k8s.ContainerStatus",
        "containerID",
        "ContainerID is the ID of the container in the format '<type>://<container_id>'. Where type is a container runtime identifier, returned from Version call of CRI API (for example \"containerd\").",
    ),
    (
        "k8s.ContainerStatus",
        "image",
        "Image is the name of container image that the container is running. The container image may not match the image used in the PodSpec, as it may have been resolved by the runtime. More info: https://kubernetes.io/docs/concepts/containers/images.",
    ),
    (
        "k8s.ContainerStatus",
        "imageID",
        "ImageID is the image ID of the container's image. The image ID may not match the image ID of the image used in the PodSpec, as it may have been resolved by the runtime.",
    ),
    (
        "k8s.ContainerStatus",
        "name",
        "Name is a DNS_LABEL representing the unique name of the container. Each container in a pod must have a unique name across all container types. Cannot be updated.",
    ),
    (
        "k8s.ContainerStatus",
        "ready",
        "Ready specifies whether the container is currently passing its readiness check. The value will change as readiness probes keep executing. If no readiness probes are specified, this field defaults to true once the container is fully started (see Started field).\n\nThe value is typically used to determine whether a container is ready to accept traffic.",
    ),
    (
        "k8s.ContainerStatus",
        "restartCount",
        "RestartCount holds the number of times the container has been restarted. Kubelet makes an effort to always increment the value, but there are cases when the state may be lost due to node restarts and then the value may be reset to 0. The value is never negative.",
    ),
    (
        "k8s.ContainerStatus",
        "started",
        "Started indicates whether the container has finished its postStart lifecycle hook and passed its startup probe. Initialized as false, becomes true after startupProbe is considered successful. Resets to false when the container is restarted, or if kubelet loses state temporarily. In both cases, startup probes will run again. Is always true when no startupProbe is defined and container is running and has passed the postStart lifecycle hook. The null value must be treated the same as false.",
    ),
    (
        "k8s.ContainerStatus",
        "stopSignal",
        "StopSignal reports the effective stop signal for this container",
    ),
    (
        "k8s.ContainerStatus",
        "volumeMounts",
        "Status of volume mounts.",
    ),
    (
        "k8s.ContainerStateWaiting",
        "message",
        "Message regarding why the container is not yet running.",
    ),
    (
        "k8s.ContainerStateWaiting",
        "reason",
        "(brief) reason the container is not yet running.",
    ),
    (
        "k8s.ContainerStateTerminated",
        "containerID",
        "Container's ID in the format '<type>://<container_id>'",
    ),
    (
        "k8s.ContainerStateTerminated",
        "exitCode",
        "Exit status from the last termination of the container",
    ),
    (
        "k8s.ContainerStateTerminated",
        "message",
        "Message regarding the last termination of the container",
    ),
    (
        "k8s.ContainerStateTerminated",
        "reason",
        "(brief) reason from the last termination of the container",
    ),
    (
        "k8s.ContainerStateTerminated",
        "signal",
        "Signal from the last termination of the container",
    ),
    (
        "k8s.Service",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.Service",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.ServiceSpec",
        "allocateLoadBalancerNodePorts",
        "allocateLoadBalancerNodePorts defines if NodePorts will be automatically allocated for services with type LoadBalancer.  Default is \"true\". It may be set to \"false\" if the cluster load-balancer does not rely on NodePorts.  If the caller requests specific NodePorts (by specifying a value), those requests will be respected, regardless of this field. This field may only be set for services with type LoadBalancer and will be cleared if the type is changed to any other type.",
    ),
    (
        "k8s.ServiceSpec",
        "clusterIP",
        "clusterIP is the IP address of the service and is usually assigned randomly. If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be blank) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address. Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    ),
    (
        "k8s.ServiceSpec",
        "clusterIPs",
        "ClusterIPs is a list of IP addresses assigned to this service, and are usually assigned randomly.  If an address is specified manually, is in-range (as per system configuration), and is not in use, it will be allocated to the service; otherwise creation of the service will fail. This field may not be changed through updates unless the type field is also being changed to ExternalName (which requires this field to be empty) or the type field is being changed from ExternalName (in which case this field may optionally be specified, as describe above).  Valid values are \"None\", empty string (\"\"), or a valid IP address.  Setting this to \"None\" makes a \"headless service\" (no virtual IP), which is useful when direct endpoint connections are preferred and proxying is not required.  Only applies to types ClusterIP, NodePort, and LoadBalancer. If this field is specified when creating a Service of type ExternalName, creation will fail. This field will be wiped when updating a Service to type ExternalName.  If this field is not specified, it will be initialized from the clusterIP field.  If this field is specified, clients must ensure that clusterIPs[0] and clusterIP have the same value.\n\nThis field may hold a maximum of two entries (dual-stack IPs, in either order). These IPs must correspond to the values of the ipFamilies field. Both clusterIPs and ipFamilies are governed by the ipFamilyPolicy field. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    ),
    (
        "k8s.ServiceSpec",
        "externalIPs",
        "externalIPs is a list of IP addresses for which nodes in the cluster will also accept traffic for this service.  These IPs are not managed by Kubernetes.  The user is responsible for ensuring that traffic arrives at a node with this IP.  A common example is external load-balancers that are not part of the Kubernetes system.",
    ),
    (
        "k8s.ServiceSpec",
        "externalName",
        "externalName is the external reference that discovery mechanisms will return as an alias for this service (e.g. a DNS CNAME record). No proxying will be involved.  Must be a lowercase RFC-1123 hostname (https://tools.ietf.org/html/rfc1123) and requires `type` to be \"ExternalName\".",
    ),
    (
        "k8s.ServiceSpec",
        "externalTrafficPolicy",
        "externalTrafficPolicy describes how nodes distribute service traffic they receive on one of the Service's \"externally-facing\" addresses (NodePorts, ExternalIPs, and LoadBalancer IPs). If set to \"Local\", the proxy will configure the service in a way that assumes that external load balancers will take care of balancing the service traffic between nodes, and so each node will deliver traffic only to the node-local endpoints of the service, without masquerading the client source IP. (Traffic mistakenly sent to a node with no endpoints will be dropped.) The default value, \"Cluster\", uses the standard behavior of routing to all endpoints evenly (possibly modified by topology and other features). Note that traffic sent to an External IP or LoadBalancer IP from within the cluster will always get \"Cluster\" semantics, but clients sending to a NodePort from within the cluster may need to take traffic policy into account when picking a node.",
    ),
    (
        "k8s.ServiceSpec",
        "healthCheckNodePort",
        "healthCheckNodePort specifies the healthcheck nodePort for the service. This only applies when type is set to LoadBalancer and externalTrafficPolicy is set to Local. If a value is specified, is in-range, and is not in use, it will be used.  If not specified, a value will be automatically allocated.  External systems (e.g. load-balancers) can use this port to determine if a given node holds endpoints for this service or not.  If this field is specified when creating a Service which does not need it, creation will fail. This field will be wiped when updating a Service to no longer need it (e.g. changing type). This field cannot be updated once set.",
    ),
    (
        "k8s.ServiceSpec",
        "internalTrafficPolicy",
        "InternalTrafficPolicy describes how nodes distribute service traffic they receive on the ClusterIP. If set to \"Local\", the proxy will assume that pods only want to talk to endpoints of the service on the same node as the pod, dropping the traffic if there are no local endpoints. The default value, \"Cluster\", uses the standard behavior of routing to all endpoints evenly (possibly modified by topology and other features).",
    ),
    (
        "k8s.ServiceSpec",
        "ipFamilies",
        "IPFamilies is a list of IP families (e.g. IPv4, IPv6) assigned to this service. This field is usually assigned automatically based on cluster configuration and the ipFamilyPolicy field. If this field is specified manually, the requested family is available in the cluster, and ipFamilyPolicy allows it, it will be used; otherwise creation of the service will fail. This field is conditionally mutable: it allows for adding or removing a secondary IP family, but it does not allow changing the primary IP family of the Service. Valid values are \"IPv4\" and \"IPv6\".  This field only applies to Services of types ClusterIP, NodePort, and LoadBalancer, and does apply to \"headless\" services. This field will be wiped when updating a Service to type ExternalName.\n\nThis field may hold a maximum of two entries (dual-stack families, in either order).  These families must correspond to the values of the clusterIPs field, if specified. Both clusterIPs and ipFamilies are governed by the ipFamilyPolicy field.",
    ),
    (
        "k8s.ServiceSpec",
        "ipFamilyPolicy",
        "IPFamilyPolicy represents the dual-stack-ness requested or required by this Service. If there is no value provided, then this field will be set to SingleStack. Services can be \"SingleStack\" (a single IP family), \"PreferDualStack\" (two IP families on dual-stack configured clusters or a single IP family on single-stack clusters), or \"RequireDualStack\" (two IP families on dual-stack configured clusters, otherwise fail). The ipFamilies and clusterIPs fields depend on the value of this field. This field will be wiped when updating a service to type ExternalName.",
    ),
    (
        "k8s.ServiceSpec",
        "loadBalancerClass",
        "loadBalancerClass is the class of the load balancer implementation this Service belongs to. If specified, the value of this field must be a label-style identifier, with an optional prefix, e.g. \"internal-vip\" or \"example.com/internal-vip\". Unprefixed names are reserved for end-users. This field can only be set when the Service type is 'LoadBalancer'. If not set, the default load balancer implementation is used, today this is typically done through the cloud provider integration, but should apply for any default implementation. If set, it is assumed that a load balancer implementation is watching for Services with a matching class. Any default load balancer implementation (e.g. cloud providers) should ignore Services that set this field. This field can only be set when creating or updating a Service to type 'LoadBalancer'. Once set, it can not be changed. This field will be wiped when a service is updated to a non 'LoadBalancer' type.",
    ),
    (
        "k8s.ServiceSpec",
        "loadBalancerIP",
        "Only applies to Service Type: LoadBalancer. This feature depends on whether the underlying cloud-provider supports specifying the loadBalancerIP when a load balancer is created. This field will be ignored if the cloud-provider does not support the feature. Deprecated: This field was under-specified and its meaning varies across implementations. Using it is non-portable and it may not support dual-stack. Users are encouraged to use implementation-specific annotations when available.",
    ),
    (
        "k8s.ServiceSpec",
        "loadBalancerSourceRanges",
        "If specified and supported by the platform, this will restrict traffic through the cloud-provider load-balancer will be restricted to the specified client IPs. This field will be ignored if the cloud-provider does not support the feature.\" More info: https://kubernetes.io/docs/tasks/access-application-cluster/create-external-load-balancer/",
    ),
    (
        "k8s.ServiceSpec",
        "ports",
        "The list of ports that are exposed by this service. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    ),
    (
        "k8s.ServiceSpec",
        "publishNotReadyAddresses",
        "publishNotReadyAddresses indicates that any agent which deals with endpoints for this Service should disregard any indications of ready/not-ready. The primary use case for setting this field is for a StatefulSet's Headless Service to propagate SRV DNS records for its Pods for the purpose of peer discovery. The Kubernetes controllers that generate Endpoints and EndpointSlice resources for Services interpret this to mean that all endpoints are considered \"ready\" even if the Pods themselves are not. Agents which consume only Kubernetes generated endpoints through the Endpoints or EndpointSlice resources can safely assume this behavior.",
    ),
    (
        "k8s.ServiceSpec",
        "selector",
        "Route service traffic to pods with label keys and values matching this selector. If empty or not present, the service is assumed to have an external process managing its endpoints, which Kubernetes will not modify. Only applies to types ClusterIP, NodePort, and LoadBalancer. Ignored if type is ExternalName. More info: https://kubernetes.io/docs/concepts/services-networking/service/",
    ),
    (
        "k8s.ServiceSpec",
        "sessionAffinity",
        "Supports \"ClientIP\" and \"None\". Used to maintain session affinity. Enable client IP based session affinity. Must be ClientIP or None. Defaults to None. More info: https://kubernetes.io/docs/concepts/services-networking/service/#virtual-ips-and-service-proxies",
    ),
    (
        "k8s.ServiceSpec",
        "trafficDistribution",
        "TrafficDistribution offers a way to express preferences for how traffic is distributed to Service endpoints. Implementations can use this field as a hint, but are not required to guarantee strict adherence. If the field is not set, the implementation will apply its default routing strategy. If set to \"PreferClose\", implementations should prioritize endpoints that are in the same zone.",
    ),
    (
        "k8s.ServiceSpec",
        "type",
        "type determines how the Service is exposed. Defaults to ClusterIP. Valid options are ExternalName, ClusterIP, NodePort, and LoadBalancer. \"ClusterIP\" allocates a cluster-internal IP address for load-balancing to endpoints. Endpoints are determined by the selector or if that is not specified, by manual construction of an Endpoints object or EndpointSlice objects. If clusterIP is \"None\", no virtual IP is allocated and the endpoints are published as a set of endpoints rather than a virtual IP. \"NodePort\" builds on ClusterIP and allocates a port on every node which routes to the same endpoints as the clusterIP. \"LoadBalancer\" builds on NodePort and creates an external load-balancer (if supported in the current cloud) which routes to the same endpoints as the clusterIP. \"ExternalName\" aliases this service to the specified externalName. Several other fields do not apply to ExternalName services. More info: https://kubernetes.io/docs/concepts/services-networking/service/#publishing-services-service-types",
    ),
    (
        "k8s.ServicePort",
        "appProtocol",
        "The application protocol for this port. This is used as a hint for implementations to offer richer behavior for protocols that they understand. This field follows standard Kubernetes label syntax. Valid values are either:\n\n* Un-prefixed protocol names - reserved for IANA standard service names (as per RFC-6335 and https://www.iana.org/assignments/service-names).\n\n* Kubernetes-defined prefixed names:\n  * 'kubernetes.io/h2c' - HTTP/2 prior knowledge over cleartext as described in https://www.rfc-editor.org/rfc/rfc9113.html#name-starting-http-2-with-prior-\n  * 'kubernetes.io/ws'  - WebSocket over cleartext as described in https://www.rfc-editor.org/rfc/rfc6455\n  * 'kubernetes.io/wss' - WebSocket over TLS as described in https://www.rfc-editor.org/rfc/rfc6455\n\n* Other protocols should use implementation-defined prefixed names such as mycompany.com/my-custom-protocol.",
    ),
    (
        "k8s.ServicePort",
        "name",
        "The name of this port within the service. This must be a DNS_LABEL. All ports within a ServiceSpec must have unique names. When considering the endpoints for a Service, this must match the 'name' field in the EndpointPort. Optional if only one ServicePort is defined on this service.",
    ),
    (
        "k8s.ServicePort",
        "nodePort",
        "The port on each node on which this service is exposed when type is NodePort or LoadBalancer.  Usually assigned by the system. If a value is specified, in-range, and not in use it will be used, otherwise the operation will fail.  If not specified, a port will be allocated if this Service requires one.  If this field is specified when creating a Service which does not need it, creation will fail. This field will be wiped when updating a Service to no longer need it (e.g. changing type from NodePort to ClusterIP). More info: https://kubernetes.io/docs/concepts/services-networking/service/#type-nodeport",
    ),
    (
        "k8s.ServicePort",
        "port",
        "The port that will be exposed by this service.",
    ),
    (
        "k8s.ServicePort",
        "protocol",
        "The IP protocol for this port. Supports \"TCP\", \"UDP\", and \"SCTP\". Default is TCP.",
    ),
    (
        "k8s.ClientIpConfig",
        "timeoutSeconds",
        "timeoutSeconds specifies the seconds of ClientIP type session sticky time. The value must be >0 && <=86400(for 1 day) if ServiceAffinity == \"ClientIP\". Default value is 10800(for 3 hours).",
    ),
    ("k8s.ServiceStatus", "conditions", "Current service state"),
    (
        "k8s.LoadBalancerStatus",
        "ingress",
        "Ingress is a list containing ingress points for the load-balancer. Traffic intended for the service should be sent to these ingress points.",
    ),
    (
        "k8s.LoadBalancerIngress",
        "hostname",
        "Hostname is set for load-balancer ingress points that are DNS based (typically AWS load-balancers)",
    ),
    (
        "k8s.LoadBalancerIngress",
        "ip",
        "IP is set for load-balancer ingress points that are IP based (typically GCE or OpenStack load-balancers)",
    ),
    (
        "k8s.LoadBalancerIngress",
        "ipMode",
        "IPMode specifies how the load-balancer IP behaves, and may only be specified when the ip field is specified. Setting this to \"VIP\" indicates that traffic is delivered to the node with the destination set to the load-balancer's IP and port. Setting this to \"Proxy\" indicates that traffic is delivered to the node or pod with the destination set to the node's IP and node port or the pod's IP and port. Service implementations may use this information to adjust traffic routing.",
    ),
    (
        "k8s.LoadBalancerIngress",
        "ports",
        "Ports is a list of records of service ports If used, every port defined in the service should have an entry in it",
    ),
    (
        "k8s.PortStatus",
        "error",
        "Error is to record the problem with the service port The format of the error shall comply with the following rules: - built-in error values shall be specified in this file and those shall use\n  CamelCase names\n- cloud provider specific error values must have names that comply with the\n  format foo.example.com/CamelCase.",
    ),
    (
        "k8s.PortStatus",
        "port",
        "Port is the port number of the service port of which status is recorded here",
    ),
    (
        "k8s.PortStatus",
        "protocol",
        "Protocol is the protocol of the service port of which status is recorded here The supported values are: \"TCP\", \"UDP\", \"SCTP\"",
    ),
    (
        "k8s.Endpoints",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.Endpoints",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.Endpoints",
        "subsets",
        "The set of all endpoints is the union of all subsets. Addresses are placed into subsets according to the IPs they share. A single address with multiple ports, some of which are ready and some of which are not (because they come from different containers) will result in the address being displayed in different subsets for the different ports. No address will appear in both Addresses and NotReadyAddresses in the same subset. Sets of addresses and ports that comprise a service.",
    ),
    (
        "k8s.EndpointSubset",
        "addresses",
        "IP addresses which offer the related ports that are marked as ready. These endpoints should be considered safe for load balancers and clients to utilize.",
    ),
    (
        "k8s.EndpointSubset",
        "notReadyAddresses",
        "IP addresses which offer the related ports but are not currently marked as ready because they have not yet finished starting, have recently failed a readiness check, or have recently failed a liveness check.",
    ),
    (
        "k8s.EndpointSubset",
        "ports",
        "Port numbers available on the related IP addresses.",
    ),
    (
        "k8s.EndpointAddress",
        "hostname",
        "The Hostname of this endpoint",
    ),
    (
        "k8s.EndpointAddress",
        "ip",
        "The IP of this endpoint. May not be loopback (127.0.0.0/8 or ::1), link-local (169.254.0.0/16 or fe80::/10), or link-local multicast (224.0.0.0/24 or ff02::/16).",
    ),
    (
        "k8s.EndpointAddress",
        "nodeName",
        "Optional: Node hosting this endpoint. This can be used to determine endpoints local to a node.",
    ),
    (
        "k8s.EndpointPort",
        "appProtocol",
        "The application protocol for this port. This is used as a hint for implementations to offer richer behavior for protocols that they understand. This field follows standard Kubernetes label syntax. Valid values are either:\n\n* Un-prefixed protocol names - reserved for IANA standard service names (as per RFC-6335 and https://www.iana.org/assignments/service-names).\n\n* Kubernetes-defined prefixed names:\n  * 'kubernetes.io/h2c' - HTTP/2 prior knowledge over cleartext as described in https://www.rfc-editor.org/rfc/rfc9113.html#name-starting-http-2-with-prior-\n  * 'kubernetes.io/ws'  - WebSocket over cleartext as described in https://www.rfc-editor.org/rfc/rfc6455\n  * 'kubernetes.io/wss' - WebSocket over TLS as described in https://www.rfc-editor.org/rfc/rfc6455\n\n* Other protocols should use implementation-defined prefixed names such as mycompany.com/my-custom-protocol.",
    ),
    (
        "k8s.EndpointPort",
        "name",
        "The name of this port.  This must match the 'name' field in the corresponding ServicePort. Must be a DNS_LABEL. Optional only if one port is defined.",
    ),
    (
        "k8s.EndpointPort",
        "port",
        "The port number of the endpoint.",
    ),
    (
        "k8s.EndpointPort",
        "protocol",
        "The IP protocol for this port. Must be UDP, TCP, or SCTP. Default is TCP.",
    ),
    (
        "k8s.ConfigMap",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.ConfigMap",
        "binaryData",
        "BinaryData contains the binary data. Each key must consist of alphanumeric characters, '-', '_' or '.'. BinaryData can contain byte sequences that are not in the UTF-8 range. The keys stored in BinaryData must not overlap with the ones in the Data field, this is enforced during validation process. Using this field will require 1.10+ apiserver and kubelet.",
    ),
    (
        "k8s.ConfigMap",
        "data",
        "Data contains the configuration data. Each key must consist of alphanumeric characters, '-', '_' or '.'. Values with non-UTF-8 byte sequences must use the BinaryData field. The keys stored in Data must not overlap with the keys in the BinaryData field, this is enforced during validation process.",
    ),
    (
        "k8s.ConfigMap",
        "immutable",
        "Immutable, if set to true, ensures that data stored in the ConfigMap cannot be updated (only object metadata can be modified). If not set to true, the field can be modified at any time. Defaulted to nil.",
    ),
    (
        "k8s.ConfigMap",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.Secret",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.Secret",
        "data",
        "Data contains the secret data. Each key must consist of alphanumeric characters, '-', '_' or '.'. The serialized form of the secret data is a base64 encoded string, representing the arbitrary (possibly non-string) data value here. Described in https://tools.ietf.org/html/rfc4648#section-4",
    ),
    (
        "k8s.Secret",
        "immutable",
        "Immutable, if set to true, ensures that data stored in the Secret cannot be updated (only object metadata can be modified). If not set to true, the field can be modified at any time. Defaulted to nil.",
    ),
    (
        "k8s.Secret",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.Secret",
        "stringData",
        "stringData allows specifying non-binary secret data in string form. It is provided as a write-only input field for convenience. All keys and values are merged into the data field on write, overwriting any existing values. The stringData field is never output when reading from the API.",
    ),
    (
        "k8s.Secret",
        "type",
        "Used to facilitate programmatic handling of secret data. More info: https://kubernetes.io/docs/concepts/configuration/secret/#secret-types",
    ),
    (
        "k8s.ServiceAccount",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.ServiceAccount",
        "automountServiceAccountToken",
        "AutomountServiceAccountToken indicates whether pods running as this service account should have an API token automatically mounted. Can be overridden at the pod level.",
    ),
    (
        "k8s.ServiceAccount",
        "imagePullSecrets",
        "ImagePullSecrets is a list of references to secrets in the same namespace to use for pulling any images in pods that reference this ServiceAccount. ImagePullSecrets are distinct from Secrets because Secrets can be mounted in the pod, but ImagePullSecrets are only accessed by the kubelet. More info: https://kubernetes.io/docs/concepts/containers/images/#specifying-imagepullsecrets-on-a-pod",
    ),
    (
        "k8s.ServiceAccount",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.ServiceAccount",
        "secrets",
        "Secrets is a list of the secrets in the same namespace that pods running using this ServiceAccount are allowed to use. Pods are only limited to this list if this service account has a \"kubernetes.io/enforce-mountable-secrets\" annotation set to \"true\". The \"kubernetes.io/enforce-mountable-secrets\" annotation is deprecated since v1.32. Prefer separate namespaces to isolate access to mounted secrets. This field should not be used to find auto-generated service account token secrets for use outside of pods. Instead, tokens can be requested directly using the TokenRequest API, or service account token secrets can be manually created. More info: https://kubernetes.io/docs/concepts/configuration/secret",
    ),
    (
        "k8s.Event",
        "action",
        "What action was taken/failed regarding to the Regarding object.",
    ),
    (
        "k8s.Event",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.Event",
        "count",
        "The number of times this event has occurred.",
    ),
    (
        "k8s.Event",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.Event",
        "message",
        "A human-readable description of the status of this operation.",
    ),
    (
        "k8s.Event",
        "reason",
        "This should be a short, machine understandable string that gives the reason for the transition into the object's current status.",
    ),
    (
        "k8s.Event",
        "reportingComponent",
        "Name of the controller that emitted this Event, e.g. `kubernetes.io/kubelet`.",
    ),
    (
        "k8s.Event",
        "reportingInstance",
        "ID of the controller instance, e.g. `kubelet-xyzf`.",
    ),
    (
        "k8s.Event",
        "type",
        "Type of this event (Normal, Warning), new types could be added in the future",
    ),
    (
        "k8s.EventSource",
        "component",
        "Component from which the event is generated.",
    ),
    (
        "k8s.EventSource",
        "host",
        "Node name on which the event is generated.",
    ),
    (
        "k8s.EventSeries",
        "count",
        "Number of occurrences in this series up to the last heartbeat time",
    ),
    (
        "k8s.ResourceQuota",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.ResourceQuota",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.ResourceQuotaSpec",
        "hard",
        "hard is the set of desired hard limits for each named resource. More info: https://kubernetes.io/docs/concepts/policy/resource-quotas/",
    ),
    (
        "k8s.ResourceQuotaSpec",
        "scopes",
        "A collection of filters that must match each object tracked by a quota. If not specified, the quota matches all objects.",
    ),
    (
        "k8s.ScopeSelector",
        "matchExpressions",
        "A list of scope selector requirements by scope of the resources.",
    ),
    (
        "k8s.ScopedResourceSelectorRequirement",
        "operator",
        "Represents a scope's relationship to a set of values. Valid operators are In, NotIn, Exists, DoesNotExist.",
    ),
    (
        "k8s.ScopedResourceSelectorRequirement",
        "scopeName",
        "The name of the scope that the selector applies to.",
    ),
    (
        "k8s.ScopedResourceSelectorRequirement",
        "values",
        "An array of string values. If the operator is In or NotIn, the values array must be non-empty. If the operator is Exists or DoesNotExist, the values array must be empty. This array is replaced during a strategic merge patch.",
    ),
    (
        "k8s.ResourceQuotaStatus",
        "hard",
        "Hard is the set of enforced hard limits for each named resource. More info: https://kubernetes.io/docs/concepts/policy/resource-quotas/",
    ),
    (
        "k8s.ResourceQuotaStatus",
        "used",
        "Used is the current observed total usage of the resource in the namespace.",
    ),
    (
        "k8s.LimitRange",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.LimitRange",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.LimitRangeSpec",
        "limits",
        "Limits is the list of LimitRangeItem objects that are enforced.",
    ),
    (
        "k8s.LimitRangeItem",
        "default",
        "Default resource requirement limit value by resource name if resource limit is omitted.",
    ),
    (
        "k8s.LimitRangeItem",
        "defaultRequest",
        "DefaultRequest is the default resource requirement request value by resource name if resource request is omitted.",
    ),
    (
        "k8s.LimitRangeItem",
        "max",
        "Max usage constraints on this kind by resource name.",
    ),
    (
        "k8s.LimitRangeItem",
        "maxLimitRequestRatio",
        "MaxLimitRequestRatio if specified, the named resource must have a request and limit that are both non-zero where limit divided by request is less than or equal to the enumerated value; this represents the max burst for the named resource.",
    ),
    (
        "k8s.LimitRangeItem",
        "min",
        "Min usage constraints on this kind by resource name.",
    ),
    (
        "k8s.LimitRangeItem",
        "type",
        "Type of resource that this limit applies to.",
    ),
    (
        "k8s.PersistentVolume",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.PersistentVolume",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.PersistentVolumeSpec",
        "accessModes",
        "accessModes contains all ways the volume can be mounted. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes",
    ),
    (
        "k8s.PersistentVolumeSpec",
        "capacity",
        "capacity is the description of the persistent volume's resources and capacity. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#capacity",
    ),
    (
        "k8s.PersistentVolumeSpec",
        "mountOptions",
        "mountOptions is the list of mount options, e.g. [\"ro\", \"soft\"]. Not validated - mount will simply fail if one is invalid. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes/#mount-options",
    ),
    (
        "k8s.PersistentVolumeSpec",
        "persistentVolumeReclaimPolicy",
        "persistentVolumeReclaimPolicy defines what happens to a persistent volume when released from its claim. Valid options are Retain (default for manually created PersistentVolumes), Delete (default for dynamically provisioned PersistentVolumes), and Recycle (deprecated). Recycle must be supported by the volume plugin underlying this PersistentVolume. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#reclaiming",
    ),
    (
        "k8s.PersistentVolumeSpec",
        "storageClassName",
        "storageClassName is the name of StorageClass to which this persistent volume belongs. Empty value means that this volume does not belong to any StorageClass.",
    ),
    (
        "k8s.PersistentVolumeSpec",
        "volumeAttributesClassName",
        "Name of VolumeAttributesClass to which this persistent volume belongs. Empty value is not allowed. When this field is not set, it indicates that this volume does not belong to any VolumeAttributesClass. This field is mutable and can be changed by the CSI driver after a volume has been updated successfully to a new class. For an unbound PersistentVolume, the volumeAttributesClassName will be matched with unbound PersistentVolumeClaims during the binding process. This is a beta field and requires enabling VolumeAttributesClass feature (off by default).",
    ),
    (
        "k8s.PersistentVolumeSpec",
        "volumeMode",
        "volumeMode defines if a volume is intended to be used with a formatted filesystem or to remain in raw block state. Value of Filesystem is implied when not included in spec.",
    ),
    (
        "k8s.LocalVolumeSource",
        "fsType",
        "fsType is the filesystem type to mount. It applies only when the Path is a block device. Must be a filesystem type supported by the host operating system. Ex. \"ext4\", \"xfs\", \"ntfs\". The default value is to auto-select a filesystem if unspecified.",
    ),
    (
        "k8s.LocalVolumeSource",
        "path",
        "path of the full path to the volume on the node. It can be either a directory or block device (disk, partition, ...).",
    ),
    (
        "k8s.PersistentVolumeStatus",
        "message",
        "message is a human-readable message indicating details about why the volume is in this state.",
    ),
    (
        "k8s.PersistentVolumeStatus",
        "phase",
        "phase indicates if a volume is available, bound to a claim, or released by a claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#phase",
    ),
    (
        "k8s.PersistentVolumeStatus",
        "reason",
        "reason is a brief CamelCase string that describes any failure and is meant for machine parsing and tidy display in the CLI.",
    ),
    (
        "k8s.PersistentVolumeClaim",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.PersistentVolumeClaim",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.PersistentVolumeClaimSpec",
        "accessModes",
        "accessModes contains the desired access modes the volume should have. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1",
    ),
    (
        "k8s.PersistentVolumeClaimSpec",
        "storageClassName",
        "storageClassName is the name of the StorageClass required by the claim. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#class-1",
    ),
    (
        "k8s.PersistentVolumeClaimSpec",
        "volumeAttributesClassName",
        "volumeAttributesClassName may be used to set the VolumeAttributesClass used by this claim. If specified, the CSI driver will create or update the volume with the attributes defined in the corresponding VolumeAttributesClass. This has a different purpose than storageClassName, it can be changed after the claim is created. An empty string value means that no VolumeAttributesClass will be applied to the claim but it's not allowed to reset this field to empty string once it is set. If unspecified and the PersistentVolumeClaim is unbound, the default VolumeAttributesClass will be set by the persistentvolume controller if it exists. If the resource referred to by volumeAttributesClass does not exist, this PersistentVolumeClaim will be set to a Pending state, as reflected by the modifyVolumeStatus field, until such as a resource exists. More info: https://kubernetes.io/docs/concepts/storage/volume-attributes-classes/ (Beta) Using this field requires the VolumeAttributesClass feature gate to be enabled (off by default).",
    ),
    (
        "k8s.PersistentVolumeClaimSpec",
        "volumeMode",
        "volumeMode defines what type of volume is required by the claim. Value of Filesystem is implied when not included in claim spec.",
    ),
    (
        "k8s.PersistentVolumeClaimSpec",
        "volumeName",
        "volumeName is the binding reference to the PersistentVolume backing this claim.",
    ),
    (
        "k8s.VolumeResourceRequirements",
        "limits",
        "Limits describes the maximum amount of compute resources allowed. More info: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
    ),
    (
        "k8s.VolumeResourceRequirements",
        "requests",
        "Requests describes the minimum amount of compute resources required. If Requests is omitted for a container, it defaults to Limits if that is explicitly specified, otherwise to an implementation-defined value. Requests cannot exceed Limits. More info: https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/",
    ),
    (
        "k8s.TypedLocalObjectReference",
        "apiGroup",
        "APIGroup is the group for the resource being referenced. If APIGroup is not specified, the specified Kind must be in the core API group. For any other third-party types, APIGroup is required.",
    ),
    (
        "k8s.TypedLocalObjectReference",
        "kind",
        "Kind is the type of resource being referenced",
    ),
    (
        "k8s.TypedLocalObjectReference",
        "name",
        "Name is the name of resource being referenced",
    ),
    (
        "k8s.PersistentVolumeClaimStatus",
        "accessModes",
        "accessModes contains the actual access modes the volume backing the PVC has. More info: https://kubernetes.io/docs/concepts/storage/persistent-volumes#access-modes-1",
    ),
    (
        "k8s.PersistentVolumeClaimStatus",
        "allocatedResourceStatuses",
        "allocatedResourceStatuses stores status of resource being resized for the given PVC. Key names follow standard Kubernetes label syntax. Valid values are either:\n\t* Un-prefixed keys:\n\t\t- storage - the capacity of the volume.\n\t* Custom resources must use implementation-defined prefixed names such as \"example.com/my-custom-resource\"\nApart from above values - keys that are unprefixed or have kubernetes.io prefix are considered reserved and hence may not be used.\n\nClaimResourceStatus can be in any of following states:\n\t- ControllerResizeInProgress:\n\t\tState set when resize controller starts resizing the volume in control-plane.\n\t- ControllerResizeFailed:\n\t\tState set when resize has failed in resize controller with a terminal error.\n\t- NodeResizePending:\n\t\tState set when resize controller has finished resizing the volume but further resizing of\n\t\tvolume is needed on the node.\n\t- NodeResizeInProgress:\n\t\tState set when kubelet starts resizing the volume.\n\t- NodeResizeFailed:\n\t\tState set when resizing has failed in kubelet with a terminal error. Transient errors don't set\n\t\tNodeResizeFailed.\nFor example: if expanding a PVC for more capacity - this field can be one of the following states:\n\t- pvc.status.allocatedResourceStatus['storage'] = \"ControllerResizeInProgress\"\n     - pvc.status.allocatedResourceStatus['storage'] = \"ControllerResizeFailed\"\n     - pvc.status.allocatedResourceStatus['storage'] = \"NodeResizePending\"\n     - pvc.status.allocatedResourceStatus['storage'] = \"NodeResizeInProgress\"\n     - pvc.status.allocatedResourceStatus['storage'] = \"NodeResizeFailed\"\nWhen this field is not set, it means that no resize operation is in progress for the given PVC.\n\nA controller that receives PVC update with previously unknown resourceName or ClaimResourceStatus should ignore the update for the purpose it was designed. For example - a controller that only is responsible for resizing capacity of the volume, should ignore PVC updates that change other valid resources associated with PVC.\n\nThis is an alpha field and requires enabling RecoverVolumeExpansionFailure feature.",
    ),
    (
        "k8s.PersistentVolumeClaimStatus",
        "allocatedResources",
        "allocatedResources tracks the resources allocated to a PVC including its capacity. Key names follow standard Kubernetes label syntax. Valid values are either:\n\t* Un-prefixed keys:\n\t\t- storage - the capacity of the volume.\n\t* Custom resources must use implementation-defined prefixed names such as \"example.com/my-custom-resource\"\nApart from above values - keys that are unprefixed or have kubernetes.io prefix are considered reserved and hence may not be used.\n\nCapacity reported here may be larger than the actual capacity when a volume expansion operation is requested. For storage quota, the larger value from allocatedResources and PVC.spec.resources is used. If allocatedResources is not set, PVC.spec.resources alone is used for quota calculation. If a volume expansion capacity request is lowered, allocatedResources is only lowered if there are no expansion operations in progress and if the actual volume capacity is equal or lower than the requested capacity.\n\nA controller that receives PVC update with previously unknown resourceName should ignore the update for the purpose it was designed. For example - a controller that only is responsible for resizing capacity of the volume, should ignore PVC updates that change other valid resources associated with PVC.\n\nThis is an alpha field and requires enabling RecoverVolumeExpansionFailure feature.",
    ),
    (
        "k8s.PersistentVolumeClaimStatus",
        "capacity",
        "capacity represents the actual resources of the underlying volume.",
    ),
    (
        "k8s.PersistentVolumeClaimStatus",
        "conditions",
        "conditions is the current Condition of persistent volume claim. If underlying persistent volume is being resized then the Condition will be set to 'Resizing'.",
    ),
    (
        "k8s.PersistentVolumeClaimStatus",
        "currentVolumeAttributesClassName",
        "currentVolumeAttributesClassName is the current name of the VolumeAttributesClass the PVC is using. When unset, there is no VolumeAttributeClass applied to this PersistentVolumeClaim This is a beta field and requires enabling VolumeAttributesClass feature (off by default).",
    ),
    (
        "k8s.PersistentVolumeClaimStatus",
        "phase",
        "phase represents the current phase of PersistentVolumeClaim.",
    ),
    (
        "k8s.PersistentVolumeClaimCondition",
        "message",
        "message is the human-readable message indicating details about last transition.",
    ),
    (
        "k8s.PersistentVolumeClaimCondition",
        "reason",
        "reason is a unique, this should be a short, machine understandable string that gives the reason for condition's last transition. If it reports \"Resizing\" that means the underlying persistent volume is being resized.",
    ),
    (
        "k8s.PersistentVolumeClaimCondition",
        "status",
        "Status is the status of the condition. Can be True, False, Unknown. More info: https://kubernetes.io/docs/reference/kubernetes-api/config-and-storage-resources/persistent-volume-claim-v1/#:~:text=state%20of%20pvc-,conditions.status,-(string)%2C%20required",
    ),
    (
        "k8s.PersistentVolumeClaimCondition",
        "type",
        "Type is the type of the condition. More info: https://kubernetes.io/docs/reference/kubernetes-api/config-and-storage-resources/persistent-volume-claim-v1/#:~:text=set%20to%20%27ResizeStarted%27.-,PersistentVolumeClaimCondition,-contains%20details%20about",
    ),
    (
        "k8s.ReplicaSet",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.ReplicaSet",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.ReplicaSetSpec",
        "minReadySeconds",
        "Minimum number of seconds for which a newly created pod should be ready without any of its container crashing, for it to be considered available. Defaults to 0 (pod will be considered available as soon as it is ready)",
    ),
    (
        "k8s.ReplicaSetSpec",
        "replicas",
        "Replicas is the number of desired pods. This is a pointer to distinguish between explicit zero and unspecified. Defaults to 1. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
    ),
    (
        "k8s.ReplicaSetStatus",
        "availableReplicas",
        "The number of available non-terminating pods (ready for at least minReadySeconds) for this replica set.",
    ),
    (
        "k8s.ReplicaSetStatus",
        "conditions",
        "Represents the latest available observations of a replica set's current state.",
    ),
    (
        "k8s.ReplicaSetStatus",
        "fullyLabeledReplicas",
        "The number of non-terminating pods that have labels matching the labels of the pod template of the replicaset.",
    ),
    (
        "k8s.ReplicaSetStatus",
        "observedGeneration",
        "ObservedGeneration reflects the generation of the most recently observed ReplicaSet.",
    ),
    (
        "k8s.ReplicaSetStatus",
        "readyReplicas",
        "The number of non-terminating pods targeted by this ReplicaSet with a Ready Condition.",
    ),
    (
        "k8s.ReplicaSetStatus",
        "replicas",
        "Replicas is the most recently observed number of non-terminating pods. More info: https://kubernetes.io/docs/concepts/workloads/controllers/replicaset",
    ),
    (
        "k8s.ReplicaSetStatus",
        "terminatingReplicas",
        "The number of terminating pods for this replica set. Terminating pods have a non-null .metadata.deletionTimestamp and have not yet reached the Failed or Succeeded .status.phase.\n\nThis is an alpha field. Enable DeploymentReplicaSetTerminatingReplicas to be able to use this field.",
    ),
    (
        "k8s.ReplicaSetCondition",
        "message",
        "A human readable message indicating details about the transition.",
    ),
    (
        "k8s.ReplicaSetCondition",
        "reason",
        "The reason for the condition's last transition.",
    ),
    (
        "k8s.ReplicaSetCondition",
        "status",
        "Status of the condition, one of True, False, Unknown.",
    ),
    (
        "k8s.ReplicaSetCondition",
        "type",
        "Type of replica set condition.",
    ),
    (
        "k8s.Deployment",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.Deployment",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.DeploymentSpec",
        "minReadySeconds",
        "Minimum number of seconds for which a newly created pod should be ready without any of its container crashing, for it to be considered available. Defaults to 0 (pod will be considered available as soon as it is ready)",
    ),
    (
        "k8s.DeploymentSpec",
        "paused",
        "Indicates that the deployment is paused.",
    ),
    (
        "k8s.DeploymentSpec",
        "progressDeadlineSeconds",
        "The maximum time in seconds for a deployment to make progress before it is considered to be failed. The deployment controller will continue to process failed deployments and a condition with a ProgressDeadlineExceeded reason will be surfaced in the deployment status. Note that progress will not be estimated during the time a deployment is paused. Defaults to 600s.",
    ),
    (
        "k8s.DeploymentSpec",
        "replicas",
        "Number of desired pods. This is a pointer to distinguish between explicit zero and not specified. Defaults to 1.",
    ),
    (
        "k8s.DeploymentSpec",
        "revisionHistoryLimit",
        "The number of old ReplicaSets to retain to allow rollback. This is a pointer to distinguish between explicit zero and not specified. Defaults to 10.",
    ),
    (
        "k8s.DeploymentStrategy",
        "type",
        "Type of deployment. Can be \"Recreate\" or \"RollingUpdate\". Default is RollingUpdate.",
    ),
    (
        "k8s.DeploymentStatus",
        "availableReplicas",
        "Total number of available non-terminating pods (ready for at least minReadySeconds) targeted by this deployment.",
    ),
    (
        "k8s.DeploymentStatus",
        "collisionCount",
        "Count of hash collisions for the Deployment. The Deployment controller uses this field as a collision avoidance mechanism when it needs to create the name for the newest ReplicaSet.",
    ),
    (
        "k8s.DeploymentStatus",
        "conditions",
        "Represents the latest available observations of a deployment's current state.",
    ),
    (
        "k8s.DeploymentStatus",
        "observedGeneration",
        "The generation observed by the deployment controller.",
    ),
    (
        "k8s.DeploymentStatus",
        "readyReplicas",
        "Total number of non-terminating pods targeted by this Deployment with a Ready Condition.",
    ),
    (
        "k8s.DeploymentStatus",
        "replicas",
        "Total number of non-terminating pods targeted by this deployment (their labels match the selector).",
    ),
    (
        "k8s.DeploymentStatus",
        "terminatingReplicas",
        "Total number of terminating pods targeted by this deployment. Terminating pods have a non-null .metadata.deletionTimestamp and have not yet reached the Failed or Succeeded .status.phase.\n\nThis is an alpha field. Enable DeploymentReplicaSetTerminatingReplicas to be able to use this field.",
    ),
    (
        "k8s.DeploymentStatus",
        "unavailableReplicas",
        "Total number of unavailable pods targeted by this deployment. This is the total number of pods that are still required for the deployment to have 100% available capacity. They may either be pods that are running but not yet available or pods that still have not been created.",
    ),
    (
        "k8s.DeploymentStatus",
        "updatedReplicas",
        "Total number of non-terminating pods targeted by this deployment that have the desired template spec.",
    ),
    (
        "k8s.DeploymentCondition",
        "message",
        "A human readable message indicating details about the transition.",
    ),
    (
        "k8s.DeploymentCondition",
        "reason",
        "The reason for the condition's last transition.",
    ),
    (
        "k8s.DeploymentCondition",
        "status",
        "Status of the condition, one of True, False, Unknown.",
    ),
    (
        "k8s.DeploymentCondition",
        "type",
        "Type of deployment condition.",
    ),
    (
        "k8s.DaemonSet",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.DaemonSet",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.DaemonSetSpec",
        "minReadySeconds",
        "The minimum number of seconds for which a newly created DaemonSet pod should be ready without any of its container crashing, for it to be considered available. Defaults to 0 (pod will be considered available as soon as it is ready).",
    ),
    (
        "k8s.DaemonSetSpec",
        "revisionHistoryLimit",
        "The number of old history to retain to allow rollback. This is a pointer to distinguish between explicit zero and not specified. Defaults to 10.",
    ),
    (
        "k8s.DaemonSetUpdateStrategy",
        "type",
        "Type of daemon set update. Can be \"RollingUpdate\" or \"OnDelete\". Default is RollingUpdate.",
    ),
    (
        "k8s.DaemonSetStatus",
        "collisionCount",
        "Count of hash collisions for the DaemonSet. The DaemonSet controller uses this field as a collision avoidance mechanism when it needs to create the name for the newest ControllerRevision.",
    ),
    (
        "k8s.DaemonSetStatus",
        "conditions",
        "Represents the latest available observations of a DaemonSet's current state.",
    ),
    (
        "k8s.DaemonSetStatus",
        "currentNumberScheduled",
        "The number of nodes that are running at least 1 daemon pod and are supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
    ),
    (
        "k8s.DaemonSetStatus",
        "desiredNumberScheduled",
        "The total number of nodes that should be running the daemon pod (including nodes correctly running the daemon pod). More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
    ),
    (
        "k8s.DaemonSetStatus",
        "numberAvailable",
        "The number of nodes that should be running the daemon pod and have one or more of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    ),
    (
        "k8s.DaemonSetStatus",
        "numberMisscheduled",
        "The number of nodes that are running the daemon pod, but are not supposed to run the daemon pod. More info: https://kubernetes.io/docs/concepts/workloads/controllers/daemonset/",
    ),
    (
        "k8s.DaemonSetStatus",
        "numberReady",
        "numberReady is the number of nodes that should be running the daemon pod and have one or more of the daemon pod running with a Ready Condition.",
    ),
    (
        "k8s.DaemonSetStatus",
        "numberUnavailable",
        "The number of nodes that should be running the daemon pod and have none of the daemon pod running and available (ready for at least spec.minReadySeconds)",
    ),
    (
        "k8s.DaemonSetStatus",
        "observedGeneration",
        "The most recent generation observed by the daemon set controller.",
    ),
    (
        "k8s.DaemonSetStatus",
        "updatedNumberScheduled",
        "The total number of nodes that are running updated daemon pod",
    ),
    (
        "k8s.DaemonSetCondition",
        "message",
        "A human readable message indicating details about the transition.",
    ),
    (
        "k8s.DaemonSetCondition",
        "reason",
        "The reason for the condition's last transition.",
    ),
    (
        "k8s.DaemonSetCondition",
        "status",
        "Status of the condition, one of True, False, Unknown.",
    ),
    (
        "k8s.DaemonSetCondition",
        "type",
        "Type of DaemonSet condition.",
    ),
    (
        "k8s.ControllerRevision",
        "data",
        "Data is the serialized representation of the state.",
    ),
    (
        "k8s.ControllerRevision",
        "revision",
        "Revision indicates the revision of the state represented by Data.",
    ),
    (
        "k8s.PodDisruptionBudget",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.PodDisruptionBudget",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.PodDisruptionBudget",
        "metadata",
        "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    ),
    (
        "k8s.PodDisruptionBudget",
        "spec",
        "Specification of the desired behavior of the PodDisruptionBudget.",
    ),
    (
        "k8s.PodDisruptionBudget",
        "status",
        "Most recently observed status of the PodDisruptionBudget.",
    ),
    (
        "k8s.PodDisruptionBudgetSpec",
        "maxUnavailable",
        "An eviction is allowed if at most \"maxUnavailable\" pods selected by \"selector\" are unavailable after the eviction, i.e. even in absence of the evicted pod. For example, one can prevent all voluntary evictions by specifying 0. This is a mutually exclusive setting with \"minAvailable\".",
    ),
    (
        "k8s.PodDisruptionBudgetSpec",
        "minAvailable",
        "An eviction is allowed if at least \"minAvailable\" pods selected by \"selector\" will still be available after the eviction, i.e. even in the absence of the evicted pod.  So for example you can prevent all voluntary evictions by specifying \"100%\".",
    ),
    (
        "k8s.PodDisruptionBudgetSpec",
        "selector",
        "Label query over pods whose evictions are managed by the disruption budget. A null selector will match no pods, while an empty ({}) selector will select all pods within the namespace.",
    ),
    (
        "k8s.PodDisruptionBudgetSpec",
        "unhealthyPodEvictionPolicy",
        "UnhealthyPodEvictionPolicy defines the criteria for when unhealthy pods should be considered for eviction. Current implementation considers healthy pods, as pods that have status.conditions item with type=\"Ready\",status=\"True\".\n\nValid policies are IfHealthyBudget and AlwaysAllow. If no policy is specified, the default behavior will be used, which corresponds to the IfHealthyBudget policy.\n\nIfHealthyBudget policy means that running pods (status.phase=\"Running\"), but not yet healthy can be evicted only if the guarded application is not disrupted (status.currentHealthy is at least equal to status.desiredHealthy). Healthy pods will be subject to the PDB for eviction.\n\nAlwaysAllow policy means that all running pods (status.phase=\"Running\"), but not yet healthy are considered disrupted and can be evicted regardless of whether the criteria in a PDB is met. This means perspective running pods of a disrupted application might not get a chance to become healthy. Healthy pods will be subject to the PDB for eviction.\n\nAdditional policies may be added in the future. Clients making eviction decisions should disallow eviction of unhealthy pods if they encounter an unrecognized policy in this field.",
    ),
    (
        "k8s.PodDisruptionBudgetStatus",
        "conditions",
        "Conditions contain conditions for PDB. The disruption controller sets the DisruptionAllowed condition. The following are known values for the reason field (additional reasons could be added in the future): - SyncFailed: The controller encountered an error and wasn't able to compute\n              the number of allowed disruptions. Therefore no disruptions are\n              allowed and the status of the condition will be False.\n- InsufficientPods: The number of pods are either at or below the number\n                    required by the PodDisruptionBudget. No disruptions are\n                    allowed and the status of the condition will be False.\n- SufficientPods: There are more pods than required by the PodDisruptionBudget.\n                  The condition will be True, and the number of allowed\n                  disruptions are provided by the disruptionsAllowed property.",
    ),
    (
        "k8s.PodDisruptionBudgetStatus",
        "currentHealthy",
        "current number of healthy pods",
    ),
    (
        "k8s.PodDisruptionBudgetStatus",
        "desiredHealthy",
        "minimum desired number of healthy pods",
    ),
    (
        "k8s.PodDisruptionBudgetStatus",
        "disruptedPods",
        "DisruptedPods contains information about pods whose eviction was processed by the API server eviction subresource handler but has not yet been observed by the PodDisruptionBudget controller. A pod will be in this map from the time when the API server processed the eviction request to the time when the pod is seen by PDB controller as having been marked for deletion (or after a timeout). The key in the map is the name of the pod and the value is the time when the API server processed the eviction request. If the deletion didn't occur and a pod is still there it will be removed from the list automatically by PodDisruptionBudget controller after some time. If everything goes smooth this map should be empty for the most of the time. Large number of entries in the map may indicate problems with pod deletions.",
    ),
    (
        "k8s.PodDisruptionBudgetStatus",
        "disruptionsAllowed",
        "Number of pod disruptions that are currently allowed.",
    ),
    (
        "k8s.PodDisruptionBudgetStatus",
        "expectedPods",
        "total number of pods counted by this disruption budget",
    ),
    (
        "k8s.PodDisruptionBudgetStatus",
        "observedGeneration",
        "Most recent generation observed when updating this PDB status. DisruptionsAllowed and other status information is valid only if observedGeneration equals to PDB's object generation.",
    ),
    (
        "k8s.Eviction",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.Eviction",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.Eviction",
        "metadata",
        "ObjectMeta describes the pod that is being evicted.",
    ),
    (
        "k8s.Eviction",
        "deleteOptions",
        "DeleteOptions may be provided",
    ),
    (
        "k8s.DeleteOptions",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.DeleteOptions",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.DeleteOptions",
        "dryRun",
        "When present, indicates that modifications should not be persisted. An invalid or unrecognized dryRun directive will result in an error response and no further processing of the request. Valid values are: - All: all dry run stages will be processed",
    ),
    (
        "k8s.DeleteOptions",
        "gracePeriodSeconds",
        "The duration in seconds before the object should be deleted. Value must be non-negative integer. The value zero indicates delete immediately. If this value is nil, the default grace period for the specified type will be used. Defaults to a per object value if not specified. zero means delete immediately.",
    ),
    (
        "k8s.DeleteOptions",
        "preconditions",
        "Must be fulfilled before a deletion is carried out. If not possible, a 409 Conflict status will be returned.",
    ),
    (
        "k8s.DeleteOptions",
        "propagationPolicy",
        "Whether and how garbage collection will be performed. Either this field or OrphanDependents may be set, but not both. The default policy is decided by the existing finalizer set in the metadata.finalizers and the resource-specific default policy. Acceptable values are: 'Orphan' - orphan the dependents; 'Background' - allow the garbage collector to delete the dependents in the background; 'Foreground' - a cascading policy that deletes all dependents in the foreground.",
    ),
    (
        "k8s.Preconditions",
        "resourceVersion",
        "Specifies the target ResourceVersion",
    ),
    ("k8s.Preconditions", "uid", "Specifies the target UID."),
    (
        "k8s.StorageClass",
        "allowVolumeExpansion",
        "allowVolumeExpansion shows whether the storage class allow volume expand.",
    ),
    (
        "k8s.StorageClass",
        "allowedTopologies",
        "allowedTopologies restrict the node topologies where volumes can be dynamically provisioned. Each volume plugin defines its own supported topology specifications. An empty TopologySelectorTerm list means there is no topology restriction. This field is only honored by servers that enable the VolumeScheduling feature.",
    ),
    (
        "k8s.StorageClass",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.StorageClass",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.StorageClass",
        "metadata",
        "Standard object's metadata. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#metadata",
    ),
    (
        "k8s.StorageClass",
        "mountOptions",
        "mountOptions controls the mountOptions for dynamically provisioned PersistentVolumes of this storage class. e.g. [\"ro\", \"soft\"]. Not validated - mount of the PVs will simply fail if one is invalid.",
    ),
    (
        "k8s.StorageClass",
        "parameters",
        "parameters holds the parameters for the provisioner that should create volumes of this storage class.",
    ),
    (
        "k8s.StorageClass",
        "provisioner",
        "provisioner indicates the type of the provisioner.",
    ),
    (
        "k8s.StorageClass",
        "reclaimPolicy",
        "reclaimPolicy controls the reclaimPolicy for dynamically provisioned PersistentVolumes of this storage class. Defaults to Delete.",
    ),
    (
        "k8s.StorageClass",
        "volumeBindingMode",
        "volumeBindingMode indicates how PersistentVolumeClaims should be provisioned and bound.  When unset, VolumeBindingImmediate is used. This field is only honored by servers that enable the VolumeScheduling feature.",
    ),
    (
        "k8s.TopologySelectorTerm",
        "matchLabelExpressions",
        "A list of topology selector requirements by labels.",
    ),
    (
        "k8s.TopologySelectorLabelRequirement",
        "key",
        "The label key that the selector applies to.",
    ),
    (
        "k8s.TopologySelectorLabelRequirement",
        "values",
        "An array of string values. One value must match the label to be selected. Each entry in Values is ORed.",
    ),
    (
        "k8s.StatefulSet",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.StatefulSet",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.StatefulSetSpec",
        "minReadySeconds",
        "Minimum number of seconds for which a newly created pod should be ready without any of its container crashing for it to be considered available. Defaults to 0 (pod will be considered available as soon as it is ready)",
    ),
    (
        "k8s.StatefulSetSpec",
        "podManagementPolicy",
        "podManagementPolicy controls how pods are created during initial scale up, when replacing pods on nodes, or when scaling down. The default policy is `OrderedReady`, where pods are created in increasing order (pod-0, then pod-1, etc) and the controller will wait until each pod is ready before continuing. When scaling down, the pods are removed in the opposite order. The alternative policy is `Parallel` which will create pods in parallel to match the desired scale without waiting, and on scale down will delete all pods at once.",
    ),
    (
        "k8s.StatefulSetSpec",
        "replicas",
        "replicas is the desired number of replicas of the given Template. These are replicas in the sense that they are instantiations of the same Template, but individual replicas also have a consistent identity. If unspecified, defaults to 1.",
    ),
    (
        "k8s.StatefulSetSpec",
        "revisionHistoryLimit",
        "revisionHistoryLimit is the maximum number of revisions that will be maintained in the StatefulSet's revision history. The revision history consists of all revisions not represented by a currently applied StatefulSetSpec version. The default value is 10.",
    ),
    (
        "k8s.StatefulSetSpec",
        "serviceName",
        "serviceName is the name of the service that governs this StatefulSet. This service must exist before the StatefulSet, and is responsible for the network identity of the set. Pods get DNS/hostnames that follow the pattern: pod-specific-string.serviceName.default.svc.cluster.local where \"pod-specific-string\" is managed by the StatefulSet controller.",
    ),
    (
        "k8s.StatefulSetSpec",
        "volumeClaimTemplates",
        "volumeClaimTemplates is a list of claims that pods are allowed to reference. The StatefulSet controller is responsible for mapping network identities to claims in a way that maintains the identity of a pod. Every claim in this list must have at least one matching (by name) volumeMount in one container in the template. A claim in this list takes precedence over any volumes in the template, with the same name.",
    ),
    (
        "k8s.StatefulSetUpdateStrategy",
        "type",
        "Type indicates the type of the StatefulSetUpdateStrategy. Default is RollingUpdate.",
    ),
    (
        "k8s.RollingUpdateStatefulSetStrategy",
        "partition",
        "Partition indicates the ordinal at which the StatefulSet should be partitioned for updates. During a rolling update, all pods from ordinal Replicas-1 to Partition are updated. All pods from ordinal Partition-1 to 0 remain untouched. This is helpful in being able to do a canary based deployment. The default value is 0.",
    ),
    (
        "k8s.StatefulSetPersistentVolumeClaimRetentionPolicy",
        "whenDeleted",
        "WhenDeleted specifies what happens to PVCs created from StatefulSet VolumeClaimTemplates when the StatefulSet is deleted. The default policy of `Retain` causes PVCs to not be affected by StatefulSet deletion. The `Delete` policy causes those PVCs to be deleted.",
    ),
    (
        "k8s.StatefulSetPersistentVolumeClaimRetentionPolicy",
        "whenScaled",
        "WhenScaled specifies what happens to PVCs created from StatefulSet VolumeClaimTemplates when the StatefulSet is scaled down. The default policy of `Retain` causes PVCs to not be affected by a scaledown. The `Delete` policy causes the associated PVCs for any excess pods above the replica count to be deleted.",
    ),
    (
        "k8s.StatefulSetOrdinals",
        "start",
        "start is the number representing the first replica's index. It may be used to number replicas from an alternate index (eg: 1-indexed) over the default 0-indexed names, or to orchestrate progressive movement of replicas from one StatefulSet to another. If set, replica indices will be in the range:\n  [.spec.ordinals.start, .spec.ordinals.start + .spec.replicas).\nIf unset, defaults to 0. Replica indices will be in the range:\n  [0, .spec.replicas).",
    ),
    (
        "k8s.StatefulSetStatus",
        "availableReplicas",
        "Total number of available pods (ready for at least minReadySeconds) targeted by this statefulset.",
    ),
    (
        "k8s.StatefulSetStatus",
        "collisionCount",
        "collisionCount is the count of hash collisions for the StatefulSet. The StatefulSet controller uses this field as a collision avoidance mechanism when it needs to create the name for the newest ControllerRevision.",
    ),
    (
        "k8s.StatefulSetStatus",
        "conditions",
        "Represents the latest available observations of a statefulset's current state.",
    ),
    (
        "k8s.StatefulSetStatus",
        "currentReplicas",
        "currentReplicas is the number of Pods created by the StatefulSet controller from the StatefulSet version indicated by currentRevision.",
    ),
    (
        "k8s.StatefulSetStatus",
        "currentRevision",
        "currentRevision, if not empty, indicates the version of the StatefulSet used to generate Pods in the sequence [0,currentReplicas).",
    ),
    (
        "k8s.StatefulSetStatus",
        "observedGeneration",
        "observedGeneration is the most recent generation observed for this StatefulSet. It corresponds to the StatefulSet's generation, which is updated on mutation by the API Server.",
    ),
    (
        "k8s.StatefulSetStatus",
        "readyReplicas",
        "readyReplicas is the number of pods created for this StatefulSet with a Ready Condition.",
    ),
    (
        "k8s.StatefulSetStatus",
        "replicas",
        "replicas is the number of Pods created by the StatefulSet controller.",
    ),
    (
        "k8s.StatefulSetStatus",
        "updateRevision",
        "updateRevision, if not empty, indicates the version of the StatefulSet used to generate Pods in the sequence [replicas-updatedReplicas,replicas)",
    ),
    (
        "k8s.StatefulSetStatus",
        "updatedReplicas",
        "updatedReplicas is the number of Pods created by the StatefulSet controller from the StatefulSet version indicated by updateRevision.",
    ),
    (
        "k8s.StatefulSetCondition",
        "message",
        "A human readable message indicating details about the transition.",
    ),
    (
        "k8s.StatefulSetCondition",
        "reason",
        "The reason for the condition's last transition.",
    ),
    (
        "k8s.StatefulSetCondition",
        "status",
        "Status of the condition, one of True, False, Unknown.",
    ),
    (
        "k8s.StatefulSetCondition",
        "type",
        "Type of statefulset condition.",
    ),
    (
        "k8s.Job",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.Job",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.JobSpec",
        "activeDeadlineSeconds",
        "Specifies the duration in seconds relative to the startTime that the job may be continuously active before the system tries to terminate it; value must be positive integer. If a Job is suspended (at creation or through an update), this timer will effectively be stopped and reset when the Job is resumed again.",
    ),
    (
        "k8s.JobSpec",
        "backoffLimit",
        "Specifies the number of retries before marking this job failed. Defaults to 6",
    ),
    (
        "k8s.JobSpec",
        "backoffLimitPerIndex",
        "Specifies the limit for the number of retries within an index before marking this index as failed. When enabled the number of failures per index is kept in the pod's batch.kubernetes.io/job-index-failure-count annotation. It can only be set when Job's completionMode=Indexed, and the Pod's restart policy is Never. The field is immutable.",
    ),
    (
        "k8s.JobSpec",
        "completionMode",
        "completionMode specifies how Pod completions are tracked. It can be `NonIndexed` (default) or `Indexed`.\n\n`NonIndexed` means that the Job is considered complete when there have been .spec.completions successfully completed Pods. Each Pod completion is homologous to each other.\n\n`Indexed` means that the Pods of a Job get an associated completion index from 0 to (.spec.completions - 1), available in the annotation batch.kubernetes.io/job-completion-index. The Job is considered complete when there is one successfully completed Pod for each index. When value is `Indexed`, .spec.completions must be specified and `.spec.parallelism` must be less than or equal to 10^5. In addition, The Pod name takes the form `$(job-name)-$(index)-$(random-string)`, the Pod hostname takes the form `$(job-name)-$(index)`.\n\nMore completion modes can be added in the future. If the Job controller observes a mode that it doesn't recognize, which is possible during upgrades due to version skew, the controller skips updates for the Job.",
    ),
    (
        "k8s.JobSpec",
        "completions",
        "Specifies the desired number of successfully finished pods the job should be run with.  Setting to null means that the success of any pod signals the success of all pods, and allows parallelism to have any positive value.  Setting to 1 means that parallelism is limited to 1 and the success of that pod signals the success of the job. More info: https://kubernetes.io/docs/concepts/workloads/controllers/jobs-run-to-completion/",
    ),
    (
        "k8s.JobSpec",
        "managedBy",
        "ManagedBy field indicates the controller that manages a Job. The k8s Job controller reconciles jobs which don't have this field at all or the field value is the reserved string `kubernetes.io/job-controller`, but skips reconciling Jobs with a custom value for this field. The value must be a valid domain-prefixed path (e.g. acme.io/foo) - all characters before the first \"/\" must be a valid subdomain as defined by RFC 1123. All characters trailing the first \"/\" must be valid HTTP Path characters as defined by RFC 3986. The value cannot exceed 63 characters. This field is immutable.\n\nThis field is beta-level. The job controller accepts setting the field when the feature gate JobManagedBy is enabled (enabled by default).",
    ),
    (
        "k8s.JobSpec",
        "manualSelector",
        "manualSelector controls generation of pod labels and pod selectors. Leave `manualSelector` unset unless you are certain what you are doing. When false or unset, the system pick labels unique to this job and appends those labels to the pod template.  When true, the user is responsible for picking unique labels and specifying the selector.  Failure to pick a unique label may cause this and other jobs to not function correctly.  However, You may see `manualSelector=true` in jobs that were created with the old `extensions/v1beta1` API. More info: https://kubernetes.io/docs/concepts/workloads/controllers/jobs-run-to-completion/#specifying-your-own-pod-selector",
    ),
    (
        "k8s.JobSpec",
        "maxFailedIndexes",
        "Specifies the maximal number of failed indexes before marking the Job as failed, when backoffLimitPerIndex is set. Once the number of failed indexes exceeds this number the entire Job is marked as Failed and its execution is terminated. When left as null the job continues execution of all of its indexes and is marked with the `Complete` Job condition. It can only be specified when backoffLimitPerIndex is set. It can be null or up to completions. It is required and must be less than or equal to 10^4 when is completions greater than 10^5.",
    ),
    (
        "k8s.JobSpec",
        "parallelism",
        "Specifies the maximum desired number of pods the job should run at any given time. The actual number of pods running in steady state will be less than this number when ((.spec.completions - .status.successful) < .spec.parallelism), i.e. when the work left to do is less than max parallelism. More info: https://kubernetes.io/docs/concepts/workloads/controllers/jobs-run-to-completion/",
    ),
    (
        "k8s.JobSpec",
        "podReplacementPolicy",
        "podReplacementPolicy specifies when to create replacement Pods. Possible values are: - TerminatingOrFailed means that we recreate pods\n  when they are terminating (has a metadata.deletionTimestamp) or failed.\n- Failed means to wait until a previously created Pod is fully terminated (has phase\n  Failed or Succeeded) before creating a replacement Pod.\n\nWhen using podFailurePolicy, Failed is the the only allowed value. TerminatingOrFailed and Failed are allowed values when podFailurePolicy is not in use. This is an beta field. To use this, enable the JobPodReplacementPolicy feature toggle. This is on by default.",
    ),
    (
        "k8s.JobSpec",
        "suspend",
        "suspend specifies whether the Job controller should create Pods or not. If a Job is created with suspend set to true, no Pods are created by the Job controller. If a Job is suspended after creation (i.e. the flag goes from false to true), the Job controller will delete all active Pods associated with this Job. Users must design their workload to gracefully handle this. Suspending a Job will reset the StartTime field of the Job, effectively resetting the ActiveDeadlineSeconds timer too. Defaults to false.",
    ),
    (
        "k8s.JobSpec",
        "ttlSecondsAfterFinished",
        "ttlSecondsAfterFinished limits the lifetime of a Job that has finished execution (either Complete or Failed). If this field is set, ttlSecondsAfterFinished after the Job finishes, it is eligible to be automatically deleted. When the Job is being deleted, its lifecycle guarantees (e.g. finalizers) will be honored. If this field is unset, the Job won't be automatically deleted. If this field is set to zero, the Job becomes eligible to be deleted immediately after it finishes.",
    ),
    (
        "k8s.JobStatus",
        "active",
        "The number of pending and running pods which are not terminating (without a deletionTimestamp). The value is zero for finished jobs.",
    ),
    (
        "k8s.JobStatus",
        "completedIndexes",
        "completedIndexes holds the completed indexes when .spec.completionMode = \"Indexed\" in a text format. The indexes are represented as decimal integers separated by commas. The numbers are listed in increasing order. Three or more consecutive numbers are compressed and represented by the first and last element of the series, separated by a hyphen. For example, if the completed indexes are 1, 3, 4, 5 and 7, they are represented as \"1,3-5,7\".",
    ),
    (
        "k8s.JobStatus",
        "conditions",
        "The latest available observations of an object's current state. When a Job fails, one of the conditions will have type \"Failed\" and status true. When a Job is suspended, one of the conditions will have type \"Suspended\" and status true; when the Job is resumed, the status of this condition will become false. When a Job is completed, one of the conditions will have type \"Complete\" and status true.\n\nA job is considered finished when it is in a terminal condition, either \"Complete\" or \"Failed\". A Job cannot have both the \"Complete\" and \"Failed\" conditions. Additionally, it cannot be in the \"Complete\" and \"FailureTarget\" conditions. The \"Complete\", \"Failed\" and \"FailureTarget\" conditions cannot be disabled.\n\nMore info: https://kubernetes.io/docs/concepts/workloads/controllers/jobs-run-to-completion/",
    ),
    (
        "k8s.JobStatus",
        "failed",
        "The number of pods which reached phase Failed. The value increases monotonically.",
    ),
    (
        "k8s.JobStatus",
        "failedIndexes",
        "FailedIndexes holds the failed indexes when spec.backoffLimitPerIndex is set. The indexes are represented in the text format analogous as for the `completedIndexes` field, ie. they are kept as decimal integers separated by commas. The numbers are listed in increasing order. Three or more consecutive numbers are compressed and represented by the first and last element of the series, separated by a hyphen. For example, if the failed indexes are 1, 3, 4, 5 and 7, they are represented as \"1,3-5,7\". The set of failed indexes cannot overlap with the set of completed indexes.",
    ),
    (
        "k8s.JobStatus",
        "ready",
        "The number of active pods which have a Ready condition and are not terminating (without a deletionTimestamp).",
    ),
    (
        "k8s.JobStatus",
        "succeeded",
        "The number of pods which reached phase Succeeded. The value increases monotonically for a given spec. However, it may decrease in reaction to scale down of elastic indexed jobs.",
    ),
    (
        "k8s.JobStatus",
        "terminating",
        "The number of pods which are terminating (in phase Pending or Running and have a deletionTimestamp).\n\nThis field is beta-level. The job controller populates the field when the feature gate JobPodReplacementPolicy is enabled (enabled by default).",
    ),
    (
        "k8s.JobCondition",
        "message",
        "Human readable message indicating details about last transition.",
    ),
    (
        "k8s.JobCondition",
        "reason",
        "(brief) reason for the condition's last transition.",
    ),
    (
        "k8s.JobCondition",
        "status",
        "Status of the condition, one of True, False, Unknown.",
    ),
    (
        "k8s.JobCondition",
        "type",
        "Type of job condition, Complete or Failed.",
    ),
    (
        "k8s.UncountedTerminatedPods",
        "failed",
        "failed holds UIDs of failed Pods.",
    ),
    (
        "k8s.UncountedTerminatedPods",
        "succeeded",
        "succeeded holds UIDs of succeeded Pods.",
    ),
    (
        "k8s.CronJob",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.CronJob",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.CronJobSpec",
        "concurrencyPolicy",
        "Specifies how to treat concurrent executions of a Job. Valid values are:\n\n- \"Allow\" (default): allows CronJobs to run concurrently; - \"Forbid\": forbids concurrent runs, skipping next run if previous run hasn't finished yet; - \"Replace\": cancels currently running job and replaces it with a new one",
    ),
    (
        "k8s.CronJobSpec",
        "failedJobsHistoryLimit",
        "The number of failed finished jobs to retain. Value must be non-negative integer. Defaults to 1.",
    ),
    (
        "k8s.CronJobSpec",
        "schedule",
        "The schedule in Cron format, see https://en.wikipedia.org/wiki/Cron.",
    ),
    (
        "k8s.CronJobSpec",
        "startingDeadlineSeconds",
        "Optional deadline in seconds for starting the job if it misses scheduled time for any reason.  Missed jobs executions will be counted as failed ones.",
    ),
    (
        "k8s.CronJobSpec",
        "successfulJobsHistoryLimit",
        "The number of successful finished jobs to retain. Value must be non-negative integer. Defaults to 3.",
    ),
    (
        "k8s.CronJobSpec",
        "suspend",
        "This flag tells the controller to suspend subsequent executions, it does not apply to already started executions.  Defaults to false.",
    ),
    (
        "k8s.CronJobSpec",
        "timeZone",
        "The time zone name for the given schedule, see https://en.wikipedia.org/wiki/List_of_tz_database_time_zones. If not specified, this will default to the time zone of the kube-controller-manager process. The set of valid time zone names and the time zone offset is loaded from the system-wide time zone database by the API server during CronJob validation and the controller manager during execution. If no system-wide time zone database can be found a bundled version of the database is used instead. If the time zone name becomes invalid during the lifetime of a CronJob or due to a change in host configuration, the controller will stop creating new new Jobs and will create a system event with the reason UnknownTimeZone. More information can be found in https://kubernetes.io/docs/concepts/workloads/controllers/cron-jobs/#time-zones",
    ),
    (
        "k8s.CronJobStatus",
        "active",
        "A list of pointers to currently running jobs.",
    ),
    (
        "k8s.HorizontalPodAutoscaler",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.HorizontalPodAutoscaler",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.HorizontalPodAutoscalerSpec",
        "maxReplicas",
        "maxReplicas is the upper limit for the number of replicas to which the autoscaler can scale up. It cannot be less that minReplicas.",
    ),
    (
        "k8s.HorizontalPodAutoscalerSpec",
        "metrics",
        "metrics contains the specifications for which to use to calculate the desired replica count (the maximum replica count across all metrics will be used).  The desired replica count is calculated multiplying the ratio between the target value and the current value by the current number of pods.  Ergo, metrics used must decrease as the pod count is increased, and vice-versa.  See the individual metric source types for more information about how each type of metric must respond. If not set, the default metric will be set to 80% average CPU utilization.",
    ),
    (
        "k8s.HorizontalPodAutoscalerSpec",
        "minReplicas",
        "minReplicas is the lower limit for the number of replicas to which the autoscaler can scale down.  It defaults to 1 pod.  minReplicas is allowed to be 0 if the alpha feature gate HPAScaleToZero is enabled and at least one Object or External metric is configured.  Scaling is active as long as at least one metric value is available.",
    ),
    (
        "k8s.CrossVersionObjectReference",
        "apiVersion",
        "apiVersion is the API version of the referent",
    ),
    (
        "k8s.CrossVersionObjectReference",
        "kind",
        "kind is the kind of the referent; More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.CrossVersionObjectReference",
        "name",
        "name is the name of the referent; More info: https://kubernetes.io/docs/concepts/overview/working-with-objects/names/#names",
    ),
    (
        "k8s.MetricSpec",
        "type",
        "type is the type of metric source.  It should be one of \"ContainerResource\", \"External\", \"Object\", \"Pods\" or \"Resource\", each mapping to a matching field in the object.",
    ),
    (
        "k8s.MetricTarget",
        "averageUtilization",
        "averageUtilization is the target value of the average of the resource metric across all relevant pods, represented as a percentage of the requested value of the resource for the pods. Currently only valid for Resource metric source type",
    ),
    (
        "k8s.MetricTarget",
        "type",
        "type represents whether the metric type is Utilization, Value, or AverageValue",
    ),
    (
        "k8s.MetricIdentifier",
        "name",
        "name is the name of the given metric",
    ),
    (
        "k8s.ResourceMetricSource",
        "name",
        "name is the name of the resource in question.",
    ),
    (
        "k8s.ContainerResourceMetricSource",
        "container",
        "container is the name of the container in the pods of the scaling target",
    ),
    (
        "k8s.ContainerResourceMetricSource",
        "name",
        "name is the name of the resource in question.",
    ),
    (
        "k8s.HpaScalingRules",
        "policies",
        "policies is a list of potential scaling polices which can be used during scaling. If not set, use the default values: - For scale up: allow doubling the number of pods, or an absolute change of 4 pods in a 15s window. - For scale down: allow all pods to be removed in a 15s window.",
    ),
    (
        "k8s.HpaScalingRules",
        "selectPolicy",
        "selectPolicy is used to specify which policy should be used. If not set, the default value Max is used.",
    ),
    (
        "k8s.HpaScalingRules",
        "stabilizationWindowSeconds",
        "stabilizationWindowSeconds is the number of seconds for which past recommendations should be considered while scaling up or scaling down. StabilizationWindowSeconds must be greater than or equal to zero and less than or equal to 3600 (one hour). If not set, use the default values: - For scale up: 0 (i.e. no stabilization is done). - For scale down: 300 (i.e. the stabilization window is 300 seconds long).",
    ),
    (
        "k8s.HpaScalingPolicy",
        "periodSeconds",
        "periodSeconds specifies the window of time for which the policy should hold true. PeriodSeconds must be greater than zero and less than or equal to 1800 (30 min).",
    ),
    (
        "k8s.HpaScalingPolicy",
        "type",
        "type is used to specify the scaling policy.",
    ),
    (
        "k8s.HpaScalingPolicy",
        "value",
        "value contains the amount of change which is permitted by the policy. It must be greater than zero",
    ),
    (
        "k8s.HorizontalPodAutoscalerStatus",
        "conditions",
        "conditions is the set of conditions required for this autoscaler to scale its target, and indicates whether or not those conditions are met.",
    ),
    (
        "k8s.HorizontalPodAutoscalerStatus",
        "currentMetrics",
        "currentMetrics is the last read state of the metrics used by this autoscaler.",
    ),
    (
        "k8s.HorizontalPodAutoscalerStatus",
        "currentReplicas",
        "currentReplicas is current number of replicas of pods managed by this autoscaler, as last seen by the autoscaler.",
    ),
    (
        "k8s.HorizontalPodAutoscalerStatus",
        "desiredReplicas",
        "desiredReplicas is the desired number of replicas of pods managed by this autoscaler, as last calculated by the autoscaler.",
    ),
    (
        "k8s.HorizontalPodAutoscalerStatus",
        "observedGeneration",
        "observedGeneration is the most recent generation observed by this autoscaler.",
    ),
    (
        "k8s.MetricStatus",
        "type",
        "type is the type of metric source.  It will be one of \"ContainerResource\", \"External\", \"Object\", \"Pods\" or \"Resource\", each corresponds to a matching field in the object.",
    ),
    (
        "k8s.MetricValueStatus",
        "averageUtilization",
        "currentAverageUtilization is the current value of the average of the resource metric across all relevant pods, represented as a percentage of the requested value of the resource for the pods.",
    ),
    (
        "k8s.ResourceMetricStatus",
        "name",
        "name is the name of the resource in question.",
    ),
    (
        "k8s.ContainerResourceMetricStatus",
        "container",
        "container is the name of the container in the pods of the scaling target",
    ),
    (
        "k8s.ContainerResourceMetricStatus",
        "name",
        "name is the name of the resource in question.",
    ),
    (
        "k8s.HorizontalPodAutoscalerCondition",
        "message",
        "message is a human-readable explanation containing details about the transition",
    ),
    (
        "k8s.HorizontalPodAutoscalerCondition",
        "reason",
        "reason is the reason for the condition's last transition.",
    ),
    (
        "k8s.HorizontalPodAutoscalerCondition",
        "status",
        "status is the status of the condition (True, False, Unknown)",
    ),
    (
        "k8s.HorizontalPodAutoscalerCondition",
        "type",
        "type describes the current condition",
    ),
    (
        "k8s.Ingress",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.Ingress",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.IngressSpec",
        "ingressClassName",
        "ingressClassName is the name of an IngressClass cluster resource. Ingress controller implementations use this field to know whether they should be serving this Ingress resource, by a transitive connection (controller -> IngressClass -> Ingress resource). Although the `kubernetes.io/ingress.class` annotation (simple constant name) was never formally defined, it was widely supported by Ingress controllers to create a direct binding between Ingress controller and Ingress resources. Newly created Ingress resources should prefer using the field. However, even though the annotation is officially deprecated, for backwards compatibility reasons, ingress controllers should still honor that annotation if present.",
    ),
    (
        "k8s.IngressSpec",
        "rules",
        "rules is a list of host rules used to configure the Ingress. If unspecified, or no rule matches, all traffic is sent to the default backend.",
    ),
    (
        "k8s.IngressSpec",
        "tls",
        "tls represents the TLS configuration. Currently the Ingress only supports a single TLS port, 443. If multiple members of this list specify different hosts, they will be multiplexed on the same port according to the hostname specified through the SNI TLS extension, if the ingress controller fulfilling the ingress supports SNI.",
    ),
    (
        "k8s.IngressServiceBackend",
        "name",
        "name is the referenced service. The service must exist in the same namespace as the Ingress object.",
    ),
    (
        "k8s.ServiceBackendPort",
        "name",
        "name is the name of the port on the Service. This is a mutually exclusive setting with \"Number\".",
    ),
    (
        "k8s.ServiceBackendPort",
        "number",
        "number is the numerical port number (e.g. 80) on the Service. This is a mutually exclusive setting with \"Name\".",
    ),
    (
        "k8s.IngressTls",
        "hosts",
        "hosts is a list of hosts included in the TLS certificate. The values in this list must match the name/s used in the tlsSecret. Defaults to the wildcard host setting for the loadbalancer controller fulfilling this Ingress, if left unspecified.",
    ),
    (
        "k8s.IngressTls",
        "secretName",
        "secretName is the name of the secret used to terminate TLS traffic on port 443. Field is left optional to allow TLS routing based on SNI hostname alone. If the SNI host in a listener conflicts with the \"Host\" header field used by an IngressRule, the SNI host is used for termination and value of the \"Host\" header is used for routing.",
    ),
    (
        "k8s.IngressRule",
        "host",
        "host is the fully qualified domain name of a network host, as defined by RFC 3986. Note the following deviations from the \"host\" part of the URI as defined in RFC 3986: 1. IPs are not allowed. Currently an IngressRuleValue can only apply to\n   the IP in the Spec of the parent Ingress.\n2. The `:` delimiter is not respected because ports are not allowed.\n\t  Currently the port of an Ingress is implicitly :80 for http and\n\t  :443 for https.\nBoth these may change in the future. Incoming requests are matched against the host before the IngressRuleValue. If the host is unspecified, the Ingress routes all traffic based on the specified IngressRuleValue.\n\nhost can be \"precise\" which is a domain name without the terminating dot of a network host (e.g. \"foo.bar.com\") or \"wildcard\", which is a domain name prefixed with a single wildcard label (e.g. \"*.foo.com\"). The wildcard character '*' must appear by itself as the first DNS label and matches only a single label. You cannot have a wildcard label by itself (e.g. Host == \"*\"). Requests will be matched against the Host field in the following way: 1. If host is precise, the request matches this rule if the http host header is equal to Host. 2. If host is a wildcard, then the request matches this rule if the http host header is to equal to the suffix (removing the first label) of the wildcard rule.",
    ),
    (
        "k8s.HttpIngressRuleValue",
        "paths",
        "paths is a collection of paths that map requests to backends.",
    ),
    (
        "k8s.HttpIngressPath",
        "path",
        "path is matched against the path of an incoming request. Currently it can contain characters disallowed from the conventional \"path\" part of a URL as defined by RFC 3986. Paths must begin with a '/' and must be present when using PathType with value \"Exact\" or \"Prefix\".",
    ),
    (
        "k8s.HttpIngressPath",
        "pathType",
        "pathType determines the interpretation of the path matching. PathType can be one of the following values: * Exact: Matches the URL path exactly. * Prefix: Matches based on a URL path prefix split by '/'. Matching is\n  done on a path element by element basis. A path element refers is the\n  list of labels in the path split by the '/' separator. A request is a\n  match for path p if every p is an element-wise prefix of p of the\n  request path. Note that if the last element of the path is a substring\n  of the last element in request path, it is not a match (e.g. /foo/bar\n  matches /foo/bar/baz, but does not match /foo/barbaz).\n* ImplementationSpecific: Interpretation of the Path matching is up to\n  the IngressClass. Implementations can treat this as a separate PathType\n  or treat it identically to Prefix or Exact path types.\nImplementations are required to support all path types.",
    ),
    (
        "k8s.IngressLoadBalancerStatus",
        "ingress",
        "ingress is a list containing ingress points for the load-balancer.",
    ),
    (
        "k8s.IngressLoadBalancerIngress",
        "hostname",
        "hostname is set for load-balancer ingress points that are DNS based.",
    ),
    (
        "k8s.IngressLoadBalancerIngress",
        "ip",
        "ip is set for load-balancer ingress points that are IP based.",
    ),
    (
        "k8s.IngressLoadBalancerIngress",
        "ports",
        "ports provides information about the ports exposed by this LoadBalancer.",
    ),
    (
        "k8s.IngressPortStatus",
        "error",
        "error is to record the problem with the service port The format of the error shall comply with the following rules: - built-in error values shall be specified in this file and those shall use\n  CamelCase names\n- cloud provider specific error values must have names that comply with the\n  format foo.example.com/CamelCase.",
    ),
    (
        "k8s.IngressPortStatus",
        "port",
        "port is the port number of the ingress port.",
    ),
    (
        "k8s.IngressPortStatus",
        "protocol",
        "protocol is the protocol of the ingress port. The supported values are: \"TCP\", \"UDP\", \"SCTP\"",
    ),
    (
        "k8s.Lease",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.Lease",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.LeaseSpec",
        "holderIdentity",
        "holderIdentity contains the identity of the holder of a current lease. If Coordinated Leader Election is used, the holder identity must be equal to the elected LeaseCandidate.metadata.name field.",
    ),
    (
        "k8s.LeaseSpec",
        "leaseDurationSeconds",
        "leaseDurationSeconds is a duration that candidates for a lease need to wait to force acquire it. This is measured against the time of last observed renewTime.",
    ),
    (
        "k8s.LeaseSpec",
        "leaseTransitions",
        "leaseTransitions is the number of transitions of a lease between holders.",
    ),
    (
        "k8s.LeaseSpec",
        "preferredHolder",
        "PreferredHolder signals to a lease holder that the lease has a more optimal holder and should be given up. This field can only be set if Strategy is also set.",
    ),
    (
        "k8s.LeaseSpec",
        "strategy",
        "Strategy indicates the strategy for picking the leader for coordinated leader election. If the field is not specified, there is no active coordination for this lease. (Alpha) Using this field requires the CoordinatedLeaderElection feature gate to be enabled.",
    ),
    (
        "k8s.PolicyRule",
        "apiGroups",
        "APIGroups is the name of the APIGroup that contains the resources.  If multiple API groups are specified, any action requested against one of the enumerated resources in any API group will be allowed. \"\" represents the core API group and \"*\" represents all API groups.",
    ),
    (
        "k8s.PolicyRule",
        "nonResourceURLs",
        "NonResourceURLs is a set of partial urls that a user should have access to.  *s are allowed, but only as the full, final step in the path Since non-resource URLs are not namespaced, this field is only applicable for ClusterRoles referenced from a ClusterRoleBinding. Rules can either apply to API resources (such as \"pods\" or \"secrets\") or non-resource URL paths (such as \"/api\"),  but not both.",
    ),
    (
        "k8s.PolicyRule",
        "resourceNames",
        "ResourceNames is an optional white list of names that the rule applies to.  An empty set means that everything is allowed.",
    ),
    (
        "k8s.PolicyRule",
        "resources",
        "Resources is a list of resources this rule applies to. '*' represents all resources.",
    ),
    (
        "k8s.PolicyRule",
        "verbs",
        "Verbs is a list of Verbs that apply to ALL the ResourceKinds contained in this rule. '*' represents all verbs.",
    ),
    (
        "k8s.Role",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.Role",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.Role",
        "rules",
        "Rules holds all the PolicyRules for this Role",
    ),
    (
        "k8s.AggregationRule",
        "clusterRoleSelectors",
        "ClusterRoleSelectors holds a list of selectors which will be used to find ClusterRoles and create the rules. If any of the selectors match, then the ClusterRole's permissions will be added",
    ),
    (
        "k8s.ClusterRole",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.ClusterRole",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.ClusterRole",
        "rules",
        "Rules holds all the PolicyRules for this ClusterRole",
    ),
    (
        "k8s.Subject",
        "apiGroup",
        "APIGroup holds the API group of the referenced subject. Defaults to \"\" for ServiceAccount subjects. Defaults to \"rbac.authorization.k8s.io\" for User and Group subjects.",
    ),
    (
        "k8s.Subject",
        "kind",
        "Kind of object being referenced. Values defined by this API group are \"User\", \"Group\", and \"ServiceAccount\". If the Authorizer does not recognized the kind value, the Authorizer should report an error.",
    ),
    (
        "k8s.Subject",
        "name",
        "Name of the object being referenced.",
    ),
    (
        "k8s.Subject",
        "namespace",
        "Namespace of the referenced object.  If the object kind is non-namespace, such as \"User\" or \"Group\", and this value is not empty the Authorizer should report an error.",
    ),
    (
        "k8s.RoleRef",
        "apiGroup",
        "APIGroup is the group for the resource being referenced",
    ),
    (
        "k8s.RoleRef",
        "kind",
        "Kind is the type of resource being referenced",
    ),
    (
        "k8s.RoleRef",
        "name",
        "Name is the name of resource being referenced",
    ),
    (
        "k8s.RoleBinding",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.RoleBinding",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.RoleBinding",
        "subjects",
        "Subjects holds references to the objects the role applies to.",
    ),
    (
        "k8s.ClusterRoleBinding",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.ClusterRoleBinding",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.ClusterRoleBinding",
        "subjects",
        "Subjects holds references to the objects the role applies to.",
    ),
    (
        "k8s.CertificateSigningRequest",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.CertificateSigningRequest",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.CertificateSigningRequestSpec",
        "expirationSeconds",
        "expirationSeconds is the requested duration of validity of the issued certificate. The certificate signer may issue a certificate with a different validity duration so a client must check the delta between the notBefore and and notAfter fields in the issued certificate to determine the actual duration.\n\nThe v1.22+ in-tree implementations of the well-known Kubernetes signers will honor this field as long as the requested duration is not greater than the maximum duration they will honor per the --cluster-signing-duration CLI flag to the Kubernetes controller manager.\n\nCertificate signers may not honor this field for various reasons:\n\n  1. Old signer that is unaware of the field (such as the in-tree\n     implementations prior to v1.22)\n  2. Signer whose configured maximum is shorter than the requested duration\n  3. Signer whose configured minimum is longer than the requested duration\n\nThe minimum valid value for expirationSeconds is 600, i.e. 10 minutes.",
    ),
    (
        "k8s.CertificateSigningRequestSpec",
        "extra",
        "extra contains extra attributes of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable.",
    ),
    (
        "k8s.CertificateSigningRequestSpec",
        "groups",
        "groups contains group membership of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable.",
    ),
    (
        "k8s.CertificateSigningRequestSpec",
        "request",
        "request contains an x509 certificate signing request encoded in a \"CERTIFICATE REQUEST\" PEM block. When serialized as JSON or YAML, the data is additionally base64-encoded.",
    ),
    (
        "k8s.CertificateSigningRequestSpec",
        "signerName",
        "signerName indicates the requested signer, and is a qualified name.\n\nList/watch requests for CertificateSigningRequests can filter on this field using a \"spec.signerName=NAME\" fieldSelector.\n\nWell-known Kubernetes signers are:\n 1. \"kubernetes.io/kube-apiserver-client\": issues client certificates that can be used to authenticate to kube-apiserver.\n  Requests for this signer are never auto-approved by kube-controller-manager, can be issued by the \"csrsigning\" controller in kube-controller-manager.\n 2. \"kubernetes.io/kube-apiserver-client-kubelet\": issues client certificates that kubelets use to authenticate to kube-apiserver.\n  Requests for this signer can be auto-approved by the \"csrapproving\" controller in kube-controller-manager, and can be issued by the \"csrsigning\" controller in kube-controller-manager.\n 3. \"kubernetes.io/kubelet-serving\" issues serving certificates that kubelets use to serve TLS endpoints, which kube-apiserver can connect to securely.\n  Requests for this signer are never auto-approved by kube-controller-manager, and can be issued by the \"csrsigning\" controller in kube-controller-manager.\n\nMore details are available at https://k8s.io/docs/reference/access-authn-authz/certificate-signing-requests/#kubernetes-signers\n\nCustom signerNames can also be specified. The signer defines:\n 1. Trust distribution: how trust (CA bundles) are distributed.\n 2. Permitted subjects: and behavior when a disallowed subject is requested.\n 3. Required, permitted, or forbidden x509 extensions in the request (including whether subjectAltNames are allowed, which types, restrictions on allowed values) and behavior when a disallowed extension is requested.\n 4. Required, permitted, or forbidden key usages / extended key usages.\n 5. Expiration/certificate lifetime: whether it is fixed by the signer, configurable by the admin.\n 6. Whether or not requests for CA certificates are allowed.",
    ),
    (
        "k8s.CertificateSigningRequestSpec",
        "uid",
        "uid contains the uid of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable.",
    ),
    (
        "k8s.CertificateSigningRequestSpec",
        "usages",
        "usages specifies a set of key usages requested in the issued certificate.\n\nRequests for TLS client certificates typically request: \"digital signature\", \"key encipherment\", \"client auth\".\n\nRequests for TLS serving certificates typically request: \"key encipherment\", \"digital signature\", \"server auth\".\n\nValid values are:\n \"signing\", \"digital signature\", \"content commitment\",\n \"key encipherment\", \"key agreement\", \"data encipherment\",\n \"cert sign\", \"crl sign\", \"encipher only\", \"decipher only\", \"any\",\n \"server auth\", \"client auth\",\n \"code signing\", \"email protection\", \"s/mime\",\n \"ipsec end system\", \"ipsec tunnel\", \"ipsec user\",\n \"timestamping\", \"ocsp signing\", \"microsoft sgc\", \"netscape sgc\"",
    ),
    (
        "k8s.CertificateSigningRequestSpec",
        "username",
        "username contains the name of the user that created the CertificateSigningRequest. Populated by the API server on creation and immutable.",
    ),
    (
        "k8s.CertificateSigningRequestStatus",
        "certificate",
        "certificate is populated with an issued certificate by the signer after an Approved condition is present. This field is set via the /status subresource. Once populated, this field is immutable.\n\nIf the certificate signing request is denied, a condition of type \"Denied\" is added and this field remains empty. If the signer cannot issue the certificate, a condition of type \"Failed\" is added and this field remains empty.\n\nValidation requirements:\n 1. certificate must contain one or more PEM blocks.\n 2. All PEM blocks must have the \"CERTIFICATE\" label, contain no headers, and the encoded data\n  must be a BER-encoded ASN.1 Certificate structure as described in section 4 of RFC5280.\n 3. Non-PEM content may appear before or after the \"CERTIFICATE\" PEM blocks and is unvalidated,\n  to allow for explanatory text as described in section 5.2 of RFC7468.\n\nIf more than one PEM block is present, and the definition of the requested spec.signerName does not indicate otherwise, the first block is the issued certificate, and subsequent blocks should be treated as intermediate certificates and presented in TLS handshakes.\n\nThe certificate is encoded in PEM format.\n\nWhen serialized as JSON or YAML, the data is additionally base64-encoded, so it consists of:\n\n    base64(\n    -----BEGIN CERTIFICATE-----\n    ...\n    -----END CERTIFICATE-----\n    )",
    ),
    (
        "k8s.CertificateSigningRequestStatus",
        "conditions",
        "conditions applied to the request. Known conditions are \"Approved\", \"Denied\", and \"Failed\".",
    ),
    (
        "k8s.CertificateSigningRequestCondition",
        "message",
        "message contains a human readable message with details about the request state",
    ),
    (
        "k8s.CertificateSigningRequestCondition",
        "reason",
        "reason indicates a brief reason for the request state",
    ),
    (
        "k8s.CertificateSigningRequestCondition",
        "status",
        "status of the condition, one of True, False, Unknown. Approved, Denied, and Failed conditions may not be \"False\" or \"Unknown\".",
    ),
    (
        "k8s.CertificateSigningRequestCondition",
        "type",
        "type of the condition. Known conditions are \"Approved\", \"Denied\", and \"Failed\".\n\nAn \"Approved\" condition is added via the /approval subresource, indicating the request was approved and should be issued by the signer.\n\nA \"Denied\" condition is added via the /approval subresource, indicating the request was denied and should not be issued by the signer.\n\nA \"Failed\" condition is added via the /status subresource, indicating the signer failed to issue the certificate.\n\nApproved and Denied conditions are mutually exclusive. Approved, Denied, and Failed conditions cannot be removed once added.\n\nOnly one condition of a given type is allowed.",
    ),
    (
        "k8s.UserInfo",
        "extra",
        "Any additional information provided by the authenticator.",
    ),
    (
        "k8s.UserInfo",
        "groups",
        "The names of groups this user is a part of.",
    ),
    (
        "k8s.UserInfo",
        "uid",
        "A unique value that identifies this user across time. If this user is deleted and another user by the same name is added, they will have different UIDs.",
    ),
    (
        "k8s.UserInfo",
        "username",
        "The name that uniquely identifies this user among all active users.",
    ),
    (
        "k8s.TokenRequest",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.TokenRequest",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.TokenRequestSpec",
        "audiences",
        "Audiences are the intendend audiences of the token. A recipient of a token must identify themself with an identifier in the list of audiences of the token, and otherwise should reject the token. A token issued for multiple audiences may be used to authenticate against any of the audiences listed but implies a high degree of trust between the target audiences.",
    ),
    (
        "k8s.TokenRequestSpec",
        "expirationSeconds",
        "ExpirationSeconds is the requested duration of validity of the request. The token issuer may return a token with a different validity duration so a client needs to check the 'expiration' field in a response.",
    ),
    (
        "k8s.BoundObjectReference",
        "apiVersion",
        "API version of the referent.",
    ),
    (
        "k8s.BoundObjectReference",
        "kind",
        "Kind of the referent. Valid kinds are 'Pod' and 'Secret'.",
    ),
    ("k8s.BoundObjectReference", "name", "Name of the referent."),
    ("k8s.BoundObjectReference", "uid", "UID of the referent."),
    (
        "k8s.TokenRequestStatus",
        "token",
        "Token is the opaque bearer token.",
    ),
    (
        "k8s.TokenReview",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.TokenReview",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.TokenReviewSpec",
        "audiences",
        "Audiences is a list of the identifiers that the resource server presented with the token identifies as. Audience-aware token authenticators will verify that the token was intended for at least one of the audiences in this list. If no audiences are provided, the audience will default to the audience of the Kubernetes apiserver.",
    ),
    (
        "k8s.TokenReviewSpec",
        "token",
        "Token is the opaque bearer token.",
    ),
    (
        "k8s.TokenReviewStatus",
        "audiences",
        "Audiences are audience identifiers chosen by the authenticator that are compatible with both the TokenReview and token. An identifier is any identifier in the intersection of the TokenReviewSpec audiences and the token's audiences. A client of the TokenReview API that sets the spec.audiences field should validate that a compatible audience identifier is returned in the status.audiences field to ensure that the TokenReview server is audience aware. If a TokenReview returns an empty status.audience field where status.authenticated is \"true\", the token is valid against the audience of the Kubernetes API server.",
    ),
    (
        "k8s.TokenReviewStatus",
        "authenticated",
        "Authenticated indicates that the token was associated with a known user.",
    ),
    (
        "k8s.TokenReviewStatus",
        "error",
        "Error indicates that the token couldn't be checked",
    ),
    (
        "k8s.SelfSubjectReview",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.SelfSubjectReview",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.ResourceAttributes",
        "group",
        "Group is the API Group of the Resource.  \"*\" means all.",
    ),
    (
        "k8s.ResourceAttributes",
        "name",
        "Name is the name of the resource being requested for a \"get\" or deleted for a \"delete\". \"\" (empty) means all.",
    ),
    (
        "k8s.ResourceAttributes",
        "namespace",
        "Namespace is the namespace of the action being requested.  Currently, there is no distinction between no namespace and all namespaces \"\" (empty) is defaulted for LocalSubjectAccessReviews \"\" (empty) is empty for cluster-scoped resources \"\" (empty) means \"all\" for namespace scoped resources from a SubjectAccessReview or SelfSubjectAccessReview",
    ),
    (
        "k8s.ResourceAttributes",
        "resource",
        "Resource is one of the existing resource types.  \"*\" means all.",
    ),
    (
        "k8s.ResourceAttributes",
        "subresource",
        "Subresource is one of the existing resource types.  \"\" means none.",
    ),
    (
        "k8s.ResourceAttributes",
        "verb",
        "Verb is a kubernetes resource API verb, like: get, list, watch, create, update, delete, proxy.  \"*\" means all.",
    ),
    (
        "k8s.ResourceAttributes",
        "version",
        "Version is the API Version of the Resource.  \"*\" means all.",
    ),
    (
        "k8s.NonResourceAttributes",
        "path",
        "Path is the URL path of the request",
    ),
    (
        "k8s.NonResourceAttributes",
        "verb",
        "Verb is the standard HTTP verb",
    ),
    (
        "k8s.SubjectAccessReviewSpec",
        "extra",
        "Extra corresponds to the user.Info.GetExtra() method from the authenticator.  Since that is input to the authorizer it needs a reflection here.",
    ),
    (
        "k8s.SubjectAccessReviewSpec",
        "groups",
        "Groups is the groups you're testing for.",
    ),
    (
        "k8s.SubjectAccessReviewSpec",
        "uid",
        "UID information about the requesting user.",
    ),
    (
        "k8s.SubjectAccessReviewSpec",
        "user",
        "User is the user you're testing for. If you specify \"User\" but not \"Groups\", then is it interpreted as \"What if User were not a member of any groups",
    ),
    (
        "k8s.SubjectAccessReviewStatus",
        "allowed",
        "Allowed is required. True if the action would be allowed, false otherwise.",
    ),
    (
        "k8s.SubjectAccessReviewStatus",
        "denied",
        "Denied is optional. True if the action would be denied, otherwise false. If both allowed is false and denied is false, then the authorizer has no opinion on whether to authorize the action. Denied may not be true if Allowed is true.",
    ),
    (
        "k8s.SubjectAccessReviewStatus",
        "evaluationError",
        "EvaluationError is an indication that some error occurred during the authorization check. It is entirely possible to get an error and be able to continue determine authorization status in spite of it. For instance, RBAC can be missing a role, but enough roles are still present and bound to reason about the request.",
    ),
    (
        "k8s.SubjectAccessReviewStatus",
        "reason",
        "Reason is optional.  It indicates why a request was allowed or denied.",
    ),
    (
        "k8s.SubjectAccessReview",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.SubjectAccessReview",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
    (
        "k8s.SelfSubjectAccessReview",
        "apiVersion",
        "APIVersion defines the versioned schema of this representation of an object. Servers should convert recognized schemas to the latest internal value, and may reject unrecognized values. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#resources",
    ),
    (
        "k8s.SelfSubjectAccessReview",
        "kind",
        "Kind is a string value representing the REST resource this object represents. Servers may infer this from the endpoint the client submits requests to. Cannot be updated. In CamelCase. More info: https://git.k8s.io/community/contributors/devel/sig-architecture/api-conventions.md#types-kinds",
    ),
];

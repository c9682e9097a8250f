//! Field numbers of Kubernetes' protobuf encoding (`generated.proto` of k8s.io/api and
//! k8s.io/apimachinery) for the messages we have: (message, [(number, JSON name, message
//! type of the field, "" for scalars, "map" for maps)]). Facts, as published.

/// (number, JSON name, message type of the field).
pub(super) type Field = (u32, &'static str, &'static str);

pub(super) static MESSAGES: &[(&str, &[Field])] = &[
    (
        "k8s.io.api.apps.v1.DaemonSet",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.apps.v1.DaemonSetSpec"),
            (3, "status", "k8s.io.api.apps.v1.DaemonSetStatus"),
        ],
    ),
    (
        "k8s.io.api.apps.v1.DaemonSetCondition",
        &[
            (1, "type", ""),
            (2, "status", ""),
            (
                3,
                "lastTransitionTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (4, "reason", ""),
            (5, "message", ""),
        ],
    ),
    (
        "k8s.io.api.apps.v1.DaemonSetSpec",
        &[
            (
                1,
                "selector",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
            ),
            (2, "template", ".k8s.io.api.core.v1.PodTemplateSpec"),
            (
                3,
                "updateStrategy",
                "k8s.io.api.apps.v1.DaemonSetUpdateStrategy",
            ),
            (4, "minReadySeconds", ""),
            (6, "revisionHistoryLimit", ""),
        ],
    ),
    (
        "k8s.io.api.apps.v1.DaemonSetStatus",
        &[
            (1, "currentNumberScheduled", ""),
            (2, "numberMisscheduled", ""),
            (3, "desiredNumberScheduled", ""),
            (4, "numberReady", ""),
            (5, "observedGeneration", ""),
            (6, "updatedNumberScheduled", ""),
            (7, "numberAvailable", ""),
            (8, "numberUnavailable", ""),
            (9, "collisionCount", ""),
            (10, "conditions", "k8s.io.api.apps.v1.DaemonSetCondition"),
        ],
    ),
    (
        "k8s.io.api.apps.v1.DaemonSetUpdateStrategy",
        &[
            (1, "type", ""),
            (
                2,
                "rollingUpdate",
                "k8s.io.api.apps.v1.RollingUpdateDaemonSet",
            ),
        ],
    ),
    (
        "k8s.io.api.apps.v1.Deployment",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.apps.v1.DeploymentSpec"),
            (3, "status", "k8s.io.api.apps.v1.DeploymentStatus"),
        ],
    ),
    (
        "k8s.io.api.apps.v1.DeploymentCondition",
        &[
            (1, "type", ""),
            (2, "status", ""),
            (
                6,
                "lastUpdateTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (
                7,
                "lastTransitionTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (4, "reason", ""),
            (5, "message", ""),
        ],
    ),
    (
        "k8s.io.api.apps.v1.DeploymentSpec",
        &[
            (1, "replicas", ""),
            (
                2,
                "selector",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
            ),
            (3, "template", ".k8s.io.api.core.v1.PodTemplateSpec"),
            (4, "strategy", "k8s.io.api.apps.v1.DeploymentStrategy"),
            (5, "minReadySeconds", ""),
            (6, "revisionHistoryLimit", ""),
            (7, "paused", ""),
            (9, "progressDeadlineSeconds", ""),
        ],
    ),
    (
        "k8s.io.api.apps.v1.DeploymentStatus",
        &[
            (1, "observedGeneration", ""),
            (2, "replicas", ""),
            (3, "updatedReplicas", ""),
            (7, "readyReplicas", ""),
            (4, "availableReplicas", ""),
            (5, "unavailableReplicas", ""),
            (9, "terminatingReplicas", ""),
            (6, "conditions", "k8s.io.api.apps.v1.DeploymentCondition"),
            (8, "collisionCount", ""),
        ],
    ),
    (
        "k8s.io.api.apps.v1.DeploymentStrategy",
        &[
            (1, "type", ""),
            (
                2,
                "rollingUpdate",
                "k8s.io.api.apps.v1.RollingUpdateDeployment",
            ),
        ],
    ),
    (
        "k8s.io.api.apps.v1.ReplicaSet",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.apps.v1.ReplicaSetSpec"),
            (3, "status", "k8s.io.api.apps.v1.ReplicaSetStatus"),
        ],
    ),
    (
        "k8s.io.api.apps.v1.ReplicaSetCondition",
        &[
            (1, "type", ""),
            (2, "status", ""),
            (
                3,
                "lastTransitionTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (4, "reason", ""),
            (5, "message", ""),
        ],
    ),
    (
        "k8s.io.api.apps.v1.ReplicaSetSpec",
        &[
            (1, "replicas", ""),
            (4, "minReadySeconds", ""),
            (
                2,
                "selector",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
            ),
            (3, "template", ".k8s.io.api.core.v1.PodTemplateSpec"),
        ],
    ),
    (
        "k8s.io.api.apps.v1.ReplicaSetStatus",
        &[
            (1, "replicas", ""),
            (2, "fullyLabeledReplicas", ""),
            (4, "readyReplicas", ""),
            (5, "availableReplicas", ""),
            (7, "terminatingReplicas", ""),
            (3, "observedGeneration", ""),
            (6, "conditions", "k8s.io.api.apps.v1.ReplicaSetCondition"),
        ],
    ),
    (
        "k8s.io.api.apps.v1.RollingUpdateDaemonSet",
        &[
            (
                1,
                "maxUnavailable",
                ".k8s.io.apimachinery.pkg.util.intstr.IntOrString",
            ),
            (
                2,
                "maxSurge",
                ".k8s.io.apimachinery.pkg.util.intstr.IntOrString",
            ),
        ],
    ),
    (
        "k8s.io.api.apps.v1.RollingUpdateDeployment",
        &[
            (
                1,
                "maxUnavailable",
                ".k8s.io.apimachinery.pkg.util.intstr.IntOrString",
            ),
            (
                2,
                "maxSurge",
                ".k8s.io.apimachinery.pkg.util.intstr.IntOrString",
            ),
        ],
    ),
    (
        "k8s.io.api.apps.v1.RollingUpdateStatefulSetStrategy",
        &[
            (1, "partition", ""),
            (
                2,
                "maxUnavailable",
                ".k8s.io.apimachinery.pkg.util.intstr.IntOrString",
            ),
        ],
    ),
    (
        "k8s.io.api.apps.v1.StatefulSet",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.apps.v1.StatefulSetSpec"),
            (3, "status", "k8s.io.api.apps.v1.StatefulSetStatus"),
        ],
    ),
    (
        "k8s.io.api.apps.v1.StatefulSetCondition",
        &[
            (1, "type", ""),
            (2, "status", ""),
            (
                3,
                "lastTransitionTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (4, "reason", ""),
            (5, "message", ""),
        ],
    ),
    (
        "k8s.io.api.apps.v1.StatefulSetOrdinals",
        &[(1, "start", "")],
    ),
    (
        "k8s.io.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy",
        &[(1, "whenDeleted", ""), (2, "whenScaled", "")],
    ),
    (
        "k8s.io.api.apps.v1.StatefulSetSpec",
        &[
            (1, "replicas", ""),
            (
                2,
                "selector",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
            ),
            (3, "template", ".k8s.io.api.core.v1.PodTemplateSpec"),
            (
                4,
                "volumeClaimTemplates",
                ".k8s.io.api.core.v1.PersistentVolumeClaim",
            ),
            (5, "serviceName", ""),
            (6, "podManagementPolicy", ""),
            (
                7,
                "updateStrategy",
                "k8s.io.api.apps.v1.StatefulSetUpdateStrategy",
            ),
            (8, "revisionHistoryLimit", ""),
            (9, "minReadySeconds", ""),
            (
                10,
                "persistentVolumeClaimRetentionPolicy",
                "k8s.io.api.apps.v1.StatefulSetPersistentVolumeClaimRetentionPolicy",
            ),
            (11, "ordinals", "k8s.io.api.apps.v1.StatefulSetOrdinals"),
        ],
    ),
    (
        "k8s.io.api.apps.v1.StatefulSetStatus",
        &[
            (1, "observedGeneration", ""),
            (2, "replicas", ""),
            (3, "readyReplicas", ""),
            (4, "currentReplicas", ""),
            (5, "updatedReplicas", ""),
            (6, "currentRevision", ""),
            (7, "updateRevision", ""),
            (9, "collisionCount", ""),
            (10, "conditions", "k8s.io.api.apps.v1.StatefulSetCondition"),
            (11, "availableReplicas", ""),
        ],
    ),
    (
        "k8s.io.api.apps.v1.StatefulSetUpdateStrategy",
        &[
            (1, "type", ""),
            (
                2,
                "rollingUpdate",
                "k8s.io.api.apps.v1.RollingUpdateStatefulSetStrategy",
            ),
        ],
    ),
    (
        "k8s.io.api.authentication.v1.BoundObjectReference",
        &[
            (1, "kind", ""),
            (2, "apiVersion", ""),
            (3, "name", ""),
            (4, "uID", ""),
        ],
    ),
    (
        "k8s.io.api.authentication.v1.SelfSubjectReview",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (
                2,
                "status",
                "k8s.io.api.authentication.v1.SelfSubjectReviewStatus",
            ),
        ],
    ),
    (
        "k8s.io.api.authentication.v1.SelfSubjectReviewStatus",
        &[(1, "userInfo", "k8s.io.api.authentication.v1.UserInfo")],
    ),
    (
        "k8s.io.api.authentication.v1.TokenRequest",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.authentication.v1.TokenRequestSpec"),
            (
                3,
                "status",
                "k8s.io.api.authentication.v1.TokenRequestStatus",
            ),
        ],
    ),
    (
        "k8s.io.api.authentication.v1.TokenRequestSpec",
        &[
            (1, "audiences", ""),
            (4, "expirationSeconds", ""),
            (
                3,
                "boundObjectRef",
                "k8s.io.api.authentication.v1.BoundObjectReference",
            ),
            (5, "attestations", "map"),
        ],
    ),
    (
        "k8s.io.api.authentication.v1.TokenRequestStatus",
        &[
            (1, "token", ""),
            (
                2,
                "expirationTimestamp",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
        ],
    ),
    (
        "k8s.io.api.authentication.v1.TokenReview",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.authentication.v1.TokenReviewSpec"),
            (
                3,
                "status",
                "k8s.io.api.authentication.v1.TokenReviewStatus",
            ),
        ],
    ),
    (
        "k8s.io.api.authentication.v1.TokenReviewSpec",
        &[(1, "token", ""), (2, "audiences", "")],
    ),
    (
        "k8s.io.api.authentication.v1.TokenReviewStatus",
        &[
            (1, "authenticated", ""),
            (2, "user", "k8s.io.api.authentication.v1.UserInfo"),
            (4, "audiences", ""),
            (3, "error", ""),
        ],
    ),
    (
        "k8s.io.api.authentication.v1.UserInfo",
        &[
            (1, "username", ""),
            (2, "uid", ""),
            (3, "groups", ""),
            (4, "extra", "map"),
        ],
    ),
    (
        "k8s.io.api.authorization.v1.NonResourceAttributes",
        &[(1, "path", ""), (2, "verb", "")],
    ),
    (
        "k8s.io.api.authorization.v1.ResourceAttributes",
        &[
            (1, "namespace", ""),
            (2, "verb", ""),
            (3, "group", ""),
            (4, "version", ""),
            (5, "resource", ""),
            (6, "subresource", ""),
            (7, "name", ""),
            (
                8,
                "fieldSelector",
                "k8s.io.api.authorization.v1.FieldSelectorAttributes",
            ),
            (
                9,
                "labelSelector",
                "k8s.io.api.authorization.v1.LabelSelectorAttributes",
            ),
        ],
    ),
    (
        "k8s.io.api.authorization.v1.SelfSubjectAccessReview",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (
                2,
                "spec",
                "k8s.io.api.authorization.v1.SelfSubjectAccessReviewSpec",
            ),
            (
                3,
                "status",
                "k8s.io.api.authorization.v1.SubjectAccessReviewStatus",
            ),
        ],
    ),
    (
        "k8s.io.api.authorization.v1.SelfSubjectAccessReviewSpec",
        &[
            (
                1,
                "resourceAttributes",
                "k8s.io.api.authorization.v1.ResourceAttributes",
            ),
            (
                2,
                "nonResourceAttributes",
                "k8s.io.api.authorization.v1.NonResourceAttributes",
            ),
        ],
    ),
    (
        "k8s.io.api.authorization.v1.SubjectAccessReview",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (
                2,
                "spec",
                "k8s.io.api.authorization.v1.SubjectAccessReviewSpec",
            ),
            (
                3,
                "status",
                "k8s.io.api.authorization.v1.SubjectAccessReviewStatus",
            ),
        ],
    ),
    (
        "k8s.io.api.authorization.v1.SubjectAccessReviewSpec",
        &[
            (
                1,
                "resourceAttributes",
                "k8s.io.api.authorization.v1.ResourceAttributes",
            ),
            (
                2,
                "nonResourceAttributes",
                "k8s.io.api.authorization.v1.NonResourceAttributes",
            ),
            (3, "user", ""),
            (4, "groups", ""),
            (5, "extra", "map"),
            (6, "uid", ""),
        ],
    ),
    (
        "k8s.io.api.authorization.v1.SubjectAccessReviewStatus",
        &[
            (1, "allowed", ""),
            (4, "denied", ""),
            (2, "reason", ""),
            (3, "evaluationError", ""),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v1.Scale",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.autoscaling.v1.ScaleSpec"),
            (3, "status", "k8s.io.api.autoscaling.v1.ScaleStatus"),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v1.ScaleSpec",
        &[(1, "replicas", "")],
    ),
    (
        "k8s.io.api.autoscaling.v1.ScaleStatus",
        &[(1, "replicas", ""), (2, "selector", "")],
    ),
    (
        "k8s.io.api.autoscaling.v2.ContainerResourceMetricSource",
        &[
            (1, "name", ""),
            (2, "target", "k8s.io.api.autoscaling.v2.MetricTarget"),
            (3, "container", ""),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.ContainerResourceMetricStatus",
        &[
            (1, "name", ""),
            (2, "current", "k8s.io.api.autoscaling.v2.MetricValueStatus"),
            (3, "container", ""),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.CrossVersionObjectReference",
        &[(1, "kind", ""), (2, "name", ""), (3, "apiVersion", "")],
    ),
    (
        "k8s.io.api.autoscaling.v2.ExternalMetricSource",
        &[
            (1, "metric", "k8s.io.api.autoscaling.v2.MetricIdentifier"),
            (2, "target", "k8s.io.api.autoscaling.v2.MetricTarget"),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.ExternalMetricStatus",
        &[
            (1, "metric", "k8s.io.api.autoscaling.v2.MetricIdentifier"),
            (2, "current", "k8s.io.api.autoscaling.v2.MetricValueStatus"),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.HPAScalingPolicy",
        &[(1, "type", ""), (2, "value", ""), (3, "periodSeconds", "")],
    ),
    (
        "k8s.io.api.autoscaling.v2.HPAScalingRules",
        &[
            (3, "stabilizationWindowSeconds", ""),
            (1, "selectPolicy", ""),
            (2, "policies", "k8s.io.api.autoscaling.v2.HPAScalingPolicy"),
            (
                4,
                "tolerance",
                ".k8s.io.apimachinery.pkg.api.resource.Quantity",
            ),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.HorizontalPodAutoscaler",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (
                2,
                "spec",
                "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
            ),
            (
                3,
                "status",
                "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
            ),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerBehavior",
        &[
            (1, "scaleUp", "k8s.io.api.autoscaling.v2.HPAScalingRules"),
            (2, "scaleDown", "k8s.io.api.autoscaling.v2.HPAScalingRules"),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerCondition",
        &[
            (1, "type", ""),
            (2, "status", ""),
            (
                3,
                "lastTransitionTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (4, "reason", ""),
            (5, "message", ""),
            (6, "observedGeneration", ""),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerSpec",
        &[
            (
                1,
                "scaleTargetRef",
                "k8s.io.api.autoscaling.v2.CrossVersionObjectReference",
            ),
            (2, "minReplicas", ""),
            (3, "maxReplicas", ""),
            (4, "metrics", "k8s.io.api.autoscaling.v2.MetricSpec"),
            (
                5,
                "behavior",
                "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerBehavior",
            ),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerStatus",
        &[
            (1, "observedGeneration", ""),
            (
                2,
                "lastScaleTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (3, "currentReplicas", ""),
            (4, "desiredReplicas", ""),
            (
                5,
                "currentMetrics",
                "k8s.io.api.autoscaling.v2.MetricStatus",
            ),
            (
                6,
                "conditions",
                "k8s.io.api.autoscaling.v2.HorizontalPodAutoscalerCondition",
            ),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.MetricIdentifier",
        &[
            (1, "name", ""),
            (
                2,
                "selector",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
            ),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.MetricSpec",
        &[
            (1, "type", ""),
            (2, "object", "k8s.io.api.autoscaling.v2.ObjectMetricSource"),
            (3, "pods", "k8s.io.api.autoscaling.v2.PodsMetricSource"),
            (
                4,
                "resource",
                "k8s.io.api.autoscaling.v2.ResourceMetricSource",
            ),
            (
                7,
                "containerResource",
                "k8s.io.api.autoscaling.v2.ContainerResourceMetricSource",
            ),
            (
                5,
                "external",
                "k8s.io.api.autoscaling.v2.ExternalMetricSource",
            ),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.MetricStatus",
        &[
            (1, "type", ""),
            (2, "object", "k8s.io.api.autoscaling.v2.ObjectMetricStatus"),
            (3, "pods", "k8s.io.api.autoscaling.v2.PodsMetricStatus"),
            (
                4,
                "resource",
                "k8s.io.api.autoscaling.v2.ResourceMetricStatus",
            ),
            (
                7,
                "containerResource",
                "k8s.io.api.autoscaling.v2.ContainerResourceMetricStatus",
            ),
            (
                5,
                "external",
                "k8s.io.api.autoscaling.v2.ExternalMetricStatus",
            ),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.MetricTarget",
        &[
            (1, "type", ""),
            (2, "value", ".k8s.io.apimachinery.pkg.api.resource.Quantity"),
            (
                3,
                "averageValue",
                ".k8s.io.apimachinery.pkg.api.resource.Quantity",
            ),
            (4, "averageUtilization", ""),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.MetricValueStatus",
        &[
            (1, "value", ".k8s.io.apimachinery.pkg.api.resource.Quantity"),
            (
                2,
                "averageValue",
                ".k8s.io.apimachinery.pkg.api.resource.Quantity",
            ),
            (3, "averageUtilization", ""),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.ObjectMetricSource",
        &[
            (
                1,
                "describedObject",
                "k8s.io.api.autoscaling.v2.CrossVersionObjectReference",
            ),
            (2, "target", "k8s.io.api.autoscaling.v2.MetricTarget"),
            (3, "metric", "k8s.io.api.autoscaling.v2.MetricIdentifier"),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.ObjectMetricStatus",
        &[
            (1, "metric", "k8s.io.api.autoscaling.v2.MetricIdentifier"),
            (2, "current", "k8s.io.api.autoscaling.v2.MetricValueStatus"),
            (
                3,
                "describedObject",
                "k8s.io.api.autoscaling.v2.CrossVersionObjectReference",
            ),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.PodsMetricSource",
        &[
            (1, "metric", "k8s.io.api.autoscaling.v2.MetricIdentifier"),
            (2, "target", "k8s.io.api.autoscaling.v2.MetricTarget"),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.PodsMetricStatus",
        &[
            (1, "metric", "k8s.io.api.autoscaling.v2.MetricIdentifier"),
            (2, "current", "k8s.io.api.autoscaling.v2.MetricValueStatus"),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.ResourceMetricSource",
        &[
            (1, "name", ""),
            (2, "target", "k8s.io.api.autoscaling.v2.MetricTarget"),
        ],
    ),
    (
        "k8s.io.api.autoscaling.v2.ResourceMetricStatus",
        &[
            (1, "name", ""),
            (2, "current", "k8s.io.api.autoscaling.v2.MetricValueStatus"),
        ],
    ),
    (
        "k8s.io.api.batch.v1.CronJob",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.batch.v1.CronJobSpec"),
            (3, "status", "k8s.io.api.batch.v1.CronJobStatus"),
        ],
    ),
    (
        "k8s.io.api.batch.v1.CronJobSpec",
        &[
            (1, "schedule", ""),
            (8, "timeZone", ""),
            (2, "startingDeadlineSeconds", ""),
            (3, "concurrencyPolicy", ""),
            (4, "suspend", ""),
            (5, "jobTemplate", "k8s.io.api.batch.v1.JobTemplateSpec"),
            (6, "successfulJobsHistoryLimit", ""),
            (7, "failedJobsHistoryLimit", ""),
        ],
    ),
    (
        "k8s.io.api.batch.v1.CronJobStatus",
        &[
            (1, "active", ".k8s.io.api.core.v1.ObjectReference"),
            (
                4,
                "lastScheduleTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (
                5,
                "lastSuccessfulTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
        ],
    ),
    (
        "k8s.io.api.batch.v1.Job",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.batch.v1.JobSpec"),
            (3, "status", "k8s.io.api.batch.v1.JobStatus"),
        ],
    ),
    (
        "k8s.io.api.batch.v1.JobCondition",
        &[
            (1, "type", ""),
            (2, "status", ""),
            (
                3,
                "lastProbeTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (
                4,
                "lastTransitionTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (5, "reason", ""),
            (6, "message", ""),
        ],
    ),
    (
        "k8s.io.api.batch.v1.JobSpec",
        &[
            (1, "parallelism", ""),
            (2, "completions", ""),
            (3, "activeDeadlineSeconds", ""),
            (
                11,
                "podFailurePolicy",
                "k8s.io.api.batch.v1.PodFailurePolicy",
            ),
            (16, "successPolicy", "k8s.io.api.batch.v1.SuccessPolicy"),
            (7, "backoffLimit", ""),
            (12, "backoffLimitPerIndex", ""),
            (13, "maxFailedIndexes", ""),
            (
                4,
                "selector",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
            ),
            (5, "manualSelector", ""),
            (6, "template", ".k8s.io.api.core.v1.PodTemplateSpec"),
            (8, "ttlSecondsAfterFinished", ""),
            (9, "completionMode", ""),
            (10, "suspend", ""),
            (14, "podReplacementPolicy", ""),
            (15, "managedBy", ""),
            (
                17,
                "scheduling",
                "k8s.io.api.batch.v1.JobSchedulingConfiguration",
            ),
        ],
    ),
    (
        "k8s.io.api.batch.v1.JobStatus",
        &[
            (1, "conditions", "k8s.io.api.batch.v1.JobCondition"),
            (2, "startTime", ".k8s.io.apimachinery.pkg.apis.meta.v1.Time"),
            (
                3,
                "completionTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (4, "active", ""),
            (5, "succeeded", ""),
            (6, "failed", ""),
            (11, "terminating", ""),
            (7, "completedIndexes", ""),
            (10, "failedIndexes", ""),
            (
                8,
                "uncountedTerminatedPods",
                "k8s.io.api.batch.v1.UncountedTerminatedPods",
            ),
            (9, "ready", ""),
        ],
    ),
    (
        "k8s.io.api.batch.v1.JobTemplateSpec",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.batch.v1.JobSpec"),
        ],
    ),
    (
        "k8s.io.api.batch.v1.UncountedTerminatedPods",
        &[(1, "succeeded", ""), (2, "failed", "")],
    ),
    (
        "k8s.io.api.certificates.v1.CertificateSigningRequest",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (
                2,
                "spec",
                "k8s.io.api.certificates.v1.CertificateSigningRequestSpec",
            ),
            (
                3,
                "status",
                "k8s.io.api.certificates.v1.CertificateSigningRequestStatus",
            ),
        ],
    ),
    (
        "k8s.io.api.certificates.v1.CertificateSigningRequestCondition",
        &[
            (1, "type", ""),
            (6, "status", ""),
            (2, "reason", ""),
            (3, "message", ""),
            (
                4,
                "lastUpdateTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (
                5,
                "lastTransitionTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
        ],
    ),
    (
        "k8s.io.api.certificates.v1.CertificateSigningRequestSpec",
        &[
            (1, "request", ""),
            (7, "signerName", ""),
            (8, "expirationSeconds", ""),
            (5, "usages", ""),
            (2, "username", ""),
            (3, "uid", ""),
            (4, "groups", ""),
            (6, "extra", "map"),
        ],
    ),
    (
        "k8s.io.api.certificates.v1.CertificateSigningRequestStatus",
        &[
            (
                1,
                "conditions",
                "k8s.io.api.certificates.v1.CertificateSigningRequestCondition",
            ),
            (2, "certificate", ""),
        ],
    ),
    (
        "k8s.io.api.coordination.v1.Lease",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.coordination.v1.LeaseSpec"),
        ],
    ),
    (
        "k8s.io.api.coordination.v1.LeaseSpec",
        &[
            (1, "holderIdentity", ""),
            (2, "leaseDurationSeconds", ""),
            (
                3,
                "acquireTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
            ),
            (
                4,
                "renewTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
            ),
            (5, "leaseTransitions", ""),
            (6, "strategy", ""),
            (7, "preferredHolder", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.Affinity",
        &[
            (1, "nodeAffinity", "k8s.io.api.core.v1.NodeAffinity"),
            (2, "podAffinity", "k8s.io.api.core.v1.PodAffinity"),
            (3, "podAntiAffinity", "k8s.io.api.core.v1.PodAntiAffinity"),
        ],
    ),
    (
        "k8s.io.api.core.v1.AppArmorProfile",
        &[(1, "type", ""), (2, "localhostProfile", "")],
    ),
    (
        "k8s.io.api.core.v1.Binding",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "target", "k8s.io.api.core.v1.ObjectReference"),
        ],
    ),
    (
        "k8s.io.api.core.v1.Capabilities",
        &[(1, "add", ""), (2, "drop", "")],
    ),
    (
        "k8s.io.api.core.v1.ClientIPConfig",
        &[(1, "timeoutSeconds", "")],
    ),
    (
        "k8s.io.api.core.v1.ConfigMap",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (4, "immutable", ""),
            (2, "data", "map"),
            (3, "binaryData", "map"),
        ],
    ),
    (
        "k8s.io.api.core.v1.ConfigMapEnvSource",
        &[
            (
                1,
                "localObjectReference",
                "k8s.io.api.core.v1.LocalObjectReference",
            ),
            (2, "optional", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.ConfigMapKeySelector",
        &[
            (
                1,
                "localObjectReference",
                "k8s.io.api.core.v1.LocalObjectReference",
            ),
            (2, "key", ""),
            (3, "optional", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.ConfigMapProjection",
        &[
            (
                1,
                "localObjectReference",
                "k8s.io.api.core.v1.LocalObjectReference",
            ),
            (2, "items", "k8s.io.api.core.v1.KeyToPath"),
            (4, "optional", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.ConfigMapVolumeSource",
        &[
            (
                1,
                "localObjectReference",
                "k8s.io.api.core.v1.LocalObjectReference",
            ),
            (2, "items", "k8s.io.api.core.v1.KeyToPath"),
            (3, "defaultMode", ""),
            (4, "optional", ""),
            (5, "defaultUser", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.Container",
        &[
            (1, "name", ""),
            (2, "image", ""),
            (3, "command", ""),
            (4, "args", ""),
            (5, "workingDir", ""),
            (6, "ports", "k8s.io.api.core.v1.ContainerPort"),
            (19, "envFrom", "k8s.io.api.core.v1.EnvFromSource"),
            (7, "env", "k8s.io.api.core.v1.EnvVar"),
            (8, "resources", "k8s.io.api.core.v1.ResourceRequirements"),
            (
                23,
                "resizePolicy",
                "k8s.io.api.core.v1.ContainerResizePolicy",
            ),
            (24, "restartPolicy", ""),
            (
                25,
                "restartPolicyRules",
                "k8s.io.api.core.v1.ContainerRestartRule",
            ),
            (9, "volumeMounts", "k8s.io.api.core.v1.VolumeMount"),
            (21, "volumeDevices", "k8s.io.api.core.v1.VolumeDevice"),
            (10, "livenessProbe", "k8s.io.api.core.v1.Probe"),
            (11, "readinessProbe", "k8s.io.api.core.v1.Probe"),
            (22, "startupProbe", "k8s.io.api.core.v1.Probe"),
            (12, "lifecycle", "k8s.io.api.core.v1.Lifecycle"),
            (13, "terminationMessagePath", ""),
            (20, "terminationMessagePolicy", ""),
            (14, "imagePullPolicy", ""),
            (15, "securityContext", "k8s.io.api.core.v1.SecurityContext"),
            (16, "stdin", ""),
            (17, "stdinOnce", ""),
            (18, "tty", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.ContainerImage",
        &[(1, "names", ""), (2, "sizeBytes", "")],
    ),
    (
        "k8s.io.api.core.v1.ContainerPort",
        &[
            (1, "name", ""),
            (2, "hostPort", ""),
            (3, "containerPort", ""),
            (4, "protocol", ""),
            (5, "hostIP", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.ContainerState",
        &[
            (1, "waiting", "k8s.io.api.core.v1.ContainerStateWaiting"),
            (2, "running", "k8s.io.api.core.v1.ContainerStateRunning"),
            (
                3,
                "terminated",
                "k8s.io.api.core.v1.ContainerStateTerminated",
            ),
        ],
    ),
    (
        "k8s.io.api.core.v1.ContainerStateRunning",
        &[(1, "startedAt", ".k8s.io.apimachinery.pkg.apis.meta.v1.Time")],
    ),
    (
        "k8s.io.api.core.v1.ContainerStateTerminated",
        &[
            (1, "exitCode", ""),
            (2, "signal", ""),
            (3, "reason", ""),
            (4, "message", ""),
            (5, "startedAt", ".k8s.io.apimachinery.pkg.apis.meta.v1.Time"),
            (
                6,
                "finishedAt",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (7, "containerID", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.ContainerStateWaiting",
        &[(1, "reason", ""), (2, "message", "")],
    ),
    (
        "k8s.io.api.core.v1.ContainerStatus",
        &[
            (1, "name", ""),
            (2, "state", "k8s.io.api.core.v1.ContainerState"),
            (3, "lastState", "k8s.io.api.core.v1.ContainerState"),
            (4, "ready", ""),
            (5, "restartCount", ""),
            (6, "image", ""),
            (7, "imageID", ""),
            (8, "containerID", ""),
            (9, "started", ""),
            (10, "allocatedResources", "map"),
            (11, "resources", "k8s.io.api.core.v1.ResourceRequirements"),
            (12, "volumeMounts", "k8s.io.api.core.v1.VolumeMountStatus"),
            (13, "user", "k8s.io.api.core.v1.ContainerUser"),
            (
                14,
                "allocatedResourcesStatus",
                "k8s.io.api.core.v1.ResourceStatus",
            ),
            (15, "stopSignal", ""),
        ],
    ),
    ("k8s.io.api.core.v1.DaemonEndpoint", &[(1, "Port", "")]),
    (
        "k8s.io.api.core.v1.DownwardAPIProjection",
        &[(1, "items", "k8s.io.api.core.v1.DownwardAPIVolumeFile")],
    ),
    (
        "k8s.io.api.core.v1.DownwardAPIVolumeFile",
        &[
            (1, "path", ""),
            (2, "fieldRef", "k8s.io.api.core.v1.ObjectFieldSelector"),
            (
                3,
                "resourceFieldRef",
                "k8s.io.api.core.v1.ResourceFieldSelector",
            ),
            (4, "mode", ""),
            (5, "user", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.DownwardAPIVolumeSource",
        &[
            (1, "items", "k8s.io.api.core.v1.DownwardAPIVolumeFile"),
            (2, "defaultMode", ""),
            (3, "defaultUser", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.EmptyDirVolumeSource",
        &[
            (1, "medium", ""),
            (
                2,
                "sizeLimit",
                ".k8s.io.apimachinery.pkg.api.resource.Quantity",
            ),
            (3, "mode", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.EndpointAddress",
        &[
            (1, "ip", ""),
            (3, "hostname", ""),
            (4, "nodeName", ""),
            (2, "targetRef", "k8s.io.api.core.v1.ObjectReference"),
        ],
    ),
    (
        "k8s.io.api.core.v1.EndpointPort",
        &[
            (1, "name", ""),
            (2, "port", ""),
            (3, "protocol", ""),
            (4, "appProtocol", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.EndpointSubset",
        &[
            (1, "addresses", "k8s.io.api.core.v1.EndpointAddress"),
            (2, "notReadyAddresses", "k8s.io.api.core.v1.EndpointAddress"),
            (3, "ports", "k8s.io.api.core.v1.EndpointPort"),
        ],
    ),
    (
        "k8s.io.api.core.v1.Endpoints",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "subsets", "k8s.io.api.core.v1.EndpointSubset"),
        ],
    ),
    (
        "k8s.io.api.core.v1.EnvFromSource",
        &[
            (1, "prefix", ""),
            (2, "configMapRef", "k8s.io.api.core.v1.ConfigMapEnvSource"),
            (3, "secretRef", "k8s.io.api.core.v1.SecretEnvSource"),
        ],
    ),
    (
        "k8s.io.api.core.v1.EnvVar",
        &[
            (1, "name", ""),
            (2, "value", ""),
            (3, "valueFrom", "k8s.io.api.core.v1.EnvVarSource"),
        ],
    ),
    (
        "k8s.io.api.core.v1.EnvVarSource",
        &[
            (1, "fieldRef", "k8s.io.api.core.v1.ObjectFieldSelector"),
            (
                2,
                "resourceFieldRef",
                "k8s.io.api.core.v1.ResourceFieldSelector",
            ),
            (
                3,
                "configMapKeyRef",
                "k8s.io.api.core.v1.ConfigMapKeySelector",
            ),
            (4, "secretKeyRef", "k8s.io.api.core.v1.SecretKeySelector"),
            (5, "fileKeyRef", "k8s.io.api.core.v1.FileKeySelector"),
        ],
    ),
    (
        "k8s.io.api.core.v1.Event",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "involvedObject", "k8s.io.api.core.v1.ObjectReference"),
            (3, "reason", ""),
            (4, "message", ""),
            (5, "source", "k8s.io.api.core.v1.EventSource"),
            (
                6,
                "firstTimestamp",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (
                7,
                "lastTimestamp",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (8, "count", ""),
            (9, "type", ""),
            (
                10,
                "eventTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
            ),
            (11, "series", "k8s.io.api.core.v1.EventSeries"),
            (12, "action", ""),
            (13, "related", "k8s.io.api.core.v1.ObjectReference"),
            (14, "reportingComponent", ""),
            (15, "reportingInstance", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.EventSeries",
        &[
            (1, "count", ""),
            (
                2,
                "lastObservedTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.MicroTime",
            ),
        ],
    ),
    (
        "k8s.io.api.core.v1.EventSource",
        &[(1, "component", ""), (2, "host", "")],
    ),
    ("k8s.io.api.core.v1.ExecAction", &[(1, "command", "")]),
    (
        "k8s.io.api.core.v1.GRPCAction",
        &[(1, "port", ""), (2, "service", ""), (3, "mode", "")],
    ),
    (
        "k8s.io.api.core.v1.HTTPGetAction",
        &[
            (1, "path", ""),
            (
                2,
                "port",
                ".k8s.io.apimachinery.pkg.util.intstr.IntOrString",
            ),
            (3, "host", ""),
            (4, "scheme", ""),
            (5, "httpHeaders", "k8s.io.api.core.v1.HTTPHeader"),
            (6, "protocol", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.HTTPHeader",
        &[(1, "name", ""), (2, "value", "")],
    ),
    (
        "k8s.io.api.core.v1.HostAlias",
        &[(1, "ip", ""), (2, "hostnames", "")],
    ),
    ("k8s.io.api.core.v1.HostIP", &[(1, "ip", "")]),
    (
        "k8s.io.api.core.v1.HostPathVolumeSource",
        &[(1, "path", ""), (2, "type", "")],
    ),
    (
        "k8s.io.api.core.v1.KeyToPath",
        &[
            (1, "key", ""),
            (2, "path", ""),
            (3, "mode", ""),
            (4, "user", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.Lifecycle",
        &[
            (1, "postStart", "k8s.io.api.core.v1.LifecycleHandler"),
            (2, "preStop", "k8s.io.api.core.v1.LifecycleHandler"),
            (3, "stopSignal", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.LifecycleHandler",
        &[
            (1, "exec", "k8s.io.api.core.v1.ExecAction"),
            (2, "httpGet", "k8s.io.api.core.v1.HTTPGetAction"),
            (3, "tcpSocket", "k8s.io.api.core.v1.TCPSocketAction"),
            (4, "sleep", "k8s.io.api.core.v1.SleepAction"),
        ],
    ),
    (
        "k8s.io.api.core.v1.LimitRange",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.core.v1.LimitRangeSpec"),
        ],
    ),
    (
        "k8s.io.api.core.v1.LimitRangeItem",
        &[
            (1, "type", ""),
            (2, "max", "map"),
            (3, "min", "map"),
            (4, "default", "map"),
            (5, "defaultRequest", "map"),
            (6, "maxLimitRequestRatio", "map"),
        ],
    ),
    (
        "k8s.io.api.core.v1.LimitRangeSpec",
        &[(1, "limits", "k8s.io.api.core.v1.LimitRangeItem")],
    ),
    (
        "k8s.io.api.core.v1.LoadBalancerIngress",
        &[
            (1, "ip", ""),
            (2, "hostname", ""),
            (3, "ipMode", ""),
            (4, "ports", "k8s.io.api.core.v1.PortStatus"),
        ],
    ),
    (
        "k8s.io.api.core.v1.LoadBalancerStatus",
        &[(1, "ingress", "k8s.io.api.core.v1.LoadBalancerIngress")],
    ),
    (
        "k8s.io.api.core.v1.LocalObjectReference",
        &[(1, "name", "")],
    ),
    (
        "k8s.io.api.core.v1.LocalVolumeSource",
        &[(1, "path", ""), (2, "fsType", "")],
    ),
    (
        "k8s.io.api.core.v1.NFSVolumeSource",
        &[(1, "server", ""), (2, "path", ""), (3, "readOnly", "")],
    ),
    (
        "k8s.io.api.core.v1.Namespace",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.core.v1.NamespaceSpec"),
            (3, "status", "k8s.io.api.core.v1.NamespaceStatus"),
        ],
    ),
    (
        "k8s.io.api.core.v1.NamespaceCondition",
        &[
            (1, "type", ""),
            (2, "status", ""),
            (
                4,
                "lastTransitionTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (5, "reason", ""),
            (6, "message", ""),
        ],
    ),
    ("k8s.io.api.core.v1.NamespaceSpec", &[(1, "finalizers", "")]),
    (
        "k8s.io.api.core.v1.NamespaceStatus",
        &[
            (1, "phase", ""),
            (2, "conditions", "k8s.io.api.core.v1.NamespaceCondition"),
        ],
    ),
    (
        "k8s.io.api.core.v1.Node",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.core.v1.NodeSpec"),
            (3, "status", "k8s.io.api.core.v1.NodeStatus"),
        ],
    ),
    (
        "k8s.io.api.core.v1.NodeAddress",
        &[(1, "type", ""), (2, "address", "")],
    ),
    (
        "k8s.io.api.core.v1.NodeAffinity",
        &[
            (
                1,
                "requiredDuringSchedulingIgnoredDuringExecution",
                "k8s.io.api.core.v1.NodeSelector",
            ),
            (
                2,
                "preferredDuringSchedulingIgnoredDuringExecution",
                "k8s.io.api.core.v1.PreferredSchedulingTerm",
            ),
        ],
    ),
    (
        "k8s.io.api.core.v1.NodeCondition",
        &[
            (1, "type", ""),
            (2, "status", ""),
            (
                3,
                "lastHeartbeatTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (
                4,
                "lastTransitionTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (5, "reason", ""),
            (6, "message", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.NodeDaemonEndpoints",
        &[(1, "kubeletEndpoint", "k8s.io.api.core.v1.DaemonEndpoint")],
    ),
    (
        "k8s.io.api.core.v1.NodeSelector",
        &[(
            1,
            "nodeSelectorTerms",
            "k8s.io.api.core.v1.NodeSelectorTerm",
        )],
    ),
    (
        "k8s.io.api.core.v1.NodeSelectorRequirement",
        &[(1, "key", ""), (2, "operator", ""), (3, "values", "")],
    ),
    (
        "k8s.io.api.core.v1.NodeSelectorTerm",
        &[
            (
                1,
                "matchExpressions",
                "k8s.io.api.core.v1.NodeSelectorRequirement",
            ),
            (
                2,
                "matchFields",
                "k8s.io.api.core.v1.NodeSelectorRequirement",
            ),
        ],
    ),
    (
        "k8s.io.api.core.v1.NodeSpec",
        &[
            (1, "podCIDR", ""),
            (7, "podCIDRs", ""),
            (3, "providerID", ""),
            (4, "unschedulable", ""),
            (5, "taints", "k8s.io.api.core.v1.Taint"),
            (6, "configSource", "k8s.io.api.core.v1.NodeConfigSource"),
            (2, "externalID", ""),
            (
                8,
                "podPreemptionPolicy",
                "k8s.io.api.core.v1.NodePodPreemptionPolicy",
            ),
        ],
    ),
    (
        "k8s.io.api.core.v1.NodeStatus",
        &[
            (1, "capacity", "map"),
            (2, "allocatable", "map"),
            (3, "phase", ""),
            (4, "conditions", "k8s.io.api.core.v1.NodeCondition"),
            (5, "addresses", "k8s.io.api.core.v1.NodeAddress"),
            (
                6,
                "daemonEndpoints",
                "k8s.io.api.core.v1.NodeDaemonEndpoints",
            ),
            (7, "nodeInfo", "k8s.io.api.core.v1.NodeSystemInfo"),
            (8, "images", "k8s.io.api.core.v1.ContainerImage"),
            (9, "volumesInUse", ""),
            (10, "volumesAttached", "k8s.io.api.core.v1.AttachedVolume"),
            (11, "config", "k8s.io.api.core.v1.NodeConfigStatus"),
            (
                12,
                "runtimeHandlers",
                "k8s.io.api.core.v1.NodeRuntimeHandler",
            ),
            (13, "features", "k8s.io.api.core.v1.NodeFeatures"),
            (14, "declaredFeatures", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.NodeSystemInfo",
        &[
            (1, "machineID", ""),
            (2, "systemUUID", ""),
            (3, "bootID", ""),
            (4, "kernelVersion", ""),
            (5, "osImage", ""),
            (6, "containerRuntimeVersion", ""),
            (7, "kubeletVersion", ""),
            (8, "kubeProxyVersion", ""),
            (9, "operatingSystem", ""),
            (10, "architecture", ""),
            (11, "swap", "k8s.io.api.core.v1.NodeSwapStatus"),
        ],
    ),
    (
        "k8s.io.api.core.v1.ObjectFieldSelector",
        &[(1, "apiVersion", ""), (2, "fieldPath", "")],
    ),
    (
        "k8s.io.api.core.v1.ObjectReference",
        &[
            (1, "kind", ""),
            (2, "namespace", ""),
            (3, "name", ""),
            (4, "uid", ""),
            (5, "apiVersion", ""),
            (6, "resourceVersion", ""),
            (7, "fieldPath", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.PersistentVolume",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.core.v1.PersistentVolumeSpec"),
            (3, "status", "k8s.io.api.core.v1.PersistentVolumeStatus"),
        ],
    ),
    (
        "k8s.io.api.core.v1.PersistentVolumeClaim",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.core.v1.PersistentVolumeClaimSpec"),
            (
                3,
                "status",
                "k8s.io.api.core.v1.PersistentVolumeClaimStatus",
            ),
        ],
    ),
    (
        "k8s.io.api.core.v1.PersistentVolumeClaimCondition",
        &[
            (1, "type", ""),
            (2, "status", ""),
            (
                3,
                "lastProbeTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (
                4,
                "lastTransitionTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (5, "reason", ""),
            (6, "message", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.PersistentVolumeClaimSpec",
        &[
            (1, "accessModes", ""),
            (
                4,
                "selector",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
            ),
            (
                2,
                "resources",
                "k8s.io.api.core.v1.VolumeResourceRequirements",
            ),
            (3, "volumeName", ""),
            (5, "storageClassName", ""),
            (6, "volumeMode", ""),
            (
                7,
                "dataSource",
                "k8s.io.api.core.v1.TypedLocalObjectReference",
            ),
            (
                8,
                "dataSourceRef",
                "k8s.io.api.core.v1.TypedObjectReference",
            ),
            (9, "volumeAttributesClassName", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.PersistentVolumeClaimStatus",
        &[
            (1, "phase", ""),
            (2, "accessModes", ""),
            (3, "capacity", "map"),
            (
                4,
                "conditions",
                "k8s.io.api.core.v1.PersistentVolumeClaimCondition",
            ),
            (5, "allocatedResources", "map"),
            (7, "allocatedResourceStatuses", "map"),
            (8, "currentVolumeAttributesClassName", ""),
            (
                9,
                "modifyVolumeStatus",
                "k8s.io.api.core.v1.ModifyVolumeStatus",
            ),
            (10, "healthStatus", "k8s.io.api.core.v1.VolumeHealthStatus"),
        ],
    ),
    (
        "k8s.io.api.core.v1.PersistentVolumeClaimVolumeSource",
        &[(1, "claimName", ""), (2, "readOnly", "")],
    ),
    (
        "k8s.io.api.core.v1.PersistentVolumeSource",
        &[
            (
                1,
                "gcePersistentDisk",
                "k8s.io.api.core.v1.GCEPersistentDiskVolumeSource",
            ),
            (
                2,
                "awsElasticBlockStore",
                "k8s.io.api.core.v1.AWSElasticBlockStoreVolumeSource",
            ),
            (3, "hostPath", "k8s.io.api.core.v1.HostPathVolumeSource"),
            (
                4,
                "glusterfs",
                "k8s.io.api.core.v1.GlusterfsPersistentVolumeSource",
            ),
            (5, "nfs", "k8s.io.api.core.v1.NFSVolumeSource"),
            (6, "rbd", "k8s.io.api.core.v1.RBDPersistentVolumeSource"),
            (7, "iscsi", "k8s.io.api.core.v1.ISCSIPersistentVolumeSource"),
            (
                8,
                "cinder",
                "k8s.io.api.core.v1.CinderPersistentVolumeSource",
            ),
            (
                9,
                "cephfs",
                "k8s.io.api.core.v1.CephFSPersistentVolumeSource",
            ),
            (10, "fc", "k8s.io.api.core.v1.FCVolumeSource"),
            (11, "flocker", "k8s.io.api.core.v1.FlockerVolumeSource"),
            (
                12,
                "flexVolume",
                "k8s.io.api.core.v1.FlexPersistentVolumeSource",
            ),
            (
                13,
                "azureFile",
                "k8s.io.api.core.v1.AzureFilePersistentVolumeSource",
            ),
            (
                14,
                "vsphereVolume",
                "k8s.io.api.core.v1.VsphereVirtualDiskVolumeSource",
            ),
            (15, "quobyte", "k8s.io.api.core.v1.QuobyteVolumeSource"),
            (16, "azureDisk", "k8s.io.api.core.v1.AzureDiskVolumeSource"),
            (
                17,
                "photonPersistentDisk",
                "k8s.io.api.core.v1.PhotonPersistentDiskVolumeSource",
            ),
            (
                18,
                "portworxVolume",
                "k8s.io.api.core.v1.PortworxVolumeSource",
            ),
            (
                19,
                "scaleIO",
                "k8s.io.api.core.v1.ScaleIOPersistentVolumeSource",
            ),
            (20, "local", "k8s.io.api.core.v1.LocalVolumeSource"),
            (
                21,
                "storageos",
                "k8s.io.api.core.v1.StorageOSPersistentVolumeSource",
            ),
            (22, "csi", "k8s.io.api.core.v1.CSIPersistentVolumeSource"),
        ],
    ),
    (
        "k8s.io.api.core.v1.PersistentVolumeSpec",
        &[
            (1, "capacity", "map"),
            (
                2,
                "persistentVolumeSource",
                "k8s.io.api.core.v1.PersistentVolumeSource",
            ),
            (3, "accessModes", ""),
            (4, "claimRef", "k8s.io.api.core.v1.ObjectReference"),
            (5, "persistentVolumeReclaimPolicy", ""),
            (6, "storageClassName", ""),
            (7, "mountOptions", ""),
            (8, "volumeMode", ""),
            (9, "nodeAffinity", "k8s.io.api.core.v1.VolumeNodeAffinity"),
            (10, "volumeAttributesClassName", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.PersistentVolumeStatus",
        &[
            (1, "phase", ""),
            (2, "message", ""),
            (3, "reason", ""),
            (
                4,
                "lastPhaseTransitionTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
        ],
    ),
    (
        "k8s.io.api.core.v1.Pod",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.core.v1.PodSpec"),
            (3, "status", "k8s.io.api.core.v1.PodStatus"),
        ],
    ),
    (
        "k8s.io.api.core.v1.PodAffinity",
        &[
            (
                1,
                "requiredDuringSchedulingIgnoredDuringExecution",
                "k8s.io.api.core.v1.PodAffinityTerm",
            ),
            (
                2,
                "preferredDuringSchedulingIgnoredDuringExecution",
                "k8s.io.api.core.v1.WeightedPodAffinityTerm",
            ),
        ],
    ),
    (
        "k8s.io.api.core.v1.PodAffinityTerm",
        &[
            (
                1,
                "labelSelector",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
            ),
            (2, "namespaces", ""),
            (3, "topologyKey", ""),
            (
                4,
                "namespaceSelector",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
            ),
            (5, "matchLabelKeys", ""),
            (6, "mismatchLabelKeys", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.PodAntiAffinity",
        &[
            (
                1,
                "requiredDuringSchedulingIgnoredDuringExecution",
                "k8s.io.api.core.v1.PodAffinityTerm",
            ),
            (
                2,
                "preferredDuringSchedulingIgnoredDuringExecution",
                "k8s.io.api.core.v1.WeightedPodAffinityTerm",
            ),
        ],
    ),
    (
        "k8s.io.api.core.v1.PodCondition",
        &[
            (1, "type", ""),
            (7, "observedGeneration", ""),
            (2, "status", ""),
            (
                3,
                "lastProbeTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (
                4,
                "lastTransitionTime",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (5, "reason", ""),
            (6, "message", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.PodDNSConfig",
        &[
            (1, "nameservers", ""),
            (2, "searches", ""),
            (3, "options", "k8s.io.api.core.v1.PodDNSConfigOption"),
        ],
    ),
    (
        "k8s.io.api.core.v1.PodDNSConfigOption",
        &[(1, "name", ""), (2, "value", "")],
    ),
    ("k8s.io.api.core.v1.PodIP", &[(1, "ip", "")]),
    (
        "k8s.io.api.core.v1.PodReadinessGate",
        &[(1, "conditionType", "")],
    ),
    (
        "k8s.io.api.core.v1.PodSecurityContext",
        &[
            (1, "seLinuxOptions", "k8s.io.api.core.v1.SELinuxOptions"),
            (
                8,
                "windowsOptions",
                "k8s.io.api.core.v1.WindowsSecurityContextOptions",
            ),
            (2, "runAsUser", ""),
            (6, "runAsGroup", ""),
            (3, "runAsNonRoot", ""),
            (4, "supplementalGroups", ""),
            (12, "supplementalGroupsPolicy", ""),
            (5, "fsGroup", ""),
            (7, "sysctls", "k8s.io.api.core.v1.Sysctl"),
            (9, "fsGroupChangePolicy", ""),
            (10, "seccompProfile", "k8s.io.api.core.v1.SeccompProfile"),
            (11, "appArmorProfile", "k8s.io.api.core.v1.AppArmorProfile"),
            (13, "seLinuxChangePolicy", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.PodSpec",
        &[
            (1, "volumes", "k8s.io.api.core.v1.Volume"),
            (20, "initContainers", "k8s.io.api.core.v1.Container"),
            (2, "containers", "k8s.io.api.core.v1.Container"),
            (
                34,
                "ephemeralContainers",
                "k8s.io.api.core.v1.EphemeralContainer",
            ),
            (3, "restartPolicy", ""),
            (4, "terminationGracePeriodSeconds", ""),
            (5, "activeDeadlineSeconds", ""),
            (6, "dnsPolicy", ""),
            (7, "nodeSelector", "map"),
            (8, "serviceAccountName", ""),
            (9, "serviceAccount", ""),
            (21, "automountServiceAccountToken", ""),
            (10, "nodeName", ""),
            (11, "hostNetwork", ""),
            (12, "hostPID", ""),
            (13, "hostIPC", ""),
            (27, "shareProcessNamespace", ""),
            (
                14,
                "securityContext",
                "k8s.io.api.core.v1.PodSecurityContext",
            ),
            (
                15,
                "imagePullSecrets",
                "k8s.io.api.core.v1.LocalObjectReference",
            ),
            (16, "hostname", ""),
            (17, "subdomain", ""),
            (18, "affinity", "k8s.io.api.core.v1.Affinity"),
            (19, "schedulerName", ""),
            (22, "tolerations", "k8s.io.api.core.v1.Toleration"),
            (23, "hostAliases", "k8s.io.api.core.v1.HostAlias"),
            (24, "priorityClassName", ""),
            (25, "priority", ""),
            (26, "dnsConfig", "k8s.io.api.core.v1.PodDNSConfig"),
            (28, "readinessGates", "k8s.io.api.core.v1.PodReadinessGate"),
            (29, "runtimeClassName", ""),
            (30, "enableServiceLinks", ""),
            (31, "preemptionPolicy", ""),
            (32, "overhead", "map"),
            (
                33,
                "topologySpreadConstraints",
                "k8s.io.api.core.v1.TopologySpreadConstraint",
            ),
            (35, "setHostnameAsFQDN", ""),
            (36, "os", "k8s.io.api.core.v1.PodOS"),
            (37, "hostUsers", ""),
            (
                38,
                "schedulingGates",
                "k8s.io.api.core.v1.PodSchedulingGate",
            ),
            (39, "resourceClaims", "k8s.io.api.core.v1.PodResourceClaim"),
            (40, "resources", "k8s.io.api.core.v1.ResourceRequirements"),
            (41, "hostnameOverride", ""),
            (
                43,
                "schedulingGroup",
                "k8s.io.api.core.v1.PodSchedulingGroup",
            ),
            (
                44,
                "evictionResponders",
                "k8s.io.api.core.v1.EvictionResponder",
            ),
        ],
    ),
    (
        "k8s.io.api.core.v1.PodStatus",
        &[
            (17, "observedGeneration", ""),
            (1, "phase", ""),
            (2, "conditions", "k8s.io.api.core.v1.PodCondition"),
            (3, "message", ""),
            (4, "reason", ""),
            (11, "nominatedNodeName", ""),
            (5, "hostIP", ""),
            (16, "hostIPs", "k8s.io.api.core.v1.HostIP"),
            (6, "podIP", ""),
            (12, "podIPs", "k8s.io.api.core.v1.PodIP"),
            (7, "startTime", ".k8s.io.apimachinery.pkg.apis.meta.v1.Time"),
            (
                10,
                "initContainerStatuses",
                "k8s.io.api.core.v1.ContainerStatus",
            ),
            (8, "containerStatuses", "k8s.io.api.core.v1.ContainerStatus"),
            (9, "qosClass", ""),
            (
                13,
                "ephemeralContainerStatuses",
                "k8s.io.api.core.v1.ContainerStatus",
            ),
            (14, "resize", ""),
            (
                15,
                "resourceClaimStatuses",
                "k8s.io.api.core.v1.PodResourceClaimStatus",
            ),
            (
                18,
                "extendedResourceClaimStatus",
                "k8s.io.api.core.v1.PodExtendedResourceClaimStatus",
            ),
            (19, "allocatedResources", "map"),
            (20, "resources", "k8s.io.api.core.v1.ResourceRequirements"),
            (
                21,
                "nodeAllocatableResourceClaimStatuses",
                "k8s.io.api.core.v1.NodeAllocatableResourceClaimStatus",
            ),
            (22, "volumeHealth", "k8s.io.api.core.v1.PodVolumeHealth"),
        ],
    ),
    (
        "k8s.io.api.core.v1.PodTemplateSpec",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.core.v1.PodSpec"),
        ],
    ),
    (
        "k8s.io.api.core.v1.PortStatus",
        &[(1, "port", ""), (2, "protocol", ""), (3, "error", "")],
    ),
    (
        "k8s.io.api.core.v1.PreferredSchedulingTerm",
        &[
            (1, "weight", ""),
            (2, "preference", "k8s.io.api.core.v1.NodeSelectorTerm"),
        ],
    ),
    (
        "k8s.io.api.core.v1.Probe",
        &[
            (1, "handler", "k8s.io.api.core.v1.ProbeHandler"),
            (2, "initialDelaySeconds", ""),
            (3, "timeoutSeconds", ""),
            (4, "periodSeconds", ""),
            (5, "successThreshold", ""),
            (6, "failureThreshold", ""),
            (7, "terminationGracePeriodSeconds", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.ProbeHandler",
        &[
            (1, "exec", "k8s.io.api.core.v1.ExecAction"),
            (2, "httpGet", "k8s.io.api.core.v1.HTTPGetAction"),
            (3, "tcpSocket", "k8s.io.api.core.v1.TCPSocketAction"),
            (4, "grpc", "k8s.io.api.core.v1.GRPCAction"),
        ],
    ),
    (
        "k8s.io.api.core.v1.ProjectedVolumeSource",
        &[
            (1, "sources", "k8s.io.api.core.v1.VolumeProjection"),
            (2, "defaultMode", ""),
            (3, "defaultUser", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.ResourceFieldSelector",
        &[
            (1, "containerName", ""),
            (2, "resource", ""),
            (
                3,
                "divisor",
                ".k8s.io.apimachinery.pkg.api.resource.Quantity",
            ),
        ],
    ),
    (
        "k8s.io.api.core.v1.ResourceQuota",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.core.v1.ResourceQuotaSpec"),
            (3, "status", "k8s.io.api.core.v1.ResourceQuotaStatus"),
        ],
    ),
    (
        "k8s.io.api.core.v1.ResourceQuotaSpec",
        &[
            (1, "hard", "map"),
            (2, "scopes", ""),
            (3, "scopeSelector", "k8s.io.api.core.v1.ScopeSelector"),
        ],
    ),
    (
        "k8s.io.api.core.v1.ResourceQuotaStatus",
        &[(1, "hard", "map"), (2, "used", "map")],
    ),
    (
        "k8s.io.api.core.v1.ResourceRequirements",
        &[
            (1, "limits", "map"),
            (2, "requests", "map"),
            (3, "claims", "k8s.io.api.core.v1.ResourceClaim"),
        ],
    ),
    (
        "k8s.io.api.core.v1.SELinuxOptions",
        &[
            (1, "user", ""),
            (2, "role", ""),
            (3, "type", ""),
            (4, "level", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.ScopeSelector",
        &[(
            1,
            "matchExpressions",
            "k8s.io.api.core.v1.ScopedResourceSelectorRequirement",
        )],
    ),
    (
        "k8s.io.api.core.v1.ScopedResourceSelectorRequirement",
        &[(1, "scopeName", ""), (2, "operator", ""), (3, "values", "")],
    ),
    (
        "k8s.io.api.core.v1.SeccompProfile",
        &[(1, "type", ""), (2, "localhostProfile", "")],
    ),
    (
        "k8s.io.api.core.v1.Secret",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (5, "immutable", ""),
            (2, "data", "map"),
            (4, "stringData", "map"),
            (3, "type", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.SecretEnvSource",
        &[
            (
                1,
                "localObjectReference",
                "k8s.io.api.core.v1.LocalObjectReference",
            ),
            (2, "optional", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.SecretKeySelector",
        &[
            (
                1,
                "localObjectReference",
                "k8s.io.api.core.v1.LocalObjectReference",
            ),
            (2, "key", ""),
            (3, "optional", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.SecretProjection",
        &[
            (
                1,
                "localObjectReference",
                "k8s.io.api.core.v1.LocalObjectReference",
            ),
            (2, "items", "k8s.io.api.core.v1.KeyToPath"),
            (4, "optional", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.SecretVolumeSource",
        &[
            (1, "secretName", ""),
            (2, "items", "k8s.io.api.core.v1.KeyToPath"),
            (3, "defaultMode", ""),
            (4, "optional", ""),
            (5, "defaultUser", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.SecurityContext",
        &[
            (1, "capabilities", "k8s.io.api.core.v1.Capabilities"),
            (2, "privileged", ""),
            (3, "seLinuxOptions", "k8s.io.api.core.v1.SELinuxOptions"),
            (
                10,
                "windowsOptions",
                "k8s.io.api.core.v1.WindowsSecurityContextOptions",
            ),
            (4, "runAsUser", ""),
            (8, "runAsGroup", ""),
            (5, "runAsNonRoot", ""),
            (6, "readOnlyRootFilesystem", ""),
            (7, "allowPrivilegeEscalation", ""),
            (9, "procMount", ""),
            (11, "seccompProfile", "k8s.io.api.core.v1.SeccompProfile"),
            (12, "appArmorProfile", "k8s.io.api.core.v1.AppArmorProfile"),
        ],
    ),
    (
        "k8s.io.api.core.v1.Service",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.core.v1.ServiceSpec"),
            (3, "status", "k8s.io.api.core.v1.ServiceStatus"),
        ],
    ),
    (
        "k8s.io.api.core.v1.ServiceAccount",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "secrets", "k8s.io.api.core.v1.ObjectReference"),
            (
                3,
                "imagePullSecrets",
                "k8s.io.api.core.v1.LocalObjectReference",
            ),
            (4, "automountServiceAccountToken", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.ServiceAccountTokenProjection",
        &[
            (1, "audience", ""),
            (2, "expirationSeconds", ""),
            (3, "path", ""),
            (4, "user", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.ServicePort",
        &[
            (1, "name", ""),
            (2, "protocol", ""),
            (6, "appProtocol", ""),
            (3, "port", ""),
            (
                4,
                "targetPort",
                ".k8s.io.apimachinery.pkg.util.intstr.IntOrString",
            ),
            (5, "nodePort", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.ServiceSpec",
        &[
            (1, "ports", "k8s.io.api.core.v1.ServicePort"),
            (2, "selector", "map"),
            (3, "clusterIP", ""),
            (18, "clusterIPs", ""),
            (4, "type", ""),
            (5, "externalIPs", ""),
            (7, "sessionAffinity", ""),
            (8, "loadBalancerIP", ""),
            (9, "loadBalancerSourceRanges", ""),
            (10, "externalName", ""),
            (11, "externalTrafficPolicy", ""),
            (12, "healthCheckNodePort", ""),
            (13, "publishNotReadyAddresses", ""),
            (
                14,
                "sessionAffinityConfig",
                "k8s.io.api.core.v1.SessionAffinityConfig",
            ),
            (19, "ipFamilies", ""),
            (17, "ipFamilyPolicy", ""),
            (20, "allocateLoadBalancerNodePorts", ""),
            (21, "loadBalancerClass", ""),
            (22, "internalTrafficPolicy", ""),
            (23, "trafficDistribution", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.ServiceStatus",
        &[
            (1, "loadBalancer", "k8s.io.api.core.v1.LoadBalancerStatus"),
            (
                2,
                "conditions",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.Condition",
            ),
        ],
    ),
    (
        "k8s.io.api.core.v1.SessionAffinityConfig",
        &[(1, "clientIP", "k8s.io.api.core.v1.ClientIPConfig")],
    ),
    ("k8s.io.api.core.v1.SleepAction", &[(1, "seconds", "")]),
    (
        "k8s.io.api.core.v1.Sysctl",
        &[(1, "name", ""), (2, "value", "")],
    ),
    (
        "k8s.io.api.core.v1.TCPSocketAction",
        &[
            (
                1,
                "port",
                ".k8s.io.apimachinery.pkg.util.intstr.IntOrString",
            ),
            (2, "host", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.Taint",
        &[
            (1, "key", ""),
            (2, "value", ""),
            (3, "effect", ""),
            (4, "timeAdded", ".k8s.io.apimachinery.pkg.apis.meta.v1.Time"),
        ],
    ),
    (
        "k8s.io.api.core.v1.Toleration",
        &[
            (1, "key", ""),
            (2, "operator", ""),
            (3, "value", ""),
            (4, "effect", ""),
            (5, "tolerationSeconds", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.TopologySpreadConstraint",
        &[
            (1, "maxSkew", ""),
            (2, "topologyKey", ""),
            (3, "whenUnsatisfiable", ""),
            (
                4,
                "labelSelector",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
            ),
            (5, "minDomains", ""),
            (6, "nodeAffinityPolicy", ""),
            (7, "nodeTaintsPolicy", ""),
            (8, "matchLabelKeys", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.TypedLocalObjectReference",
        &[(1, "apiGroup", ""), (2, "kind", ""), (3, "name", "")],
    ),
    (
        "k8s.io.api.core.v1.Volume",
        &[
            (1, "name", ""),
            (2, "volumeSource", "k8s.io.api.core.v1.VolumeSource"),
        ],
    ),
    (
        "k8s.io.api.core.v1.VolumeMount",
        &[
            (1, "name", ""),
            (2, "readOnly", ""),
            (7, "recursiveReadOnly", ""),
            (3, "mountPath", ""),
            (4, "subPath", ""),
            (5, "mountPropagation", ""),
            (6, "subPathExpr", ""),
            (8, "bindMountOptions", ""),
        ],
    ),
    (
        "k8s.io.api.core.v1.VolumeNodeAffinity",
        &[(1, "required", "k8s.io.api.core.v1.NodeSelector")],
    ),
    (
        "k8s.io.api.core.v1.VolumeProjection",
        &[
            (1, "secret", "k8s.io.api.core.v1.SecretProjection"),
            (2, "downwardAPI", "k8s.io.api.core.v1.DownwardAPIProjection"),
            (3, "configMap", "k8s.io.api.core.v1.ConfigMapProjection"),
            (
                4,
                "serviceAccountToken",
                "k8s.io.api.core.v1.ServiceAccountTokenProjection",
            ),
            (
                5,
                "clusterTrustBundle",
                "k8s.io.api.core.v1.ClusterTrustBundleProjection",
            ),
            (
                6,
                "podCertificate",
                "k8s.io.api.core.v1.PodCertificateProjection",
            ),
        ],
    ),
    (
        "k8s.io.api.core.v1.VolumeResourceRequirements",
        &[(1, "limits", "map"), (2, "requests", "map")],
    ),
    (
        "k8s.io.api.core.v1.VolumeSource",
        &[
            (1, "hostPath", "k8s.io.api.core.v1.HostPathVolumeSource"),
            (2, "emptyDir", "k8s.io.api.core.v1.EmptyDirVolumeSource"),
            (
                3,
                "gcePersistentDisk",
                "k8s.io.api.core.v1.GCEPersistentDiskVolumeSource",
            ),
            (
                4,
                "awsElasticBlockStore",
                "k8s.io.api.core.v1.AWSElasticBlockStoreVolumeSource",
            ),
            (5, "gitRepo", "k8s.io.api.core.v1.GitRepoVolumeSource"),
            (6, "secret", "k8s.io.api.core.v1.SecretVolumeSource"),
            (7, "nfs", "k8s.io.api.core.v1.NFSVolumeSource"),
            (8, "iscsi", "k8s.io.api.core.v1.ISCSIVolumeSource"),
            (9, "glusterfs", "k8s.io.api.core.v1.GlusterfsVolumeSource"),
            (
                10,
                "persistentVolumeClaim",
                "k8s.io.api.core.v1.PersistentVolumeClaimVolumeSource",
            ),
            (11, "rbd", "k8s.io.api.core.v1.RBDVolumeSource"),
            (12, "flexVolume", "k8s.io.api.core.v1.FlexVolumeSource"),
            (13, "cinder", "k8s.io.api.core.v1.CinderVolumeSource"),
            (14, "cephfs", "k8s.io.api.core.v1.CephFSVolumeSource"),
            (15, "flocker", "k8s.io.api.core.v1.FlockerVolumeSource"),
            (
                16,
                "downwardAPI",
                "k8s.io.api.core.v1.DownwardAPIVolumeSource",
            ),
            (17, "fc", "k8s.io.api.core.v1.FCVolumeSource"),
            (18, "azureFile", "k8s.io.api.core.v1.AzureFileVolumeSource"),
            (19, "configMap", "k8s.io.api.core.v1.ConfigMapVolumeSource"),
            (
                20,
                "vsphereVolume",
                "k8s.io.api.core.v1.VsphereVirtualDiskVolumeSource",
            ),
            (21, "quobyte", "k8s.io.api.core.v1.QuobyteVolumeSource"),
            (22, "azureDisk", "k8s.io.api.core.v1.AzureDiskVolumeSource"),
            (
                23,
                "photonPersistentDisk",
                "k8s.io.api.core.v1.PhotonPersistentDiskVolumeSource",
            ),
            (26, "projected", "k8s.io.api.core.v1.ProjectedVolumeSource"),
            (
                24,
                "portworxVolume",
                "k8s.io.api.core.v1.PortworxVolumeSource",
            ),
            (25, "scaleIO", "k8s.io.api.core.v1.ScaleIOVolumeSource"),
            (27, "storageos", "k8s.io.api.core.v1.StorageOSVolumeSource"),
            (28, "csi", "k8s.io.api.core.v1.CSIVolumeSource"),
            (29, "ephemeral", "k8s.io.api.core.v1.EphemeralVolumeSource"),
            (30, "image", "k8s.io.api.core.v1.ImageVolumeSource"),
        ],
    ),
    (
        "k8s.io.api.core.v1.WeightedPodAffinityTerm",
        &[
            (1, "weight", ""),
            (2, "podAffinityTerm", "k8s.io.api.core.v1.PodAffinityTerm"),
        ],
    ),
    (
        "k8s.io.api.core.v1.WindowsSecurityContextOptions",
        &[
            (1, "gmsaCredentialSpecName", ""),
            (2, "gmsaCredentialSpec", ""),
            (3, "runAsUserName", ""),
            (4, "hostProcess", ""),
        ],
    ),
    (
        "k8s.io.api.networking.v1.HTTPIngressPath",
        &[
            (1, "path", ""),
            (3, "pathType", ""),
            (2, "backend", "k8s.io.api.networking.v1.IngressBackend"),
        ],
    ),
    (
        "k8s.io.api.networking.v1.HTTPIngressRuleValue",
        &[(1, "paths", "k8s.io.api.networking.v1.HTTPIngressPath")],
    ),
    (
        "k8s.io.api.networking.v1.Ingress",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "spec", "k8s.io.api.networking.v1.IngressSpec"),
            (3, "status", "k8s.io.api.networking.v1.IngressStatus"),
        ],
    ),
    (
        "k8s.io.api.networking.v1.IngressBackend",
        &[
            (
                4,
                "service",
                "k8s.io.api.networking.v1.IngressServiceBackend",
            ),
            (
                3,
                "resource",
                ".k8s.io.api.core.v1.TypedLocalObjectReference",
            ),
        ],
    ),
    (
        "k8s.io.api.networking.v1.IngressLoadBalancerIngress",
        &[
            (1, "ip", ""),
            (2, "hostname", ""),
            (4, "ports", "k8s.io.api.networking.v1.IngressPortStatus"),
        ],
    ),
    (
        "k8s.io.api.networking.v1.IngressLoadBalancerStatus",
        &[(
            1,
            "ingress",
            "k8s.io.api.networking.v1.IngressLoadBalancerIngress",
        )],
    ),
    (
        "k8s.io.api.networking.v1.IngressPortStatus",
        &[(1, "port", ""), (2, "protocol", ""), (3, "error", "")],
    ),
    (
        "k8s.io.api.networking.v1.IngressRule",
        &[
            (1, "host", ""),
            (
                2,
                "ingressRuleValue",
                "k8s.io.api.networking.v1.IngressRuleValue",
            ),
        ],
    ),
    (
        "k8s.io.api.networking.v1.IngressServiceBackend",
        &[
            (1, "name", ""),
            (2, "port", "k8s.io.api.networking.v1.ServiceBackendPort"),
        ],
    ),
    (
        "k8s.io.api.networking.v1.IngressSpec",
        &[
            (4, "ingressClassName", ""),
            (
                1,
                "defaultBackend",
                "k8s.io.api.networking.v1.IngressBackend",
            ),
            (2, "tls", "k8s.io.api.networking.v1.IngressTLS"),
            (3, "rules", "k8s.io.api.networking.v1.IngressRule"),
        ],
    ),
    (
        "k8s.io.api.networking.v1.IngressStatus",
        &[(
            1,
            "loadBalancer",
            "k8s.io.api.networking.v1.IngressLoadBalancerStatus",
        )],
    ),
    (
        "k8s.io.api.networking.v1.IngressTLS",
        &[(1, "hosts", ""), (2, "secretName", "")],
    ),
    (
        "k8s.io.api.networking.v1.ServiceBackendPort",
        &[(1, "name", ""), (2, "number", "")],
    ),
    (
        "k8s.io.api.rbac.v1.AggregationRule",
        &[(
            1,
            "clusterRoleSelectors",
            ".k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
        )],
    ),
    (
        "k8s.io.api.rbac.v1.ClusterRole",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "rules", "k8s.io.api.rbac.v1.PolicyRule"),
            (3, "aggregationRule", "k8s.io.api.rbac.v1.AggregationRule"),
        ],
    ),
    (
        "k8s.io.api.rbac.v1.ClusterRoleBinding",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "subjects", "k8s.io.api.rbac.v1.Subject"),
            (3, "roleRef", "k8s.io.api.rbac.v1.RoleRef"),
        ],
    ),
    (
        "k8s.io.api.rbac.v1.PolicyRule",
        &[
            (1, "verbs", ""),
            (2, "apiGroups", ""),
            (3, "resources", ""),
            (4, "resourceNames", ""),
            (5, "nonResourceURLs", ""),
        ],
    ),
    (
        "k8s.io.api.rbac.v1.Role",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "rules", "k8s.io.api.rbac.v1.PolicyRule"),
        ],
    ),
    (
        "k8s.io.api.rbac.v1.RoleBinding",
        &[
            (
                1,
                "metadata",
                ".k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
            ),
            (2, "subjects", "k8s.io.api.rbac.v1.Subject"),
            (3, "roleRef", "k8s.io.api.rbac.v1.RoleRef"),
        ],
    ),
    (
        "k8s.io.api.rbac.v1.RoleRef",
        &[(1, "apiGroup", ""), (2, "kind", ""), (3, "name", "")],
    ),
    (
        "k8s.io.api.rbac.v1.Subject",
        &[
            (1, "kind", ""),
            (2, "apiGroup", ""),
            (3, "name", ""),
            (4, "namespace", ""),
        ],
    ),
    (
        "k8s.io.apimachinery.pkg.apis.meta.v1.Condition",
        &[
            (1, "type", ""),
            (2, "status", ""),
            (3, "observedGeneration", ""),
            (
                4,
                "lastTransitionTime",
                "k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (5, "reason", ""),
            (6, "message", ""),
        ],
    ),
    (
        "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
        &[(1, "Raw", "")],
    ),
    (
        "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelector",
        &[
            (1, "matchLabels", "map"),
            (
                2,
                "matchExpressions",
                "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
            ),
        ],
    ),
    (
        "k8s.io.apimachinery.pkg.apis.meta.v1.LabelSelectorRequirement",
        &[(1, "key", ""), (2, "operator", ""), (3, "values", "")],
    ),
    (
        "k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
        &[
            (1, "manager", ""),
            (2, "operation", ""),
            (3, "apiVersion", ""),
            (4, "time", "k8s.io.apimachinery.pkg.apis.meta.v1.Time"),
            (6, "fieldsType", ""),
            (
                7,
                "fieldsV1",
                "k8s.io.apimachinery.pkg.apis.meta.v1.FieldsV1",
            ),
            (8, "subresource", ""),
        ],
    ),
    (
        "k8s.io.apimachinery.pkg.apis.meta.v1.ObjectMeta",
        &[
            (1, "name", ""),
            (2, "generateName", ""),
            (3, "namespace", ""),
            (4, "selfLink", ""),
            (5, "uid", ""),
            (6, "resourceVersion", ""),
            (7, "generation", ""),
            (
                8,
                "creationTimestamp",
                "k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (
                9,
                "deletionTimestamp",
                "k8s.io.apimachinery.pkg.apis.meta.v1.Time",
            ),
            (10, "deletionGracePeriodSeconds", ""),
            (11, "labels", "map"),
            (12, "annotations", "map"),
            (
                13,
                "ownerReferences",
                "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference",
            ),
            (14, "finalizers", ""),
            (
                17,
                "managedFields",
                "k8s.io.apimachinery.pkg.apis.meta.v1.ManagedFieldsEntry",
            ),
        ],
    ),
    (
        "k8s.io.apimachinery.pkg.apis.meta.v1.OwnerReference",
        &[
            (5, "apiVersion", ""),
            (1, "kind", ""),
            (3, "name", ""),
            (4, "uid", ""),
            (6, "controller", ""),
            (7, "blockOwnerDeletion", ""),
        ],
    ),
];

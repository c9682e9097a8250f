//! Volume sources of the core API that this kubelet has no plugin for (the cloud disks,
//! network filesystems, CSI, generic ephemeral and image volumes): the apiserver accepts
//! them as Kubernetes does, and the pod fails here with Kubernetes' FailedMount words
//! instead of starting on a directory that is not the volume it asked for.

use proto::k8s::volume::VolumeSource;

/// The FailedMount message for a volume whose source no plugin of this node mounts, as
/// Kubernetes' volume manager words it (`... err=no volume plugin matched`), with the
/// source named so a user knows which field to change.
pub fn no_plugin_message(volume: &str, source: &VolumeSource) -> String {
    format!(
        "failed to get Plugin from volumeSpec for volume {volume:?} err=no volume plugin matched ({} volumes cannot be mounted on this node)",
        proto::kind_validation::volume_type(source)
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::k8s::CinderVolumeSource;

    #[test]
    fn names_the_volume_and_its_source() {
        let msg = no_plugin_message(
            "mysql-persistent-storage",
            &VolumeSource::Cinder(CinderVolumeSource::default()),
        );
        assert_eq!(
            msg,
            "failed to get Plugin from volumeSpec for volume \"mysql-persistent-storage\" err=no volume plugin matched (cinder volumes cannot be mounted on this node)"
        );
    }
}

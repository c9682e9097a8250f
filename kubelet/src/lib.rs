//! The `kubelet` daemon. A skeleton for now: the issue that builds it fills this crate in.

/// Which issue of the tracker builds this component.
pub const NOT_YET_BUILT: &str =
    "kubelet is not built yet: only the API spine (apiserver, client, ctl) exists";

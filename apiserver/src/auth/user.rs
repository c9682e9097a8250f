//! The authenticated identity of a request (Kubernetes' `user.Info`): computed once per
//! request by authentication, read by authorization, admission and audit.

use std::collections::BTreeMap;

/// Kubernetes' well-known user and group names.
pub mod names {
    /// Members may do anything (Kubernetes' privileged group; the admin certificate's O).
    pub const SYSTEM_MASTERS: &str = "system:masters";
    pub const SYSTEM_AUTHENTICATED: &str = "system:authenticated";
    pub const SYSTEM_UNAUTHENTICATED: &str = "system:unauthenticated";
    pub const ANONYMOUS: &str = "system:anonymous";
    /// Kubelets: user `system:node:<node name>` in this group.
    pub const SYSTEM_NODES: &str = "system:nodes";
    pub const NODE_USER_PREFIX: &str = "system:node:";
    /// Callers authenticated by a bootstrap token: user `system:bootstrap:<token id>`.
    pub const SYSTEM_BOOTSTRAPPERS: &str = "system:bootstrappers";
    pub const BOOTSTRAP_USER_PREFIX: &str = "system:bootstrap:";
    /// ServiceAccounts: user `system:serviceaccount:<ns>:<name>`, groups
    /// `system:serviceaccounts` and `system:serviceaccounts:<ns>`.
    pub const SYSTEM_SERVICEACCOUNTS: &str = "system:serviceaccounts";
    pub const SERVICEACCOUNT_USER_PREFIX: &str = "system:serviceaccount:";
    pub const KUBE_SCHEDULER: &str = "system:kube-scheduler";
    pub const KUBE_CONTROLLER_MANAGER: &str = "system:kube-controller-manager";
    pub const KUBE_PROXY: &str = "system:kube-proxy";
    /// The apiserver's own client certificate towards kubelets.
    pub const APISERVER_KUBELET_CLIENT: &str = "kube-apiserver-kubelet-client";
}

#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct User {
    pub name: String,
    pub uid: String,
    pub groups: Vec<String>,
    pub extra: BTreeMap<String, Vec<String>>,
}

impl User {
    pub fn new(name: impl Into<String>, groups: &[&str]) -> User {
        User {
            name: name.into(),
            groups: groups.iter().map(|g| g.to_string()).collect(),
            ..User::default()
        }
    }

    /// The caller who presented no credentials.
    pub fn anonymous() -> User {
        User::new(names::ANONYMOUS, &[names::SYSTEM_UNAUTHENTICATED])
    }

    /// Requests made by the apiserver itself (bootstrap, tests calling the registry
    /// directly): may do anything, as Kubernetes' loopback client in `system:masters`.
    pub fn internal() -> User {
        User::new("system:apiserver", &[names::SYSTEM_MASTERS])
    }

    pub fn in_group(&self, group: &str) -> bool {
        self.groups.iter().any(|g| g == group)
    }

    pub fn is_anonymous(&self) -> bool {
        self.name == names::ANONYMOUS
    }

    /// The node name when this is a kubelet (`system:node:<name>` in `system:nodes`).
    pub fn node_name(&self) -> Option<&str> {
        if !self.in_group(names::SYSTEM_NODES) {
            return None;
        }
        self.name
            .strip_prefix(names::NODE_USER_PREFIX)
            .filter(|n| !n.is_empty())
    }

    /// `(namespace, name)` when this is a ServiceAccount.
    pub fn service_account(&self) -> Option<(&str, &str)> {
        let rest = self.name.strip_prefix(names::SERVICEACCOUNT_USER_PREFIX)?;
        let (ns, name) = rest.split_once(':')?;
        (!ns.is_empty() && !name.is_empty()).then_some((ns, name))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_and_service_account_names() {
        let node = User::new("system:node:n1", &[names::SYSTEM_NODES]);
        assert_eq!(node.node_name(), Some("n1"));
        let not_in_group = User::new("system:node:n1", &[]);
        assert_eq!(not_in_group.node_name(), None);
        let sa = User::new("system:serviceaccount:ns:default", &[]);
        assert_eq!(sa.service_account(), Some(("ns", "default")));
        assert_eq!(User::anonymous().service_account(), None);
    }
}

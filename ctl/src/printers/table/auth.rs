//! Cells of the RBAC kinds (Role, ClusterRole, RoleBinding, ClusterRoleBinding) and of
//! CertificateSigningRequests, as kubectl prints them.

use super::*;

/// Role and ClusterRole: kubectl shows the creation time itself, not an age.
pub(super) fn role_cells(o: &Value) -> (Vec<String>, Vec<String>) {
    (
        vec![str_at(o, "/metadata/creationTimestamp").to_string()],
        vec![],
    )
}

/// ROLE (`ClusterRole/view`), AGE; wide: USERS, GROUPS, SERVICEACCOUNTS.
pub(super) fn binding_cells(o: &Value, created: String) -> (Vec<String>, Vec<String>) {
    let role = format!(
        "{}/{}",
        str_at(o, "/roleRef/kind"),
        str_at(o, "/roleRef/name")
    );
    let subjects = arr_at(o, "/subjects");
    let of_kind = |kind: &str| -> String {
        subjects
            .iter()
            .filter(|s| str_at(s, "/kind") == kind)
            .map(|s| {
                let ns = str_at(s, "/namespace");
                if kind == "ServiceAccount" {
                    format!("{ns}/{}", str_at(s, "/name"))
                } else {
                    str_at(s, "/name").to_string()
                }
            })
            .collect::<Vec<_>>()
            .join(", ")
    };
    (
        vec![role, created],
        vec![of_kind("User"), of_kind("Group"), of_kind("ServiceAccount")],
    )
}

/// AGE, SIGNERNAME, REQUESTOR, REQUESTEDDURATION, CONDITION.
pub(super) fn csr_cells(o: &Value, created: String) -> (Vec<String>, Vec<String>) {
    let duration = match i64_at(o, "/spec/expirationSeconds") {
        Some(s) => human_duration(s),
        None => "<none>".to_string(),
    };
    (
        vec![
            created,
            str_at(o, "/spec/signerName").to_string(),
            str_at(o, "/spec/username").to_string(),
            duration,
            csr_condition(o),
        ],
        vec![],
    )
}

/// kubectl's CONDITION: the condition types joined (`Approved,Issued`), `Pending` when
/// there are none; `Issued` once a certificate is there.
pub fn csr_condition(o: &Value) -> String {
    let mut conds: Vec<String> = arr_at(o, "/status/conditions")
        .iter()
        .map(|c| str_at(c, "/type").to_string())
        .filter(|t| !t.is_empty())
        .collect();
    if !str_at(o, "/status/certificate").is_empty() {
        conds.push("Issued".into());
    }
    if conds.is_empty() {
        "Pending".into()
    } else {
        conds.join(",")
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn bindings_name_their_role_and_subjects() {
        let b = json!({"metadata": {"name": "b"},
            "roleRef": {"apiGroup": "rbac.authorization.k8s.io", "kind": "ClusterRole", "name": "view"},
            "subjects": [{"kind": "User", "name": "alice"}, {"kind": "Group", "name": "devs"},
                         {"kind": "ServiceAccount", "name": "bot", "namespace": "ci"},
                         {"kind": "User", "name": "bob"}]});
        let (cells, wide) = binding_cells(&b, "5m".into());
        assert_eq!(cells, ["ClusterRole/view", "5m"]);
        assert_eq!(wide, ["alice, bob", "devs", "ci/bot"]);
    }

    #[test]
    fn csr_conditions_and_duration() {
        let pending = json!({"spec": {"signerName": "kubernetes.io/kube-apiserver-client-kubelet",
            "username": "system:bootstrap:abcdef"}});
        let (cells, _) = csr_cells(&pending, "1s".into());
        assert_eq!(
            cells,
            [
                "1s",
                "kubernetes.io/kube-apiserver-client-kubelet",
                "system:bootstrap:abcdef",
                "<none>",
                "Pending"
            ]
        );
        let issued = json!({"spec": {"expirationSeconds": 3600},
            "status": {"conditions": [{"type": "Approved", "status": "True"}], "certificate": "Q0VSVA=="}});
        let (cells, _) = csr_cells(&issued, "1s".into());
        assert_eq!(cells[3], "60m");
        assert_eq!(cells[4], "Approved,Issued");
        let denied = json!({"status": {"conditions": [{"type": "Denied", "status": "True"}]}});
        assert_eq!(csr_condition(&denied), "Denied");
    }
}

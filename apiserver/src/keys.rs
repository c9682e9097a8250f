//! Store keys: `/registry/<plural>/<namespace>/<name>` for namespaced kinds,
//! `/registry/<plural>/<name>` for cluster-scoped ones. Prefixes end in '/', so the
//! namespace `a` never matches keys of namespace `ab`.

use proto::KindInfo;

pub fn object_key(info: &KindInfo, namespace: &str, name: &str) -> String {
    if info.namespaced {
        format!("/registry/{}/{namespace}/{name}", info.plural)
    } else {
        format!("/registry/{}/{name}", info.plural)
    }
}

/// Every object of the kind in `namespace`, or in all namespaces when it is empty.
pub fn list_prefix(info: &KindInfo, namespace: &str) -> String {
    if info.namespaced && !namespace.is_empty() {
        format!("/registry/{}/{namespace}/", info.plural)
    } else {
        format!("/registry/{}/", info.plural)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::resource::info;

    #[test]
    fn prefixes_do_not_overlap() {
        let a = list_prefix(&info::Pod, "a");
        assert!(object_key(&info::Pod, "a", "x").starts_with(&a));
        assert!(!object_key(&info::Pod, "ab", "x").starts_with(&a));
        assert_eq!(object_key(&info::Node, "", "n1"), "/registry/nodes/n1");
        assert_eq!(list_prefix(&info::Node, "ignored"), "/registry/nodes/");
    }
}

//! `ExtraValue` (a user's extra attribute values) is a bare JSON array of strings in
//! Kubernetes (`"extra": {"k": ["a", "b"]}`), not the `{"items": [...]}` the generated
//! mapping would write, so its serde is written here (build.rs excludes it from pbjson).

use crate::k8s::ExtraValue;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

impl Serialize for ExtraValue {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.items.serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for ExtraValue {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        Ok(ExtraValue {
            items: Vec::<String>::deserialize(deserializer)?,
        })
    }
}

impl From<Vec<String>> for ExtraValue {
    fn from(items: Vec<String>) -> Self {
        ExtraValue { items }
    }
}

#[cfg(test)]
mod tests {
    use crate::k8s::UserInfo;

    #[test]
    fn extra_is_a_bare_array_in_json() {
        let mut user = UserInfo {
            username: "u".into(),
            ..Default::default()
        };
        user.extra.insert(
            "scopes".into(),
            vec!["a".to_string(), "b".to_string()].into(),
        );
        let json = serde_json::to_value(&user).unwrap();
        assert_eq!(json["extra"]["scopes"], serde_json::json!(["a", "b"]));
        let back: UserInfo = serde_json::from_value(json).unwrap();
        assert_eq!(back, user);
    }
}

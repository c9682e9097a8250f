//! `FieldsV1` (the set of fields a manager owns) is a bare JSON object in Kubernetes
//! (`"fieldsV1": {"f:metadata": {...}}`); the proto keeps its JSON text, so its serde is
//! written here (build.rs excludes it from pbjson).

use crate::k8s::FieldsV1;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

impl FieldsV1 {
    /// The field set as JSON (an empty object when the text is empty or not JSON).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.raw)
            .unwrap_or_else(|_| serde_json::Value::Object(Default::default()))
    }

    pub fn from_value(value: &serde_json::Value) -> Self {
        FieldsV1 {
            raw: value.to_string(),
        }
    }
}

impl Serialize for FieldsV1 {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for FieldsV1 {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        if !value.is_object() {
            return Err(serde::de::Error::custom("fieldsV1 must be a JSON object"));
        }
        Ok(FieldsV1::from_value(&value))
    }
}

#[cfg(test)]
mod tests {
    use crate::k8s::{FieldsV1, ManagedFieldsEntry, ObjectMeta};
    use serde_json::json;

    #[test]
    fn fields_v1_is_a_bare_object_in_json() {
        let meta = ObjectMeta {
            name: "a".into(),
            managed_fields: vec![ManagedFieldsEntry {
                manager: "kubectl".into(),
                operation: "Apply".into(),
                api_version: "v1".into(),
                fields_type: "FieldsV1".into(),
                fields_v1: Some(FieldsV1::from_value(
                    &json!({"f:data": {"f:k": {}}, "f:metadata": {"f:labels": {".": {}}}}),
                )),
                ..Default::default()
            }],
            ..Default::default()
        };
        let value = serde_json::to_value(&meta).unwrap();
        assert_eq!(
            value["managedFields"][0]["fieldsV1"],
            json!({"f:data": {"f:k": {}}, "f:metadata": {"f:labels": {".": {}}}})
        );
        let back: ObjectMeta = serde_json::from_value(value).unwrap();
        assert_eq!(back, meta);
        assert!(
            serde_json::from_value::<FieldsV1>(json!([1])).is_err(),
            "only objects"
        );
    }
}

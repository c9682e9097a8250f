//! `RawExtension` (Kubernetes' runtime.RawExtension, a ControllerRevision's `data`) is any
//! JSON value; the proto keeps its JSON text, so its serde is written here (build.rs
//! excludes it from pbjson), as for `FieldsV1`.

use crate::k8s::RawExtension;
use serde::{Deserialize, Deserializer, Serialize, Serializer};

impl RawExtension {
    /// The value as JSON (null when the text is empty or not JSON).
    pub fn to_value(&self) -> serde_json::Value {
        serde_json::from_str(&self.raw).unwrap_or(serde_json::Value::Null)
    }

    pub fn from_value(value: &serde_json::Value) -> Self {
        RawExtension {
            raw: value.to_string(),
        }
    }
}

impl Serialize for RawExtension {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.to_value().serialize(serializer)
    }
}

impl<'de> Deserialize<'de> for RawExtension {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let value = serde_json::Value::deserialize(deserializer)?;
        Ok(RawExtension::from_value(&value))
    }
}

#[cfg(test)]
mod tests {
    use crate::k8s::ControllerRevision;
    use serde_json::json;

    #[test]
    fn data_round_trips_as_the_json_it_is() {
        let doc = json!({
            "metadata": {"name": "web-5d8f"},
            "data": {"spec": {"template": {"$patch": "replace", "spec": {"containers": [{"name": "a"}]}}}},
            "revision": 3
        });
        let cr: ControllerRevision = serde_json::from_value(doc.clone()).unwrap();
        assert_eq!(cr.revision, 3);
        assert_eq!(cr.data.as_ref().unwrap().to_value(), doc["data"]);
        let back = serde_json::to_value(&cr).unwrap();
        assert_eq!(back["data"], doc["data"]);
        assert_eq!(back["revision"], json!(3));
    }
}

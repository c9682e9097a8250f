//! List and watch filters: a label selector and a field selector, checked against objects.

use proto::selector::{FieldSelector, LabelSelector};
use proto::{ApiError, KindInfo, Object};

use crate::fields::{field_value, is_supported};

pub struct Filter {
    labels: Option<LabelSelector>,
    fields: Option<FieldSelector>,
}

impl Filter {
    pub fn new(
        info: &KindInfo,
        label_selector: &str,
        field_selector: &str,
    ) -> Result<Filter, ApiError> {
        let labels = if label_selector.trim().is_empty() {
            None
        } else {
            Some(
                LabelSelector::parse(label_selector)
                    .map_err(|e| ApiError::bad_request(e.to_string()))?,
            )
        };
        let fields = if field_selector.trim().is_empty() {
            None
        } else {
            let f = FieldSelector::parse(field_selector)
                .map_err(|e| ApiError::bad_request(format!("invalid field selector: {e}")))?;
            for field in f.fields() {
                if !is_supported(info, field) {
                    return Err(ApiError::bad_request(format!(
                        "field label not supported: {field} (for {})",
                        info.plural
                    )));
                }
            }
            Some(f)
        };
        Ok(Filter { labels, fields })
    }

    pub fn matches(&self, object: &Object) -> bool {
        if let Some(l) = &self.labels
            && !l.matches(&object.meta().labels)
        {
            return false;
        }
        if let Some(f) = &self.fields {
            return f.matches(&|field: &str| field_value(object, field));
        }
        true
    }
}

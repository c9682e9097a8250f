//! The query string: Kubernetes' list, watch, write and delete options.

use proto::ApiError;

#[derive(Debug, Default, Clone)]
pub(crate) struct Query {
    pairs: Vec<(String, String)>,
}

impl Query {
    pub(crate) fn parse(query: &str) -> Query {
        Query {
            pairs: form_urlencoded::parse(query.as_bytes())
                .map(|(k, v)| (k.into_owned(), v.into_owned()))
                .collect(),
        }
    }

    /// The first value of `name`.
    pub(crate) fn get(&self, name: &str) -> Option<&str> {
        self.pairs
            .iter()
            .find(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
    }

    /// Every value of a repeated parameter (`command=sh&command=-c`).
    pub(crate) fn all(&self, name: &str) -> Vec<&str> {
        self.pairs
            .iter()
            .filter(|(k, _)| k == name)
            .map(|(_, v)| v.as_str())
            .collect()
    }

    pub(crate) fn str(&self, name: &str) -> String {
        self.get(name).unwrap_or("").to_string()
    }

    /// A boolean as Go's strconv.ParseBool reads it; a bare `?watch` is true.
    pub(crate) fn bool(&self, name: &str) -> Result<bool, ApiError> {
        match self.get(name) {
            None => Ok(false),
            Some(v) => parse_bool(v).ok_or_else(|| {
                ApiError::bad_request(format!("invalid value {v:?} for query parameter {name}"))
            }),
        }
    }

    pub(crate) fn i64(&self, name: &str) -> Result<Option<i64>, ApiError> {
        match self.get(name) {
            None | Some("") => Ok(None),
            Some(v) => v.parse().map(Some).map_err(|_| {
                ApiError::bad_request(format!(
                    "invalid value {v:?} for query parameter {name}: must be an integer"
                ))
            }),
        }
    }

    /// `dryRun=All` (the only value Kubernetes knows); anything else is refused.
    pub(crate) fn dry_run(&self) -> Result<bool, ApiError> {
        let values = self.all("dryRun");
        let mut dry = false;
        for v in values {
            match v {
                "All" => dry = true,
                "" => {}
                other => {
                    return Err(ApiError::bad_request(format!(
                        "Invalid dryRun value: {other:?}: supported values: \"All\""
                    )));
                }
            }
        }
        Ok(dry)
    }
}

pub(crate) fn parse_bool(v: &str) -> Option<bool> {
    match v {
        "" | "1" | "t" | "T" | "true" | "TRUE" | "True" => Some(true),
        "0" | "f" | "F" | "false" | "FALSE" | "False" => Some(false),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn values_are_decoded() {
        let q = Query::parse(
            "labelSelector=app%3Dweb%2Ctier+in+(a)&watch&limit=5&command=sh&command=-c&dryRun=All",
        );
        assert_eq!(q.get("labelSelector"), Some("app=web,tier in (a)"));
        assert!(q.bool("watch").unwrap());
        assert!(!q.bool("missing").unwrap());
        assert_eq!(q.i64("limit").unwrap(), Some(5));
        assert_eq!(q.all("command"), ["sh", "-c"]);
        assert!(q.dry_run().unwrap());
        assert!(Query::parse("dryRun=Some").dry_run().is_err());
        assert!(Query::parse("limit=x").i64("limit").is_err());
        assert!(Query::parse("watch=maybe").bool("watch").is_err());
    }
}

//! `--sort-by=<jsonpath>`, as kubectl sorts (k8s.io/kubectl/pkg/cmd/get/sorter.go): by the
//! first value the expression finds; numbers numerically, strings that are both quantities
//! (`100m`, `1Gi`) as quantities, other strings (names, RFC 3339 timestamps) by their text;
//! objects without the field first. An expression found in no object is an error.

use super::custom_columns::relaxed_jsonpath;
use super::jsonpath::JsonPath;
use proto::quantity::Quantity;
use serde_json::Value;
use std::cmp::Ordering;

/// The order of `docs` sorted by `field`: position i of the result is the index of the
/// document that goes there (stable: equal keys keep the server's order).
pub fn sort_order(docs: &[&Value], field: &str) -> Result<Vec<usize>, String> {
    if docs.is_empty() {
        return Ok(vec![]);
    }
    let spec = relaxed_jsonpath(field).unwrap_or_else(|_| field.to_string());
    let path = JsonPath::parse(&spec)?.allow_missing_keys(true);
    let mut keys: Vec<Option<Value>> = Vec::with_capacity(docs.len());
    for doc in docs {
        let results = path.find_results(doc)?;
        keys.push(
            results
                .into_iter()
                .next()
                .and_then(|r| r.into_iter().next()),
        );
    }
    if keys.iter().all(Option::is_none) {
        return Err(format!(
            "couldn't find any field with path {spec:?} in the list of objects"
        ));
    }
    // Refuse what kubectl cannot order (maps, lists, booleans) before sorting.
    for k in keys.iter().flatten() {
        if matches!(k, Value::Object(_) | Value::Array(_) | Value::Bool(_)) {
            return Err(format!("field {spec} is an unsortable type: {k}"));
        }
    }
    let mut order: Vec<usize> = (0..docs.len()).collect();
    order.sort_by(|&a, &b| compare(keys[a].as_ref(), keys[b].as_ref()));
    Ok(order)
}

/// Sorts `items` by `field` of the document `doc` gives for each.
pub fn sort_by<T, D: std::borrow::Borrow<Value>>(
    items: &mut [T],
    doc: impl Fn(&T) -> D,
    field: &str,
) -> Result<(), String> {
    let docs: Vec<D> = items.iter().map(doc).collect();
    let refs: Vec<&Value> = docs.iter().map(|d| d.borrow()).collect();
    let order = sort_order(&refs, field)?;
    apply_order(items, &order);
    Ok(())
}

/// Reorders `items` so that position i holds what was at `order[i]`.
pub fn apply_order<T>(items: &mut [T], order: &[usize]) {
    let mut pos: Vec<usize> = (0..items.len()).collect(); // where original i is now
    let mut at: Vec<usize> = (0..items.len()).collect(); // which original is at slot j
    for (i, &want) in order.iter().enumerate() {
        let j = pos[want];
        if i != j {
            items.swap(i, j);
            let (oi, oj) = (at[i], at[j]);
            at.swap(i, j);
            pos[oi] = j;
            pos[oj] = i;
        }
    }
}

fn compare(a: Option<&Value>, b: Option<&Value>) -> Ordering {
    match (a, b) {
        (None, None) => Ordering::Equal,
        (None, _) => Ordering::Less,
        (_, None) => Ordering::Greater,
        (Some(a), Some(b)) => compare_values(a, b),
    }
}

fn compare_values(a: &Value, b: &Value) -> Ordering {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => match (x.as_i64(), y.as_i64()) {
            (Some(i), Some(j)) => i.cmp(&j),
            _ => x
                .as_f64()
                .zip(y.as_f64())
                .and_then(|(i, j)| i.partial_cmp(&j))
                .unwrap_or(Ordering::Equal),
        },
        (Value::String(x), Value::String(y)) => {
            match (x.parse::<Quantity>(), y.parse::<Quantity>()) {
                (Ok(p), Ok(q)) => p.cmp(&q),
                _ => x.cmp(y),
            }
        }
        // Mixed types: numbers before strings, a fixed order rather than kubectl's exit.
        (Value::Number(_), _) => Ordering::Less,
        (_, Value::Number(_)) => Ordering::Greater,
        _ => Ordering::Equal,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn names(docs: &[Value]) -> Vec<&str> {
        docs.iter()
            .map(|d| d["metadata"]["name"].as_str().unwrap_or(""))
            .collect()
    }

    #[test]
    fn sorts_like_kubectl() {
        let pod = |name: &str, restarts: i64, created: &str, cpu: &str| {
            json!({"metadata": {"name": name, "creationTimestamp": created},
                   "spec": {"containers": [{"resources": {"requests": {"cpu": cpu}}}]},
                   "status": {"containerStatuses": [{"restartCount": restarts}]}})
        };
        let mut docs = vec![
            pod("c", 10, "2024-01-03T00:00:00Z", "1"),
            pod("a", 9, "2024-01-01T00:00:00Z", "250m"),
            pod("b", 100, "2024-01-02T00:00:00Z", "2"),
        ];
        sort_by(&mut docs, |d| d.clone(), ".metadata.name").unwrap();
        assert_eq!(names(&docs), ["a", "b", "c"]);
        // Numbers numerically (9 < 10 < 100), not as text.
        sort_by(
            &mut docs,
            |d| d.clone(),
            "{.status.containerStatuses[0].restartCount}",
        )
        .unwrap();
        assert_eq!(names(&docs), ["a", "c", "b"]);
        sort_by(&mut docs, |d| d.clone(), "metadata.creationTimestamp").unwrap();
        assert_eq!(names(&docs), ["a", "b", "c"]);
        // Quantities: 250m < 1 < 2.
        sort_by(
            &mut docs,
            |d| d.clone(),
            ".spec.containers[0].resources.requests.cpu",
        )
        .unwrap();
        assert_eq!(names(&docs), ["a", "c", "b"]);
        // Missing first; nowhere found: kubectl's error.
        docs.push(json!({"metadata": {"name": "z"}}));
        sort_by(
            &mut docs,
            |d| d.clone(),
            ".status.containerStatuses[0].restartCount",
        )
        .unwrap();
        assert_eq!(names(&docs), ["z", "a", "c", "b"]);
        assert_eq!(
            sort_by(&mut docs, |d| d.clone(), ".metadata.nothing").unwrap_err(),
            "couldn't find any field with path \"{.metadata.nothing}\" in the list of objects"
        );
        assert!(sort_by(&mut docs, |d| d.clone(), ".metadata").is_err());
    }

    #[test]
    fn reordering_follows_the_order() {
        let mut v = vec!['a', 'b', 'c', 'd'];
        apply_order(&mut v, &[2, 0, 3, 1]);
        assert_eq!(v, ['c', 'a', 'd', 'b']);
    }
}

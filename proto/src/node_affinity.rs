//! Required node affinity and `spec.nodeSelector`: the one rule the scheduler (NodeAffinity
//! filter and score, topology spread) and the DaemonSet controller (which nodes want a
//! daemon pod) must agree on. Kubernetes' `component-helpers/scheduling/corev1/nodeaffinity`.
//!
//! - `nodeSelector`: every entry equals the node's label.
//! - `nodeSelectorTerms` are ORed; the requirements inside one term are ANDed; an empty term,
//!   or an empty list of terms, matches nothing.
//! - `matchExpressions` on labels: In, NotIn (also true when the label is absent), Exists,
//!   DoesNotExist, Gt, Lt (exactly one integer value; a label that is not an integer fails).
//! - `matchFields`: only the key `metadata.name`, only In and NotIn.
//!
//! A malformed term (unknown operator, `Exists` on `matchFields`, a non-integer `Gt`) is an
//! error for the whole affinity: the pod fits no node, in the scheduler as in the DaemonSet
//! controller.

use crate::Resource;
use crate::k8s::{Node, NodeSelectorRequirement, NodeSelectorTerm, PodSpec};
use crate::selector::{LabelSelector, Operator, Requirement};
use std::collections::BTreeSet;

/// Why a node selector term or a pod's required affinity does not parse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{0}")]
pub struct NodeAffinityError(String);

/// One node selector term, parsed: all its requirements must hold.
#[derive(Debug, Clone)]
pub struct Term {
    labels: Vec<Requirement>,
    /// `metadata.name` In (true) / NotIn (false) these names.
    fields: Vec<(bool, BTreeSet<String>)>,
}

impl Term {
    pub fn parse(term: &NodeSelectorTerm) -> Result<Term, NodeAffinityError> {
        let labels = term
            .match_expressions
            .iter()
            .map(parse_requirement)
            .collect::<Result<Vec<_>, _>>()?;
        let fields = term
            .match_fields
            .iter()
            .map(|f| {
                if f.key != "metadata.name" {
                    return Err(NodeAffinityError(format!(
                        "unsupported node field selector key {:?}",
                        f.key
                    )));
                }
                let values = f.values.iter().cloned().collect();
                match f.operator.as_str() {
                    "In" => Ok((true, values)),
                    "NotIn" => Ok((false, values)),
                    other => Err(NodeAffinityError(format!(
                        "{other:?} is not a valid operator for matchFields"
                    ))),
                }
            })
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Term { labels, fields })
    }

    /// An empty term matches nothing, as in Kubernetes.
    pub fn matches(&self, node: &Node) -> bool {
        if self.labels.is_empty() && self.fields.is_empty() {
            return false;
        }
        let meta = node.meta();
        self.labels.iter().all(|r| r.matches(&meta.labels))
            && self
                .fields
                .iter()
                .all(|(is_in, names)| names.contains(&meta.name) == *is_in)
    }
}

fn parse_requirement(r: &NodeSelectorRequirement) -> Result<Requirement, NodeAffinityError> {
    let op = match r.operator.as_str() {
        "In" => Operator::In,
        "NotIn" => Operator::NotIn,
        "Exists" => Operator::Exists,
        "DoesNotExist" => Operator::DoesNotExist,
        "Gt" => Operator::GreaterThan,
        "Lt" => Operator::LessThan,
        other => {
            return Err(NodeAffinityError(format!(
                "{other:?} is not a valid node selector operator"
            )));
        }
    };
    Requirement::new(r.key.clone(), op, r.values.iter().cloned())
        .map_err(|e| NodeAffinityError(e.to_string()))
}

/// `nodeSelector` plus required node affinity: both must hold; terms are ORed. The default
/// (no selector, no affinity) matches every node.
#[derive(Debug, Clone, Default)]
pub struct RequiredNodeAffinity {
    selector: Option<LabelSelector>,
    terms: Option<Vec<Term>>,
}

impl RequiredNodeAffinity {
    pub fn from_spec(spec: &PodSpec) -> Result<RequiredNodeAffinity, NodeAffinityError> {
        let selector = if spec.node_selector.is_empty() {
            None
        } else {
            Some(
                LabelSelector::from_labels(&spec.node_selector)
                    .map_err(|e| NodeAffinityError(e.to_string()))?,
            )
        };
        let terms = match spec
            .affinity
            .as_ref()
            .and_then(|a| a.node_affinity.as_ref())
            .and_then(|na| {
                na.required_during_scheduling_ignored_during_execution
                    .as_ref()
            }) {
            None => None,
            Some(ns) => Some(
                ns.node_selector_terms
                    .iter()
                    .map(Term::parse)
                    .collect::<Result<Vec<_>, _>>()?,
            ),
        };
        Ok(RequiredNodeAffinity { selector, terms })
    }

    pub fn is_empty(&self) -> bool {
        self.selector.is_none() && self.terms.is_none()
    }

    pub fn matches(&self, node: &Node) -> bool {
        if let Some(s) = &self.selector
            && !s.matches(&node.meta().labels)
        {
            return false;
        }
        match &self.terms {
            None => true,
            Some(terms) => terms.iter().any(|t| t.matches(node)),
        }
    }
}

/// The pod's nodeSelector and required node affinity both hold on the node; a malformed
/// affinity holds nowhere.
pub fn required_affinity_matches(spec: &PodSpec, node: &Node) -> bool {
    RequiredNodeAffinity::from_spec(spec).is_ok_and(|r| r.matches(node))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::k8s::{Affinity, NodeAffinity, NodeSelector, ObjectMeta};

    fn req(key: &str, op: &str, values: &[&str]) -> NodeSelectorRequirement {
        NodeSelectorRequirement {
            key: key.into(),
            operator: op.into(),
            values: values.iter().map(|v| v.to_string()).collect(),
        }
    }
    fn term(exprs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_expressions: exprs,
            ..Default::default()
        }
    }
    fn fields(exprs: Vec<NodeSelectorRequirement>) -> NodeSelectorTerm {
        NodeSelectorTerm {
            match_fields: exprs,
            ..Default::default()
        }
    }
    fn node(name: &str, labels: &[(&str, &str)]) -> Node {
        Node {
            metadata: Some(ObjectMeta {
                name: name.into(),
                labels: labels
                    .iter()
                    .map(|(k, v)| (k.to_string(), v.to_string()))
                    .collect(),
                ..Default::default()
            }),
            ..Default::default()
        }
    }
    fn spec(selector: &[(&str, &str)], terms: Option<Vec<NodeSelectorTerm>>) -> PodSpec {
        PodSpec {
            node_selector: selector
                .iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect(),
            affinity: terms.map(|node_selector_terms| {
                Box::new(Affinity {
                    node_affinity: Some(NodeAffinity {
                        required_during_scheduling_ignored_during_execution: Some(NodeSelector {
                            node_selector_terms,
                        }),
                        ..Default::default()
                    }),
                    ..Default::default()
                })
            }),
            ..Default::default()
        }
    }

    /// (what, nodeSelector, required terms, fits)
    type Case = (
        &'static str,
        &'static [(&'static str, &'static str)],
        Option<Vec<NodeSelectorTerm>>,
        bool,
    );

    #[test]
    fn required_table() {
        let n = node("n1", &[("zone", "a"), ("cores", "8"), ("disk", "ssd")]);
        let cases: Vec<Case> = vec![
            ("nothing required fits", &[], None, true),
            ("nodeSelector equal", &[("zone", "a")], None, true),
            ("nodeSelector differs", &[("zone", "b")], None, false),
            ("nodeSelector absent label", &[("gpu", "x")], None, false),
            (
                "In",
                &[],
                Some(vec![term(vec![req("zone", "In", &["a", "b"])])]),
                true,
            ),
            (
                "In miss",
                &[],
                Some(vec![term(vec![req("zone", "In", &["b"])])]),
                false,
            ),
            (
                "NotIn absent key holds",
                &[],
                Some(vec![term(vec![req("gpu", "NotIn", &["x"])])]),
                true,
            ),
            (
                "NotIn miss",
                &[],
                Some(vec![term(vec![req("zone", "NotIn", &["a"])])]),
                false,
            ),
            (
                "Exists",
                &[],
                Some(vec![term(vec![req("disk", "Exists", &[])])]),
                true,
            ),
            (
                "DoesNotExist miss",
                &[],
                Some(vec![term(vec![req("disk", "DoesNotExist", &[])])]),
                false,
            ),
            (
                "Gt",
                &[],
                Some(vec![term(vec![req("cores", "Gt", &["4"])])]),
                true,
            ),
            (
                "Gt equal is not greater",
                &[],
                Some(vec![term(vec![req("cores", "Gt", &["8"])])]),
                false,
            ),
            (
                "Lt",
                &[],
                Some(vec![term(vec![req("cores", "Lt", &["16"])])]),
                true,
            ),
            (
                "Lt on a label that is not an integer",
                &[],
                Some(vec![term(vec![req("zone", "Lt", &["16"])])]),
                false,
            ),
            (
                "Gt with a value that is not an integer is malformed",
                &[],
                Some(vec![term(vec![req("cores", "Gt", &["four"])])]),
                false,
            ),
            (
                "Gt with two values is malformed",
                &[],
                Some(vec![term(vec![req("cores", "Gt", &["4", "5"])])]),
                false,
            ),
            (
                "requirements in a term are ANDed",
                &[],
                Some(vec![term(vec![
                    req("zone", "In", &["a"]),
                    req("disk", "In", &["hdd"]),
                ])]),
                false,
            ),
            (
                "terms are ORed",
                &[],
                Some(vec![
                    term(vec![req("zone", "In", &["b"])]),
                    term(vec![req("disk", "In", &["ssd"])]),
                ]),
                true,
            ),
            (
                "an empty term matches nothing",
                &[],
                Some(vec![term(vec![])]),
                false,
            ),
            ("no terms match nothing", &[], Some(vec![]), false),
            (
                "matchFields metadata.name In",
                &[],
                Some(vec![fields(vec![req("metadata.name", "In", &["n1"])])]),
                true,
            ),
            (
                "matchFields metadata.name NotIn",
                &[],
                Some(vec![fields(vec![req("metadata.name", "NotIn", &["n1"])])]),
                false,
            ),
            (
                // The disagreement of issue 19: the DaemonSet controller took this as true.
                "matchFields Exists is malformed",
                &[],
                Some(vec![fields(vec![req("metadata.name", "Exists", &[])])]),
                false,
            ),
            (
                "matchFields on another field is malformed",
                &[],
                Some(vec![fields(vec![req("metadata.uid", "In", &["n1"])])]),
                false,
            ),
            (
                "labels and fields in one term are ANDed",
                &[],
                Some(vec![NodeSelectorTerm {
                    match_expressions: vec![req("zone", "In", &["a"])],
                    match_fields: vec![req("metadata.name", "In", &["n2"])],
                }]),
                false,
            ),
            (
                "affinity fits but the nodeSelector does not",
                &[("disk", "hdd")],
                Some(vec![term(vec![req("zone", "In", &["a"])])]),
                false,
            ),
            (
                "an unknown operator is malformed",
                &[],
                Some(vec![term(vec![req("zone", "Equals", &["a"])])]),
                false,
            ),
        ];
        for (name, selector, terms, want) in cases {
            let s = spec(selector, terms);
            assert_eq!(required_affinity_matches(&s, &n), want, "{name}");
        }
    }

    #[test]
    fn malformed_affinity_says_why() {
        let s = spec(
            &[],
            Some(vec![fields(vec![req("metadata.name", "Exists", &[])])]),
        );
        assert_eq!(
            RequiredNodeAffinity::from_spec(&s).map(|_| ()),
            Err(NodeAffinityError(
                "\"Exists\" is not a valid operator for matchFields".into()
            ))
        );
        assert!(
            RequiredNodeAffinity::from_spec(&spec(&[], None))
                .unwrap()
                .is_empty()
        );
    }
}

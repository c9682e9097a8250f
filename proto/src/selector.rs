//! Label and field selectors with Kubernetes' syntax and semantics (apimachinery's
//! `labels.Parse`, `metav1.LabelSelectorAsSelector` and `fields.ParseSelector`).
//!
//! A [`LabelSelector`] is a list of [`Requirement`]s that must all hold. It comes from the
//! string form (`app=web,tier!=db,env in (a,b),!legacy`, used by list/watch and `ctl -l`)
//! or from the `k8s::LabelSelector` message of a spec (matchLabels + matchExpressions).
//! Both forms validate keys and values with Kubernetes' label rules.

use std::collections::{BTreeMap, BTreeSet};
use std::fmt;

use crate::k8s;
use crate::validation::{is_qualified_name, is_valid_label_value};

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum SelectorError {
    /// The string form of a label selector did not parse or holds an invalid requirement.
    #[error("unable to parse label selector {input:?}: {reason}")]
    Syntax { input: String, reason: String },
    /// A requirement's key, operator or values break Kubernetes' rules.
    #[error("invalid label selector requirement on key {key:?}: {reason}")]
    Requirement { key: String, reason: String },
    /// A matchExpressions operator other than In, NotIn, Exists, DoesNotExist.
    #[error("{0:?} is not a valid label selector operator")]
    Operator(String),
    #[error("unable to parse field selector {input:?}: {reason}")]
    FieldSyntax { input: String, reason: String },
    #[error("field label not supported: {0}")]
    UnsupportedField(String),
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Operator {
    /// `key=value` (also written `key==value`).
    Equals,
    /// `key!=value`; also true when the key is absent.
    NotEquals,
    /// `key in (a,b)`.
    In,
    /// `key notin (a,b)`; also true when the key is absent.
    NotIn,
    /// `key`.
    Exists,
    /// `!key`.
    DoesNotExist,
    /// `key>5`: the label's value, read as an integer, is greater.
    GreaterThan,
    /// `key<5`.
    LessThan,
}

/// One condition on one label key. Fields are ordered so that the derived `Ord` sorts by
/// key first, which gives selectors one canonical order.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Requirement {
    key: String,
    operator: Operator,
    values: BTreeSet<String>,
}

impl Requirement {
    /// Kubernetes' NewRequirement: the key must be a qualified name, the values valid label
    /// values, and their number must suit the operator.
    pub fn new(
        key: impl Into<String>,
        operator: Operator,
        values: impl IntoIterator<Item = String>,
    ) -> Result<Self, SelectorError> {
        let key = key.into();
        let values: BTreeSet<String> = values.into_iter().collect();
        let fail = |reason: String| SelectorError::Requirement {
            key: key.clone(),
            reason,
        };

        let key_errs = is_qualified_name(&key);
        if !key_errs.is_empty() {
            return Err(fail(format!(
                "invalid label key {key:?}: {}",
                key_errs.join("; ")
            )));
        }
        match operator {
            Operator::In | Operator::NotIn if values.is_empty() => {
                return Err(fail(
                    "for 'in', 'notin' operators, values set can't be empty".into(),
                ));
            }
            Operator::Equals | Operator::NotEquals if values.len() != 1 => {
                return Err(fail(
                    "exact-match compatibility requires one single value".into(),
                ));
            }
            Operator::Exists | Operator::DoesNotExist if !values.is_empty() => {
                return Err(fail(
                    "values set must be empty for exists and does not exist".into(),
                ));
            }
            Operator::GreaterThan | Operator::LessThan => {
                if values.len() != 1 {
                    return Err(fail(
                        "for 'Gt', 'Lt' operators, exactly one value is required".into(),
                    ));
                }
                if let Some(v) = values.iter().find(|v| v.parse::<i64>().is_err()) {
                    return Err(fail(format!(
                        "invalid value {v:?}: for 'Gt', 'Lt' operators, the value must be an integer"
                    )));
                }
            }
            _ => {}
        }
        for v in &values {
            let errs = is_valid_label_value(v);
            if !errs.is_empty() {
                return Err(fail(format!(
                    "invalid label value {v:?}: {}",
                    errs.join("; ")
                )));
            }
        }
        Ok(Self {
            key,
            operator,
            values,
        })
    }

    pub fn key(&self) -> &str {
        &self.key
    }

    pub fn operator(&self) -> Operator {
        self.operator
    }

    pub fn values(&self) -> &BTreeSet<String> {
        &self.values
    }

    /// Kubernetes' Requirement.Matches. NotIn and `!=` hold when the key is absent; `>`
    /// and `<` fail when the label is absent or not an integer.
    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        let value = labels.get(&self.key);
        match self.operator {
            Operator::Equals | Operator::In => value.is_some_and(|v| self.values.contains(v)),
            Operator::NotEquals | Operator::NotIn => value.is_none_or(|v| !self.values.contains(v)),
            Operator::Exists => value.is_some(),
            Operator::DoesNotExist => value.is_none(),
            Operator::GreaterThan | Operator::LessThan => {
                let (Some(have), Some(want)) = (
                    value.and_then(|v| v.parse::<i64>().ok()),
                    self.values.first().and_then(|v| v.parse::<i64>().ok()),
                ) else {
                    return false;
                };
                if self.operator == Operator::GreaterThan {
                    have > want
                } else {
                    have < want
                }
            }
        }
    }
}

impl fmt::Display for Requirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let single = self.values.first().map_or("", String::as_str);
        match self.operator {
            Operator::Exists => write!(f, "{}", self.key),
            Operator::DoesNotExist => write!(f, "!{}", self.key),
            Operator::Equals => write!(f, "{}={single}", self.key),
            Operator::NotEquals => write!(f, "{}!={single}", self.key),
            Operator::GreaterThan => write!(f, "{}>{single}", self.key),
            Operator::LessThan => write!(f, "{}<{single}", self.key),
            Operator::In | Operator::NotIn => {
                let op = if self.operator == Operator::In {
                    "in"
                } else {
                    "notin"
                };
                let list: Vec<&str> = self.values.iter().map(String::as_str).collect();
                // A set holding only the empty value prints as "(,)": "()" would read back
                // as an (invalid) empty set.
                let body = if list == [""] {
                    ",".to_string()
                } else {
                    list.join(",")
                };
                write!(f, "{} {op} ({body})", self.key)
            }
        }
    }
}

/// All requirements must hold; no requirements match everything.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct LabelSelector {
    requirements: Vec<Requirement>,
}

impl LabelSelector {
    /// Matches every object.
    pub fn everything() -> Self {
        Self::default()
    }

    pub fn new(mut requirements: Vec<Requirement>) -> Self {
        requirements.sort();
        Self { requirements }
    }

    pub fn requirements(&self) -> &[Requirement] {
        &self.requirements
    }

    /// True when the selector has no requirements and so matches everything.
    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    pub fn matches(&self, labels: &BTreeMap<String, String>) -> bool {
        self.requirements.iter().all(|r| r.matches(labels))
    }

    /// Kubernetes' ValidatedSelectorFromSet: `key=value` for every entry (a Service's
    /// `spec.selector`); an empty map matches everything.
    pub fn from_labels(labels: &BTreeMap<String, String>) -> Result<Self, SelectorError> {
        let reqs = labels
            .iter()
            .map(|(k, v)| Requirement::new(k.clone(), Operator::Equals, [v.clone()]))
            .collect::<Result<Vec<_>, _>>()?;
        Ok(Self::new(reqs))
    }

    /// The `k8s::LabelSelector` message of a spec (matchLabels and matchExpressions).
    ///
    /// An empty message matches everything, as in Kubernetes. An *absent* selector matches
    /// nothing in Kubernetes (LabelSelectorAsSelector(nil) is Nothing): callers holding an
    /// `Option<k8s::LabelSelector>` must treat `None` as "no object matches" themselves,
    /// e.g. with [`matches_optional`].
    pub fn from_proto(selector: &k8s::LabelSelector) -> Result<Self, SelectorError> {
        let mut reqs =
            Vec::with_capacity(selector.match_labels.len() + selector.match_expressions.len());
        for (k, v) in &selector.match_labels {
            reqs.push(Requirement::new(k.clone(), Operator::Equals, [v.clone()])?);
        }
        for expr in &selector.match_expressions {
            let op = match expr.operator.as_str() {
                "In" => Operator::In,
                "NotIn" => Operator::NotIn,
                "Exists" => Operator::Exists,
                "DoesNotExist" => Operator::DoesNotExist,
                other => return Err(SelectorError::Operator(other.to_string())),
            };
            reqs.push(Requirement::new(
                expr.key.clone(),
                op,
                expr.values.iter().cloned(),
            )?);
        }
        Ok(Self::new(reqs))
    }

    /// Parses the string form, as Kubernetes' `labels.Parse`: comma-separated requirements
    /// `k=v`, `k==v`, `k!=v`, `k in (a,b)`, `k notin (a,b)`, `k`, `!k`, `k>1`, `k<1`;
    /// whitespace between tokens is ignored; the empty string matches everything.
    ///
    /// Unlike Kubernetes, `k in ()` is refused rather than read as `k in ("")`: an empty
    /// set is nearly always a mistake. Write `k in (,)` or `k=` for the empty value.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let tokens = lex(input).map_err(|reason| SelectorError::Syntax {
            input: input.to_string(),
            reason,
        })?;
        let reqs = Parser { tokens, pos: 0 }
            .parse()
            .map_err(|reason| SelectorError::Syntax {
                input: input.to_string(),
                reason,
            })?;
        Ok(Self::new(reqs))
    }
}

/// Kubernetes' rule for an optional spec selector: absent matches nothing.
pub fn matches_optional(
    selector: Option<&LabelSelector>,
    labels: &BTreeMap<String, String>,
) -> bool {
    selector.is_some_and(|s| s.matches(labels))
}

impl std::str::FromStr for LabelSelector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for LabelSelector {
    /// Canonical form: requirements sorted by key, `==` written as `=`, set values sorted.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

#[derive(Debug, Clone, PartialEq, Eq)]
enum Token {
    Ident(String),
    /// `in` and `notin` are keywords only where an operator is expected; elsewhere (a key
    /// or a value) they are plain words, as in Kubernetes.
    Not,
    Eq,
    DoubleEq,
    NotEq,
    Gt,
    Lt,
    Open,
    Close,
    Comma,
}

impl fmt::Display for Token {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let s = match self {
            Token::Ident(s) => s.as_str(),
            Token::Not => "!",
            Token::Eq => "=",
            Token::DoubleEq => "==",
            Token::NotEq => "!=",
            Token::Gt => ">",
            Token::Lt => "<",
            Token::Open => "(",
            Token::Close => ")",
            Token::Comma => ",",
        };
        f.write_str(s)
    }
}

fn is_special(c: char) -> bool {
    matches!(c, '=' | '!' | '(' | ')' | ',' | '>' | '<')
}

fn lex(input: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut chars = input.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        if is_special(c) {
            chars.next();
            let next = chars.peek().copied();
            let tok = match (c, next) {
                ('!', Some('=')) => Token::NotEq,
                ('=', Some('=')) => Token::DoubleEq,
                ('!', _) => Token::Not,
                ('=', _) => Token::Eq,
                ('(', _) => Token::Open,
                (')', _) => Token::Close,
                (',', _) => Token::Comma,
                ('>', _) => Token::Gt,
                ('<', _) => Token::Lt,
                _ => return Err(format!("unexpected character '{c}'")),
            };
            if matches!(tok, Token::NotEq | Token::DoubleEq) {
                chars.next();
            }
            tokens.push(tok);
            continue;
        }
        let mut word = String::new();
        while let Some(&c) = chars.peek() {
            if c.is_whitespace() || is_special(c) {
                break;
            }
            word.push(c);
            chars.next();
        }
        tokens.push(Token::Ident(word));
    }
    Ok(tokens)
}

struct Parser {
    tokens: Vec<Token>,
    pos: usize,
}

impl Parser {
    fn peek(&self) -> Option<&Token> {
        self.tokens.get(self.pos)
    }

    fn next(&mut self) -> Option<Token> {
        let t = self.tokens.get(self.pos).cloned();
        self.pos += 1;
        t
    }

    fn found(t: Option<&Token>) -> String {
        t.map_or_else(|| "end of string".to_string(), |t| format!("'{t}'"))
    }

    fn parse(mut self) -> Result<Vec<Requirement>, String> {
        let mut reqs = Vec::new();
        if self.peek().is_none() {
            return Ok(reqs);
        }
        loop {
            reqs.push(self.requirement()?);
            match self.next() {
                None => return Ok(reqs),
                Some(Token::Comma) => {
                    if !matches!(self.peek(), Some(Token::Ident(_) | Token::Not)) {
                        return Err(format!(
                            "found {}, expected: identifier after ','",
                            Self::found(self.peek())
                        ));
                    }
                }
                Some(t) => return Err(format!("found '{t}', expected: ',' or end of string")),
            }
        }
    }

    fn requirement(&mut self) -> Result<Requirement, String> {
        let negated = matches!(self.peek(), Some(Token::Not));
        if negated {
            self.pos += 1;
        }
        let key = match self.next() {
            Some(Token::Ident(k)) => k,
            other => {
                return Err(format!(
                    "found {}, expected: identifier",
                    Self::found(other.as_ref())
                ));
            }
        };
        let at_end = matches!(self.peek(), None | Some(Token::Comma));
        if negated {
            if !at_end {
                return Err(format!(
                    "found {}, expected: ',' or end of string after '!{key}'",
                    Self::found(self.peek())
                ));
            }
            return Requirement::new(key, Operator::DoesNotExist, []).map_err(|e| e.to_string());
        }
        if at_end {
            return Requirement::new(key, Operator::Exists, []).map_err(|e| e.to_string());
        }
        let operator = match self.next() {
            Some(Token::Eq | Token::DoubleEq) => Operator::Equals,
            Some(Token::NotEq) => Operator::NotEquals,
            Some(Token::Gt) => Operator::GreaterThan,
            Some(Token::Lt) => Operator::LessThan,
            Some(Token::Ident(w)) if w == "in" => Operator::In,
            Some(Token::Ident(w)) if w == "notin" => Operator::NotIn,
            other => {
                return Err(format!(
                    "found {}, expected: '=', '!=', '==', 'in', 'notin', '>', '<'",
                    Self::found(other.as_ref())
                ));
            }
        };
        let values = match operator {
            Operator::In | Operator::NotIn => self.value_set()?,
            _ => self.exact_value()?,
        };
        Requirement::new(key, operator, values).map_err(|e| e.to_string())
    }

    /// A single value; nothing before ',' or the end is the empty value (`k=`).
    fn exact_value(&mut self) -> Result<Vec<String>, String> {
        match self.peek() {
            None | Some(Token::Comma) => Ok(vec![String::new()]),
            Some(Token::Ident(_)) => match self.next() {
                Some(Token::Ident(v)) => Ok(vec![v]),
                _ => Err("internal parser error".into()),
            },
            other => Err(format!(
                "found {}, expected: identifier",
                Self::found(other)
            )),
        }
    }

    /// `( v1, v2 )`. Empty entries between commas are the empty value, as in Kubernetes
    /// (`(a,)` is {"a", ""}); `()` is an empty set, refused by [`Requirement::new`].
    fn value_set(&mut self) -> Result<Vec<String>, String> {
        match self.next() {
            Some(Token::Open) => {}
            other => {
                return Err(format!(
                    "found {}, expected: '('",
                    Self::found(other.as_ref())
                ));
            }
        }
        let mut values = Vec::new();
        if matches!(self.peek(), Some(Token::Close)) {
            self.pos += 1;
            return Ok(values);
        }
        loop {
            match self.next() {
                Some(Token::Ident(v)) => {
                    values.push(v);
                    match self.next() {
                        Some(Token::Comma) => {}
                        Some(Token::Close) => return Ok(values),
                        other => {
                            return Err(format!(
                                "found {}, expected: ',' or ')'",
                                Self::found(other.as_ref())
                            ));
                        }
                    }
                }
                // A comma with no value before it: "(,a)" or "(a,,b)".
                Some(Token::Comma) => values.push(String::new()),
                other => {
                    return Err(format!(
                        "found {}, expected: ',', ')' or identifier",
                        Self::found(other.as_ref())
                    ));
                }
            }
            // After a comma: ')' closes the set with a trailing empty value ("(a,)").
            if matches!(self.peek(), Some(Token::Close)) {
                self.pos += 1;
                values.push(String::new());
                return Ok(values);
            }
        }
    }
}

/// A field selector term: `field=value` or `field!=value`.
#[derive(Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct FieldRequirement {
    pub field: String,
    pub negated: bool,
    pub value: String,
}

impl FieldRequirement {
    /// A missing field reads as the empty string, as in Kubernetes' fields.Set, so
    /// `spec.nodeName=` selects unscheduled pods.
    pub fn matches(&self, lookup: &dyn Fn(&str) -> Option<String>) -> bool {
        let have = lookup(&self.field).unwrap_or_default();
        (have == self.value) != self.negated
    }
}

impl fmt::Display for FieldRequirement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let op = if self.negated { "!=" } else { "=" };
        write!(f, "{}{op}{}", self.field, escape_field_value(&self.value))
    }
}

/// Kubernetes' field selectors: comma-separated `field=value`, `field==value`,
/// `field!=value`. Which fields exist is up to the apiserver, per kind.
#[derive(Debug, Clone, Default, PartialEq, Eq, Hash)]
pub struct FieldSelector {
    requirements: Vec<FieldRequirement>,
}

impl FieldSelector {
    pub fn everything() -> Self {
        Self::default()
    }

    pub fn requirements(&self) -> &[FieldRequirement] {
        &self.requirements
    }

    pub fn is_empty(&self) -> bool {
        self.requirements.is_empty()
    }

    /// Values may contain `\,`, `\=` and `\\` escapes; an unescaped `,` or `=` in a value
    /// is refused, as in Kubernetes.
    pub fn parse(input: &str) -> Result<Self, SelectorError> {
        let fail = |reason: String| SelectorError::FieldSyntax {
            input: input.to_string(),
            reason,
        };
        let mut requirements = Vec::new();
        for term in split_unescaped_commas(input) {
            let term = term.trim();
            if term.is_empty() {
                continue;
            }
            let (field, negated, raw) =
                split_field_term(term).ok_or_else(|| fail(format!("can't understand '{term}'")))?;
            let field = field.trim();
            if field.is_empty() {
                return Err(fail(format!("missing field name in '{term}'")));
            }
            // `f! =x` would print as `f!=x`, the negation of `f`: no field name ends so.
            if field.ends_with('!') {
                return Err(fail(format!("can't understand '{term}'")));
            }
            let value =
                unescape_field_value(raw.trim()).map_err(|e| fail(format!("{e} in '{term}'")))?;
            requirements.push(FieldRequirement {
                field: field.to_string(),
                negated,
                value,
            });
        }
        requirements.sort();
        Ok(Self { requirements })
    }

    /// `lookup(field)` gives the object's value for a field (`None` = empty).
    pub fn matches(&self, lookup: &dyn Fn(&str) -> Option<String>) -> bool {
        self.requirements.iter().all(|r| r.matches(lookup))
    }

    /// Matches against a precomputed field set (Kubernetes' fields.Set).
    pub fn matches_set(&self, fields: &BTreeMap<String, String>) -> bool {
        self.matches(&|f| fields.get(f).cloned())
    }

    /// The distinct fields used, sorted.
    pub fn fields(&self) -> Vec<&str> {
        let set: BTreeSet<&str> = self.requirements.iter().map(|r| r.field.as_str()).collect();
        set.into_iter().collect()
    }

    /// Refuses the first field not in `supported`, with Kubernetes' message
    /// (`field label not supported: spec.foo`).
    pub fn check_supported(&self, supported: &[&str]) -> Result<(), SelectorError> {
        match self.fields().into_iter().find(|f| !supported.contains(f)) {
            Some(f) => Err(SelectorError::UnsupportedField(f.to_string())),
            None => Ok(()),
        }
    }

    /// The value `field` must equal, if some term requires one (`spec.nodeName=node-1`),
    /// so a server or cache can narrow a list before matching.
    pub fn exact_value(&self, field: &str) -> Option<&str> {
        self.requirements
            .iter()
            .find(|r| r.field == field && !r.negated)
            .map(|r| r.value.as_str())
    }
}

impl std::str::FromStr for FieldSelector {
    type Err = SelectorError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Self::parse(s)
    }
}

impl fmt::Display for FieldSelector {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, r) in self.requirements.iter().enumerate() {
            if i > 0 {
                f.write_str(",")?;
            }
            write!(f, "{r}")?;
        }
        Ok(())
    }
}

fn split_unescaped_commas(s: &str) -> Vec<&str> {
    let mut parts = Vec::new();
    let mut start = 0;
    let mut escaped = false;
    for (i, c) in s.char_indices() {
        if escaped {
            escaped = false;
        } else if c == '\\' {
            escaped = true;
        } else if c == ',' {
            parts.push(&s[start..i]);
            start = i + 1;
        }
    }
    parts.push(&s[start..]);
    parts
}

/// The first operator in the term splits it: `!=`, `==` or `=`.
fn split_field_term(term: &str) -> Option<(&str, bool, &str)> {
    for (i, _) in term.char_indices() {
        let rest = &term[i..];
        if let Some(v) = rest.strip_prefix("!=") {
            return Some((&term[..i], true, v));
        }
        if let Some(v) = rest.strip_prefix("==") {
            return Some((&term[..i], false, v));
        }
        if let Some(v) = rest.strip_prefix('=') {
            return Some((&term[..i], false, v));
        }
    }
    None
}

fn unescape_field_value(s: &str) -> Result<String, String> {
    let mut out = String::with_capacity(s.len());
    let mut chars = s.chars();
    while let Some(c) = chars.next() {
        match c {
            '\\' => match chars.next() {
                Some(e @ ('\\' | ',' | '=')) => out.push(e),
                Some(e) => return Err(format!("invalid escape sequence '\\{e}'")),
                None => return Err("invalid escape sequence '\\'".into()),
            },
            ',' | '=' => return Err(format!("invalid field selector: unescaped '{c}' in value")),
            c => out.push(c),
        }
    }
    Ok(out)
}

fn escape_field_value(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        if matches!(c, '\\' | ',' | '=') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by proptest (proto/tests/fuzz.rs): `! =` parsed as the field `!` equal to "",
    /// which printed as `!=` and did not parse back.
    #[test]
    fn a_field_name_ending_in_bang_is_refused() {
        for input in ["! =", "a! ==b", "spec.nodeName! =x"] {
            assert!(FieldSelector::parse(input).is_err(), "{input}");
        }
        let sel = FieldSelector::parse("a!= b").expect("a negation");
        assert_eq!(sel.to_string(), "a!=b");
    }

    fn labels(pairs: &[(&str, &str)]) -> BTreeMap<String, String> {
        pairs
            .iter()
            .map(|(k, v)| (k.to_string(), v.to_string()))
            .collect()
    }

    fn sel(s: &str) -> LabelSelector {
        LabelSelector::parse(s).unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    #[test]
    fn parse_and_canonical_display() {
        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("   ", ""),
            ("app=web", "app=web"),
            ("app==web", "app=web"),
            ("tier!=db", "tier!=db"),
            ("env in (b,a)", "env in (a,b)"),
            ("env notin (a, b)", "env notin (a,b)"),
            ("  env   in(a ,b )  ", "env in (a,b)"),
            ("!legacy", "!legacy"),
            ("legacy", "legacy"),
            ("x=a,y!=b,z", "x=a,y!=b,z"),
            ("z,y!=b,x=a", "x=a,y!=b,z"),
            ("replicas>3", "replicas>3"),
            ("replicas < 10", "replicas<10"),
            ("app=", "app="),
            ("app==", "app="),
            ("app!=,b", "app!=,b"),
            ("example.com/role=Front_End", "example.com/role=Front_End"),
            ("x in (a,)", "x in (,a)"),
            ("x in (,a)", "x in (,a)"),
            ("x in (a,,b)", "x in (,a,b)"),
            ("x in (,)", "x in (,)"),
            ("x in (in,notin)", "x in (in,notin)"),
            ("x in (a,a)", "x in (a)"),
            ("a!=1,a!=2", "a!=1,a!=2"),
        ];
        for (input, want) in cases {
            let s = sel(input);
            assert_eq!(s.to_string(), *want, "{input}");
            assert_eq!(sel(&s.to_string()), s, "round trip of {input}");
        }
    }

    #[test]
    fn parse_errors() {
        let cases: &[(&str, &str)] = &[
            ("env in ()", "values set can't be empty"),
            ("env notin ()", "values set can't be empty"),
            ("x=a,", "expected: identifier after ','"),
            (",x", "expected: identifier"),
            ("!x=a", "expected: ',' or end of string"),
            ("x in a", "expected: '('"),
            ("x in (a", "expected: ',' or ')'"),
            ("x in (a b)", "expected: ',' or ')'"),
            ("x=a=b", "expected: ',' or end of string"),
            ("x y", "expected: '=', '!=', '==', 'in', 'notin'"),
            ("x>a", "the value must be an integer"),
            ("x>", "the value must be an integer"),
            ("x>-5", "invalid label value"),
            ("a/b/c=x", "invalid label key \"a/b/c\""),
            ("-x=a", "invalid label key"),
            ("x=-a", "invalid label value \"-a\""),
            (
                &format!("x={}", "v".repeat(64)),
                "must be no more than 63 characters",
            ),
            ("Example.com/x=a", "prefix part"),
            ("(", "expected: identifier"),
            ("x=(a)", "expected: identifier"),
        ];
        for (input, want) in cases {
            let err = LabelSelector::parse(input).expect_err(input);
            let msg = err.to_string();
            assert!(msg.contains(want), "{input}: {msg}");
            assert!(
                msg.contains(&format!("{input:?}")),
                "error names the input: {msg}"
            );
        }
        let ok63 = format!("x={}", "v".repeat(63));
        assert!(LabelSelector::parse(&ok63).is_ok());
    }

    #[test]
    fn matching_semantics() {
        let web = labels(&[("app", "web"), ("env", "prod"), ("replicas", "5")]);
        let empty = labels(&[]);
        let cases: &[(&str, bool, bool)] = &[
            // selector, matches web, matches empty
            ("", true, true),
            ("app=web", true, false),
            ("app==web", true, false),
            ("app=db", false, false),
            ("app!=db", true, true),
            ("app!=web", false, true),
            ("tier!=db", true, true),
            ("env in (prod,dev)", true, false),
            ("env in (dev)", false, false),
            ("env notin (prod)", false, true),
            ("tier notin (db)", true, true),
            ("app", true, false),
            ("!app", false, true),
            ("!legacy", true, true),
            ("app=web,env=prod", true, false),
            ("app=web,env=dev", false, false),
            ("replicas>3", true, false),
            ("replicas>5", false, false),
            ("replicas<6", true, false),
            ("app>1", false, false),
            ("app=", false, false),
            ("app!=", true, true),
        ];
        for (s, w, e) in cases {
            assert_eq!(sel(s).matches(&web), *w, "{s} on web");
            assert_eq!(sel(s).matches(&empty), *e, "{s} on empty");
        }
        assert!(sel("app=").matches(&labels(&[("app", "")])));
        assert!(sel("x in (,)").matches(&labels(&[("x", "")])));
    }

    #[test]
    fn from_proto_message() {
        let p = k8s::LabelSelector {
            match_labels: [("app".to_string(), "web".to_string())].into(),
            match_expressions: vec![
                k8s::LabelSelectorRequirement {
                    key: "env".into(),
                    operator: "In".into(),
                    values: vec!["prod".into(), "dev".into()],
                },
                k8s::LabelSelectorRequirement {
                    key: "legacy".into(),
                    operator: "DoesNotExist".into(),
                    values: vec![],
                },
                k8s::LabelSelectorRequirement {
                    key: "tier".into(),
                    operator: "NotIn".into(),
                    values: vec!["db".into()],
                },
                k8s::LabelSelectorRequirement {
                    key: "team".into(),
                    operator: "Exists".into(),
                    values: vec![],
                },
            ],
        };
        let s = LabelSelector::from_proto(&p).unwrap();
        assert_eq!(
            s.to_string(),
            "app=web,env in (dev,prod),!legacy,team,tier notin (db)"
        );
        assert_eq!(sel(&s.to_string()), s);
        assert!(s.matches(&labels(&[("app", "web"), ("env", "dev"), ("team", "a")])));
        assert!(!s.matches(&labels(&[("app", "web"), ("env", "dev")])));
        assert!(!s.matches(&labels(&[
            ("app", "web"),
            ("env", "dev"),
            ("team", "a"),
            ("legacy", "1")
        ])));

        // Empty message = everything; absent = nothing.
        let everything = LabelSelector::from_proto(&k8s::LabelSelector::default()).unwrap();
        assert!(everything.is_empty());
        assert!(everything.matches(&labels(&[("a", "b")])));
        assert!(matches_optional(Some(&everything), &labels(&[])));
        assert!(!matches_optional(None, &labels(&[("a", "b")])));

        let bad = |op: &str, values: Vec<String>| k8s::LabelSelector {
            match_labels: BTreeMap::new(),
            match_expressions: vec![k8s::LabelSelectorRequirement {
                key: "k".into(),
                operator: op.into(),
                values,
            }],
        };
        assert_eq!(
            LabelSelector::from_proto(&bad("Equals", vec!["a".into()]))
                .unwrap_err()
                .to_string(),
            "\"Equals\" is not a valid label selector operator"
        );
        assert!(
            LabelSelector::from_proto(&bad("In", vec![]))
                .unwrap_err()
                .to_string()
                .contains("can't be empty")
        );
        assert!(
            LabelSelector::from_proto(&bad("Exists", vec!["a".into()]))
                .unwrap_err()
                .to_string()
                .contains("must be empty")
        );
        let bad_key = k8s::LabelSelector {
            match_labels: [("a/b/c".to_string(), "x".to_string())].into(),
            match_expressions: vec![],
        };
        assert!(matches!(
            LabelSelector::from_proto(&bad_key),
            Err(SelectorError::Requirement { .. })
        ));
    }

    #[test]
    fn from_labels_map() {
        let s = LabelSelector::from_labels(&labels(&[("b", "2"), ("a", "1")])).unwrap();
        assert_eq!(s.to_string(), "a=1,b=2");
        assert!(
            LabelSelector::from_labels(&labels(&[]))
                .unwrap()
                .matches(&labels(&[("x", "y")]))
        );
        assert!(LabelSelector::from_labels(&labels(&[("a", "-bad")])).is_err());
    }

    #[test]
    fn field_selector_parse_match_display() {
        let s =
            FieldSelector::parse("metadata.name=x,spec.nodeName!=,status.phase!=Running").unwrap();
        assert_eq!(
            s.fields(),
            vec!["metadata.name", "spec.nodeName", "status.phase"]
        );
        assert_eq!(
            s.to_string(),
            "metadata.name=x,spec.nodeName!=,status.phase!=Running"
        );
        assert_eq!(FieldSelector::parse(&s.to_string()).unwrap(), s);

        let pod = |name: &str, node: Option<&str>, phase: &str| {
            let mut m = BTreeMap::new();
            m.insert("metadata.name".to_string(), name.to_string());
            if let Some(n) = node {
                m.insert("spec.nodeName".to_string(), n.to_string());
            }
            m.insert("status.phase".to_string(), phase.to_string());
            m
        };
        assert!(s.matches_set(&pod("x", Some("n1"), "Pending")));
        assert!(!s.matches_set(&pod("y", Some("n1"), "Pending")));
        assert!(
            !s.matches_set(&pod("x", None, "Pending")),
            "missing field reads as empty"
        );
        assert!(!s.matches_set(&pod("x", Some("n1"), "Running")));

        let unscheduled = FieldSelector::parse("spec.nodeName=").unwrap();
        assert!(unscheduled.matches(&|_| None));
        assert!(!unscheduled.matches(&|_| Some("n1".into())));

        let cases: &[(&str, &str)] = &[
            ("", ""),
            ("a==b", "a=b"),
            (" a = b , c != d ", "a=b,c!=d"),
            ("b=1,a=2", "a=2,b=1"),
            ("a=x\\,y", "a=x\\,y"),
            ("a=x\\=y\\\\", "a=x\\=y\\\\"),
        ];
        for (input, want) in cases {
            let f = FieldSelector::parse(input).unwrap();
            assert_eq!(f.to_string(), *want, "{input}");
            assert_eq!(FieldSelector::parse(&f.to_string()).unwrap(), f);
        }
        assert_eq!(
            FieldSelector::parse("a=x\\,y").unwrap().exact_value("a"),
            Some("x,y")
        );
        assert_eq!(FieldSelector::parse("a!=x").unwrap().exact_value("a"), None);

        for bad in ["a", "a<b", "=b", "a=b=c", "a=x\\y", "a=x\\", "a!b"] {
            let err = FieldSelector::parse(bad).expect_err(bad);
            assert!(err.to_string().contains(&format!("{bad:?}")), "{err}");
        }
    }

    #[test]
    fn field_selector_supported_fields() {
        let s = FieldSelector::parse("metadata.name=x,spec.foo=y").unwrap();
        let supported = [
            "metadata.name",
            "metadata.namespace",
            "spec.nodeName",
            "status.phase",
        ];
        assert_eq!(
            s.check_supported(&supported).unwrap_err().to_string(),
            "field label not supported: spec.foo"
        );
        assert!(
            FieldSelector::parse("spec.nodeName=n")
                .unwrap()
                .check_supported(&supported)
                .is_ok()
        );
    }
}

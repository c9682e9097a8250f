//! Property-based fuzzing on stable Rust (proptest) of the API machinery every daemon feeds
//! with text it does not control: manifest decoding (YAML and JSON of every kind), label and
//! field selectors, and quantities. Each property runs proptest's case count (256, or
//! `PROPTEST_CASES`); a longer run is
//! `PROPTEST_CASES=100000 cargo test --release -p proto --test fuzz`.
//!
//! The properties: nothing panics on any input; an error is one line; what parses prints
//! back into the same thing (selectors, quantities, objects); matching agrees with a
//! model written from Kubernetes' definitions.

use std::collections::{BTreeMap, BTreeSet};
use std::time::{Duration, Instant};

use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::{Config, FileFailurePersistence};
use proto::manifest::{self, ManifestError};
use proto::quantity::{Format, Quantity};
use proto::resource::ALL_KINDS;
use proto::selector::{FieldSelector, LabelSelector, Requirement};
use serde_json::{Value, json};

/// Proptest's default case count unless `PROPTEST_CASES` says otherwise; failures are kept
/// in `tests/fuzz.proptest-regressions` and replayed first on every run.
fn config() -> Config {
    Config {
        failure_persistence: Some(Box::new(FileFailurePersistence::WithSource(
            "proptest-regressions",
        ))),
        ..Config::default()
    }
}

/// Fewer cases for the properties that do much work per case.
fn config_scaled(divisor: u32) -> Config {
    let c = config();
    Config {
        cases: (c.cases / divisor).max(1),
        ..c
    }
}

// ---------------------------------------------------------------------------------------
// Seeds: a valid document of every kind, and the richer manifests of the test suite.

const MANIFESTS: &[&str] = &[
    include_str!("manifests/configmap.yaml"),
    include_str!("manifests/cronjob.yaml"),
    include_str!("manifests/daemonset.yaml"),
    include_str!("manifests/deployment.yaml"),
    include_str!("manifests/hpa.yaml"),
    include_str!("manifests/ingress.yaml"),
    include_str!("manifests/job.yaml"),
    include_str!("manifests/list.json"),
    include_str!("manifests/multi.yaml"),
    include_str!("manifests/pv-pvc.yaml"),
    include_str!("manifests/secret.yaml"),
    include_str!("manifests/service.yaml"),
    include_str!("manifests/statefulset.yaml"),
    include_str!("../../examples/config.yaml"),
    include_str!("../../examples/sidecar.yaml"),
    include_str!("../../examples/storage.yaml"),
    include_str!("../../examples/web.yaml"),
];

/// One JSON document per object of the seed manifests, plus a bare one of every kind.
fn seed_documents() -> Vec<Value> {
    let mut out = Vec::new();
    for text in MANIFESTS {
        let objects = manifest::load_documents(text).expect("seed manifests load");
        out.extend(objects.iter().map(manifest::to_document));
    }
    for info in ALL_KINDS {
        let mut meta = json!({"name": "fuzz", "labels": {"app": "fuzz"}});
        if info.namespaced {
            meta["namespace"] = json!("default");
        }
        out.push(json!({"apiVersion": info.api_version, "kind": info.kind, "metadata": meta}));
    }
    out
}

fn seeds() -> &'static [Value] {
    static SEEDS: std::sync::OnceLock<Vec<Value>> = std::sync::OnceLock::new();
    SEEDS.get_or_init(seed_documents)
}

// ---------------------------------------------------------------------------------------
// Random JSON values and mutations of documents

/// Scalars chosen to hit the edges: huge and negative numbers, floats, numbers and
/// quantities as strings, unicode, control characters, empty strings.
fn scalar() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        prop_oneof![Just(0i64), Just(-1), Just(1), Just(i32::MAX as i64 + 1)].prop_map(Value::from),
        any::<f64>()
            .prop_filter("finite", |f| f.is_finite())
            .prop_map(Value::from),
        "\\PC{0,12}".prop_map(Value::from),
        "[a-z0-9.-]{0,70}".prop_map(Value::from),
        "[-+]?[0-9]{0,30}(\\.[0-9]{0,12})?(m|k|Mi|Gi|Ei|e[-+]?[0-9]{1,4})?".prop_map(Value::from),
        prop_oneof![
            Just("2026-01-02T03:04:05Z"),
            Just("not-a-time"),
            Just("0755"),
            Just("TCP"),
            Just("Always"),
            Just("\u{0}\u{7f}\u{feff}"),
            Just("ü𝕏"),
        ]
        .prop_map(Value::from),
    ]
}

fn json_value() -> impl Strategy<Value = Value> {
    scalar().prop_recursive(4, 24, 4, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((field_name(), inner), 0..4)
                .prop_map(|kv| Value::Object(kv.into_iter().collect())),
        ]
    })
}

/// Field names the schema knows (so the mutation reaches deep decoding), and some it does not.
fn field_name() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "metadata",
            "name",
            "namespace",
            "labels",
            "annotations",
            "spec",
            "status",
            "containers",
            "image",
            "ports",
            "containerPort",
            "targetPort",
            "port",
            "resources",
            "requests",
            "limits",
            "cpu",
            "memory",
            "replicas",
            "selector",
            "matchLabels",
            "matchExpressions",
            "template",
            "volumes",
            "hostPath",
            "emptyDir",
            "sizeLimit",
            "data",
            "binaryData",
            "stringData",
            "items",
            "kind",
            "apiVersion",
            "env",
            "value",
            "valueFrom",
            "maxSurge",
            "maxUnavailable",
            "strategy",
            "schedule",
            "rules",
            "capacity",
            "storage",
            "type",
            "finalizers",
            "ownerReferences",
            "uid",
            "creationTimestamp",
            "deletionTimestamp",
            "generation",
            "resourceVersion",
            "managedFields",
            "fieldsV1",
            "conditions",
            "minAvailable",
            "hard",
            "defaultMode",
            "httpGet",
            "tcpSocket",
            "livenessProbe",
            "args",
            "command",
            "nodeSelector",
            "tolerations",
            "affinity",
            "metrics",
            "target",
            "averageValue",
            "divisor",
        ])
        .prop_map(str::to_string),
        "\\PC{0,8}",
    ]
}

#[derive(Debug, Clone)]
enum Mutation {
    /// Replace the value at the n-th path of the document.
    Replace(usize, Value),
    /// Insert a key into the n-th object of the document.
    Insert(usize, String, Value),
    /// Remove the value at the n-th path.
    Remove(usize),
    /// Copy the value at one path over another (random nesting of real structures).
    Graft(usize, usize),
}

fn mutation() -> impl Strategy<Value = Mutation> {
    prop_oneof![
        3 => (any::<usize>(), json_value()).prop_map(|(i, v)| Mutation::Replace(i, v)),
        2 => (any::<usize>(), field_name(), json_value())
            .prop_map(|(i, k, v)| Mutation::Insert(i, k, v)),
        1 => any::<usize>().prop_map(Mutation::Remove),
        1 => (any::<usize>(), any::<usize>()).prop_map(|(a, b)| Mutation::Graft(a, b)),
    ]
}

/// Every path of a document as JSON pointer segments, the root first.
fn paths(v: &Value) -> Vec<Vec<String>> {
    fn walk(v: &Value, here: &mut Vec<String>, out: &mut Vec<Vec<String>>) {
        out.push(here.clone());
        match v {
            Value::Object(m) => {
                for (k, c) in m {
                    here.push(k.clone());
                    walk(c, here, out);
                    here.pop();
                }
            }
            Value::Array(items) => {
                for (i, c) in items.iter().enumerate() {
                    here.push(i.to_string());
                    walk(c, here, out);
                    here.pop();
                }
            }
            _ => {}
        }
    }
    let mut out = Vec::new();
    walk(v, &mut Vec::new(), &mut out);
    out
}

fn at_mut<'a>(v: &'a mut Value, path: &[String]) -> Option<&'a mut Value> {
    path.iter().try_fold(v, |v, seg| match v {
        Value::Object(m) => m.get_mut(seg),
        Value::Array(items) => items.get_mut(seg.parse::<usize>().ok()?),
        _ => None,
    })
}

fn apply_mutation(doc: &mut Value, m: &Mutation) {
    let all = paths(doc);
    let pick = |i: usize| all[i % all.len()].clone();
    match m {
        Mutation::Replace(i, v) => {
            if let Some(slot) = at_mut(doc, &pick(*i)) {
                *slot = v.clone();
            }
        }
        Mutation::Insert(i, k, v) => {
            let objects: Vec<_> = all
                .iter()
                .filter(|p| {
                    let mut d = doc.clone();
                    at_mut(&mut d, p).is_some_and(|x| x.is_object())
                })
                .cloned()
                .collect();
            if let Some(p) = objects.get(i % objects.len().max(1))
                && let Some(Value::Object(map)) = at_mut(doc, p)
            {
                map.insert(k.clone(), v.clone());
            }
        }
        Mutation::Remove(i) => {
            let p = pick(*i);
            if let Some((last, parent)) = p.split_last()
                && let Some(slot) = at_mut(doc, parent)
            {
                match slot {
                    Value::Object(map) => {
                        map.remove(last);
                    }
                    Value::Array(items) => {
                        if let Ok(n) = last.parse::<usize>()
                            && n < items.len()
                        {
                            items.remove(n);
                        }
                    }
                    _ => {}
                }
            }
        }
        Mutation::Graft(from, to) => {
            let Some(value) = at_mut(doc, &pick(*from)).map(|v| v.clone()) else {
                return;
            };
            if let Some(slot) = at_mut(doc, &pick(*to)) {
                *slot = value;
            }
        }
    }
}

/// A seed document of some kind with some mutations applied.
fn mutated_document() -> impl Strategy<Value = Value> {
    (any::<usize>(), prop::collection::vec(mutation(), 0..6)).prop_map(|(seed, muts)| {
        let seeds = seeds();
        let mut doc = seeds[seed % seeds.len()].clone();
        for m in &muts {
            apply_mutation(&mut doc, m);
        }
        doc
    })
}

#[derive(Debug, Clone, Copy)]
enum Syntax {
    Json,
    JsonPretty,
    Yaml,
}

fn render(doc: &Value, syntax: Syntax) -> String {
    match syntax {
        Syntax::Json => serde_json::to_string(doc).unwrap_or_default(),
        Syntax::JsonPretty => serde_json::to_string_pretty(doc).unwrap_or_default(),
        Syntax::Yaml => serde_saphyr::to_string(doc).unwrap_or_default(),
    }
}

fn syntax() -> impl Strategy<Value = Syntax> {
    prop_oneof![
        Just(Syntax::Json),
        Just(Syntax::JsonPretty),
        Just(Syntax::Yaml)
    ]
}

/// Text-level damage a serializer would never produce: a byte range cut out, a snippet
/// spliced in (duplicate keys, anchors, tags, document markers, odd numbers).
#[derive(Debug, Clone)]
enum TextEdit {
    Cut(usize, usize),
    Splice(usize, String),
}

fn snippet() -> impl Strategy<Value = String> {
    prop_oneof![
        prop::sample::select(vec![
            "\nmetadata: {name: dup}\n",
            "\nkind: Pod\nkind: Service\n",
            "\n---\n",
            "\n...\n",
            "&a ",
            "*a",
            "<<: *a\n",
            "!!binary ",
            "!!str ",
            "!custom ",
            "? [a, b]\n: c\n",
            "1e999999",
            "-0x1F",
            "0o777",
            ".inf",
            "~",
            "\t",
            "\"\\uD800\"",
            "{\"a\": 1, \"a\": 2}",
            "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[",
            "\u{feff}",
            "\r\n",
            "#",
            "'",
            "|\n  x\n",
        ])
        .prop_map(str::to_string),
        "\\PC{0,10}",
    ]
}

fn text_edit() -> impl Strategy<Value = TextEdit> {
    prop_oneof![
        (any::<usize>(), 0usize..16).prop_map(|(a, n)| TextEdit::Cut(a, n)),
        (any::<usize>(), snippet()).prop_map(|(a, s)| TextEdit::Splice(a, s)),
    ]
}

fn apply_text_edit(text: &mut String, e: &TextEdit) {
    let boundary = |i: usize| {
        let mut i = i % (text.len() + 1);
        while !text.is_char_boundary(i) {
            i -= 1;
        }
        i
    };
    match e {
        TextEdit::Cut(at, n) => {
            let start = boundary(*at);
            let mut end = (start + n).min(text.len());
            while !text.is_char_boundary(end) {
                end += 1;
            }
            text.replace_range(start..end, "");
        }
        TextEdit::Splice(at, s) => {
            let at = boundary(*at);
            text.insert_str(at, s);
        }
    }
}

/// A manifest's error is one line (what `ctl apply` prints after the file name).
fn assert_one_line(e: &ManifestError) -> Result<(), TestCaseError> {
    let msg = e.to_string();
    prop_assert!(!msg.contains('\n'), "error spans lines: {msg:?}");
    prop_assert!(!msg.is_empty());
    Ok(())
}

/// Everything the daemons do with a decoded object must hold up too: defaulting,
/// validation, printing; and the printed object reads back as the same object.
fn exercise_objects(objects: &[proto::Object]) -> Result<(), TestCaseError> {
    for o in objects {
        let json = manifest::to_json_pretty(o);
        let yaml = manifest::to_yaml(o);
        for (what, text) in [("json", &json), ("yaml", &yaml)] {
            let back = manifest::load_documents(text).map_err(|e| {
                TestCaseError::fail(format!("{what} of a decoded object: {e}\n{text}"))
            })?;
            prop_assert_eq!(back.len(), 1);
            prop_assert_eq!(&back[0], o, "{} round trip of\n{}", what, text);
        }
        let mut defaulted = o.clone();
        proto::defaults::apply_defaults(&mut defaulted);
        let _ = proto::kind_validation::validate(&defaulted);
        let _ = proto::kind_validation::validate_update(&defaulted, o);
    }
    Ok(())
}

proptest! {
    #![proptest_config(config())]

    /// Arbitrary text: either objects or a one-line error.
    #[test]
    fn manifest_arbitrary_text(text in "\\PC{0,200}") {
        match manifest::load_documents(&text) {
            Ok(objects) => exercise_objects(&objects)?,
            Err(e) => assert_one_line(&e)?,
        }
    }

    /// Arbitrary bytes read as text the way a file is (lossily).
    #[test]
    fn manifest_arbitrary_bytes(bytes in prop::collection::vec(any::<u8>(), 0..300)) {
        let text = String::from_utf8_lossy(&bytes);
        if let Err(e) = manifest::load_documents(&text) {
            assert_one_line(&e)?;
        }
        if let Err(e) = manifest::load_each_document(&text) {
            assert_one_line(&e)?;
        }
    }

    /// Text made of YAML and JSON punctuation, where the parsers' corner cases live.
    #[test]
    fn manifest_yaml_alphabet(text in "[-:{}\\[\\],&*!|>'\"#%@`?~ \n\ta-c0-9.]{0,120}") {
        match manifest::load_documents(&text) {
            Ok(objects) => exercise_objects(&objects)?,
            Err(e) => assert_one_line(&e)?,
        }
    }
}

proptest! {
    #![proptest_config(config_scaled(2))]

    /// Valid manifests of every kind with random field values, wrong types, random nesting
    /// and unicode, written as JSON or YAML.
    #[test]
    fn manifest_mutated_documents(doc in mutated_document(), syntax in syntax()) {
        let text = render(&doc, syntax);
        match manifest::load_documents(&text) {
            Ok(objects) => exercise_objects(&objects)?,
            Err(e) => assert_one_line(&e)?,
        }
        let mut one = Vec::new();
        match manifest::load_value(doc, &mut one) {
            Ok(()) => exercise_objects(&one)?,
            Err(e) => assert_one_line(&e)?,
        }
    }

    /// The same documents with the text itself damaged: cuts, duplicate keys, anchors,
    /// aliases, tags, document markers, absurd numbers.
    #[test]
    fn manifest_damaged_text(
        doc in mutated_document(),
        syntax in syntax(),
        edits in prop::collection::vec(text_edit(), 1..5),
    ) {
        let mut text = render(&doc, syntax);
        for e in &edits {
            apply_text_edit(&mut text, e);
        }
        match manifest::load_documents(&text) {
            Ok(objects) => exercise_objects(&objects)?,
            Err(e) => assert_one_line(&e)?,
        }
        let _ = manifest::yaml_value(&text);
    }

    /// Several documents in one file, some JSON, some YAML, some `List`s.
    #[test]
    fn manifest_multi_document(docs in prop::collection::vec((mutated_document(), any::<bool>()), 1..4)) {
        let text: Vec<String> = docs
            .iter()
            .map(|(d, list)| {
                let d = if *list { json!({"apiVersion": "v1", "kind": "List", "items": [d]}) } else { d.clone() };
                render(&d, Syntax::Yaml)
            })
            .collect();
        let text = text.join("---\n");
        match manifest::load_documents(&text) {
            Ok(objects) => exercise_objects(&objects)?,
            Err(e) => assert_one_line(&e)?,
        }
    }
}

/// Billion laughs: aliases of aliases, each level multiplying the last. Parsing must be
/// refused or stay small and quick, never take the process's memory.
fn alias_bomb(levels: usize, width: usize, leaf_bytes: usize) -> String {
    let mut text = format!("a0: &a0 \"{}\"\n", "x".repeat(leaf_bytes));
    for l in 1..=levels {
        let refs = vec![format!("*a{}", l - 1); width].join(", ");
        text.push_str(&format!("a{l}: &a{l} [{refs}]\n"));
    }
    text
}

proptest! {
    #![proptest_config(config_scaled(16))]

    #[test]
    fn manifest_alias_bombs_are_bounded(
        levels in 1usize..12,
        width in 2usize..12,
        leaf_bytes in prop_oneof![Just(1usize), 1usize..64, Just(4096), Just(65536)],
        wrap in any::<bool>(),
    ) {
        let mut text = alias_bomb(levels, width, leaf_bytes);
        if wrap {
            text = format!("apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: x}}\ndata:\n{}",
                text.lines().map(|l| format!("  {l}\n")).collect::<String>());
        }
        let started = Instant::now();
        let expanded_bytes = (width as f64).powi(levels as i32) * leaf_bytes as f64;
        match manifest::load_documents(&text) {
            Ok(_) => prop_assert!(
                expanded_bytes < 64.0 * 1024.0 * 1024.0,
                "an alias bomb expanding to {expanded_bytes} bytes was accepted"
            ),
            Err(e) => assert_one_line(&e)?,
        }
        match manifest::yaml_value(&text) {
            Ok(_) => prop_assert!(expanded_bytes < 64.0 * 1024.0 * 1024.0),
            Err(e) => prop_assert!(!e.to_string().is_empty()),
        }
        // Bounded, not quick: the worst refused bombs take seconds in a debug build on a loaded machine.
        prop_assert!(started.elapsed() < Duration::from_secs(120), "took {:?}", started.elapsed());
    }
}

// ---------------------------------------------------------------------------------------
// Label selectors

fn label_key() -> impl Strategy<Value = String> {
    prop_oneof![
        "[a-z]([a-z0-9-]{0,6}[a-z0-9])?",
        "[a-z]{1,5}\\.(io|com)/[a-z]([a-z0-9._-]{0,5}[a-z0-9])?",
        Just("app".to_string()),
        Just("tier".to_string()),
    ]
}

fn label_value() -> impl Strategy<Value = String> {
    prop_oneof![
        Just(String::new()),
        "[a-z0-9]([a-z0-9._-]{0,6}[a-z0-9])?",
        // Label values start with an alphanumeric: no negative numbers.
        (0i64..20).prop_map(|n| n.to_string()),
        Just("web".to_string()),
    ]
}

fn labels() -> impl Strategy<Value = BTreeMap<String, String>> {
    prop::collection::btree_map(label_key(), label_value(), 0..5)
}

#[derive(Debug, Clone)]
enum Req {
    Eq(String, String, bool),
    Ne(String, String),
    In(String, BTreeSet<String>),
    NotIn(String, BTreeSet<String>),
    Exists(String),
    NotExists(String),
    Gt(String, i64),
    Lt(String, i64),
}

fn req() -> impl Strategy<Value = Req> {
    let set = || prop::collection::btree_set(label_value(), 1..4);
    prop_oneof![
        (label_key(), label_value(), any::<bool>()).prop_map(|(k, v, d)| Req::Eq(k, v, d)),
        (label_key(), label_value()).prop_map(|(k, v)| Req::Ne(k, v)),
        (label_key(), set()).prop_map(|(k, s)| Req::In(k, s)),
        (label_key(), set()).prop_map(|(k, s)| Req::NotIn(k, s)),
        label_key().prop_map(Req::Exists),
        label_key().prop_map(Req::NotExists),
        (label_key(), 0i64..20).prop_map(|(k, n)| Req::Gt(k, n)),
        (label_key(), 0i64..20).prop_map(|(k, n)| Req::Lt(k, n)),
    ]
}

/// The requirement as a user writes it, with random spacing.
fn req_text(r: &Req, sp: &str) -> String {
    let set = |s: &BTreeSet<String>| {
        let v: Vec<&str> = s.iter().map(String::as_str).collect();
        if v == [""] {
            ",".to_string()
        } else {
            v.join(&format!("{sp},{sp}"))
        }
    };
    match r {
        Req::Eq(k, v, false) => format!("{k}{sp}={sp}{v}"),
        Req::Eq(k, v, true) => format!("{k}{sp}=={sp}{v}"),
        Req::Ne(k, v) => format!("{k}{sp}!={sp}{v}"),
        Req::In(k, s) => format!("{k} in{sp}({sp}{}{sp})", set(s)),
        Req::NotIn(k, s) => format!("{k} notin{sp}({sp}{}{sp})", set(s)),
        Req::Exists(k) => k.clone(),
        Req::NotExists(k) => format!("!{sp}{k}"),
        Req::Gt(k, n) => format!("{k}{sp}>{sp}{n}"),
        Req::Lt(k, n) => format!("{k}{sp}<{sp}{n}"),
    }
}

/// Kubernetes' definition of each operator (apimachinery labels.Requirement.Matches).
fn model_matches(r: &Req, labels: &BTreeMap<String, String>) -> bool {
    let have = |k: &String| labels.get(k);
    match r {
        Req::Eq(k, v, _) => have(k) == Some(v),
        Req::Ne(k, v) => have(k) != Some(v),
        Req::In(k, s) => have(k).is_some_and(|x| s.contains(x)),
        Req::NotIn(k, s) => !have(k).is_some_and(|x| s.contains(x)),
        Req::Exists(k) => have(k).is_some(),
        Req::NotExists(k) => have(k).is_none(),
        Req::Gt(k, n) => have(k)
            .and_then(|x| x.parse::<i64>().ok())
            .is_some_and(|x| x > *n),
        Req::Lt(k, n) => have(k)
            .and_then(|x| x.parse::<i64>().ok())
            .is_some_and(|x| x < *n),
    }
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn label_selector_arbitrary_text(text in "\\PC{0,80}") {
        check_label_selector_text(&text)?;
    }

    #[test]
    fn label_selector_selector_alphabet(text in "[a-z0-9./_ ,=!<>()-]{0,60}|(in|notin|[a-z]|[ (),!=<>])*") {
        check_label_selector_text(&text)?;
    }

    /// Well-formed selectors parse, print canonically, and match as Kubernetes defines.
    #[test]
    fn label_selector_matches_model(
        reqs in prop::collection::vec(req(), 0..5),
        sp in "[ \t]{0,2}",
        sets in prop::collection::vec(labels(), 1..6),
    ) {
        let text: Vec<String> = reqs.iter().map(|r| req_text(r, &sp)).collect();
        let text = text.join(&format!("{sp},{sp}"));
        let sel = LabelSelector::parse(&text)
            .map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        let printed = sel.to_string();
        prop_assert_eq!(LabelSelector::parse(&printed), Ok(sel.clone()), "{}", printed);
        for labels in &sets {
            let want = reqs.iter().all(|r| model_matches(r, labels));
            prop_assert_eq!(sel.matches(labels), want, "{} on {:?}", text, labels);
        }
    }

    /// A spec's selector message (matchLabels + matchExpressions) with arbitrary strings.
    #[test]
    fn label_selector_from_proto(
        match_labels in prop::collection::btree_map("\\PC{0,10}|[a-z]{1,4}", "\\PC{0,10}|[a-z]{0,4}", 0..3),
        exprs in prop::collection::vec(
            ("\\PC{0,10}|[a-z]{1,4}", "In|NotIn|Exists|DoesNotExist|Gt|\\PC{0,6}",
             prop::collection::vec("\\PC{0,6}|[a-z]{0,3}", 0..3)),
            0..3,
        ),
        labels in labels(),
    ) {
        let msg = proto::k8s::LabelSelector {
            match_labels: match_labels.into_iter().collect(),
            match_expressions: exprs
                .into_iter()
                .map(|(key, operator, values)| proto::k8s::LabelSelectorRequirement { key, operator, values })
                .collect(),
        };
        match LabelSelector::from_proto(&msg) {
            Ok(sel) => {
                let _ = sel.matches(&labels);
                prop_assert_eq!(LabelSelector::parse(&sel.to_string()), Ok(sel.clone()));
            }
            Err(e) => prop_assert!(!e.to_string().contains('\n')),
        }
    }
}

fn check_label_selector_text(text: &str) -> Result<(), TestCaseError> {
    match LabelSelector::parse(text) {
        Ok(sel) => {
            let printed = sel.to_string();
            let again = LabelSelector::parse(&printed).map_err(|e| {
                TestCaseError::fail(format!("{text:?} printed as {printed:?}: {e}"))
            })?;
            prop_assert_eq!(&again, &sel, "{:?} printed as {:?}", text, printed);
            for r in sel.requirements() {
                prop_assert!(
                    Requirement::new(r.key(), r.operator(), r.values().iter().cloned()).is_ok()
                );
            }
            let _ = sel.matches(&BTreeMap::new());
        }
        Err(e) => prop_assert!(!e.to_string().contains('\n'), "{e}"),
    }
    Ok(())
}

// ---------------------------------------------------------------------------------------
// Field selectors

fn field_term() -> impl Strategy<Value = (String, bool, String)> {
    (
        prop::sample::select(vec![
            "metadata.name",
            "metadata.namespace",
            "spec.nodeName",
            "status.phase",
            "type",
        ]),
        any::<bool>(),
        "[a-z0-9=,\\\\ .-]{0,10}",
    )
        .prop_map(|(f, n, v)| (f.to_string(), n, v.trim().to_string()))
}

fn escape(v: &str) -> String {
    v.chars()
        .flat_map(|c| {
            if matches!(c, '\\' | ',' | '=') {
                vec!['\\', c]
            } else {
                vec![c]
            }
        })
        .collect()
}

proptest! {
    #![proptest_config(config())]

    #[test]
    fn field_selector_arbitrary_text(text in "\\PC{0,80}|[a-z.=!,\\\\ ]{0,40}") {
        match FieldSelector::parse(&text) {
            Ok(sel) => {
                let printed = sel.to_string();
                prop_assert_eq!(FieldSelector::parse(&printed), Ok(sel.clone()), "{:?} printed as {:?}", text, printed);
                let _ = sel.matches_set(&BTreeMap::new());
                let _ = sel.check_supported(&["metadata.name"]);
            }
            Err(e) => prop_assert!(!e.to_string().contains('\n'), "{e}"),
        }
    }

    /// Well-formed selectors with escaped values match as Kubernetes' fields.Selector:
    /// a missing field is the empty string.
    #[test]
    fn field_selector_matches_model(
        terms in prop::collection::vec(field_term(), 0..4),
        fields in prop::collection::btree_map(
            prop::sample::select(vec!["metadata.name", "spec.nodeName", "status.phase", "type"]).prop_map(str::to_string),
            "[a-z0-9=,\\\\ .-]{0,10}".prop_map(|v| v.trim().to_string()),
            0..4,
        ),
    ) {
        let text: Vec<String> = terms
            .iter()
            .map(|(f, neg, v)| format!("{f}{}{}", if *neg { "!=" } else { "=" }, escape(v)))
            .collect();
        let text = text.join(",");
        let sel = FieldSelector::parse(&text).map_err(|e| TestCaseError::fail(format!("{text:?}: {e}")))?;
        let want = terms.iter().all(|(f, neg, v)| {
            (fields.get(f).map(String::as_str).unwrap_or("") == v) != *neg
        });
        prop_assert_eq!(sel.matches_set(&fields), want, "{} on {:?}", text, fields);
        prop_assert_eq!(FieldSelector::parse(&sel.to_string()), Ok(sel));
    }
}

// ---------------------------------------------------------------------------------------
// Quantities

fn quantity_text() -> impl Strategy<Value = String> {
    prop_oneof![
        "[-+]?[0-9]{0,40}(\\.[0-9]{0,40})?(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei|[eE][-+]?[0-9]{1,12})?",
        "[-+]?[0-9]{1,3}(\\.[0-9]{1,3})?(Ei|E|e1[0-9]|e-1[0-9]|e2[0-9])",
        "\\PC{0,20}",
        "[-+.0-9eEinumkKMGTP]{0,16}",
    ]
}

fn format() -> impl Strategy<Value = Format> {
    prop_oneof![
        Just(Format::DecimalSI),
        Just(Format::BinarySI),
        Just(Format::DecimalExponent)
    ]
}

fn nano() -> impl Strategy<Value = i128> {
    prop_oneof![
        any::<i128>(),
        any::<i64>().prop_map(i128::from),
        (any::<i32>(), 0u32..38).prop_map(|(m, e)| i128::from(m).saturating_mul(10i128.pow(e))),
        (any::<i32>(), 0u32..13).prop_map(|(m, p)| {
            i128::from(m)
                .saturating_mul(1024i128.pow(p))
                .saturating_mul(1_000_000_000)
        }),
        Just(i128::MAX),
        Just(i128::MIN + 1),
    ]
}

proptest! {
    #![proptest_config(config())]

    /// Any text: an error, or a quantity that prints and parses back to itself, and whose
    /// accessors never panic.
    #[test]
    fn quantity_parse_format_round_trip(text in quantity_text()) {
        match text.parse::<Quantity>() {
            Ok(q) => {
                let printed = q.to_string();
                let back: Quantity = printed
                    .parse()
                    .map_err(|e| TestCaseError::fail(format!("{text:?} printed as {printed:?}: {e}")))?;
                prop_assert_eq!(back, q, "{:?} printed as {:?}", text, printed);
                let _ = (q.value(), q.milli_value(), q.try_value(), q.try_milli_value(), q.as_f64());
                let _ = (q.checked_add(&q), q.checked_sub(&back), q.checked_mul(-3), q + q, q - back, q * i64::MAX);
                let _ = serde_json::to_string(&q);
            }
            Err(e) => prop_assert!(!e.to_string().contains('\n')),
        }
        let _ = proto::quantity::parse_cpu_millis(&text);
        let _ = proto::quantity::parse_bytes(&text);
    }

    /// Every representable quantity prints as text that parses back to it.
    #[test]
    fn quantity_format_parse_round_trip(nano in nano(), format in format()) {
        let q = Quantity::from_nano(nano, format);
        let printed = q.to_string();
        let back: Quantity = printed
            .parse()
            .map_err(|e| TestCaseError::fail(format!("{nano} nano ({format:?}) printed as {printed:?}: {e}")))?;
        prop_assert_eq!(back, q, "printed as {}", printed);
        // Printing is canonical once the notation settled (a binary amount not divisible by
        // 1024 prints as a plain number, which reads back as decimal, as in Kubernetes).
        let settled = back.to_string();
        let again: Quantity = settled.parse().map_err(|e| TestCaseError::fail(format!("{settled:?}: {e}")))?;
        prop_assert_eq!(again.to_string(), settled);
    }

    /// Arithmetic saturates or reports overflow; it never panics.
    #[test]
    fn quantity_arithmetic_never_panics(a in nano(), b in nano(), k in any::<i64>(), f in format()) {
        let (x, y) = (Quantity::from_nano(a, f), Quantity::from_nano(b, Format::BinarySI));
        let _ = (x + y, x - y, x * k, [x, y].iter().sum::<Quantity>());
        let _ = (x.checked_add(&y), x.checked_sub(&y), x.checked_mul(k));
        let _ = (x.value(), (x * k).milli_value());
        // Whatever arithmetic gives still prints as text that parses back to it.
        for r in [x + y, x - y, x * k, y - x] {
            prop_assert_eq!(r.to_string().parse::<Quantity>(), Ok(r), "{}", r);
        }
    }
}

/// Objects the mutations reach decode with any data values: a sanity check that the
/// mutation machinery really produces accepted documents, not only errors.
#[test]
fn mutated_documents_are_sometimes_accepted() {
    let mut runner = proptest::test_runner::TestRunner::deterministic();
    let strategy = mutated_document();
    let (mut ok, mut err) = (0, 0);
    for _ in 0..200 {
        let doc = strategy
            .new_tree(&mut runner)
            .expect("a document")
            .current();
        let mut out = Vec::new();
        match manifest::load_value(doc, &mut out) {
            Ok(()) => ok += 1,
            Err(_) => err += 1,
        }
    }
    assert!(
        ok > 10 && err > 10,
        "accepted {ok}, refused {err}: the mutations miss one side"
    );
}

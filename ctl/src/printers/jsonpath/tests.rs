//! client-go's jsonpath_test.go, case by case. Its Go structs are JSON objects here, whose
//! keys print (and recurse) in sorted order, as Go prints decoded JSON maps: the expected
//! texts that listed struct fields in declaration order list them sorted.

use super::*;
use serde_json::json;

/// (name, template, input, expected output; None: an error).
type Case<'a> = (&'a str, &'a str, Value, Option<&'a str>);

fn run(cases: Vec<Case>, allow_missing_keys: bool) {
    for (name, template, input, expected) in cases {
        let got = JsonPath::parse(template)
            .map(|j| j.allow_missing_keys(allow_missing_keys))
            .and_then(|j| j.execute(&input));
        match (expected, got) {
            (Some(want), Ok(out)) => assert_eq!(out, want, "{name}: {template}"),
            (None, Err(_)) => {}
            (Some(_), Err(e)) => panic!("{name}: {template}: unexpected error {e}"),
            (None, Ok(out)) => panic!("{name}: {template}: expected an error, got {out:?}"),
        }
    }
}

fn error_of(template: &str, input: &Value) -> String {
    match JsonPath::parse(template).and_then(|j| j.execute(input)) {
        Ok(out) => format!("no error: {out:?}"),
        Err(e) => e,
    }
}

fn types() -> Value {
    json!({
        "bools": [true, false, true, false],
        "integers": [1, 2, 3, 4],
        "floats": [1.0, 2.2, 3.3, 4.0],
        "strings": ["one", "two", "three", "four"],
        "interfaces": [true, "one", 1, 1.1],
        "maps": [
            {"name": "one", "value": 1}, {"name": "two", "value": 2.02},
            {"name": "three", "value": 3.03}, {"name": "four", "value": 4.04}],
    })
}

#[test]
fn types_input() {
    let t = types;
    run(
        vec![
            (
                "boolSlice",
                "{ .bools }",
                t(),
                Some("[true,false,true,false]"),
            ),
            ("boolSliceIndex", "{ .bools[0] }", t(), Some("true")),
            ("boolSliceIndex", "{ .bools[-1] }", t(), Some("false")),
            ("boolSubSlice", "{ .bools[0:2] }", t(), Some("true false")),
            (
                "boolSubSliceFirst2",
                "{ .bools[:2] }",
                t(),
                Some("true false"),
            ),
            (
                "boolSubSliceStep2",
                "{ .bools[:4:2] }",
                t(),
                Some("true true"),
            ),
            ("integerSlice", "{ .integers }", t(), Some("[1,2,3,4]")),
            ("integerSliceIndex", "{ .integers[0] }", t(), Some("1")),
            (
                "integerSliceIndexReverse",
                "{ .integers[-2] }",
                t(),
                Some("3"),
            ),
            (
                "integerSubSliceFirst2",
                "{ .integers[0:2] }",
                t(),
                Some("1 2"),
            ),
            (
                "integerSubSliceFirst2Alt",
                "{ .integers[:2] }",
                t(),
                Some("1 2"),
            ),
            (
                "integerSubSliceStep2",
                "{ .integers[:4:2] }",
                t(),
                Some("1 3"),
            ),
            ("floatSlice", "{ .floats }", t(), Some("[1,2.2,3.3,4]")),
            ("floatSliceIndex", "{ .floats[0] }", t(), Some("1")),
            (
                "floatSliceIndexReverse",
                "{ .floats[-2] }",
                t(),
                Some("3.3"),
            ),
            (
                "floatSubSliceFirst2",
                "{ .floats[0:2] }",
                t(),
                Some("1 2.2"),
            ),
            (
                "floatSubSliceFirst2Alt",
                "{ .floats[:2] }",
                t(),
                Some("1 2.2"),
            ),
            (
                "floatSubSliceStep2",
                "{ .floats[:4:2] }",
                t(),
                Some("1 3.3"),
            ),
            (
                "stringSlice",
                "{ .strings }",
                t(),
                Some(r#"["one","two","three","four"]"#),
            ),
            ("stringSliceIndex", "{ .strings[0] }", t(), Some("one")),
            (
                "stringSliceIndexReverse",
                "{ .strings[-2] }",
                t(),
                Some("three"),
            ),
            (
                "stringSubSliceFirst2",
                "{ .strings[0:2] }",
                t(),
                Some("one two"),
            ),
            (
                "stringSubSliceFirst2Alt",
                "{ .strings[:2] }",
                t(),
                Some("one two"),
            ),
            (
                "stringSubSliceStep2",
                "{ .strings[:4:2] }",
                t(),
                Some("one three"),
            ),
            (
                "interfaceSlice",
                "{ .interfaces }",
                t(),
                Some(r#"[true,"one",1,1.1]"#),
            ),
            (
                "interfaceSliceIndex",
                "{ .interfaces[0] }",
                t(),
                Some("true"),
            ),
            (
                "interfaceSliceIndexReverse",
                "{ .interfaces[-2] }",
                t(),
                Some("1"),
            ),
            (
                "interfaceSubSliceFirst2",
                "{ .interfaces[0:2] }",
                t(),
                Some("true one"),
            ),
            (
                "interfaceSubSliceFirst2Alt",
                "{ .interfaces[:2] }",
                t(),
                Some("true one"),
            ),
            (
                "interfaceSubSliceStep2",
                "{ .interfaces[:4:2] }",
                t(),
                Some("true 1"),
            ),
            (
                "mapSlice",
                "{ .maps }",
                t(),
                Some(
                    r#"[{"name":"one","value":1},{"name":"two","value":2.02},{"name":"three","value":3.03},{"name":"four","value":4.04}]"#,
                ),
            ),
            (
                "mapSliceIndex",
                "{ .maps[0] }",
                t(),
                Some(r#"{"name":"one","value":1}"#),
            ),
            (
                "mapSliceIndexReverse",
                "{ .maps[-2] }",
                t(),
                Some(r#"{"name":"three","value":3.03}"#),
            ),
            (
                "mapSubSliceFirst2",
                "{ .maps[0:2] }",
                t(),
                Some(r#"{"name":"one","value":1} {"name":"two","value":2.02}"#),
            ),
            (
                "mapSubSliceFirst2Alt",
                "{ .maps[:2] }",
                t(),
                Some(r#"{"name":"one","value":1} {"name":"two","value":2.02}"#),
            ),
            (
                "mapSubSliceStepOdd",
                "{ .maps[::2] }",
                t(),
                Some(r#"{"name":"one","value":1} {"name":"three","value":3.03}"#),
            ),
            (
                "mapSubSliceStepEven",
                "{ .maps[1::2] }",
                t(),
                Some(r#"{"name":"two","value":2.02} {"name":"four","value":4.04}"#),
            ),
        ],
        false,
    );
}

fn store() -> Value {
    json!({
        "Name": "jsonpath",
        "Book": [
            {"Category": "reference", "Author": "Nigel Rees", "Title": "Sayings of the Centurey", "Price": 8.95},
            {"Category": "fiction", "Author": "Evelyn Waugh", "Title": "Sword of Honour", "Price": 12.99},
            {"Category": "fiction", "Author": "Herman Melville", "Title": "Moby Dick", "Price": 8.99}],
        "Bicycle": [
            {"Color": "red", "Price": 19.95, "IsNew": true},
            {"Color": "green", "Price": 20.01, "IsNew": false}],
        "Labels": {"engieer": 10, "web/html": 15, "k8s-app": 20},
        "Employees": {"jason": "manager", "dan": "clerk"},
    })
}

#[test]
fn struct_input() {
    let s = store;
    let moby =
        r#"{"Author":"Herman Melville","Category":"fiction","Price":8.99,"Title":"Moby Dick"}"#;
    run(
        vec![
            (
                "plain",
                "hello jsonpath",
                Value::Null,
                Some("hello jsonpath"),
            ),
            ("recursive", "{..}", json!([1, 2, 3]), Some("[1,2,3]")),
            ("filter", "{[?(@<5)]}", json!([2, 6, 3, 7]), Some("2 3")),
            ("quote", r#"{"{"}"#, Value::Null, Some("{")),
            ("union", "{[1,3,4]}", json!([0, 1, 2, 3, 4]), Some("1 3 4")),
            (
                "array",
                "{[0:2]}",
                json!(["Monday", "Tudesday"]),
                Some("Monday Tudesday"),
            ),
            ("variable", "hello {.Name}", s(), Some("hello jsonpath")),
            ("dict/", "{$.Labels.web/html}", s(), Some("15")),
            ("dict/", "{$.Employees.jason}", s(), Some("manager")),
            ("dict/", "{$.Employees.dan}", s(), Some("clerk")),
            ("dict-", "{.Labels.k8s-app}", s(), Some("20")),
            ("nest", "{.Bicycle[*].Color}", s(), Some("red green")),
            (
                "allarray",
                "{.Book[*].Author}",
                s(),
                Some("Nigel Rees Evelyn Waugh Herman Melville"),
            ),
            // Fields in key order (Color, IsNew, Price), as Go prints a decoded map.
            (
                "allfields",
                r#"{range .Bicycle[*]}{ "{" }{ @.* }{ "} " }{end}"#,
                s(),
                Some("{red true 19.95} {green false 20.01} "),
            ),
            // Bicycle before Book: map keys in order.
            (
                "recurfields",
                "{..Price}",
                s(),
                Some("19.95 20.01 8.95 12.99 8.99"),
            ),
            (
                "recurdotfields",
                "{...Price}",
                s(),
                Some("19.95 20.01 8.95 12.99 8.99"),
            ),
            (
                "superrecurfields",
                "{............................................................Price}",
                s(),
                None,
            ),
            (
                "allstructsSlice",
                "{.Bicycle}",
                s(),
                Some(
                    r#"[{"Color":"red","IsNew":true,"Price":19.95},{"Color":"green","IsNew":false,"Price":20.01}]"#,
                ),
            ),
            (
                "allstructs",
                r#"{range .Bicycle[*]}{ @ }{ " " }{end}"#,
                s(),
                Some(
                    r#"{"Color":"red","IsNew":true,"Price":19.95} {"Color":"green","IsNew":false,"Price":20.01} "#,
                ),
            ),
            ("lastarray", "{.Book[-1:]}", s(), Some(moby)),
            ("recurarray", "{..Book[2]}", s(), Some(moby)),
            (
                "bool",
                "{.Bicycle[?(@.IsNew==true)]}",
                s(),
                Some(r#"{"Color":"red","IsNew":true,"Price":19.95}"#),
            ),
        ],
        false,
    );
    run(
        vec![
            ("nonexistent field", "{.hello}", s(), Some("")),
            (
                "nonexistent field 2",
                "before-{.hello}after",
                s(),
                Some("before-after"),
            ),
        ],
        true,
    );
    let st = s();
    assert_eq!(error_of("{hello}", &st), "unrecognized identifier hello");
    assert_eq!(error_of("{.hello}", &st), "hello is not found");
    assert_eq!(
        error_of("{.Labels[0]}", &st),
        "map[string]interface {} is not array or slice"
    );
    assert_eq!(
        error_of("{.Book[?(@.Price<>10)]}", &st),
        "unrecognized filter operator <>"
    );
    assert_eq!(
        error_of("{range .Labels.*}{@}{end}{end}", &st),
        "not in range, nothing to end"
    );
}

#[test]
fn json_input() {
    let points = || {
        json!([
            {"id": "i1", "x": 4, "y": -5},
            {"id": "i2", "x": -2, "y": -5, "z": 1},
            {"id": "i3", "x": 8, "y": 3},
            {"id": "i4", "x": -6, "y": -1},
            {"id": "i5", "x": 0, "y": 2, "z": 1},
            {"id": "i6", "x": 1, "y": 4},
            {"id": "i7", "x": null, "y": 4}])
    };
    run(
        vec![
            ("exists filter", "{[?(@.z)].id}", points(), Some("i2 i5")),
            ("bracket key", "{[0]['id']}", points(), Some("i1")),
            ("nil value", "{[-1]['x']}", points(), Some("null")),
        ],
        false,
    );
}

fn nodes() -> Value {
    json!({
        "kind": "List",
        "items": [
            {"kind": "None",
             "metadata": {"name": "127.0.0.1", "labels": {"kubernetes.io/hostname": "127.0.0.1"}},
             "status": {"capacity": {"cpu": "4"}, "ready": true,
                        "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.1"}]}},
            {"kind": "None",
             "metadata": {"name": "127.0.0.2", "labels": {"kubernetes.io/hostname": "127.0.0.2"}},
             "status": {"capacity": {"cpu": "8"}, "ready": false,
                        "addresses": [{"type": "LegacyHostIP", "address": "127.0.0.2"},
                                      {"type": "another", "address": "127.0.0.3"}]}}],
        "users": [
            {"name": "myself", "user": {}},
            {"name": "e2e", "user": {"username": "admin", "password": "secret"}}],
    })
}

#[test]
fn kubernetes() {
    let n = nodes;
    run(
        vec![
            (
                "range item",
                "{range .items[*]}{.metadata.name}, {end}{.kind}",
                n(),
                Some("127.0.0.1, 127.0.0.2, List"),
            ),
            (
                "range item with quote",
                r#"{range .items[*]}{.metadata.name}{"\t"}{end}"#,
                n(),
                Some("127.0.0.1\t127.0.0.2\t"),
            ),
            (
                "range addresss",
                "{.items[*].status.addresses[*].address}",
                n(),
                Some("127.0.0.1 127.0.0.2 127.0.0.3"),
            ),
            (
                "double range",
                "{range .items[*]}{range .status.addresses[*]}{.address}, {end}{end}",
                n(),
                Some("127.0.0.1, 127.0.0.2, 127.0.0.3, "),
            ),
            (
                "item name",
                "{.items[*].metadata.name}",
                n(),
                Some("127.0.0.1 127.0.0.2"),
            ),
            (
                "union nodes capacity",
                "{.items[*]['metadata.name', 'status.capacity']}",
                n(),
                Some(r#"127.0.0.1 127.0.0.2 {"cpu":"4"} {"cpu":"8"}"#),
            ),
            (
                "range nodes capacity",
                "{range .items[*]}[{.metadata.name}, {.status.capacity}] {end}",
                n(),
                Some(r#"[127.0.0.1, {"cpu":"4"}] [127.0.0.2, {"cpu":"8"}] "#),
            ),
            (
                "user password",
                r#"{.users[?(@.name=="e2e")].user.password}"#,
                n(),
                Some("secret"),
            ),
            (
                "hostname",
                r"{.items[0].metadata.labels.kubernetes\.io/hostname}",
                n(),
                Some("127.0.0.1"),
            ),
            (
                "hostname filter",
                r#"{.items[?(@.metadata.labels.kubernetes\.io/hostname=="127.0.0.1")].kind}"#,
                n(),
                Some("None"),
            ),
            (
                "bool item",
                "{.items[?(@..ready==true)].metadata.name}",
                n(),
                Some("127.0.0.1"),
            ),
        ],
        false,
    );
    // client-go sorts this one's words (Go's map order is random); ours is key order.
    let out = JsonPath::parse("{..name}").unwrap().execute(&n()).unwrap();
    let mut words: Vec<&str> = out.split_whitespace().collect();
    words.sort();
    assert_eq!(words, ["127.0.0.1", "127.0.0.2", "e2e", "myself"]);
}

#[test]
fn empty_range() {
    let empty = || json!({"items": []});
    run(
        vec![
            (
                "empty range",
                "{range .items[*]}{.metadata.name}{end}",
                empty(),
                Some(""),
            ),
            (
                "empty nested range",
                r#"{range .items[*]}{.metadata.name}{":"}{range @.spec.containers[*]}{.name}{","}{end}{"+"}{end}"#,
                empty(),
                Some(""),
            ),
        ],
        true,
    );
}

#[test]
fn nested_ranges() {
    let data = || {
        json!({"items": [
            {"metadata": {"name": "pod1"}, "spec": {"containers": [
                {"name": "foo", "another": [{"name": "value1"}, {"name": "value2"}]},
                {"name": "bar", "another": [{"name": "value1"}, {"name": "value2"}]}]}},
            {"metadata": {"name": "pod2"}, "spec": {"containers": [
                {"name": "baz", "another": [{"name": "value1"}, {"name": "value2"}]}]}}]})
    };
    run(
        vec![
            (
                "nested range with a trailing newline",
                r#"{range .items[*]}{.metadata.name}{":"}{range @.spec.containers[*]}{.name}{","}{end}{"+"}{end}"#,
                data(),
                Some("pod1:foo,bar,+pod2:baz,+"),
            ),
            (
                "nested range with a trailing character within another nested range",
                r##"{range .items[*]}{.metadata.name}{"~"}{range @.spec.containers[*]}{.name}{":"}{range @.another[*]}{.name}{","}{end}{"+"}{end}{"#"}{end}"##,
                data(),
                Some("pod1~foo:value1,value2,+bar:value1,value2,+#pod2~baz:value1,value2,+#"),
            ),
            (
                "two nested ranges at the same level",
                r#"{range .items[*]}{.metadata.name}{"\t"}{range @.spec.containers[*]}{.name}{" "}{end}{"\t"}{range @.spec.containers[*]}{.name}{" "}{end}{"\n"}{end}"#,
                data(),
                Some("pod1\tfoo bar \tfoo bar \npod2\tbaz \tbaz \n"),
            ),
        ],
        false,
    );
}

#[test]
fn filter_partial_matches_sometimes_missing_annotations() {
    let data = || {
        json!({"kind": "List", "items": [
            {"kind": "Pod", "metadata": {"name": "pod1", "annotations": {"color": "blue"}}},
            {"kind": "Pod", "metadata": {"name": "pod2"}},
            {"kind": "Pod", "metadata": {"name": "pod3", "annotations": {"color": "green"}}},
            {"kind": "Pod", "metadata": {"name": "pod4", "annotations": {"color": "blue"}}}]})
    };
    let t = r#"{.items[?(@.metadata.annotations.color=="blue")].metadata.name}"#;
    run(
        vec![("tolerate missing", t, data(), Some("pod1 pod4"))],
        true,
    );
    run(vec![("error on missing", t, data(), None)], false);
}

fn containers(n: usize) -> Value {
    let list: Vec<Value> = (0..n)
        .map(|i| json!({"image": "radial/busyboxplus:curl", "name": format!("fake{i}")}))
        .collect();
    json!({"apiVersion": "v1", "kind": "Pod", "spec": {"containers": list}})
}

#[test]
fn negative_index() {
    let d = || containers(4);
    run(
        vec![
            ("[0]", "{.spec.containers[0].name}", d(), Some("fake0")),
            ("[0:0]", "{.spec.containers[0:0].name}", d(), Some("")),
            (
                "[0:-1]",
                "{.spec.containers[0:-1].name}",
                d(),
                Some("fake0 fake1 fake2"),
            ),
            ("[-1:0]", "{.spec.containers[-1:0].name}", d(), None),
            ("[-1]", "{.spec.containers[-1].name}", d(), Some("fake3")),
            ("[-1:]", "{.spec.containers[-1:].name}", d(), Some("fake3")),
            ("[-2]", "{.spec.containers[-2].name}", d(), Some("fake2")),
            (
                "[-2:]",
                "{.spec.containers[-2:].name}",
                d(),
                Some("fake2 fake3"),
            ),
            ("[-3]", "{.spec.containers[-3].name}", d(), Some("fake1")),
            ("[-4]", "{.spec.containers[-4].name}", d(), Some("fake0")),
            (
                "[-4:]",
                "{.spec.containers[-4:].name}",
                d(),
                Some("fake0 fake1 fake2 fake3"),
            ),
            ("[-5]", "{.spec.containers[-5].name}", d(), None),
            ("[5:5]", "{.spec.containers[5:5].name}", d(), Some("")),
            ("[-5:-5]", "{.spec.containers[-5:-5].name}", d(), Some("")),
            ("[3:1]", "{.spec.containers[3:1].name}", d(), None),
            ("[-1:-2]", "{.spec.containers[-1:-2].name}", d(), None),
        ],
        false,
    );
}

#[test]
fn running_pods_jsonpath_output() {
    let data = json!({"kind": "List", "items": [
        {"kind": "Pod", "metadata": {"name": "pod1"}, "status": {"phase": "Running"}},
        {"kind": "Pod", "metadata": {"name": "pod2"}, "status": {"phase": "Running"}},
        {"kind": "Pod", "metadata": {"name": "pod3"}, "status": {"phase": "Running"}},
        {"resourceVersion": ""}]});
    run(
        vec![(
            "range over pods without selecting the last one",
            r#"{range .items[?(.status.phase=="Running")]}{.metadata.name}{" is Running\n"}{end}"#,
            data,
            Some("pod1 is Running\npod2 is Running\npod3 is Running\n"),
        )],
        true,
    );
}

#[test]
fn step() {
    let d = || containers(6);
    run(
        vec![
            (
                "[0:]",
                "{.spec.containers[0:].name}",
                d(),
                Some("fake0 fake1 fake2 fake3 fake4 fake5"),
            ),
            (
                "[0:6:]",
                "{.spec.containers[0:6:].name}",
                d(),
                Some("fake0 fake1 fake2 fake3 fake4 fake5"),
            ),
            (
                "[0:6:1]",
                "{.spec.containers[0:6:1].name}",
                d(),
                Some("fake0 fake1 fake2 fake3 fake4 fake5"),
            ),
            ("[0:6:0]", "{.spec.containers[0:6:0].name}", d(), None),
            ("[0:6:-1]", "{.spec.containers[0:6:-1].name}", d(), None),
            (
                "[1:4:2]",
                "{.spec.containers[1:4:2].name}",
                d(),
                Some("fake1 fake3"),
            ),
            (
                "[1:4:3]",
                "{.spec.containers[1:4:3].name}",
                d(),
                Some("fake1"),
            ),
            (
                "[1:4:4]",
                "{.spec.containers[1:4:4].name}",
                d(),
                Some("fake1"),
            ),
            (
                "[0:6:2]",
                "{.spec.containers[0:6:2].name}",
                d(),
                Some("fake0 fake2 fake4"),
            ),
            (
                "[0:6:3]",
                "{.spec.containers[0:6:3].name}",
                d(),
                Some("fake0 fake3"),
            ),
            (
                "[0:6:5]",
                "{.spec.containers[0:6:5].name}",
                d(),
                Some("fake0 fake5"),
            ),
            (
                "[0:6:6]",
                "{.spec.containers[0:6:6].name}",
                d(),
                Some("fake0"),
            ),
        ],
        false,
    );
}

#[test]
fn parse_errors_read_as_client_go() {
    let err = |t: &str| JsonPath::parse(t).unwrap_err();
    assert_eq!(err("{.a"), "unclosed action");
    assert_eq!(err("{.a[0}"), "unterminated array");
    assert_eq!(err("{.a[x]}"), "invalid array index x");
    assert_eq!(err(r#"{"abc}"#), "unterminated quoted string");
    assert_eq!(err("{.a[?(@.b==1}"), "unterminated filter");
    assert_eq!(err("{#}"), "unrecognized character in action: U+0023 '#'");
    assert_eq!(err("{.a....b}"), "invalid multiple recursive descent");
}

#[test]
fn kubectl_uses() {
    let pod = json!({"kind": "Pod", "metadata": {"name": "web",
        "labels": {"app.kubernetes.io/name": "web", "tier": "fe"}},
        "spec": {"containers": [{"name": "a", "image": "nginx:1"}, {"name": "b", "image": "redis"}]}});
    let ex = |t: &str| {
        JsonPath::parse(t)
            .unwrap()
            .allow_missing_keys(true)
            .execute(&pod)
            .unwrap()
    };
    assert_eq!(ex(r"{.metadata.labels.app\.kubernetes\.io/name}"), "web");
    assert_eq!(ex("{.metadata.labels['tier']}"), "fe");
    assert_eq!(ex("{.spec.containers[*].image}"), "nginx:1 redis");
    assert_eq!(ex("{.spec.containers[-1:].name}"), "b");
    assert_eq!(ex(r#"{.spec.containers[?(@.name=="b")].image}"#), "redis");
    assert_eq!(ex("{.metadata.missing.deeper}"), "");
    assert_eq!(ex(r#"{'a\tb'}{"\n"}"#), "a\tb\n");
    assert_eq!(ex("{$.metadata.name}"), "web");
    assert_eq!(
        ex("{.metadata.labels}"),
        r#"{"app.kubernetes.io/name":"web","tier":"fe"}"#
    );
    // An unclosed range: client-go runs the body once more on the outer object.
    assert_eq!(ex("{range .spec.containers[*]}{.name},"), "a,b,,");

    let as_json = JsonPath::parse("{.spec.containers[*].name}")
        .unwrap()
        .json_output(true)
        .execute(&pod)
        .unwrap();
    assert_eq!(as_json, "[\n    \"a\",\n    \"b\"\n]\n");
    // Go's encoding/json escapes HTML characters.
    assert_eq!(
        go_json(&json!({"a": "<&>"}), false),
        r#"{"a":"\u003c\u0026\u003e"}"#
    );
    assert_eq!(
        go_sprint(&json!({"b": [1, "x"], "a": null})),
        "map[a:<nil> b:[1 x]]"
    );
    assert_eq!(go_text(&json!(0.00001)), "1e-05");
    assert_eq!(go_text(&json!(2.5)), "2.5");
}

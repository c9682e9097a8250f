//! `-o go-template=...`: a subset of Go's text/template, as kubectl runs it over an object's
//! JSON (missing keys print `<no value>`): `{{.a.b}}`, `{{.}}`, `{{$}}`, literals,
//! `{{if}}`/`{{else if}}`/`{{else}}`, `{{range}}` (with `$v :=` or `$k, $v :=`, and
//! `{{else}}`), `{{with}}`, `{{end}}`, `{{- trim -}}`, comments, pipes, and the functions
//! `eq ne lt le gt ge and or not len index printf print println`. Anything else is an
//! error naming it.

use super::jsonpath::go_sprint;
use serde_json::Value;
use std::collections::HashMap;

#[derive(Debug, Clone)]
pub struct GoTemplate {
    nodes: Vec<Node>,
    /// Go's `missingkey=error` (kubectl's `--allow-missing-template-keys=false`).
    missing_key_error: bool,
}

#[derive(Debug, Clone)]
enum Node {
    Text(String),
    Print(Pipe),
    If(Vec<(Pipe, Vec<Node>)>, Vec<Node>),
    Range(Vec<String>, Pipe, Vec<Node>, Vec<Node>),
    With(Pipe, Vec<Node>, Vec<Node>),
}

/// Commands joined by `|`.
type Pipe = Vec<Vec<Arg>>;

#[derive(Debug, Clone)]
enum Arg {
    /// `.a.b` (empty: `.`), or `$x.a` with the variable's name first.
    Field(Option<String>, Vec<String>),
    Literal(Value),
    Func(String),
    Nil,
}

/// A value, or a missing key (`<no value>`).
type Val = Option<Value>;

impl GoTemplate {
    pub fn parse(text: &str) -> Result<GoTemplate, String> {
        let tokens = lex(text)?;
        let mut pos = 0;
        let (nodes, end) = parse_nodes(&tokens, &mut pos)?;
        if let Some(e) = end {
            return Err(format!("unexpected {{{{{e}}}}}"));
        }
        Ok(GoTemplate {
            nodes,
            missing_key_error: false,
        })
    }

    pub fn missing_key_error(mut self, on: bool) -> Self {
        self.missing_key_error = on;
        self
    }

    pub fn execute(&self, data: &Value) -> Result<String, String> {
        let mut out = String::new();
        let mut vars = HashMap::new();
        vars.insert("$".to_string(), Some(data.clone()));
        if self.missing_key_error {
            vars.insert(STRICT.to_string(), None);
        }
        run(&self.nodes, &Some(data.clone()), &mut vars, &mut out)?;
        Ok(out)
    }
}

enum Token {
    Text(String),
    Action(String),
}

fn lex(text: &str) -> Result<Vec<Token>, String> {
    let mut tokens = Vec::new();
    let mut rest = text;
    let mut trim_next = false;
    while let Some(start) = rest.find("{{") {
        let mut before = &rest[..start];
        if trim_next {
            before = before.trim_start();
        }
        let after = &rest[start + 2..];
        let trim_left = after.starts_with("- ");
        if trim_left {
            before = before.trim_end();
        }
        if !before.is_empty() {
            tokens.push(Token::Text(before.to_string()));
        }
        let end = after.find("}}").ok_or("unclosed action")?;
        let mut inside = &after[..end];
        if trim_left {
            inside = &inside[1..];
        }
        trim_next = inside.ends_with(" -");
        if trim_next {
            inside = &inside[..inside.len() - 1];
        }
        let inside = inside.trim();
        if !(inside.starts_with("/*") && inside.ends_with("*/")) {
            tokens.push(Token::Action(inside.to_string()));
        }
        rest = &after[end + 2..];
    }
    let tail = if trim_next { rest.trim_start() } else { rest };
    if !tail.is_empty() {
        tokens.push(Token::Text(tail.to_string()));
    }
    Ok(tokens)
}

/// Nodes up to an `end` or `else...` (returned as the second value).
fn parse_nodes(tokens: &[Token], pos: &mut usize) -> Result<(Vec<Node>, Option<String>), String> {
    let mut nodes = Vec::new();
    while *pos < tokens.len() {
        let action = match &tokens[*pos] {
            Token::Text(t) => {
                nodes.push(Node::Text(t.clone()));
                *pos += 1;
                continue;
            }
            Token::Action(a) => a.clone(),
        };
        *pos += 1;
        let (word, rest) = match action.split_once(char::is_whitespace) {
            Some((w, r)) => (w, r.trim()),
            None => (action.as_str(), ""),
        };
        match word {
            "end" => return Ok((nodes, Some("end".into()))),
            "else" => return Ok((nodes, Some(action.clone()))),
            "if" => {
                let mut branches = vec![];
                let mut cond = parse_pipe(rest)?;
                let otherwise = loop {
                    let (body, end) = parse_nodes(tokens, pos)?;
                    branches.push((cond, body));
                    match end.as_deref() {
                        Some("end") => break vec![],
                        Some("else") => break block_until_end(tokens, pos)?,
                        Some(e) if e.starts_with("else if ") => cond = parse_pipe(&e[8..])?,
                        _ => return Err("unexpected EOF: {{if}} without {{end}}".into()),
                    }
                };
                nodes.push(Node::If(branches, otherwise));
            }
            "range" | "with" => {
                let (vars, pipe) = match rest.split_once(":=") {
                    Some((v, p)) => (
                        v.split(',').map(|s| s.trim().to_string()).collect(),
                        parse_pipe(p)?,
                    ),
                    None => (vec![], parse_pipe(rest)?),
                };
                let (body, end) = parse_nodes(tokens, pos)?;
                let otherwise = match end.as_deref() {
                    Some("end") => vec![],
                    Some("else") => block_until_end(tokens, pos)?,
                    _ => {
                        return Err(format!(
                            "unexpected EOF: {{{{{word}}}}} without {{{{end}}}}"
                        ));
                    }
                };
                if word == "range" {
                    nodes.push(Node::Range(vars, pipe, body, otherwise));
                } else {
                    nodes.push(Node::With(pipe, body, otherwise));
                }
            }
            "define" | "template" | "block" | "break" | "continue" => {
                return Err(format!(
                    "{{{{{word}}}}} is not supported by ctl's go-template"
                ));
            }
            _ => nodes.push(Node::Print(parse_pipe(&action)?)),
        }
    }
    Ok((nodes, None))
}

fn block_until_end(tokens: &[Token], pos: &mut usize) -> Result<Vec<Node>, String> {
    match parse_nodes(tokens, pos)? {
        (body, Some(e)) if e == "end" => Ok(body),
        _ => Err("unexpected EOF: {{else}} without {{end}}".into()),
    }
}

fn parse_pipe(text: &str) -> Result<Pipe, String> {
    let words = split_words(text)?;
    let mut pipe = vec![vec![]];
    for w in words {
        if w == "|" {
            pipe.push(vec![]);
            continue;
        }
        let arg = parse_arg(&w)?;
        if let Some(cmd) = pipe.last_mut() {
            cmd.push(arg);
        }
    }
    if pipe.iter().any(Vec::is_empty) {
        return Err(format!("missing value for command in {text:?}"));
    }
    Ok(pipe)
}

/// Words at whitespace, quoted strings kept whole.
fn split_words(text: &str) -> Result<Vec<String>, String> {
    let mut words = Vec::new();
    let mut chars = text.chars().peekable();
    while let Some(&c) = chars.peek() {
        if c.is_whitespace() {
            chars.next();
            continue;
        }
        let mut w = String::new();
        if c == '"' || c == '`' {
            w.push(c);
            chars.next();
            let mut closed = false;
            while let Some(d) = chars.next() {
                w.push(d);
                if d == '\\' && c == '"' {
                    if let Some(e) = chars.next() {
                        w.push(e);
                    }
                } else if d == c {
                    closed = true;
                    break;
                }
            }
            if !closed {
                return Err("unterminated quoted string".into());
            }
        } else {
            while let Some(&d) = chars.peek() {
                if d.is_whitespace() {
                    break;
                }
                w.push(d);
                chars.next();
            }
        }
        words.push(w);
    }
    Ok(words)
}

fn parse_arg(w: &str) -> Result<Arg, String> {
    if let Some(body) = w.strip_prefix('`').and_then(|r| r.strip_suffix('`')) {
        return Ok(Arg::Literal(Value::String(body.to_string())));
    }
    if w.starts_with('"') {
        let s: String = serde_json::from_str(w).map_err(|_| format!("invalid string {w}"))?;
        return Ok(Arg::Literal(Value::String(s)));
    }
    if w == "." {
        return Ok(Arg::Field(None, vec![]));
    }
    if let Some(path) = w.strip_prefix('.') {
        return Ok(Arg::Field(
            None,
            path.split('.').map(String::from).collect(),
        ));
    }
    if w.starts_with('$') {
        let mut parts = w.split('.');
        let var = parts.next().unwrap_or("$").to_string();
        return Ok(Arg::Field(Some(var), parts.map(String::from).collect()));
    }
    match w {
        "true" => return Ok(Arg::Literal(Value::Bool(true))),
        "false" => return Ok(Arg::Literal(Value::Bool(false))),
        "nil" => return Ok(Arg::Nil),
        _ => {}
    }
    if let Ok(i) = w.parse::<i64>() {
        return Ok(Arg::Literal(Value::from(i)));
    }
    if let Ok(f) = w.parse::<f64>() {
        return Ok(Arg::Literal(Value::from(f)));
    }
    const FUNCS: [&str; 14] = [
        "eq", "ne", "lt", "le", "gt", "ge", "and", "or", "not", "len", "index", "printf", "print",
        "println",
    ];
    if FUNCS.contains(&w) {
        return Ok(Arg::Func(w.to_string()));
    }
    Err(format!("function {w:?} not defined"))
}

type Vars = HashMap<String, Val>;

/// A variable no template can name: its presence asks for `missingkey=error`.
const STRICT: &str = "$ missingkey=error";

fn run(nodes: &[Node], dot: &Val, vars: &mut Vars, out: &mut String) -> Result<(), String> {
    for node in nodes {
        match node {
            Node::Text(t) => out.push_str(t),
            Node::Print(p) => out.push_str(&print_text(&eval_pipe(p, dot, vars)?)),
            Node::If(branches, otherwise) => {
                let mut done = false;
                for (cond, body) in branches {
                    if truthy(&eval_pipe(cond, dot, vars)?) {
                        run(body, dot, vars, out)?;
                        done = true;
                        break;
                    }
                }
                if !done {
                    run(otherwise, dot, vars, out)?;
                }
            }
            Node::With(pipe, body, otherwise) => {
                let v = eval_pipe(pipe, dot, vars)?;
                if truthy(&v) {
                    run(body, &v, vars, out)?;
                } else {
                    run(otherwise, dot, vars, out)?;
                }
            }
            Node::Range(names, pipe, body, otherwise) => {
                let items: Vec<(Value, Value)> = match eval_pipe(pipe, dot, vars)? {
                    Some(Value::Array(a)) => a
                        .into_iter()
                        .enumerate()
                        .map(|(i, v)| (Value::from(i), v))
                        .collect(),
                    Some(Value::Object(m)) => {
                        m.into_iter().map(|(k, v)| (Value::String(k), v)).collect()
                    }
                    None | Some(Value::Null) => vec![],
                    Some(other) => {
                        return Err(format!("range can't iterate over {}", go_sprint(&other)));
                    }
                };
                if items.is_empty() {
                    run(otherwise, dot, vars, out)?;
                }
                for (k, v) in items {
                    match names.as_slice() {
                        [value] => {
                            vars.insert(value.clone(), Some(v.clone()));
                        }
                        [key, value] => {
                            vars.insert(key.clone(), Some(k));
                            vars.insert(value.clone(), Some(v.clone()));
                        }
                        _ => {}
                    }
                    run(body, &Some(v), vars, out)?;
                }
            }
        }
    }
    Ok(())
}

fn eval_pipe(pipe: &Pipe, dot: &Val, vars: &Vars) -> Result<Val, String> {
    let mut prev: Option<Val> = None;
    for cmd in pipe {
        prev = Some(eval_command(cmd, dot, vars, prev)?);
    }
    Ok(prev.flatten())
}

fn eval_command(cmd: &[Arg], dot: &Val, vars: &Vars, piped: Option<Val>) -> Result<Val, String> {
    let value = |a: &Arg| -> Result<Val, String> {
        Ok(match a {
            Arg::Literal(v) => Some(v.clone()),
            Arg::Nil => Some(Value::Null),
            Arg::Field(var, path) => {
                let base = match var {
                    None => dot.clone(),
                    Some(name) => vars
                        .get(name)
                        .cloned()
                        .ok_or_else(|| format!("undefined variable: {name}"))?,
                };
                let strict = vars.contains_key(STRICT);
                let mut cur = base;
                for key in path {
                    cur = match cur {
                        Some(v) => match v.get(key) {
                            Some(found) => Some(found.clone()),
                            None if strict && v.is_object() => {
                                return Err(format!("map has no entry for key {key:?}"));
                            }
                            None => None,
                        },
                        None if strict => {
                            return Err(format!("nil data; no entry for key {key:?}"));
                        }
                        None => None,
                    };
                }
                cur
            }
            Arg::Func(f) => return Err(format!("{f} is a function, not a value")),
        })
    };
    match &cmd[0] {
        Arg::Func(name) => {
            let mut args = cmd[1..]
                .iter()
                .map(value)
                .collect::<Result<Vec<Val>, String>>()?;
            if let Some(p) = piped {
                args.push(p);
            }
            call(name, &args)
        }
        first => {
            if cmd.len() > 1 || piped.is_some() {
                return Err(format!("can't give argument to non-function {first:?}"));
            }
            value(first)
        }
    }
}

fn call(name: &str, args: &[Val]) -> Result<Val, String> {
    let need = |n: usize| -> Result<(), String> {
        if args.len() < n {
            Err(format!(
                "wrong number of args for {name}: want {n} got {}",
                args.len()
            ))
        } else {
            Ok(())
        }
    };
    let cmp = |a: &Val, b: &Val| -> Result<std::cmp::Ordering, String> {
        match (a, b) {
            (Some(Value::Number(x)), Some(Value::Number(y))) => x
                .as_f64()
                .zip(y.as_f64())
                .and_then(|(x, y)| x.partial_cmp(&y))
                .ok_or_else(|| "incomparable numbers".to_string()),
            (Some(Value::String(x)), Some(Value::String(y))) => Ok(x.cmp(y)),
            (Some(Value::Bool(x)), Some(Value::Bool(y))) => Ok(x.cmp(y)),
            _ => Err("incompatible types for comparison".into()),
        }
    };
    use std::cmp::Ordering::*;
    Ok(match name {
        "eq" => {
            need(2)?;
            let mut any = false;
            for b in &args[1..] {
                any |= cmp(&args[0], b)? == Equal;
            }
            Some(Value::Bool(any))
        }
        "ne" | "lt" | "le" | "gt" | "ge" => {
            need(2)?;
            let o = cmp(&args[0], &args[1])?;
            let r = match name {
                "ne" => o != Equal,
                "lt" => o == Less,
                "le" => o != Greater,
                "gt" => o == Greater,
                _ => o != Less,
            };
            Some(Value::Bool(r))
        }
        "not" => {
            need(1)?;
            Some(Value::Bool(!truthy(&args[0])))
        }
        "and" => {
            need(1)?;
            args.iter()
                .find(|a| !truthy(a))
                .unwrap_or(&args[args.len() - 1])
                .clone()
        }
        "or" => {
            need(1)?;
            args.iter()
                .find(|a| truthy(a))
                .unwrap_or(&args[args.len() - 1])
                .clone()
        }
        "len" => {
            need(1)?;
            let n = match &args[0] {
                Some(Value::Array(a)) => a.len(),
                Some(Value::Object(m)) => m.len(),
                Some(Value::String(s)) => s.len(),
                other => return Err(format!("len of {}", print_text(other))),
            };
            Some(Value::from(n))
        }
        "index" => {
            need(1)?;
            let mut cur = args[0].clone();
            for k in &args[1..] {
                cur = match (cur, k) {
                    (Some(Value::Object(m)), Some(Value::String(key))) => m.get(key).cloned(),
                    (Some(Value::Array(a)), Some(Value::Number(i))) => {
                        let i = i.as_u64().unwrap_or(u64::MAX) as usize;
                        Some(a.get(i).cloned().ok_or_else(|| {
                            format!("error calling index: index out of range: {i}")
                        })?)
                    }
                    (None | Some(Value::Null), _) => None,
                    (other, _) => {
                        return Err(format!("can't index item of type {}", print_text(&other)));
                    }
                };
            }
            cur
        }
        "print" | "println" => {
            let mut s = String::new();
            for (i, a) in args.iter().enumerate() {
                let is_str = matches!(a, Some(Value::String(_)));
                let prev_str = i > 0 && matches!(args[i - 1], Some(Value::String(_)));
                if i > 0 && (name == "println" || (!is_str && !prev_str)) {
                    s.push(' ');
                }
                s.push_str(&print_text(a));
            }
            if name == "println" {
                s.push('\n');
            }
            Some(Value::String(s))
        }
        "printf" => {
            need(1)?;
            let Some(Value::String(format)) = &args[0] else {
                return Err("printf: the format must be a string".into());
            };
            Some(Value::String(printf(format, &args[1..])))
        }
        other => return Err(format!("function {other:?} not defined")),
    })
}

/// `%s %v %d %q %%`, with `-` and a width.
fn printf(format: &str, args: &[Val]) -> String {
    let mut out = String::new();
    let mut chars = format.chars().peekable();
    let mut next = args.iter();
    while let Some(c) = chars.next() {
        if c != '%' {
            out.push(c);
            continue;
        }
        let left = chars.peek() == Some(&'-');
        if left {
            chars.next();
        }
        let mut width = 0usize;
        while let Some(d) = chars.peek().and_then(|d| d.to_digit(10)) {
            width = width * 10 + d as usize;
            chars.next();
        }
        let verb = chars.next().unwrap_or('%');
        if verb == '%' {
            out.push('%');
            continue;
        }
        let text = match (verb, next.next()) {
            (_, None) => format!("%!{verb}(MISSING)"),
            ('q', Some(v)) => format!("{:?}", print_text(v)),
            (_, Some(v)) => print_text(v),
        };
        let pad = width.saturating_sub(text.chars().count());
        if left {
            out.push_str(&text);
            out.extend(std::iter::repeat_n(' ', pad));
        } else {
            out.extend(std::iter::repeat_n(' ', pad));
            out.push_str(&text);
        }
    }
    out
}

fn truthy(v: &Val) -> bool {
    match v {
        None | Some(Value::Null) => false,
        Some(Value::Bool(b)) => *b,
        Some(Value::Number(n)) => n.as_f64() != Some(0.0),
        Some(Value::String(s)) => !s.is_empty(),
        Some(Value::Array(a)) => !a.is_empty(),
        Some(Value::Object(m)) => !m.is_empty(),
    }
}

/// How text/template prints a value: Go's fmt, `<no value>` for a missing key.
fn print_text(v: &Val) -> String {
    match v {
        None => "<no value>".into(),
        Some(Value::Null) => "<nil>".into(),
        Some(v) => go_sprint(v),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ex(t: &str, data: &Value) -> String {
        GoTemplate::parse(t)
            .and_then(|g| g.execute(data))
            .unwrap_or_else(|e| format!("ERROR {e}"))
    }

    #[test]
    fn kubectl_style_templates() {
        let list = json!({"kind": "List", "items": [
            {"metadata": {"name": "a", "labels": {"app": "web", "tier": "fe"}}, "status": {"phase": "Running"},
             "spec": {"containers": [{"name": "c1"}, {"name": "c2"}]}},
            {"metadata": {"name": "b"}, "status": {"phase": "Pending"}, "spec": {"containers": [{"name": "c3"}]}}]});
        assert_eq!(
            ex(
                r#"{{range .items}}{{.metadata.name}}{{"\n"}}{{end}}"#,
                &list
            ),
            "a\nb\n"
        );
        assert_eq!(
            ex(
                r#"{{range .items}}{{if eq .status.phase "Running"}}{{.metadata.name}} {{end}}{{end}}"#,
                &list
            ),
            "a "
        );
        assert_eq!(
            ex(
                "{{range .items}}{{.metadata.name}}:{{range .spec.containers}} {{.name}}{{end}};{{end}}",
                &list
            ),
            "a: c1 c2;b: c3;"
        );
        assert!(
            ex(
                "{{range $k, $v := (index .items 0).metadata.labels}}{{$k}}={{$v}},{{end}}",
                &list
            )
            .starts_with("ERROR"),
            "parentheses are outside the subset"
        );
        let pod = &list["items"][0];
        assert_eq!(
            ex(
                "{{range $k, $v := .metadata.labels}}{{$k}}={{$v}},{{end}}",
                pod
            ),
            "app=web,tier=fe,"
        );
        assert_eq!(ex("{{index .metadata.labels \"app\"}}", pod), "web");
        assert_eq!(
            ex("{{.metadata.missing}}|{{.nope.deeper}}", pod),
            "<no value>|<no value>"
        );
        assert_eq!(ex("{{.metadata.labels}}", pod), "map[app:web tier:fe]");
        assert_eq!(ex("{{len .spec.containers}}", pod), "2");
        assert_eq!(
            ex(
                "{{if .metadata.annotations}}yes{{else if .metadata.labels}}labels{{else}}no{{end}}",
                pod
            ),
            "labels"
        );
        assert_eq!(ex("{{with .status}}{{.phase}}{{end}}", pod), "Running");
        assert_eq!(ex("{{range .nothing}}x{{else}}empty{{end}}", pod), "empty");
        assert_eq!(
            ex("{{printf \"%-5s|%3d\" .metadata.name 7}}", pod),
            "a    |  7"
        );
        assert_eq!(ex("{{.metadata.name | printf \"<%s>\"}}", pod), "<a>");
        assert_eq!(ex("a  {{- .metadata.name -}}  b{{/* note */}}", pod), "aab");
        assert_eq!(ex("{{$.metadata.name}}", pod), "a");
        let strict = |t: &str| {
            GoTemplate::parse(t)
                .unwrap()
                .missing_key_error(true)
                .execute(pod)
        };
        assert_eq!(
            strict("{{.metadata.missing}}").unwrap_err(),
            "map has no entry for key \"missing\""
        );
        assert_eq!(strict("{{.metadata.name}}").unwrap(), "a");
        assert!(ex("{{template \"x\"}}", pod).starts_with("ERROR"));
        assert!(ex("{{if .a}}", pod).starts_with("ERROR"));
        assert!(ex("{{nofunc .a}}", pod).starts_with("ERROR"));
    }
}

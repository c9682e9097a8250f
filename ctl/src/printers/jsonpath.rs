//! Kubernetes' JSONPath dialect (k8s.io/client-go/util/jsonpath), as `kubectl -o jsonpath`,
//! custom columns and `--sort-by` read it: text with `{...}` actions (`.field`, `['key']`,
//! `[i]`, `[start:end:step]`, `[*]`, `[a,b]` unions, `..` recursive descent, `[?(@.x=="y")]`
//! filters, `"literal"` text, `@`/`$` for the current object, `range`/`end`). Pure: parse
//! once, evaluate against a JSON value. The quirks are Kubernetes' (results of one action
//! joined by a space, maps and lists printed as compact JSON with sorted keys, `$` being the
//! current object in a range), because scripts depend on them.

use serde_json::Value;
use std::fmt::Write as _;

/// A parsed template.
#[derive(Debug, Clone)]
pub struct JsonPath {
    items: Vec<Item>,
    allow_missing_keys: bool,
    as_json: bool,
}

#[derive(Debug, Clone, PartialEq)]
enum Item {
    Text(String),
    Action(Vec<Step>),
    /// `{range EXPR}BODY{end}`; `closed` false when the template ended before its `{end}`
    /// (client-go then runs the body once more at the outer level).
    Range {
        expr: Vec<Step>,
        body: Vec<Item>,
        closed: bool,
    },
    /// An `{end}` outside any range: an error when reached, as in client-go.
    StrayEnd,
}

#[derive(Debug, Clone, PartialEq)]
enum Step {
    Field(String),
    Wildcard,
    Recursive,
    Array([Param; 3]),
    Union(Vec<Vec<Step>>),
    Filter {
        left: Vec<Step>,
        op: String,
        right: Vec<Step>,
    },
    Text(String),
    Int(i64),
    Float(f64),
    Bool(bool),
    Identifier(String),
}

/// One of `start:end:step` (client-go's ParamsEntry).
#[derive(Debug, Clone, Copy, PartialEq, Default)]
struct Param {
    value: i64,
    known: bool,
    /// `end` of `[i]`: i+1, counted from the end when i is negative.
    derived: bool,
}

impl JsonPath {
    /// Parses `template`; errors read as client-go's (`unclosed action`, ...).
    pub fn parse(template: &str) -> Result<JsonPath, String> {
        let raw = Parser::new(template).parse_template()?;
        let mut pos = 0;
        let (items, _) = nest(&raw, &mut pos, false);
        Ok(JsonPath {
            items,
            allow_missing_keys: false,
            as_json: false,
        })
    }

    /// A missing field yields nothing instead of an error (kubectl's default,
    /// `--allow-missing-template-keys=true`).
    pub fn allow_missing_keys(mut self, allow: bool) -> Self {
        self.allow_missing_keys = allow;
        self
    }

    /// Each action's results printed as an indented JSON array (`-o jsonpath-as-json`).
    pub fn json_output(mut self, on: bool) -> Self {
        self.as_json = on;
        self
    }

    /// The results of every action and text, in template order.
    pub fn find_results(&self, data: &Value) -> Result<Vec<Vec<Value>>, String> {
        let mut out = Vec::new();
        self.run_items(&self.items, data, &mut out)?;
        Ok(out)
    }

    /// The template's text for `data`.
    pub fn execute(&self, data: &Value) -> Result<String, String> {
        let results = self.find_results(data)?;
        let mut out = String::new();
        for r in &results {
            if self.as_json {
                out.push_str(&go_json(&Value::Array(r.clone()), true));
                out.push('\n');
                continue;
            }
            for (i, v) in r.iter().enumerate() {
                match v {
                    Value::Object(_) | Value::Array(_) => out.push_str(&go_json(v, false)),
                    other => out.push_str(&go_text(other)),
                }
                if i + 1 != r.len() {
                    out.push(' ');
                }
            }
        }
        Ok(out)
    }

    fn run_items(
        &self,
        items: &[Item],
        data: &Value,
        out: &mut Vec<Vec<Value>>,
    ) -> Result<(), String> {
        for item in items {
            match item {
                Item::Text(t) => out.push(vec![Value::String(t.clone())]),
                Item::Action(steps) => out.push(self.eval_list(vec![data.clone()], steps)?),
                Item::StrayEnd => return Err("not in range, nothing to end".into()),
                Item::Range { expr, body, closed } => {
                    for value in self.eval_list(vec![data.clone()], expr)? {
                        self.run_items(body, &value, out)?;
                    }
                    if !closed {
                        self.run_items(body, data, out)?;
                    }
                }
            }
        }
        Ok(())
    }

    fn eval_list(&self, input: Vec<Value>, steps: &[Step]) -> Result<Vec<Value>, String> {
        let mut cur = input;
        for step in steps {
            cur = self.eval(cur, step)?;
        }
        Ok(cur)
    }

    fn eval(&self, input: Vec<Value>, step: &Step) -> Result<Vec<Value>, String> {
        match step {
            Step::Text(t) => Ok(vec![Value::String(t.clone())]),
            Step::Int(i) => Ok(input.iter().map(|_| Value::from(*i)).collect()),
            Step::Float(f) => Ok(input.iter().map(|_| Value::from(*f)).collect()),
            Step::Bool(b) => Ok(input.iter().map(|_| Value::Bool(*b)).collect()),
            Step::Identifier(name) => Err(format!("unrecognized identifier {name}")),
            Step::Field(name) => self.eval_field(input, name),
            Step::Array(params) => eval_array(input, params),
            Step::Union(parts) => {
                let mut result = Vec::new();
                for p in parts {
                    result.extend(self.eval_list(input.clone(), p)?);
                }
                Ok(result)
            }
            Step::Wildcard => Ok(input.iter().flat_map(children).collect()),
            Step::Recursive => {
                let mut result = Vec::new();
                for v in &input {
                    recurse(v, &mut result);
                }
                Ok(result)
            }
            Step::Filter { left, op, right } => self.eval_filter(input, left, op, right),
        }
    }

    fn eval_field(&self, input: Vec<Value>, name: &str) -> Result<Vec<Value>, String> {
        if input.is_empty() {
            return Ok(vec![]);
        }
        let results: Vec<Value> = input
            .iter()
            .filter_map(|v| v.as_object().and_then(|m| m.get(name)).cloned())
            .collect();
        if results.is_empty() && !self.allow_missing_keys {
            return Err(format!("{name} is not found"));
        }
        Ok(results)
    }

    fn eval_filter(
        &self,
        input: Vec<Value>,
        left: &[Step],
        op: &str,
        right: &[Step],
    ) -> Result<Vec<Value>, String> {
        let mut results = Vec::new();
        for value in &input {
            let Value::Array(items) = value else {
                return Err(format!(
                    "{} is not array or slice and cannot be filtered",
                    go_sprint(value)
                ));
            };
            for item in items {
                let lefts = self.eval_list(vec![item.clone()], left);
                if op == "exists" {
                    if lefts.is_ok_and(|l| !l.is_empty()) {
                        results.push(item.clone());
                    }
                    continue;
                }
                let lefts = lefts?;
                match lefts.len() {
                    0 => continue,
                    1 => {}
                    _ => return Err("can only compare one element at a time".into()),
                }
                let rights = self.eval_list(vec![item.clone()], right)?;
                match rights.len() {
                    0 => continue,
                    1 => {}
                    _ => return Err("can only compare one element at a time".into()),
                }
                if compare(&lefts[0], op, &rights[0])? {
                    results.push(item.clone());
                }
            }
        }
        Ok(results)
    }
}

/// Turns the flat list of parsed actions into ranges with bodies; true when an `{end}`
/// closed the range being read.
fn nest(raw: &[Item], pos: &mut usize, in_range: bool) -> (Vec<Item>, bool) {
    let end = Item::Action(vec![Step::Identifier("end".into())]);
    let range = Step::Identifier("range".into());
    let mut out = Vec::new();
    while *pos < raw.len() {
        let item = raw[*pos].clone();
        *pos += 1;
        match item {
            i if i == end => {
                if in_range {
                    return (out, true);
                }
                out.push(Item::StrayEnd);
            }
            Item::Action(steps) if steps.contains(&range) => {
                let expr: Vec<Step> = steps.into_iter().filter(|s| *s != range).collect();
                let (body, closed) = nest(raw, pos, true);
                out.push(Item::Range { expr, body, closed });
            }
            other => out.push(other),
        }
    }
    (out, false)
}

fn children(v: &Value) -> Vec<Value> {
    match v {
        Value::Object(m) => m.values().cloned().collect(),
        Value::Array(a) => a.clone(),
        _ => vec![],
    }
}

/// client-go's evalRecursive: every value with something inside (a non-empty map, list or
/// string), itself before its descendants.
fn recurse(v: &Value, out: &mut Vec<Value>) {
    let inner = match v {
        Value::String(s) => {
            if !s.is_empty() {
                out.push(v.clone());
            }
            return;
        }
        other => children(other),
    };
    if inner.is_empty() {
        return;
    }
    out.push(v.clone());
    for c in &inner {
        recurse(c, out);
    }
}

fn eval_array(input: Vec<Value>, params: &[Param; 3]) -> Result<Vec<Value>, String> {
    let mut result = Vec::new();
    for value in input {
        if value.is_null() {
            continue;
        }
        let Value::Array(items) = &value else {
            return Err(format!("{} is not array or slice", go_type(&value)));
        };
        let len = items.len() as i64;
        let mut p = *params;
        if !p[0].known {
            p[0].value = 0;
        }
        if p[0].value < 0 {
            p[0].value += len;
        }
        if !p[1].known {
            p[1].value = len;
        }
        if p[1].value < 0 || (p[1].value == 0 && p[1].derived) {
            p[1].value += len;
        }
        if p[1].value == p[0].value {
            // Zero elements asked for: allowed, whatever the bounds.
            return Ok(result);
        }
        if p[0].value >= len || p[0].value < 0 {
            return Err(format!(
                "array index out of bounds: index {}, length {len}",
                p[0].value
            ));
        }
        if p[1].value > len || p[1].value < 0 {
            return Err(format!(
                "array index out of bounds: index {}, length {len}",
                p[1].value - 1
            ));
        }
        if p[0].value > p[1].value {
            return Err(format!(
                "starting index {} is greater than ending index {}",
                p[0].value, p[1].value
            ));
        }
        let step = if p[2].known {
            if p[2].value <= 0 {
                return Err("step must be > 0".into());
            }
            p[2].value as usize
        } else {
            1
        };
        let slice = &items[p[0].value as usize..p[1].value as usize];
        result.extend(slice.iter().step_by(step).cloned());
    }
    Ok(result)
}

/// The filter operators of client-go (its text/template comparisons): numbers with
/// numbers, strings with strings, booleans for (in)equality.
fn compare(left: &Value, op: &str, right: &Value) -> Result<bool, String> {
    use std::cmp::Ordering;
    let ord: Option<Ordering> = match (left, right) {
        (Value::Number(a), Value::Number(b)) => match (a.as_i64(), b.as_i64()) {
            (Some(x), Some(y)) => Some(x.cmp(&y)),
            _ => a
                .as_f64()
                .zip(b.as_f64())
                .and_then(|(x, y)| x.partial_cmp(&y)),
        },
        (Value::String(a), Value::String(b)) => Some(a.cmp(b)),
        (Value::Bool(a), Value::Bool(b)) => {
            return match op {
                "==" => Ok(a == b),
                "!=" => Ok(a != b),
                "<" | ">" | "<=" | ">=" => Err("invalid type for comparison".into()),
                other => Err(format!("unrecognized filter operator {other}")),
            };
        }
        (Value::Null, Value::Null) if op == "==" => return Ok(true),
        _ => match op {
            "<" | ">" | "==" | "!=" | "<=" | ">=" => {
                return Err("incompatible types for comparison".into());
            }
            other => return Err(format!("unrecognized filter operator {other}")),
        },
    };
    let Some(ord) = ord else { return Ok(false) };
    Ok(match op {
        "<" => ord == Ordering::Less,
        ">" => ord == Ordering::Greater,
        "==" => ord == Ordering::Equal,
        "!=" => ord != Ordering::Equal,
        "<=" => ord != Ordering::Greater,
        ">=" => ord != Ordering::Less,
        other => return Err(format!("unrecognized filter operator {other}")),
    })
}

// ---------------------------------------------------------------------------------------
// Parsing: client-go's parser, rune by rune.

struct Parser<'a> {
    input: &'a str,
    pos: usize,
    start: usize,
}

const EOF: char = '\u{FFFF}';

impl<'a> Parser<'a> {
    fn new(input: &'a str) -> Self {
        Parser {
            input,
            pos: 0,
            start: 0,
        }
    }

    fn rest(&self) -> &'a str {
        &self.input[self.pos..]
    }

    fn next(&mut self) -> char {
        match self.rest().chars().next() {
            Some(c) => {
                self.pos += c.len_utf8();
                c
            }
            None => EOF,
        }
    }

    fn peek(&self) -> char {
        self.rest().chars().next().unwrap_or(EOF)
    }

    fn backup(&mut self, c: char) {
        if c != EOF {
            self.pos -= c.len_utf8();
        }
    }

    fn consume(&mut self) -> &'a str {
        let s = &self.input[self.start..self.pos];
        self.start = self.pos;
        s
    }

    /// Text and `{actions}` at the top level.
    fn parse_template(&mut self) -> Result<Vec<Item>, String> {
        let mut items = Vec::new();
        loop {
            if self.rest().starts_with('{') {
                if self.pos > self.start {
                    items.push(Item::Text(self.consume().to_string()));
                }
                self.pos += 1;
                self.consume();
                let mut steps = Vec::new();
                self.parse_inside(&mut steps)?;
                items.push(Item::Action(steps));
                continue;
            }
            if self.next() == EOF {
                break;
            }
        }
        if self.pos > self.start {
            items.push(Item::Text(self.consume().to_string()));
        }
        Ok(items)
    }

    /// The steps of one action, up to and including its `}`.
    fn parse_inside(&mut self, cur: &mut Vec<Step>) -> Result<(), String> {
        loop {
            if self.rest().starts_with('}') {
                self.pos += 1;
                self.consume();
                return Ok(());
            }
            if self.rest().starts_with("[?(") {
                self.parse_filter(cur)?;
                continue;
            }
            if self.rest().starts_with("..") {
                if cur.last() == Some(&Step::Recursive) {
                    return Err("invalid multiple recursive descent".into());
                }
                self.pos += 2;
                self.consume();
                cur.push(Step::Recursive);
                if is_alphanumeric(self.peek()) {
                    self.parse_field(cur);
                }
                continue;
            }
            let r = self.next();
            match r {
                EOF | '\r' | '\n' => return Err("unclosed action".into()),
                ' ' | '@' | '$' => {
                    self.consume();
                }
                '[' => self.parse_array(cur)?,
                '"' | '\'' => self.parse_quote(cur, r)?,
                '.' => self.parse_field(cur),
                '+' | '-' | '0'..='9' => {
                    self.backup(r);
                    self.parse_number(cur)?;
                }
                c if is_alphanumeric(c) => {
                    self.backup(r);
                    self.parse_identifier(cur);
                }
                c => {
                    return Err(format!(
                        "unrecognized character in action: U+{:04X} '{c}'",
                        c as u32
                    ));
                }
            }
        }
    }

    fn parse_identifier(&mut self, cur: &mut Vec<Step>) {
        loop {
            let r = self.next();
            if is_terminator(r) {
                self.backup(r);
                break;
            }
        }
        match self.consume() {
            "true" => cur.push(Step::Bool(true)),
            "false" => cur.push(Step::Bool(false)),
            name => cur.push(Step::Identifier(name.to_string())),
        }
    }

    fn parse_number(&mut self, cur: &mut Vec<Step>) -> Result<(), String> {
        let r = self.peek();
        if r == '+' || r == '-' {
            self.next();
        }
        loop {
            let r = self.next();
            if r != '.' && !r.is_ascii_digit() {
                self.backup(r);
                break;
            }
        }
        let text = self.consume();
        if let Ok(i) = text.parse::<i64>() {
            cur.push(Step::Int(i));
        } else if let Ok(f) = text.parse::<f64>() {
            cur.push(Step::Float(f));
        } else {
            return Err(format!("cannot parse number {text}"));
        }
        Ok(())
    }

    fn parse_array(&mut self, cur: &mut Vec<Step>) -> Result<(), String> {
        loop {
            match self.next() {
                EOF | '\n' => return Err("unterminated array".into()),
                ']' => break,
                _ => {}
            }
        }
        let text = self.consume();
        let mut text = &text[1..text.len() - 1];
        if text == "*" {
            text = ":";
        }
        let parts: Vec<&str> = text.split(',').collect();
        if parts.len() > 1 {
            let mut union = Vec::new();
            for p in parts {
                union.push(parse_action(&format!("[{}]", p.trim_matches(' ')))?);
            }
            cur.push(Step::Union(union));
            return Ok(());
        }
        // ['key']: a field (split at dots, as client-go does).
        if text.len() >= 2
            && text.starts_with('\'')
            && text.ends_with('\'')
            && !text[1..text.len() - 1].contains('\'')
        {
            cur.extend(parse_action(&format!(".{}", &text[1..text.len() - 1]))?);
            return Ok(());
        }
        cur.push(Step::Array(parse_slice(text)?));
        Ok(())
    }

    fn parse_filter(&mut self, cur: &mut Vec<Step>) -> Result<(), String> {
        self.pos += 3;
        self.consume();
        let (mut begin, mut end) = (false, false);
        let mut pair = ' ';
        loop {
            let r = self.next();
            match r {
                EOF | '\n' => return Err("unterminated filter".into()),
                '"' | '\'' => {
                    if !begin {
                        begin = true;
                        pair = r;
                        continue;
                    }
                    let escaped = self.input[..self.pos - 1].ends_with('\\');
                    if !escaped && r == pair {
                        end = true;
                    }
                }
                ')' if begin == end => break,
                _ => {}
            }
        }
        if self.next() != ']' {
            return Err("unclosed array expect ]".into());
        }
        let text = self.consume();
        let text = &text[..text.len() - 2];
        match split_comparison(text) {
            None => cur.push(Step::Filter {
                left: parse_action(text)?,
                op: "exists".into(),
                right: vec![],
            }),
            Some((l, op, r)) => cur.push(Step::Filter {
                left: parse_action(l)?,
                op: op.to_string(),
                right: parse_action(r)?,
            }),
        }
        Ok(())
    }

    fn parse_quote(&mut self, cur: &mut Vec<Step>, quote: char) -> Result<(), String> {
        loop {
            match self.next() {
                EOF | '\n' => return Err("unterminated quoted string".into()),
                c if c == quote && !self.input[..self.pos - 1].ends_with('\\') => break,
                _ => {}
            }
        }
        let text = self.consume();
        let s = unquote(text).map_err(|e| format!("unquote string {text} error {e}"))?;
        cur.push(Step::Text(s));
        Ok(())
    }

    fn parse_field(&mut self, cur: &mut Vec<Step>) {
        self.consume();
        loop {
            let r = self.next();
            if r == '\\' {
                self.next();
            } else if is_terminator(r) {
                self.backup(r);
                break;
            }
        }
        let value = self.consume();
        if value == "*" {
            cur.push(Step::Wildcard);
        } else {
            cur.push(Step::Field(value.replace('\\', "")));
        }
    }
}

/// `text` as the inside of one action (client-go's parseAction).
fn parse_action(text: &str) -> Result<Vec<Step>, String> {
    let wrapped = format!("{{{text}}}");
    let mut p = Parser::new(&wrapped);
    let items = p.parse_template()?;
    match items.into_iter().next() {
        Some(Item::Action(steps)) => Ok(steps),
        _ => Ok(vec![]),
    }
}

/// `^([^!<>=]+)([!<>=]+)(.+?)$`: left side, operator, right side.
fn split_comparison(text: &str) -> Option<(&str, &str, &str)> {
    let is_op = |c: char| matches!(c, '!' | '<' | '>' | '=');
    let op_start = text.find(is_op)?;
    if op_start == 0 {
        return None;
    }
    let op_len = text[op_start..]
        .find(|c: char| !is_op(c))
        .unwrap_or(text.len() - op_start);
    let right = &text[op_start + op_len..];
    if right.is_empty() {
        return None;
    }
    Some((&text[..op_start], &text[op_start..op_start + op_len], right))
}

/// `^(-?\d*)(:-?\d*)?(:-?\d*)?$` into client-go's three params.
fn parse_slice(text: &str) -> Result<[Param; 3], String> {
    let invalid = || format!("invalid array index {text}");
    let parts: Vec<&str> = text.split(':').collect();
    if parts.len() > 3 {
        return Err(invalid());
    }
    let number_like = |s: &str| {
        let digits = s.strip_prefix('-').unwrap_or(s);
        digits.chars().all(|c| c.is_ascii_digit())
    };
    if !parts.iter().all(|p| number_like(p)) {
        return Err(invalid());
    }
    let mut params = [Param::default(); 3];
    for i in 0..3 {
        match parts.get(i) {
            Some(s) if !s.is_empty() => {
                params[i].known = true;
                params[i].value = s
                    .parse()
                    .map_err(|_| format!("array index {s} is not a number"))?;
            }
            // `[1:]`: present but empty.
            Some(_) if i > 0 => params[i].known = false,
            _ => {
                if i == 1 {
                    params[1] = Param {
                        value: params[0].value + 1,
                        known: true,
                        derived: true,
                    };
                }
            }
        }
    }
    Ok(params)
}

fn is_terminator(r: char) -> bool {
    matches!(
        r,
        ' ' | '\t' | '\r' | '\n' | EOF | '.' | ',' | '[' | ']' | '$' | '@' | '{' | '}'
    )
}

fn is_alphanumeric(r: char) -> bool {
    r == '_' || (r != EOF && r.is_alphanumeric())
}

/// Go's strconv unquoting, for single and double quotes.
fn unquote(s: &str) -> Result<String, String> {
    let syntax = || "invalid syntax".to_string();
    let quote = s.chars().next().ok_or_else(syntax)?;
    if s.len() < 2 || !s.ends_with(quote) || !matches!(quote, '"' | '\'') {
        return Err(syntax());
    }
    let body = &s[1..s.len() - 1];
    let mut out = String::new();
    let mut chars = body.chars().peekable();
    while let Some(c) = chars.next() {
        if c == quote {
            return Err(syntax());
        }
        if c != '\\' {
            out.push(c);
            continue;
        }
        let e = chars.next().ok_or_else(syntax)?;
        let hex = |chars: &mut std::iter::Peekable<std::str::Chars>, n: usize| {
            let h: String = chars.by_ref().take(n).collect();
            if h.len() != n {
                return Err(syntax());
            }
            u32::from_str_radix(&h, 16).map_err(|_| syntax())
        };
        match e {
            'a' => out.push('\x07'),
            'b' => out.push('\x08'),
            'f' => out.push('\x0c'),
            'n' => out.push('\n'),
            'r' => out.push('\r'),
            't' => out.push('\t'),
            'v' => out.push('\x0b'),
            '\\' => out.push('\\'),
            '\'' | '"' if e == quote => out.push(e),
            'x' => out.push(char::from_u32(hex(&mut chars, 2)?).ok_or_else(syntax)?),
            'u' => out.push(char::from_u32(hex(&mut chars, 4)?).ok_or_else(syntax)?),
            'U' => out.push(char::from_u32(hex(&mut chars, 8)?).ok_or_else(syntax)?),
            '0'..='7' => {
                let mut v = e.to_digit(8).unwrap_or(0);
                for _ in 0..2 {
                    let d = chars
                        .next()
                        .and_then(|c| c.to_digit(8))
                        .ok_or_else(syntax)?;
                    v = v * 8 + d;
                }
                out.push(char::from_u32(v).filter(|_| v < 256).ok_or_else(syntax)?);
            }
            _ => return Err(syntax()),
        }
    }
    Ok(out)
}

// ---------------------------------------------------------------------------------------
// Go's formatting of the values a template finds.

/// A scalar as client-go prints it (fmt.Fprint): strings bare, `null` for null.
pub fn go_text(v: &Value) -> String {
    match v {
        Value::Null => "null".into(),
        Value::String(s) => s.clone(),
        Value::Number(n) => go_number(n),
        Value::Bool(b) => b.to_string(),
        other => go_json(other, false),
    }
}

/// Go's `fmt.Sprint` of a decoded JSON value (what custom columns print): maps as
/// `map[k:v]` with sorted keys, lists as `[a b]`, null as `<nil>`.
pub fn go_sprint(v: &Value) -> String {
    match v {
        Value::Null => "<nil>".into(),
        Value::Object(m) => {
            let inner: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{k}:{}", go_sprint(v)))
                .collect();
            format!("map[{}]", inner.join(" "))
        }
        Value::Array(a) => {
            let inner: Vec<String> = a.iter().map(go_sprint).collect();
            format!("[{}]", inner.join(" "))
        }
        other => go_text(other),
    }
}

/// Go's `%v` of a number: integers as they are, floats in the shortest form, with an
/// exponent below 1e-4 and from 1e21.
fn go_number(n: &serde_json::Number) -> String {
    if let Some(i) = n.as_i64() {
        return i.to_string();
    }
    if let Some(u) = n.as_u64() {
        return u.to_string();
    }
    let f = n.as_f64().unwrap_or(0.0);
    let a = f.abs();
    if a != 0.0 && !(1e-4..1e21).contains(&a) {
        go_exponent(f, true)
    } else {
        format!("{f}")
    }
}

/// `1e-05` / `1e+21` (Go pads the exponent to two digits and signs it).
fn go_exponent(f: f64, pad: bool) -> String {
    let s = format!("{f:e}");
    let (mant, exp) = s.split_once('e').unwrap_or((&s, "0"));
    let (sign, digits) = match exp.strip_prefix('-') {
        Some(d) => ('-', d),
        None => ('+', exp),
    };
    if pad && digits.len() < 2 {
        format!("{mant}e{sign}0{digits}")
    } else {
        format!("{mant}e{sign}{digits}")
    }
}

/// Go's encoding/json: keys sorted, `<`, `>`, `&` escaped; `indented` as MarshalIndent
/// with four spaces.
pub fn go_json(v: &Value, indented: bool) -> String {
    let mut out = String::new();
    write_json(v, indented, 0, &mut out);
    out
}

fn write_json(v: &Value, indented: bool, depth: usize, out: &mut String) {
    let newline = |out: &mut String, depth: usize| {
        if indented {
            out.push('\n');
            for _ in 0..depth {
                out.push_str("    ");
            }
        }
    };
    match v {
        Value::Null => out.push_str("null"),
        Value::Bool(b) => out.push_str(if *b { "true" } else { "false" }),
        Value::Number(n) => {
            if n.is_f64() {
                let f = n.as_f64().unwrap_or(0.0);
                let a = f.abs();
                if a != 0.0 && !(1e-6..1e21).contains(&a) {
                    out.push_str(&go_exponent(f, false));
                } else {
                    let _ = write!(out, "{f}");
                }
            } else {
                out.push_str(&n.to_string());
            }
        }
        Value::String(s) => write_json_string(s, out),
        Value::Array(a) => {
            if a.is_empty() {
                out.push_str("[]");
                return;
            }
            out.push('[');
            for (i, item) in a.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_json(item, indented, depth + 1, out);
            }
            newline(out, depth);
            out.push(']');
        }
        Value::Object(m) => {
            if m.is_empty() {
                out.push_str("{}");
                return;
            }
            out.push('{');
            for (i, (k, item)) in m.iter().enumerate() {
                if i > 0 {
                    out.push(',');
                }
                newline(out, depth + 1);
                write_json_string(k, out);
                out.push(':');
                if indented {
                    out.push(' ');
                }
                write_json(item, indented, depth + 1, out);
            }
            newline(out, depth);
            out.push('}');
        }
    }
}

fn write_json_string(s: &str, out: &mut String) {
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\r' => out.push_str("\\r"),
            '\t' => out.push_str("\\t"),
            '<' | '>' | '&' | '\u{2028}' | '\u{2029}' => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c if (c as u32) < 0x20 => {
                let _ = write!(out, "\\u{:04x}", c as u32);
            }
            c => out.push(c),
        }
    }
    out.push('"');
}

/// Go's type name of a decoded JSON value, for client-go's error messages.
fn go_type(v: &Value) -> &'static str {
    match v {
        Value::Null => "<nil>",
        Value::Bool(_) => "bool",
        Value::Number(n) if n.is_f64() => "float64",
        Value::Number(_) => "int64",
        Value::String(_) => "string",
        Value::Array(_) => "[]interface {}",
        Value::Object(_) => "map[string]interface {}",
    }
}

#[cfg(test)]
mod tests;

//! Prometheus' text exposition format 0.0.4 as Kubernetes' kubelet writes it (Go's
//! `expfmt`): the kubelet's per-container endpoints are read by metrics-server and
//! Prometheus, which expect sample timestamps and Go's number formatting.

use std::fmt::Write;

/// What `/metrics/resource` and `/metrics/cadvisor` answer with.
pub const CONTENT_TYPE: &str = "text/plain; version=0.0.4; charset=utf-8";

/// A number as Go's `strconv.FormatFloat(v, 'g', -1, 64)`: the shortest digits that read
/// back, with an exponent (`1.2345e+06`) when it is below -4 or at least 6.
pub fn float(v: f64) -> String {
    if v.is_nan() {
        return "NaN".into();
    }
    if v.is_infinite() {
        return if v > 0.0 {
            "+Inf".into()
        } else {
            "-Inf".into()
        };
    }
    if v == 0.0 {
        return "0".into();
    }
    let sci = format!("{v:e}");
    let (mantissa, exp) = sci.split_once('e').unwrap_or((sci.as_str(), "0"));
    let exp: i32 = exp.parse().unwrap_or(0);
    if !(-4..6).contains(&exp) {
        let sign = if exp < 0 { '-' } else { '+' };
        format!("{mantissa}e{sign}{:02}", exp.abs())
    } else {
        format!("{v}")
    }
}

/// A label value with `\`, `"` and newlines escaped.
pub fn escape(value: &str) -> String {
    let mut out = String::with_capacity(value.len());
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
    out
}

/// One metric family: its HELP and TYPE lines, then its samples.
pub struct FamilyWriter<'a> {
    out: &'a mut String,
    name: &'static str,
}

impl<'a> FamilyWriter<'a> {
    pub fn new(out: &'a mut String, name: &'static str, kind: &str, help: &str) -> Self {
        let _ = writeln!(out, "# HELP {name} {help}");
        let _ = writeln!(out, "# TYPE {name} {kind}");
        FamilyWriter { out, name }
    }

    /// A sample; `labels` in the order given (callers give them sorted by name, as Go does).
    pub fn sample(&mut self, labels: &[(&str, &str)], value: f64, timestamp_ms: Option<i64>) {
        self.out.push_str(self.name);
        if !labels.is_empty() {
            self.out.push('{');
            for (i, (k, v)) in labels.iter().enumerate() {
                if i > 0 {
                    self.out.push(',');
                }
                let _ = write!(self.out, "{k}=\"{}\"", escape(v));
            }
            self.out.push('}');
        }
        let _ = write!(self.out, " {}", float(value));
        if let Some(t) = timestamp_ms {
            let _ = write!(self.out, " {t}");
        }
        self.out.push('\n');
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_are_formatted_as_go_does() {
        for (v, want) in [
            (0.0, "0"),
            (0.012345, "0.012345"),
            (123.45, "123.45"),
            (100.0, "100"),
            (999_999.0, "999999"),
            (1_234_500.0, "1.2345e+06"),
            (1.5e9, "1.5e+09"),
            (1_733_483_900.0, "1.7334839e+09"),
            (0.0001, "0.0001"),
            (0.000015, "1.5e-05"),
            (1e21, "1e+21"),
            (-2.5, "-2.5"),
        ] {
            assert_eq!(float(v), want, "{v}");
        }
    }

    #[test]
    fn label_values_are_escaped() {
        assert_eq!(escape("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
    }
}

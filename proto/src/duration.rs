//! One duration type for every flag and config file: Go's `time.Duration` (a signed count of
//! nanoseconds, ±~292 years) with `time.ParseDuration`'s grammar and `Duration.String()`'s
//! format, as Kubernetes' flags and `metav1.Duration` fields spell durations (`300ms`,
//! `1.5h`, `1m30s`, `2h45m`, `-1.5h`; units ns, us, µs, ms, s, m, h).
//!
//! Parsing is integer arithmetic as in Go (no float rounding), and a value outside the range
//! is an error, never a panic or a wrap. Flags that hold a `std::time::Duration` use
//! [`parse_flag`] (surrounding blanks allowed, negative refused) or [`parse_flag_seconds`]
//! (the same, and a bare number counts as seconds, as the kubelet's and ctl's flags always
//! took it).

use std::fmt;
use std::str::FromStr;

const NANOSECOND: u64 = 1;
const MICROSECOND: u64 = 1_000 * NANOSECOND;
const MILLISECOND: u64 = 1_000 * MICROSECOND;
const SECOND: u64 = 1_000 * MILLISECOND;
const MINUTE: u64 = 60 * SECOND;
const HOUR: u64 = 60 * MINUTE;
/// |i64::MIN|: the magnitude limit while parsing (the sign is applied last, as Go does).
const LIMIT: u64 = 1 << 63;

/// A signed span of time in nanoseconds, as Go's `time.Duration`.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Duration(i64);

/// Why a duration did not parse or convert.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DurationError {
    #[error("invalid duration {0:?}")]
    Invalid(String),
    #[error("missing unit in duration {0:?} (units: ns, us, ms, s, m, h)")]
    MissingUnit(String),
    #[error("unknown unit {unit:?} in duration {input:?} (units: ns, us, ms, s, m, h)")]
    UnknownUnit { unit: String, input: String },
    #[error("duration {0:?} is out of range (at most 2562047h47m16.854775807s)")]
    Overflow(String),
    #[error("negative duration {0} where a non-negative one is needed")]
    Negative(Duration),
}

impl Duration {
    pub const ZERO: Duration = Duration(0);
    pub const MAX: Duration = Duration(i64::MAX);
    pub const MIN: Duration = Duration(i64::MIN);

    pub const fn from_nanos(n: i64) -> Self {
        Duration(n)
    }

    pub const fn as_nanos(self) -> i64 {
        self.0
    }

    pub const fn is_negative(self) -> bool {
        self.0 < 0
    }

    /// As a `std::time::Duration`; a negative duration has none.
    pub fn to_std(self) -> Result<std::time::Duration, DurationError> {
        u64::try_from(self.0)
            .map(std::time::Duration::from_nanos)
            .map_err(|_| DurationError::Negative(self))
    }
}

impl TryFrom<std::time::Duration> for Duration {
    type Error = DurationError;

    fn try_from(d: std::time::Duration) -> Result<Self, Self::Error> {
        i64::try_from(d.as_nanos())
            .map(Duration)
            .map_err(|_| DurationError::Overflow(format!("{d:?}")))
    }
}

impl FromStr for Duration {
    type Err = DurationError;

    /// Go's `time.ParseDuration`: `[-+]?([0-9]*(\.[0-9]*)?[a-z]+)+`, or `0` alone.
    fn from_str(input: &str) -> Result<Self, Self::Err> {
        let invalid = || DurationError::Invalid(input.to_string());
        let overflow = || DurationError::Overflow(input.to_string());
        let (neg, mut s) = match input.as_bytes().first() {
            Some(b'-') => (true, &input[1..]),
            Some(b'+') => (false, &input[1..]),
            _ => (false, input),
        };
        if s == "0" {
            return Ok(Duration::ZERO);
        }
        if s.is_empty() {
            return Err(invalid());
        }
        let mut total: u64 = 0;
        while !s.is_empty() {
            if !s.starts_with(|c: char| c == '.' || c.is_ascii_digit()) {
                return Err(invalid());
            }
            let before = s.len();
            let (whole, rest) = leading_int(s).ok_or_else(overflow)?;
            s = rest;
            let had_whole = s.len() != before;
            let (mut frac, mut scale, mut had_frac) = (0u64, 1f64, false);
            if let Some(rest) = s.strip_prefix('.') {
                let before = rest.len();
                (frac, scale, s) = leading_fraction(rest);
                had_frac = s.len() != before;
            }
            if !had_whole && !had_frac {
                // "." or ".s"
                return Err(invalid());
            }
            let unit_len = s
                .find(|c: char| c == '.' || c.is_ascii_digit())
                .unwrap_or(s.len());
            if unit_len == 0 {
                return Err(DurationError::MissingUnit(input.to_string()));
            }
            let (unit_name, rest) = s.split_at(unit_len);
            s = rest;
            let unit = unit_nanos(unit_name).ok_or_else(|| DurationError::UnknownUnit {
                unit: unit_name.to_string(),
                input: input.to_string(),
            })?;
            if whole > LIMIT / unit {
                return Err(overflow());
            }
            let mut v = whole * unit;
            if frac > 0 {
                // Go's own rounding: float64(f) * (float64(unit) / scale), truncated. The
                // product is below `unit`, so the cast cannot saturate.
                v += (frac as f64 * (unit as f64 / scale)) as u64;
                if v > LIMIT {
                    return Err(overflow());
                }
            }
            total = total
                .checked_add(v)
                .filter(|t| *t <= LIMIT)
                .ok_or_else(overflow)?;
        }
        if neg {
            // total <= 2^63, so -total fits (i64::MIN included).
            Ok(Duration((total as i128).wrapping_neg() as i64))
        } else {
            i64::try_from(total).map(Duration).map_err(|_| overflow())
        }
    }
}

fn unit_nanos(unit: &str) -> Option<u64> {
    Some(match unit {
        "ns" => NANOSECOND,
        // U+00B5 (micro sign) and U+03BC (Greek mu), as Go accepts both.
        "us" | "\u{00b5}s" | "\u{03bc}s" => MICROSECOND,
        "ms" => MILLISECOND,
        "s" => SECOND,
        "m" => MINUTE,
        "h" => HOUR,
        _ => return None,
    })
}

/// Leading decimal digits as an integer; `None` when the value exceeds 2^63.
fn leading_int(s: &str) -> Option<(u64, &str)> {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let mut x: u64 = 0;
    for b in s[..end].bytes() {
        if x > LIMIT / 10 {
            return None;
        }
        x = x * 10 + u64::from(b - b'0');
        if x > LIMIT {
            return None;
        }
    }
    Some((x, &s[end..]))
}

/// Leading fraction digits: the value, its scale (10^digits kept) and the rest. Digits past
/// what fits are dropped (precision beyond a nanosecond), never an error.
fn leading_fraction(s: &str) -> (u64, f64, &str) {
    let end = s.find(|c: char| !c.is_ascii_digit()).unwrap_or(s.len());
    let (mut x, mut scale, mut full) = (0u64, 1f64, false);
    for b in s[..end].bytes() {
        if full {
            continue;
        }
        if x > (LIMIT - 1) / 10 {
            full = true;
            continue;
        }
        let y = x * 10 + u64::from(b - b'0');
        if y > LIMIT {
            full = true;
            continue;
        }
        x = y;
        scale *= 10.0;
    }
    (x, scale, &s[end..])
}

impl fmt::Display for Duration {
    /// Go's `Duration.String()`: `1h30m0s`, `1.5s`, `300ms`, `1µs`, `0s`, `-2m0s`.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let u = self.0.unsigned_abs();
        let sign = if self.0 < 0 { "-" } else { "" };
        if u == 0 {
            return f.write_str("0s");
        }
        if u < SECOND {
            let (unit, digits, one) = match u {
                _ if u < MICROSECOND => ("ns", 0, NANOSECOND),
                _ if u < MILLISECOND => ("µs", 3, MICROSECOND),
                _ => ("ms", 6, MILLISECOND),
            };
            let frac = fraction(u % one, digits);
            return write!(f, "{sign}{}{frac}{unit}", u / one);
        }
        let frac = fraction(u % SECOND, 9);
        let secs = u / SECOND;
        let (h, m, s) = (secs / 3600, secs / 60 % 60, secs % 60);
        if h > 0 {
            write!(f, "{sign}{h}h{m}m{s}{frac}s")
        } else if m > 0 {
            write!(f, "{sign}{m}m{s}{frac}s")
        } else {
            write!(f, "{sign}{s}{frac}s")
        }
    }
}

/// `.ddd` with trailing zeros dropped, or nothing for a whole number.
fn fraction(v: u64, digits: usize) -> String {
    if v == 0 || digits == 0 {
        return String::new();
    }
    let s = format!("{v:0digits$}");
    format!(".{}", s.trim_end_matches('0'))
}

impl serde::Serialize for Duration {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Duration {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        let s = <std::borrow::Cow<'de, str>>::deserialize(d)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// A non-negative duration flag as a `std::time::Duration`: Go's grammar, blanks around it
/// allowed. Usable as clap's `value_parser`.
pub fn parse_flag(s: &str) -> Result<std::time::Duration, DurationError> {
    s.trim().parse::<Duration>()?.to_std()
}

/// As [`parse_flag`], and a bare number (`7`, `1.5`) is seconds.
pub fn parse_flag_seconds(s: &str) -> Result<std::time::Duration, DurationError> {
    let t = s.trim();
    let bare = !t.is_empty()
        && t.bytes().all(|b| b.is_ascii_digit() || b == b'.')
        && t.bytes().filter(|b| *b == b'.').count() <= 1;
    if bare {
        return format!("{t}s")
            .parse::<Duration>()
            .map_err(|_| DurationError::Invalid(s.to_string()))?
            .to_std();
    }
    parse_flag(s)
}

#[cfg(test)]
mod tests {
    use super::*;

    const NS: i64 = 1;
    const US: i64 = 1_000;
    const MS: i64 = 1_000_000;
    const S: i64 = 1_000_000_000;
    const M: i64 = 60 * S;
    const H: i64 = 60 * M;

    /// Go's `parseDurationTests` (src/time/time_test.go), every valid row.
    #[test]
    fn parses_go_examples() {
        let cases: &[(&str, i64)] = &[
            ("0", 0),
            ("5s", 5 * S),
            ("30s", 30 * S),
            ("1478s", 1478 * S),
            ("-5s", -5 * S),
            ("+5s", 5 * S),
            ("-0", 0),
            ("+0", 0),
            ("5.0s", 5 * S),
            ("5.6s", 5 * S + 600 * MS),
            ("5.s", 5 * S),
            (".5s", 500 * MS),
            ("1.0s", S),
            ("1.00s", S),
            ("1.004s", S + 4 * MS),
            ("1.0040s", S + 4 * MS),
            ("100.00100s", 100 * S + MS),
            ("10ns", 10 * NS),
            ("11us", 11 * US),
            ("12µs", 12 * US),
            ("12μs", 12 * US),
            ("13ms", 13 * MS),
            ("14s", 14 * S),
            ("15m", 15 * M),
            ("16h", 16 * H),
            ("3h30m", 3 * H + 30 * M),
            ("10.5s4m", 4 * M + 10 * S + 500 * MS),
            ("-2m3.4s", -(2 * M + 3 * S + 400 * MS)),
            (
                "1h2m3s4ms5us6ns",
                H + 2 * M + 3 * S + 4 * MS + 5 * US + 6 * NS,
            ),
            ("39h9m14.425s", 39 * H + 9 * M + 14 * S + 425 * MS),
            ("52763797000ns", 52763797000 * NS),
            ("0.3333333333333333333h", 20 * M),
            ("9007199254740993ns", (1 << 53) + NS),
            ("9223372036854775807ns", i64::MAX),
            ("9223372036854775.807us", i64::MAX),
            ("9223372036s854ms775us807ns", i64::MAX),
            ("-9223372036854775808ns", i64::MIN),
            ("-9223372036854775.808us", i64::MIN),
            ("-9223372036s854ms775us808ns", i64::MIN),
            ("-2562047h47m16.854775808s", i64::MIN),
            ("0.100000000000000000000h", 6 * M),
            ("0.830103483285477580700h", 49 * M + 48 * S + 372539827 * NS),
            // The spellings this project's flags and files use.
            ("300ms", 300 * MS),
            ("1.5h", 90 * M),
            ("1m30s", 90 * S),
            ("2h45m", 2 * H + 45 * M),
        ];
        for (input, want) in cases {
            assert_eq!(input.parse::<Duration>(), Ok(Duration(*want)), "{input}");
        }
    }

    /// Go's `parseDurationErrorTests` and its overflow rows: errors, never panics.
    #[test]
    fn rejects_go_error_examples_and_overflow() {
        for input in [
            "",
            "3",
            "-",
            "s",
            ".",
            "-.",
            ".s",
            "+.s",
            "1d",
            "\u{85}\u{85}",
            "\u{FFFD}",
            "9223372036854775810ns",
            "9223372036854775808ns",
            "9223372036854775.808us",
            "9223372036854ms775us808ns",
            "-9223372036854775809ns",
            "2562048h",
            "99999999999999999999h",
            "1e3s",
            " 5s",
        ] {
            assert!(input.parse::<Duration>().is_err(), "{input:?} parsed");
        }
        assert!(matches!(
            "9223372036854775808ns".parse::<Duration>(),
            Err(DurationError::Overflow(_))
        ));
        assert!(matches!(
            "5d".parse::<Duration>(),
            Err(DurationError::UnknownUnit { .. })
        ));
        assert!(matches!(
            "10".parse::<Duration>(),
            Err(DurationError::MissingUnit(_))
        ));
    }

    /// Go's `durationTests` for `String()`.
    #[test]
    fn displays_like_go() {
        let cases: &[(i64, &str)] = &[
            (0, "0s"),
            (1, "1ns"),
            (1100, "1.1µs"),
            (2200 * US, "2.2ms"),
            (3300 * MS, "3.3s"),
            (4 * M + 5 * S, "4m5s"),
            (4 * M + 5001 * MS, "4m5.001s"),
            (5 * H + 6 * M + 7001 * MS, "5h6m7.001s"),
            (8 * M + 1, "8m0.000000001s"),
            (i64::MAX, "2562047h47m16.854775807s"),
            (i64::MIN, "-2562047h47m16.854775808s"),
            (-S, "-1s"),
            (90 * M, "1h30m0s"),
            (300 * MS, "300ms"),
        ];
        for (nanos, want) in cases {
            assert_eq!(Duration(*nanos).to_string(), *want);
            // What Display writes parses back to the same value.
            assert_eq!(want.parse::<Duration>(), Ok(Duration(*nanos)), "{want}");
        }
    }

    #[test]
    fn flags_as_std_durations() {
        use std::time::Duration as Std;
        assert_eq!(parse_flag(" 1m30s "), Ok(Std::from_secs(90)));
        assert_eq!(parse_flag("0"), Ok(Std::ZERO));
        assert!(matches!(parse_flag("-1s"), Err(DurationError::Negative(_))));
        assert!(parse_flag("7").is_err());
        assert_eq!(parse_flag_seconds("7"), Ok(Std::from_secs(7)));
        assert_eq!(parse_flag_seconds("1.5"), Ok(Std::from_millis(1500)));
        assert_eq!(parse_flag_seconds("250ms"), Ok(Std::from_millis(250)));
        assert_eq!(parse_flag_seconds("2h45m"), Ok(Std::from_secs(9900)));
        assert!(parse_flag_seconds("1.2.3").is_err());
        assert!(parse_flag_seconds("7d").is_err());
        assert!(parse_flag_seconds("").is_err());
        assert!(parse_flag_seconds("99999999999999999999").is_err());
    }

    /// kube-proxy's own parser's cases (kube-proxy/src/duration.rs), kept as it went.
    #[test]
    fn kube_proxy_flag_examples() {
        use std::time::Duration as Std;
        assert_eq!(parse_flag("1s"), Ok(Std::from_secs(1)));
        assert_eq!(parse_flag("500ms"), Ok(Std::from_millis(500)));
        assert_eq!(parse_flag("1h30m"), Ok(Std::from_secs(5400)));
        assert_eq!(parse_flag("0"), Ok(Std::ZERO));
        assert!(parse_flag("10").is_err());
        assert!(parse_flag("5d").is_err());
        assert!(parse_flag("").is_err());
    }

    #[test]
    fn serde_round_trip() {
        #[derive(serde::Serialize, serde::Deserialize, PartialEq, Debug)]
        struct Lease {
            duration: Duration,
        }
        let l: Lease = serde_json::from_str(r#"{"duration":"1m30s"}"#).unwrap();
        assert_eq!(l.duration, Duration(90 * S));
        assert_eq!(
            serde_json::to_string(&l).unwrap(),
            r#"{"duration":"1m30s"}"#
        );
        let e = serde_json::from_str::<Lease>(r#"{"duration":"5d"}"#).unwrap_err();
        assert!(e.to_string().contains("unknown unit"), "{e}");
    }

    #[test]
    fn std_conversions() {
        assert_eq!(
            Duration(-S).to_std(),
            Err(DurationError::Negative(Duration(-S)))
        );
        assert_eq!(
            Duration::try_from(std::time::Duration::from_secs(5)),
            Ok(Duration(5 * S))
        );
        assert!(Duration::try_from(std::time::Duration::MAX).is_err());
    }
}

//! Kubernetes resource quantities (`250m`, `1.5Gi`, `1e3`), held exactly.
//!
//! A [`Quantity`] is an integer count of nano-units (`i128`) plus the notation family it was
//! written in. Nano is Kubernetes' finest precision too: anything finer is rounded away from
//! zero at parse time, as Kubernetes does. `i128` nano-units reach about 1.7e29 units, far
//! beyond `8Ei` (9.2e18), so no real quantity overflows; anything larger is refused.
//!
//! Equality, ordering and hashing look at the value only: `1Gi == 1073741824`.

use std::cmp::Ordering;
use std::fmt;
use std::hash::{Hash, Hasher};
use std::iter::Sum;
use std::ops::{Add, AddAssign, Mul, Sub, SubAssign};
use std::str::FromStr;

/// Kubernetes' message, so users can search for it.
const FORMAT_RULE: &str =
    "quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'";

const NANO_PER_UNIT: i128 = 1_000_000_000;

/// The range is symmetric, `±i128::MAX` nano-units: `i128::MIN` has no positive twin, so
/// it would print as text that parses as too large.
const MIN_NANO: i128 = -i128::MAX;

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum QuantityError {
    #[error("invalid quantity {0:?}: {FORMAT_RULE}")]
    Invalid(String),
    #[error("quantity {0:?} is too large")]
    TooLarge(String),
    #[error("quantity {0:?} does not fit in a 64-bit integer")]
    OutOfRange(String),
}

/// The notation family a quantity was written in; display keeps it, as Kubernetes does.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum Format {
    /// Powers of ten with SI suffixes: `n u m "" k M G T P E`.
    #[default]
    DecimalSI,
    /// Powers of 1024: `Ki Mi Gi Ti Pi Ei`.
    BinarySI,
    /// Powers of ten as an exponent: `1e3`, `5E-3`.
    DecimalExponent,
}

#[derive(Debug, Clone, Copy, Default)]
pub struct Quantity {
    nano: i128,
    format: Format,
}

impl Quantity {
    /// A quantity of `nano` nano-units.
    pub const fn from_nano(nano: i128, format: Format) -> Self {
        let nano = if nano < MIN_NANO { MIN_NANO } else { nano };
        Self { nano, format }
    }

    /// `millis` thousandths (CPU: `250m`).
    pub const fn from_milli(millis: i64) -> Self {
        Self {
            nano: millis as i128 * 1_000_000,
            format: Format::DecimalSI,
        }
    }

    /// A whole number of units (bytes, pods, cores).
    pub const fn from_value(value: i64, format: Format) -> Self {
        Self {
            nano: value as i128 * NANO_PER_UNIT,
            format,
        }
    }

    pub const fn nano(&self) -> i128 {
        self.nano
    }

    pub const fn format(&self) -> Format {
        self.format
    }

    pub const fn is_zero(&self) -> bool {
        self.nano == 0
    }

    /// Thousandths, rounded away from zero as Kubernetes' MilliValue does
    /// (`100n` -> 1); saturates at the `i64` bounds.
    pub fn milli_value(&self) -> i64 {
        saturate(div_away_from_zero(self.nano, 1_000_000))
    }

    /// Whole units, rounded away from zero as Kubernetes' Value does (`1500m` -> 2);
    /// saturates at the `i64` bounds (`8Ei` is one more than `i64::MAX`).
    pub fn value(&self) -> i64 {
        saturate(div_away_from_zero(self.nano, NANO_PER_UNIT))
    }

    /// [`Self::value`] without saturation.
    pub fn try_value(&self) -> Option<i64> {
        i64::try_from(div_away_from_zero(self.nano, NANO_PER_UNIT)).ok()
    }

    /// [`Self::milli_value`] without saturation.
    pub fn try_milli_value(&self) -> Option<i64> {
        i64::try_from(div_away_from_zero(self.nano, 1_000_000)).ok()
    }

    /// Approximate value in units, for ratios and scores.
    pub fn as_f64(&self) -> f64 {
        self.nano as f64 / NANO_PER_UNIT as f64
    }

    pub fn checked_add(&self, other: &Quantity) -> Option<Quantity> {
        Some(Self {
            nano: self
                .nano
                .checked_add(other.nano)
                .filter(|n| *n >= MIN_NANO)?,
            format: self.result_format(other),
        })
    }

    pub fn checked_sub(&self, other: &Quantity) -> Option<Quantity> {
        Some(Self {
            nano: self
                .nano
                .checked_sub(other.nano)
                .filter(|n| *n >= MIN_NANO)?,
            format: self.result_format(other),
        })
    }

    pub fn checked_mul(&self, factor: i64) -> Option<Quantity> {
        Some(Self {
            nano: self
                .nano
                .checked_mul(i128::from(factor))
                .filter(|n| *n >= MIN_NANO)?,
            format: self.format,
        })
    }

    /// The left operand's notation wins, except that a zero accumulator (`Default`) takes
    /// the other's, so summing `Gi` amounts still prints in `Gi`.
    fn result_format(&self, other: &Quantity) -> Format {
        if self.nano == 0 {
            other.format
        } else {
            self.format
        }
    }
}

fn saturate(v: i128) -> i64 {
    i64::try_from(v).unwrap_or(if v < 0 { i64::MIN } else { i64::MAX })
}

fn div_away_from_zero(n: i128, d: i128) -> i128 {
    let q = n / d;
    if n % d == 0 {
        q
    } else if n < 0 {
        q - 1
    } else {
        q + 1
    }
}

impl PartialEq for Quantity {
    fn eq(&self, other: &Self) -> bool {
        self.nano == other.nano
    }
}

impl Eq for Quantity {}

impl Hash for Quantity {
    fn hash<H: Hasher>(&self, state: &mut H) {
        self.nano.hash(state);
    }
}

impl PartialOrd for Quantity {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl Ord for Quantity {
    fn cmp(&self, other: &Self) -> Ordering {
        self.nano.cmp(&other.nano)
    }
}

// The operators saturate rather than panic: no sum of real resource amounts comes near
// 1.7e29 units, and a daemon must not crash on a hostile manifest. Use `checked_*` to detect it.
impl Add for Quantity {
    type Output = Quantity;
    fn add(self, rhs: Quantity) -> Quantity {
        Quantity {
            nano: self.nano.saturating_add(rhs.nano).max(MIN_NANO),
            format: self.result_format(&rhs),
        }
    }
}

impl Sub for Quantity {
    type Output = Quantity;
    fn sub(self, rhs: Quantity) -> Quantity {
        Quantity {
            nano: self.nano.saturating_sub(rhs.nano).max(MIN_NANO),
            format: self.result_format(&rhs),
        }
    }
}

impl AddAssign for Quantity {
    fn add_assign(&mut self, rhs: Quantity) {
        *self = *self + rhs;
    }
}

impl SubAssign for Quantity {
    fn sub_assign(&mut self, rhs: Quantity) {
        *self = *self - rhs;
    }
}

impl Mul<i64> for Quantity {
    type Output = Quantity;
    fn mul(self, rhs: i64) -> Quantity {
        Quantity {
            nano: self.nano.saturating_mul(i128::from(rhs)).max(MIN_NANO),
            format: self.format,
        }
    }
}

impl Sum for Quantity {
    fn sum<I: Iterator<Item = Quantity>>(iter: I) -> Quantity {
        iter.fold(Quantity::default(), Add::add)
    }
}

impl<'a> Sum<&'a Quantity> for Quantity {
    fn sum<I: Iterator<Item = &'a Quantity>>(iter: I) -> Quantity {
        iter.copied().sum()
    }
}

/// What a suffix multiplies by: `1024^binary_power * 10^decimal_exponent`.
struct Suffix {
    binary_power: u32,
    decimal_exponent: i32,
    format: Format,
}

fn parse_suffix(s: &str) -> Option<Suffix> {
    let dec = |e| {
        Some(Suffix {
            binary_power: 0,
            decimal_exponent: e,
            format: Format::DecimalSI,
        })
    };
    let bin = |p| {
        Some(Suffix {
            binary_power: p,
            decimal_exponent: 0,
            format: Format::BinarySI,
        })
    };
    match s {
        "" => dec(0),
        "n" => dec(-9),
        "u" => dec(-6),
        "m" => dec(-3),
        "k" => dec(3),
        "M" => dec(6),
        "G" => dec(9),
        "T" => dec(12),
        "P" => dec(15),
        "E" => dec(18),
        "Ki" => bin(1),
        "Mi" => bin(2),
        "Gi" => bin(3),
        "Ti" => bin(4),
        "Pi" => bin(5),
        "Ei" => bin(6),
        _ => {
            let rest = s.strip_prefix(['e', 'E'])?;
            // Kubernetes allows a signed exponent ("1e+3", "5e-3"); reject anything else
            // i32::from_str might tolerate.
            if rest.is_empty()
                || !rest
                    .trim_start_matches(['+', '-'])
                    .bytes()
                    .all(|b| b.is_ascii_digit())
            {
                return None;
            }
            let e: i32 = rest.parse().ok()?;
            Some(Suffix {
                binary_power: 0,
                decimal_exponent: e,
                format: Format::DecimalExponent,
            })
        }
    }
}

impl FromStr for Quantity {
    type Err = QuantityError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let invalid = || QuantityError::Invalid(s.to_string());
        let too_large = || QuantityError::TooLarge(s.to_string());

        let (negative, unsigned) = match s.as_bytes().first() {
            Some(b'-') => (true, &s[1..]),
            Some(b'+') => (false, &s[1..]),
            _ => (false, s),
        };
        let number_len = unsigned
            .bytes()
            .take_while(|b| b.is_ascii_digit() || *b == b'.')
            .count();
        let (number, suffix) = unsigned.split_at(number_len);
        let (int_part, frac_part) = match number.split_once('.') {
            Some((i, f)) => (i, f),
            None => (number, ""),
        };
        if frac_part.contains('.') || (int_part.is_empty() && frac_part.is_empty()) {
            return Err(invalid());
        }
        let suffix = parse_suffix(suffix).ok_or_else(invalid)?;

        // value = digits * 10^(-frac_len) * 1024^p * 10^e, in nano-units times 10^9.
        let frac_part = frac_part.trim_end_matches('0');
        let digits = format!("{}{}", int_part, frac_part);
        let digits = digits.trim_start_matches('0');
        let mut mantissa: i128 = 0;
        for b in digits.bytes() {
            mantissa = mantissa
                .checked_mul(10)
                .and_then(|m| m.checked_add(i128::from(b - b'0')))
                .ok_or_else(too_large)?;
        }
        if mantissa == 0 {
            return Ok(Quantity {
                nano: 0,
                format: suffix.format,
            });
        }
        mantissa = mantissa
            .checked_mul(1024i128.pow(suffix.binary_power))
            .ok_or_else(too_large)?;
        let frac_len = i64::try_from(frac_part.len()).map_err(|_| invalid())?;
        let pow10 = 9 - frac_len + i64::from(suffix.decimal_exponent);
        let nano = if pow10 >= 0 {
            let factor = u32::try_from(pow10)
                .ok()
                .and_then(|p| 10i128.checked_pow(p))
                .ok_or_else(too_large)?;
            mantissa.checked_mul(factor).ok_or_else(too_large)?
        } else {
            // Finer than a nano-unit: round up to the next nano, as Kubernetes does.
            match u32::try_from(-pow10)
                .ok()
                .and_then(|p| 10i128.checked_pow(p))
            {
                Some(divisor) => div_away_from_zero(mantissa, divisor),
                None => 1,
            }
        };
        Ok(Quantity {
            nano: if negative { -nano } else { nano },
            format: suffix.format,
        })
    }
}

const DECIMAL_SUFFIXES: [(i32, &str); 10] = [
    (-9, "n"),
    (-6, "u"),
    (-3, "m"),
    (0, ""),
    (3, "k"),
    (6, "M"),
    (9, "G"),
    (12, "T"),
    (15, "P"),
    (18, "E"),
];
const BINARY_SUFFIXES: [&str; 7] = ["", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];

impl fmt::Display for Quantity {
    /// Kubernetes' canonical form: the largest suffix of the quantity's own family that
    /// keeps the number an exact integer (`1024Mi` -> `1Gi`, `1.5` -> `1500m`). Binary
    /// quantities under 1024 units or with a fraction print in decimal (`0.5Ki` -> `512`),
    /// and a whole number not divisible by 1024 prints without suffix (`1.5Ki` -> `1536`).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.nano == 0 {
            return f.write_str("0");
        }
        let whole = self.nano % NANO_PER_UNIT == 0;
        let units = self.nano / NANO_PER_UNIT;
        if self.format == Format::BinarySI && whole && units.unsigned_abs() >= 1024 {
            let mut amount = units;
            let mut power = 0;
            while power < BINARY_SUFFIXES.len() - 1 && amount % 1024 == 0 {
                amount /= 1024;
                power += 1;
            }
            return write!(f, "{amount}{}", BINARY_SUFFIXES[power]);
        }

        // Strip powers of ten, then step the exponent down to a multiple of three.
        let mut amount = self.nano;
        let mut exponent: i32 = -9;
        while amount % 10 == 0 {
            amount /= 10;
            exponent += 1;
        }
        let r = exponent.rem_euclid(3);
        amount *= 10i128.pow(r.unsigned_abs());
        exponent -= r;
        if self.format == Format::DecimalExponent {
            return if exponent == 0 {
                write!(f, "{amount}")
            } else {
                write!(f, "{amount}e{exponent}")
            };
        }
        // Beyond exa there is no suffix: print a multiple of exa (cannot overflow, since
        // the result is smaller than `nano`).
        while exponent > 18 {
            amount *= 1000;
            exponent -= 3;
        }
        let suffix = DECIMAL_SUFFIXES
            .iter()
            .find(|(e, _)| *e == exponent)
            .map_or("", |(_, s)| *s);
        write!(f, "{amount}{suffix}")
    }
}

impl serde::Serialize for Quantity {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.collect_str(self)
    }
}

impl<'de> serde::Deserialize<'de> for Quantity {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        let s = String::deserialize(deserializer)?;
        s.parse().map_err(serde::de::Error::custom)
    }
}

/// CPU in millicores (`"500m"` -> 500, `"2"` -> 2000, `"100n"` -> 1).
pub fn parse_cpu_millis(s: &str) -> Result<i64, QuantityError> {
    let q: Quantity = s.parse()?;
    q.try_milli_value()
        .ok_or_else(|| QuantityError::OutOfRange(s.to_string()))
}

/// Bytes, rounded up to a whole byte (`"128Mi"` -> 134217728, `"1G"` -> 1000000000).
pub fn parse_bytes(s: &str) -> Result<i64, QuantityError> {
    let q: Quantity = s.parse()?;
    q.try_value()
        .ok_or_else(|| QuantityError::OutOfRange(s.to_string()))
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Found by proptest (proto/tests/fuzz.rs): `Quantity::from_nano(i128::MIN)`, also
    /// reached by saturating subtraction, printed as text that did not parse back.
    #[test]
    fn the_most_negative_quantity_prints_as_text_that_parses() {
        let lowest = Quantity::from_nano(i128::MIN, Format::DecimalSI);
        let below = Quantity::from_nano(-i128::MAX, Format::DecimalSI) - Quantity::from_milli(1);
        let times = Quantity::from_nano(-i128::MAX, Format::DecimalSI) * 2;
        for q in [lowest, below, times] {
            let back: Quantity = q.to_string().parse().expect("prints as a valid quantity");
            assert_eq!(back, q);
        }
        let min = Quantity::from_nano(-i128::MAX, Format::DecimalSI);
        assert!(
            min.checked_sub(&Quantity::from_nano(1, Format::DecimalSI))
                .is_none()
        );
        assert!(
            min.checked_add(&Quantity::from_nano(-1, Format::DecimalSI))
                .is_none()
        );
        assert!(
            Quantity::from_nano(i128::MAX, Format::DecimalSI)
                .checked_mul(-1)
                .is_some()
        );
    }

    fn q(s: &str) -> Quantity {
        s.parse().unwrap_or_else(|e| panic!("{s}: {e}"))
    }

    const GI: i128 = 1 << 30;

    #[test]
    fn parses_exact_values() {
        let n = NANO_PER_UNIT;
        let cases: &[(&str, i128, Format)] = &[
            ("250m", 250_000_000, Format::DecimalSI),
            ("1.5", 1_500_000_000, Format::DecimalSI),
            ("128Mi", 128 * (1 << 20) * n, Format::BinarySI),
            ("1G", 1_000_000_000 * n, Format::DecimalSI),
            ("0.1", 100_000_000, Format::DecimalSI),
            ("1e3", 1000 * n, Format::DecimalExponent),
            ("1E3", 1000 * n, Format::DecimalExponent),
            ("1e+3", 1000 * n, Format::DecimalExponent),
            ("5e-3", 5_000_000, Format::DecimalExponent),
            ("1Ki", 1024 * n, Format::BinarySI),
            ("100n", 100, Format::DecimalSI),
            ("5u", 5000, Format::DecimalSI),
            ("12345k", 12_345_000 * n, Format::DecimalSI),
            ("1E", 1_000_000_000_000_000_000 * n, Format::DecimalSI),
            ("-1", -n, Format::DecimalSI),
            ("+2", 2 * n, Format::DecimalSI),
            ("1.5Gi", 3 * GI / 2 * n, Format::BinarySI),
            ("8Ei", 8 * (1i128 << 60) * n, Format::BinarySI),
            (".5", 500_000_000, Format::DecimalSI),
            ("5.", 5 * n, Format::DecimalSI),
            ("007", 7 * n, Format::DecimalSI),
            ("0", 0, Format::DecimalSI),
            ("0Mi", 0, Format::BinarySI),
            ("1.000", n, Format::DecimalSI),
            // Finer than nano rounds away from zero, like Kubernetes.
            ("0.1n", 1, Format::DecimalSI),
            ("1.0000000001", n + 1, Format::DecimalSI),
            ("-0.1n", -1, Format::DecimalSI),
            ("1e-30", 1, Format::DecimalExponent),
        ];
        for (input, nano, format) in cases {
            let got = q(input);
            assert_eq!(got.nano(), *nano, "{input}");
            assert_eq!(got.format(), *format, "{input}");
        }
    }

    #[test]
    fn rejects_invalid() {
        for input in [
            "", "1.2.3", "Mi", "1Zi", ".", "-", "1K", "1e", "1e3.5", "1 Gi", " 1", "1Gi ", "1ki",
            "m", "--1", "1e+", "abc", "1mm", "0x10",
        ] {
            let err = input.parse::<Quantity>().expect_err(input);
            assert!(matches!(err, QuantityError::Invalid(_)), "{input}: {err}");
            assert!(err.to_string().contains(&format!("{input:?}")), "{err}");
        }
        assert!(matches!(
            "1e40".parse::<Quantity>(),
            Err(QuantityError::TooLarge(_))
        ));
        assert!(matches!(
            "99999999999999999999999999999999999999999".parse::<Quantity>(),
            Err(QuantityError::TooLarge(_))
        ));
        assert!(matches!(
            "1e2147483648".parse::<Quantity>(),
            Err(QuantityError::Invalid(_))
        ));
        assert_eq!(
            "1.2.3".parse::<Quantity>().unwrap_err().to_string(),
            "invalid quantity \"1.2.3\": quantities must match the regular expression '^([+-]?[0-9.]+)([eEinumkKMGTP]*[-+]?[0-9]*)$'"
        );
    }

    #[test]
    fn equality_ignores_notation() {
        assert_eq!(q("1Gi"), q("1073741824"));
        assert_eq!(q("0.5"), q("500m"));
        assert_eq!(q("1e3"), q("1k"));
        assert_eq!(q("1000m"), q("1"));
        assert_eq!(q("0"), q("0Gi"));
        assert_ne!(q("1Ki"), q("1k"));
        assert!(q("1Ki") > q("1k"));
        assert!(q("-1") < q("0"));
        assert!(q("999m") < q("1"));
        assert!(q("8Ei") > q("9E"));
        let mut v = vec![q("1Gi"), q("100m"), q("-5"), q("1e3")];
        v.sort();
        assert_eq!(v, vec![q("-5"), q("100m"), q("1e3"), q("1Gi")]);
    }

    #[test]
    fn canonical_display() {
        let cases: &[(&str, &str)] = &[
            ("1500m", "1500m"),
            ("1.5", "1500m"),
            ("1024Mi", "1Gi"),
            ("1000", "1k"),
            ("1500", "1500"),
            ("0.1", "100m"),
            ("250m", "250m"),
            ("1G", "1G"),
            ("1000M", "1G"),
            ("1e3", "1e3"),
            ("1E6", "1e6"),
            ("1500e-3", "1500e-3"),
            ("1Ki", "1Ki"),
            ("1536Mi", "1536Mi"),
            ("1.5Gi", "1536Mi"),
            ("1.5Ki", "1536"),
            ("0.5Ki", "512"),
            ("0.5Mi", "512Ki"),
            ("1024Ei", "1024Ei"),
            ("8Ei", "8Ei"),
            ("100n", "100n"),
            ("5u", "5u"),
            ("12345k", "12345k"),
            ("1E", "1E"),
            ("1000E", "1000E"),
            ("-1", "-1"),
            ("-1Gi", "-1Gi"),
            ("-1500m", "-1500m"),
            ("0", "0"),
            ("0Gi", "0"),
            ("1.0000000001", "1000000001n"),
            ("0.001Ki", "1024m"),
        ];
        for (input, want) in cases {
            let got = q(input).to_string();
            assert_eq!(got, *want, "{input}");
            assert_eq!(q(&got), q(input), "round trip of {input} via {got}");
        }
    }

    #[test]
    fn display_round_trips_across_notations() {
        let numbers = [
            "0", "1", "7", "10", "999", "1000", "1024", "1536", "0.5", "0.001", "123.456", "-3",
            "-0.25",
        ];
        let suffixes = [
            "", "n", "u", "m", "k", "M", "G", "T", "P", "E", "Ki", "Mi", "Gi", "Ti", "Pi", "Ei",
            "e3", "e-3", "E9",
        ];
        for n in numbers {
            for suffix in suffixes {
                let input = format!("{n}{suffix}");
                let original = q(&input);
                let shown = original.to_string();
                let back = q(&shown);
                assert_eq!(back, original, "{input} -> {shown}");
                assert_eq!(back.to_string(), shown, "display is stable for {input}");
            }
        }
    }

    #[test]
    fn value_and_milli_value_round_away_from_zero() {
        let cases: &[(&str, i64, i64)] = &[
            ("1500m", 2, 1500),
            ("1", 1, 1000),
            ("100n", 1, 1),
            ("1n", 1, 1),
            ("-1500m", -2, -1500),
            ("-100n", -1, -1),
            ("128Mi", 134_217_728, 134_217_728_000),
            ("0", 0, 0),
        ];
        for (input, value, milli) in cases {
            assert_eq!(q(input).value(), *value, "{input}");
            assert_eq!(q(input).milli_value(), *milli, "{input}");
        }
        assert_eq!(q("8Ei").value(), i64::MAX);
        assert_eq!(q("8Ei").try_value(), None);
        assert_eq!(q("8Ei").milli_value(), i64::MAX);
        assert_eq!(q("-8Ei").try_value(), Some(i64::MIN));
        assert!((q("1.5Gi").as_f64() - 1_610_612_736.0).abs() < 1e-3);
        assert!((q("250m").as_f64() - 0.25).abs() < 1e-12);
    }

    #[test]
    fn arithmetic() {
        assert_eq!(q("1") + q("500m"), q("1500m"));
        assert_eq!((q("1") + q("500m")).to_string(), "1500m");
        assert_eq!(q("1Gi") - q("512Mi"), q("512Mi"));
        assert_eq!((q("1Gi") - q("512Mi")).to_string(), "512Mi");
        assert_eq!(q("100m") - q("250m"), q("-150m"));
        assert_eq!(q("250m") * 4, q("1"));
        assert_eq!((q("1Gi") * 3).to_string(), "3Gi");
        assert_eq!(q("1Gi") * -1, q("-1Gi"));
        let total: Quantity = ["128Mi", "128Mi", "256Mi"].iter().map(|s| q(s)).sum();
        assert_eq!(total.to_string(), "512Mi");
        let mut acc = Quantity::default();
        acc += q("1Gi");
        acc -= q("1Mi");
        assert_eq!(acc.to_string(), "1023Mi");
        assert_eq!(q("8Ei").checked_mul(i64::MAX).map(|x| x.nano()), None);
        let huge = Quantity::from_nano(i128::MAX, Format::DecimalSI);
        assert_eq!(huge.checked_add(&q("1n")), None);
        assert_eq!((huge + q("1")).nano(), i128::MAX);
        assert_eq!(q("1").checked_sub(&q("2")), Some(q("-1")));
        assert_eq!(Quantity::from_milli(250), q("250m"));
        assert_eq!(Quantity::from_value(2, Format::BinarySI).to_string(), "2");
        assert_eq!(
            Quantity::from_value(2048, Format::BinarySI).to_string(),
            "2Ki"
        );
    }

    #[test]
    fn helpers() {
        assert_eq!(parse_cpu_millis("500m"), Ok(500));
        assert_eq!(parse_cpu_millis("2"), Ok(2000));
        assert_eq!(parse_cpu_millis("0.1"), Ok(100));
        assert_eq!(parse_cpu_millis("100n"), Ok(1));
        assert_eq!(parse_bytes("128Mi"), Ok(134_217_728));
        assert_eq!(parse_bytes("1G"), Ok(1_000_000_000));
        assert_eq!(parse_bytes("1.5Gi"), Ok(1_610_612_736));
        assert_eq!(parse_bytes("7Ei"), Ok(7 * (1i64 << 60)));
        assert!(matches!(
            parse_bytes("8Ei"),
            Err(QuantityError::OutOfRange(_))
        ));
        assert!(matches!(
            parse_cpu_millis("10E"),
            Err(QuantityError::OutOfRange(_))
        ));
        assert!(matches!(parse_bytes("1Zi"), Err(QuantityError::Invalid(_))));
    }

    #[test]
    fn serde_as_string() {
        let v: Quantity = serde_json::from_str("\"1.5Gi\"").unwrap();
        assert_eq!(serde_json::to_string(&v).unwrap(), "\"1536Mi\"");
        assert!(serde_json::from_str::<Quantity>("\"1.2.3\"").is_err());
    }
}

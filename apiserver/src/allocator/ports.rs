//! The NodePort range (`--node-port-range`): parsing, membership, and choosing a free port.

use std::collections::HashSet;
use std::fmt;
use std::str::FromStr;

use super::Error;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct PortRange {
    first: u16,
    last: u16,
}

impl PortRange {
    /// Kubernetes' default NodePort range.
    pub const DEFAULT: PortRange = PortRange {
        first: 30000,
        last: 32767,
    };

    pub fn contains(&self, port: i32) -> bool {
        i32::from(self.first) <= port && port <= i32::from(self.last)
    }

    /// A free port scanning from `start` (taken modulo the range's size) and wrapping;
    /// `None` when every one is used.
    pub fn choose_free(&self, used: &HashSet<u16>, start: u32) -> Option<u16> {
        let count = u32::from(self.last - self.first) + 1;
        (0..count)
            .filter_map(|i| u16::try_from(u32::from(self.first) + (start % count + i) % count).ok())
            .find(|p| !used.contains(p))
    }
}

impl fmt::Display for PortRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.first, self.last)
    }
}

impl FromStr for PortRange {
    type Err = Error;

    /// Kubernetes' forms: `30000-32767`, `30000+2767` (first and how many more), or one port.
    fn from_str(s: &str) -> Result<Self, Error> {
        let bad = |reason: String| Error::PortRange {
            value: s.to_string(),
            reason,
        };
        let port = |p: &str| -> Result<u16, Error> {
            match p.trim().parse::<u16>() {
                Ok(n) if n > 0 => Ok(n),
                _ => Err(bad(format!("{p:?} is not a port number (1-65535)"))),
            }
        };
        let (first, last) = if let Some((a, b)) = s.split_once('-') {
            (port(a)?, port(b)?)
        } else if let Some((a, n)) = s.split_once('+') {
            let first = port(a)?;
            let more: u16 = n
                .trim()
                .parse()
                .map_err(|_| bad(format!("{n:?} is not a count of ports")))?;
            let last = first
                .checked_add(more)
                .ok_or_else(|| bad("the range ends beyond port 65535".into()))?;
            (first, last)
        } else if s.trim().is_empty() {
            return Err(bad("expected a port range such as 30000-32767".into()));
        } else {
            let p = port(s)?;
            (p, p)
        };
        if first > last {
            return Err(bad(format!(
                "the range ends ({last}) before it starts ({first})"
            )));
        }
        Ok(PortRange { first, last })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The range's ends, or a piece of the error.
    type Expected = Result<(u16, u16), &'static str>;

    #[test]
    fn parses_kubernetes_forms_and_refuses_bad_ones_with_the_cause() {
        let table: &[(&str, Expected)] = &[
            ("30000-32767", Ok((30000, 32767))),
            ("30000+2767", Ok((30000, 32767))),
            ("30080", Ok((30080, 30080))),
            ("", Err("expected a port range")),
            ("30000-", Err("is not a port number")),
            ("0-100", Err("is not a port number")),
            ("30000-70000", Err("is not a port number")),
            ("32767-30000", Err("ends (30000) before it starts (32767)")),
            ("65000+1000", Err("beyond port 65535")),
            ("30000+x", Err("is not a count")),
        ];
        for (input, want) in table {
            match (want, input.parse::<PortRange>()) {
                (Ok((a, b)), Ok(r)) => assert_eq!((r.first, r.last), (*a, *b), "{input}"),
                (Err(w), Err(e)) => {
                    let msg = e.to_string();
                    assert!(msg.contains(w) && msg.contains(input), "{input}: {msg}");
                }
                (w, g) => panic!("{input:?}: want {w:?}, got {g:?}"),
            }
        }
    }

    #[test]
    fn membership() {
        let r: PortRange = "30000-32767".parse().unwrap();
        for (p, want) in [
            (29999, false),
            (30000, true),
            (32767, true),
            (32768, false),
            (-1, false),
        ] {
            assert_eq!(r.contains(p), want, "{p}");
        }
    }

    #[test]
    fn choosing_skips_used_ports_wraps_and_reports_full() {
        let r: PortRange = "30000-30002".parse().unwrap();
        let mut used = HashSet::from([30002]);
        assert_eq!(
            r.choose_free(&used, 2),
            Some(30000),
            "wraps past the used last port"
        );
        used.insert(30000);
        assert_eq!(r.choose_free(&used, 0), Some(30001));
        used.insert(30001);
        assert_eq!(r.choose_free(&used, 5), None);
    }
}

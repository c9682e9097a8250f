//! `--token-auth-file`: Kubernetes' static token file, CSV lines
//! `token,user,uid,"group1,group2"` (groups optional). Read once at start.

use std::collections::HashMap;
use std::path::Path;

use crate::auth::User;

/// Tokens and the users they stand for.
#[derive(Debug, Default, Clone)]
pub struct TokenFile {
    users: HashMap<String, User>,
}

impl TokenFile {
    pub fn load(path: &Path) -> Result<TokenFile, String> {
        let text = std::fs::read_to_string(path)
            .map_err(|e| format!("cannot read token file {}: {e}", path.display()))?;
        TokenFile::parse(&text).map_err(|e| format!("token file {}: {e}", path.display()))
    }

    /// Kubernetes' rules: at least 3 columns (token, user name, uid), an optional 4th with
    /// comma-separated groups; blank lines skipped; a duplicate token's last line wins.
    pub fn parse(text: &str) -> Result<TokenFile, String> {
        let mut users = HashMap::new();
        for (n, line) in text.lines().enumerate() {
            if line.trim().is_empty() {
                continue;
            }
            let record = parse_csv_line(line).map_err(|e| format!("line {}: {e}", n + 1))?;
            if record.len() < 3 {
                return Err(format!(
                    "line {}: must have at least 3 columns (token, user name, user uid), found {}",
                    n + 1,
                    record.len()
                ));
            }
            if record[0].is_empty() {
                return Err(format!("line {}: empty token", n + 1));
            }
            let groups = record
                .get(3)
                .map(|g| {
                    g.split(',')
                        .map(str::trim)
                        .filter(|g| !g.is_empty())
                        .map(str::to_string)
                        .collect()
                })
                .unwrap_or_default();
            let user = User {
                name: record[1].clone(),
                uid: record[2].clone(),
                groups,
                ..User::default()
            };
            if users.insert(record[0].clone(), user).is_some() {
                tracing::warn!(
                    line = n + 1,
                    "duplicate token in the token file; the last one wins"
                );
            }
        }
        Ok(TokenFile { users })
    }

    pub fn len(&self) -> usize {
        self.users.len()
    }

    pub fn is_empty(&self) -> bool {
        self.users.is_empty()
    }

    pub fn user(&self, token: &str) -> Option<&User> {
        self.users.get(token)
    }
}

/// One CSV record (RFC 4180 quoting: `"a,b"`, `""` for a quote); leading spaces of a field
/// are trimmed, as Go's `csv.Reader{TrimLeadingSpace: true}`.
fn parse_csv_line(line: &str) -> Result<Vec<String>, String> {
    let mut fields = Vec::new();
    let mut chars = line.trim_end_matches('\r').chars().peekable();
    loop {
        while chars.peek() == Some(&' ') || chars.peek() == Some(&'\t') {
            chars.next();
        }
        let mut field = String::new();
        if chars.peek() == Some(&'"') {
            chars.next();
            loop {
                match chars.next() {
                    None => return Err("unterminated quoted field".into()),
                    Some('"') if chars.peek() == Some(&'"') => {
                        chars.next();
                        field.push('"');
                    }
                    Some('"') => break,
                    Some(c) => field.push(c),
                }
            }
            match chars.next() {
                None => {
                    fields.push(field);
                    return Ok(fields);
                }
                Some(',') => fields.push(field),
                Some(c) => return Err(format!("unexpected {c:?} after a quoted field")),
            }
        } else {
            loop {
                match chars.next() {
                    None => {
                        fields.push(field);
                        return Ok(fields);
                    }
                    Some(',') => break,
                    Some(c) => field.push(c),
                }
            }
            fields.push(field);
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubernetes_token_file_lines() {
        let f = TokenFile::parse(
            "t1,alice,uid-a,\"dev,ops\"\n\nt2,bob,uid-b\n t3, carol ,uid-c,solo\n",
        )
        .unwrap();
        assert_eq!(f.len(), 3);
        let alice = f.user("t1").unwrap();
        assert_eq!(alice.name, "alice");
        assert_eq!(alice.uid, "uid-a");
        assert_eq!(alice.groups, vec!["dev", "ops"]);
        assert!(f.user("t2").unwrap().groups.is_empty());
        // Leading spaces go, trailing ones stay (Go's TrimLeadingSpace).
        assert_eq!(f.user("t3").unwrap().name, "carol ");
        assert_eq!(f.user("t3").unwrap().groups, vec!["solo"]);
        assert!(f.user("t4").is_none());
    }

    #[test]
    fn bad_token_files_are_refused_with_the_line() {
        let e = TokenFile::parse("t1,alice\n").unwrap_err();
        assert!(
            e.contains("line 1") && e.contains("at least 3 columns"),
            "{e}"
        );
        let e = TokenFile::parse("ok,a,b\n\"open,a,b\n").unwrap_err();
        assert!(e.contains("line 2") && e.contains("unterminated"), "{e}");
        let e = TokenFile::parse(",a,b\n").unwrap_err();
        assert!(e.contains("empty token"), "{e}");
    }

    #[test]
    fn duplicate_token_last_wins() {
        let f = TokenFile::parse("t,a,1\nt,b,2\n").unwrap();
        assert_eq!(f.user("t").unwrap().name, "b");
    }

    #[test]
    fn quoted_quotes() {
        assert_eq!(
            parse_csv_line(r#"a,"b ""c""",d"#).unwrap(),
            vec!["a", "b \"c\"", "d"]
        );
    }
}

//! The kubelet's certificate files hold the certificate chain and the private key in one
//! PEM file (`kubelet-client-current.pem`, `kubelet-server-current.pem`), as Kubernetes'
//! certificate store writes them.

/// Certificate blocks then the key block.
pub fn combine(cert_pem: &str, key_pem: &str) -> String {
    let mut out = String::with_capacity(cert_pem.len() + key_pem.len() + 1);
    out.push_str(cert_pem.trim_end());
    out.push('\n');
    out.push_str(key_pem.trim_end());
    out.push('\n');
    out
}

/// The PEM blocks of `text` as (label, whole block text).
fn blocks(text: &str) -> Vec<(String, String)> {
    let mut out = Vec::new();
    let mut rest = text;
    while let Some(start) = rest.find("-----BEGIN ") {
        let after = &rest[start + "-----BEGIN ".len()..];
        let Some(label_end) = after.find("-----") else {
            break;
        };
        let label = after[..label_end].to_string();
        let end_marker = format!("-----END {label}-----");
        let Some(end) = rest[start..].find(&end_marker) else {
            break;
        };
        let stop = start + end + end_marker.len();
        out.push((label, format!("{}\n", &rest[start..stop])));
        rest = &rest[stop..];
    }
    out
}

/// Splits a combined file into (certificate PEM, private key PEM). Both must be present.
pub fn split(combined: &str) -> Result<(String, String), String> {
    let mut certs = String::new();
    let mut key = None;
    for (label, block) in blocks(combined) {
        if label == "CERTIFICATE" {
            certs.push_str(&block);
        } else if label.ends_with("PRIVATE KEY") {
            if key.is_some() {
                return Err("more than one private key".to_string());
            }
            key = Some(block);
        }
    }
    if certs.is_empty() {
        return Err("no CERTIFICATE block".to_string());
    }
    let key = key.ok_or_else(|| "no PRIVATE KEY block".to_string())?;
    Ok((certs, key))
}

#[cfg(test)]
mod tests {
    use super::*;

    const CERT: &str = "-----BEGIN CERTIFICATE-----\nAAAA\n-----END CERTIFICATE-----\n";
    const CA: &str = "-----BEGIN CERTIFICATE-----\nBBBB\n-----END CERTIFICATE-----\n";
    const KEY: &str = "-----BEGIN PRIVATE KEY-----\nCCCC\n-----END PRIVATE KEY-----\n";

    #[test]
    fn combine_then_split_round_trips_chain_and_key() {
        let chain = format!("{CERT}{CA}");
        let both = combine(&chain, KEY);
        let (c, k) = split(&both).unwrap();
        assert_eq!(c, chain);
        assert_eq!(k, KEY);
    }

    #[test]
    fn split_needs_a_certificate_and_exactly_one_key() {
        assert!(split(KEY).unwrap_err().contains("CERTIFICATE"));
        assert!(split(CERT).unwrap_err().contains("PRIVATE KEY"));
        assert!(split(&format!("{CERT}{KEY}{KEY}")).is_err());
        let ec = "-----BEGIN EC PRIVATE KEY-----\nDD\n-----END EC PRIVATE KEY-----\n";
        assert_eq!(split(&format!("{ec}{CERT}")).unwrap().1, ec);
    }
}

//! Interoperability with OpenSSL (the tool operators check certificates with, and a stand-in
//! for Go's x509 on the points that matter): our certificates verify there, our CSRs verify
//! there, and CAs and CSRs made by OpenSSL (RSA or EC, as kubeadm's) work here. Skipped when
//! `openssl` is not installed, outside CI (`scripts/setup.sh` installs it).

use std::path::Path;
use std::process::Command;
use std::time::{Duration, SystemTime};

use pki::ca::{Ca, CertSpec, Usage};
use pki::verify::{ClientVerifier, VerifyError};

const HOUR: Duration = Duration::from_secs(3600);

fn have_openssl(test: &str) -> bool {
    testkit::require(test, &[testkit::Prereq::Tool("openssl")])
}

/// Runs openssl in `dir`; returns stdout, panics with stderr on failure.
fn openssl(dir: &Path, args: &[&str]) -> String {
    let out = Command::new("openssl")
        .current_dir(dir)
        .args(args)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "openssl {args:?}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    String::from_utf8_lossy(&out.stdout).into_owned()
}

fn spec(cn: &str, usages: &[Usage]) -> CertSpec {
    CertSpec {
        common_name: cn.into(),
        organizations: vec!["system:masters".into()],
        dns_names: vec!["kubernetes.default.svc".into()],
        ip_addresses: vec!["10.96.0.1".parse().unwrap()],
        usages: usages.to_vec(),
        validity: HOUR,
    }
}

#[test]
fn openssl_verifies_our_certificates_for_their_purpose() {
    if !have_openssl("openssl_verifies_our_certificates_for_their_purpose") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let ca = Ca::generate("kubernetes", HOUR).unwrap();
    std::fs::write(dir.path().join("ca.crt"), ca.cert_pem()).unwrap();
    let server = ca
        .issue(&spec("kube-apiserver", &[Usage::ServerAuth]))
        .unwrap();
    std::fs::write(dir.path().join("server.crt"), &server.cert_pem).unwrap();
    let client = ca
        .issue(&spec("kubernetes-admin", &[Usage::ClientAuth]))
        .unwrap();
    std::fs::write(dir.path().join("client.crt"), &client.cert_pem).unwrap();

    let out = openssl(
        dir.path(),
        &[
            "verify",
            "-CAfile",
            "ca.crt",
            "-purpose",
            "sslserver",
            "server.crt",
        ],
    );
    assert!(out.contains("server.crt: OK"), "{out}");
    let out = openssl(
        dir.path(),
        &[
            "verify",
            "-CAfile",
            "ca.crt",
            "-purpose",
            "sslclient",
            "client.crt",
        ],
    );
    assert!(out.contains("client.crt: OK"), "{out}");
    // The wrong purpose is refused by openssl too.
    let refused = Command::new("openssl")
        .current_dir(dir.path())
        .args([
            "verify",
            "-CAfile",
            "ca.crt",
            "-purpose",
            "sslclient",
            "server.crt",
        ])
        .output()
        .unwrap();
    assert!(!refused.status.success());

    let text = openssl(
        dir.path(),
        &["x509", "-in", "client.crt", "-noout", "-subject"],
    );
    assert!(
        text.contains("O = system:masters, CN = kubernetes-admin"),
        "{text}"
    );
    // The key is one openssl reads.
    std::fs::write(dir.path().join("client.key"), &client.key_pem).unwrap();
    openssl(dir.path(), &["pkey", "-in", "client.key", "-noout"]);
}

#[test]
fn openssl_verifies_our_csrs() {
    if !have_openssl("openssl_verifies_our_csrs") {
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let (csr, _key) = pki::csr::generate(
        "system:node:n1",
        &["system:nodes".into()],
        &["n1".into()],
        &["10.0.0.7".parse().unwrap()],
    )
    .unwrap();
    std::fs::write(dir.path().join("n1.csr"), &csr).unwrap();
    let out = Command::new("openssl")
        .current_dir(dir.path())
        .args(["req", "-in", "n1.csr", "-verify", "-noout", "-text"])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let all = format!(
        "{}{}",
        String::from_utf8_lossy(&out.stdout),
        String::from_utf8_lossy(&out.stderr)
    );
    assert!(all.contains("verify OK"), "{all}");
    assert!(all.contains("DNS:n1, IP Address:10.0.0.7"), "{all}");
}

/// kubeadm's CA is RSA 2048 by default; an EC one is common too. Either, made by openssl,
/// loads, signs CSRs made by openssl (with extra extensions), and anchors verification.
#[test]
fn openssl_made_cas_and_csrs_work_here() {
    if !have_openssl("openssl_made_cas_and_csrs_work_here") {
        return;
    }
    for (name, keygen) in [
        ("rsa", vec!["genrsa", "-out", "ca.key", "2048"]),
        // PKCS#1 "RSA PRIVATE KEY", as kubeadm writes its RSA CA key.
        (
            "rsa-pkcs1",
            vec!["genrsa", "-traditional", "-out", "ca.key", "2048"],
        ),
        (
            "ec",
            vec![
                "ecparam",
                "-name",
                "prime256v1",
                "-genkey",
                "-noout",
                "-out",
                "ca.key",
            ],
        ),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let d = dir.path();
        openssl(d, &keygen);
        openssl(
            d,
            &[
                "req",
                "-x509",
                "-new",
                "-key",
                "ca.key",
                "-subj",
                "/CN=kubernetes",
                "-days",
                "1",
                "-out",
                "ca.crt",
            ],
        );
        let cert_pem = std::fs::read_to_string(d.join("ca.crt")).unwrap();
        let key_pem = std::fs::read_to_string(d.join("ca.key")).unwrap();
        let label = match name {
            "rsa" => "BEGIN PRIVATE KEY",
            "rsa-pkcs1" => "BEGIN RSA PRIVATE KEY",
            _ => "BEGIN EC PRIVATE KEY",
        };
        assert!(key_pem.contains(label), "{name}: {key_pem}");
        let ca = Ca::from_pem(&cert_pem, &key_pem)
            .unwrap_or_else(|e| panic!("{name} CA from openssl: {e}"));

        // A client CSR as a user would make it with openssl, key usage extension included.
        openssl(
            d,
            &[
                "req",
                "-new",
                "-newkey",
                "ec",
                "-pkeyopt",
                "ec_paramgen_curve:P-256",
                "-nodes",
                "-keyout",
                "jane.key",
                "-subj",
                "/O=devs/O=ops/CN=jane",
                "-addext",
                "keyUsage=digitalSignature",
                "-addext",
                "subjectAltName=email:jane@example.com",
                "-out",
                "jane.csr",
            ],
        );
        let csr = std::fs::read_to_string(d.join("jane.csr")).unwrap();
        let info = pki::csr::parse(csr.as_bytes()).unwrap();
        assert_eq!(info.common_name, "jane");
        assert_eq!(info.organizations, vec!["devs", "ops"]);
        assert_eq!(info.email_addresses, vec!["jane@example.com"]);

        let signed = ca.sign_csr(&csr, &[Usage::ClientAuth], HOUR).unwrap();
        std::fs::write(d.join("jane.crt"), &signed).unwrap();
        let out = openssl(
            d,
            &[
                "verify",
                "-CAfile",
                "ca.crt",
                "-purpose",
                "sslclient",
                "jane.crt",
            ],
        );
        assert!(out.contains("jane.crt: OK"), "{name}: {out}");

        let verifier = ClientVerifier::new(&cert_pem).unwrap();
        let chain = pki::inspect::certs_from_pem(&signed).unwrap();
        let subject = verifier.verify(&chain, SystemTime::now()).unwrap();
        assert_eq!(subject.common_name, "jane");
        assert_eq!(subject.organizations, vec!["devs", "ops"]);
        assert_eq!(
            verifier.verify(&chain, SystemTime::now() + 2 * HOUR),
            Err(VerifyError::Expired)
        );
    }
}

//! Who is calling the kubelet API (secure mode): the client certificate presented in the TLS
//! handshake, verified against the client CA (Kubernetes' kubelet x509 authenticator), else
//! `system:anonymous` when `--anonymous-auth` allows it. A presented but invalid
//! certificate never falls back to anonymous.

use super::authz::UserInfo;
use std::time::SystemTime;
use tonic::Status;

pub const ANONYMOUS_USER: &str = "system:anonymous";
pub const UNAUTHENTICATED_GROUP: &str = "system:unauthenticated";
pub const AUTHENTICATED_GROUP: &str = "system:authenticated";

#[derive(Clone)]
pub struct Authenticator {
    pub verifier: pki::verify::ClientVerifier,
    pub anonymous: bool,
}

impl Authenticator {
    /// The caller of a request served through `pki::tls::incoming`.
    pub fn authenticate<T>(&self, req: &tonic::Request<T>) -> Result<UserInfo, Status> {
        self.authenticate_connection(req.extensions().get::<pki::tls::TlsConnectInfo>())
    }

    /// The caller of a connection (an HTTP request's extensions carry the same info).
    pub fn authenticate_connection(
        &self,
        info: Option<&pki::tls::TlsConnectInfo>,
    ) -> Result<UserInfo, Status> {
        let chain = info.and_then(|i| i.peer_certificates.clone());
        match chain.as_deref() {
            Some(chain) if !chain.is_empty() => self.from_chain(chain, SystemTime::now()),
            _ if self.anonymous => Ok(UserInfo {
                name: ANONYMOUS_USER.into(),
                uid: String::new(),
                groups: vec![UNAUTHENTICATED_GROUP.into()],
            }),
            _ => Err(Status::unauthenticated(
                "Unauthorized: no client certificate presented",
            )),
        }
    }

    pub fn from_chain(
        &self,
        chain: &[rustls_pki_types::CertificateDer<'_>],
        now: SystemTime,
    ) -> Result<UserInfo, Status> {
        let subject = self
            .verifier
            .verify(chain, now)
            .map_err(|e| Status::unauthenticated(format!("Unauthorized: {e}")))?;
        let mut groups = subject.organizations;
        if !groups.iter().any(|g| g == AUTHENTICATED_GROUP) {
            groups.push(AUTHENTICATED_GROUP.into());
        }
        Ok(UserInfo {
            name: subject.common_name,
            uid: String::new(),
            groups,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn client_cert(ca: &pki::ca::Ca, cn: &str, usage: pki::ca::Usage) -> String {
        ca.issue(&pki::ca::CertSpec {
            common_name: cn.into(),
            organizations: vec!["system:masters".into()],
            dns_names: vec![],
            ip_addresses: vec![],
            usages: vec![usage],
            validity: Duration::from_secs(3600),
        })
        .unwrap()
        .cert_pem
    }

    #[test]
    fn certificates_map_to_users_and_bad_ones_say_why() {
        let ca = pki::ca::Ca::generate("kubernetes", Duration::from_secs(7200)).unwrap();
        let other = pki::ca::Ca::generate("other", Duration::from_secs(7200)).unwrap();
        let authn = Authenticator {
            verifier: pki::verify::ClientVerifier::new(ca.cert_pem()).unwrap(),
            anonymous: false,
        };
        let chain = |pem: &str| pki::inspect::certs_from_pem(pem).unwrap();
        let now = SystemTime::now();

        let u = authn
            .from_chain(
                &chain(&client_cert(&ca, "alice", pki::ca::Usage::ClientAuth)),
                now,
            )
            .unwrap();
        assert_eq!(u.name, "alice");
        assert_eq!(u.groups, vec!["system:masters", "system:authenticated"]);

        let e = authn
            .from_chain(
                &chain(&client_cert(&other, "mallory", pki::ca::Usage::ClientAuth)),
                now,
            )
            .unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        assert_eq!(
            e.message(),
            "Unauthorized: x509: certificate signed by unknown authority"
        );

        let e = authn
            .from_chain(
                &chain(&client_cert(&ca, "alice", pki::ca::Usage::ClientAuth)),
                now + Duration::from_secs(7200),
            )
            .unwrap_err();
        assert_eq!(
            e.message(),
            "Unauthorized: x509: certificate has expired or is not yet valid"
        );

        let req = tonic::Request::new(());
        let e = authn.authenticate(&req).unwrap_err();
        assert_eq!(e.code(), tonic::Code::Unauthenticated);
        let anon = Authenticator {
            anonymous: true,
            ..authn
        };
        let u = anon.authenticate(&req).unwrap();
        assert_eq!(u.name, "system:anonymous");
        assert_eq!(u.groups, vec!["system:unauthenticated"]);
    }
}

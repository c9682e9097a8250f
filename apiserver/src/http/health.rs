//! `/version`, `/healthz`, `/livez`, `/readyz`: what kubectl, kubeadm-style probes and load
//! balancers ask a Kubernetes apiserver. The checks are the ones this process can answer
//! for itself (it serves, so `ping` passes; its store opened before it listened).

use serde_json::json;

use super::HttpResponse;

/// The Kubernetes release whose API this server matches (kinds, fields, discovery,
/// aggregated discovery v2); kubectl compares it with its own for its skew warning.
pub(crate) const KUBERNETES_MINOR: &str = "33";

/// The checks a verbose health answer lists, each passing.
const CHECKS: &[&str] = &["ping", "log", "etcd", "poststarthook/start-apiserver"];

pub(crate) fn serve(parts: &::http::request::Parts) -> Option<HttpResponse> {
    if !matches!(parts.method, ::http::Method::GET | ::http::Method::HEAD) {
        return None;
    }
    let path = parts.uri.path().trim_end_matches('/');
    if path == "/version" {
        return Some(super::json_response(::http::StatusCode::OK, &version()));
    }
    let (endpoint, check) = match path.trim_start_matches('/').split_once('/') {
        Some((e, c)) => (e, Some(c)),
        None => (path.trim_start_matches('/'), None),
    };
    if !matches!(endpoint, "healthz" | "livez" | "readyz") {
        return None;
    }
    let verbose = parts
        .uri
        .query()
        .unwrap_or("")
        .split('&')
        .any(|p| p == "verbose" || p.starts_with("verbose="));
    let (code, body) = answer(endpoint, check, verbose);
    Some(text(code, body))
}

/// The answer to a health endpoint: `ok`, or with `?verbose` each check then
/// `<endpoint> check passed`; one named check (`/livez/ping`) answers `ok` or 404.
fn answer(endpoint: &str, check: Option<&str>, verbose: bool) -> (::http::StatusCode, String) {
    match check {
        Some(c) if CHECKS.contains(&c) => (::http::StatusCode::OK, "ok".to_string()),
        Some(_) => (
            ::http::StatusCode::NOT_FOUND,
            "404 page not found\n".to_string(),
        ),
        None if verbose => {
            let mut body: String = CHECKS.iter().map(|c| format!("[+]{c} ok\n")).collect();
            body.push_str(&format!("{endpoint} check passed\n"));
            (::http::StatusCode::OK, body)
        }
        None => (::http::StatusCode::OK, "ok".to_string()),
    }
}

fn text(code: ::http::StatusCode, body: String) -> HttpResponse {
    let mut response = ::http::Response::new(super::Body::from(body));
    *response.status_mut() = code;
    response.headers_mut().insert(
        ::http::header::CONTENT_TYPE,
        ::http::HeaderValue::from_static("text/plain; charset=utf-8"),
    );
    response.headers_mut().insert(
        ::http::header::X_CONTENT_TYPE_OPTIONS,
        ::http::HeaderValue::from_static("nosniff"),
    );
    response
}

/// `version.Info`: the Kubernetes version our API matches, with this build's own metadata.
pub(crate) fn version() -> serde_json::Value {
    let arch = match std::env::consts::ARCH {
        "x86_64" => "amd64",
        "aarch64" => "arm64",
        other => other,
    };
    json!({
        "major": "1",
        "minor": KUBERNETES_MINOR,
        "emulationMajor": "1",
        "emulationMinor": KUBERNETES_MINOR,
        "minCompatibilityMajor": "1",
        "minCompatibilityMinor": KUBERNETES_MINOR,
        "gitVersion": format!("v1.{KUBERNETES_MINOR}.0-rkube.{}", env!("CARGO_PKG_VERSION")),
        "gitCommit": "",
        "gitTreeState": "",
        "buildDate": "",
        "goVersion": "",
        "compiler": "rustc",
        "platform": format!("{}/{arch}", std::env::consts::OS),
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get(uri: &str) -> Option<(u16, String)> {
        let (parts, _) = ::http::Request::get(uri).body(()).unwrap().into_parts();
        let r = serve(&parts)?;
        let code = r.status().as_u16();
        let body = futures_body(r);
        Some((code, body))
    }

    fn futures_body(r: HttpResponse) -> String {
        let rt = tokio::runtime::Builder::new_current_thread()
            .build()
            .unwrap();
        let bytes = rt
            .block_on(axum::body::to_bytes(r.into_body(), 1 << 20))
            .unwrap();
        String::from_utf8(bytes.to_vec()).unwrap()
    }

    #[test]
    fn health_endpoints_answer_ok_and_list_checks_when_verbose() {
        assert_eq!(get("/healthz"), Some((200, "ok".into())));
        assert_eq!(get("/livez/"), Some((200, "ok".into())));
        assert_eq!(get("/readyz/ping"), Some((200, "ok".into())));
        assert_eq!(get("/healthz/etcd"), Some((200, "ok".into())));
        assert_eq!(get("/readyz/nothing").map(|r| r.0), Some(404));
        let (code, body) = get("/readyz?verbose").unwrap();
        assert_eq!(code, 200);
        assert!(body.starts_with("[+]ping ok\n"), "{body}");
        assert!(body.ends_with("readyz check passed\n"), "{body}");
        assert_eq!(get("/api"), None);
        assert_eq!(get("/healthzz"), None);
    }

    #[test]
    fn version_names_the_kubernetes_release_we_match() {
        let (code, body) = get("/version").unwrap();
        assert_eq!(code, 200);
        let v: serde_json::Value = serde_json::from_str(&body).unwrap();
        assert_eq!(v["major"], "1");
        assert_eq!(v["minor"], KUBERNETES_MINOR);
        assert!(
            v["gitVersion"]
                .as_str()
                .unwrap()
                .starts_with("v1.33.0-rkube.")
        );
        assert!(v["platform"].as_str().unwrap().starts_with("linux/"));
    }
}

//! Logs, exec, attach, port-forward. Stub until its owner (E) replaces it.

use crate::http::{Body, HttpApi, HttpResponse};
use crate::store::Store;

pub(crate) async fn pod_log<S: Store>(
    _http: &HttpApi<S>,
    _parts: &::http::request::Parts,
    _namespace: &str,
    _name: &str,
) -> HttpResponse {
    crate::http::status::not_found_path()
}

pub(crate) async fn pod_exec<S: Store>(
    _http: &HttpApi<S>,
    _request: ::http::Request<Body>,
    _namespace: &str,
    _name: &str,
    _attach: bool,
) -> HttpResponse {
    crate::http::status::not_found_path()
}

pub(crate) async fn pod_port_forward<S: Store>(
    _http: &HttpApi<S>,
    _request: ::http::Request<Body>,
    _namespace: &str,
    _name: &str,
) -> HttpResponse {
    crate::http::status::not_found_path()
}

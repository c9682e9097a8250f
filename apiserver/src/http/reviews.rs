//! Access and token reviews, TokenRequest. Stub until its owner (B) replaces it.

use super::{HttpApi, HttpResponse};
use crate::store::Store;

pub(crate) async fn serve<S: Store>(
    _http: &HttpApi<S>,
    _parts: &::http::request::Parts,
    _body: &[u8],
) -> Option<HttpResponse> {
    None
}

pub(crate) async fn token_request<S: Store>(
    _http: &HttpApi<S>,
    _parts: &::http::request::Parts,
    _namespace: &str,
    _name: &str,
    _body: &[u8],
) -> HttpResponse {
    super::status::not_found_path()
}

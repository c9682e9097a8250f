//! `/version`, `/healthz`, `/livez`, `/readyz`. Stub until its owner (B) replaces it.

use super::HttpResponse;

pub(crate) fn serve(_parts: &::http::request::Parts) -> Option<HttpResponse> {
    None
}

//! OpenAPI v2 and v3 documents. Stub until its owner (B) replaces it.

use super::HttpResponse;

pub(crate) fn serve(_parts: &::http::request::Parts) -> Option<HttpResponse> {
    None
}

//! API errors a client can act on, and their one mapping to and from gRPC statuses.
//! The reason also travels in the `x-api-reason` metadata so that two reasons sharing a
//! gRPC code (Invalid and BadRequest) stay apart.

use tonic::{Code, Status};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Reason {
    NotFound,
    AlreadyExists,
    /// The object changed since it was read (stale resourceVersion or precondition).
    Conflict,
    /// Field validation failed; the message lists `path: rule` for each field.
    Invalid,
    /// The request itself is malformed (unknown resource, bad selector, bad patch).
    BadRequest,
    /// The watch's resourceVersion is older than the retained history: relist.
    Expired,
    /// The caller is known but may not do this (gRPC PermissionDenied).
    Forbidden,
    /// No valid credentials: the caller is not known (gRPC Unauthenticated).
    Unauthorized,
    /// The object is larger than the API accepts.
    TooLarge,
    /// The server is shutting down, overloaded, or cannot be reached.
    Unavailable,
    /// Try again later: an eviction that would break a disruption budget (HTTP 429).
    TooManyRequests,
    /// The request ran past its deadline on the server (Kubernetes' 504 `Timeout`).
    Timeout,
    Internal,
}

const REASON_KEY: &str = "x-api-reason";
/// Seconds to wait before retrying, as gRPC metadata (HTTP answers use `Retry-After`).
pub const RETRY_AFTER_KEY: &str = "x-retry-after-seconds";

impl Reason {
    pub fn as_str(self) -> &'static str {
        match self {
            Reason::NotFound => "NotFound",
            Reason::AlreadyExists => "AlreadyExists",
            Reason::Conflict => "Conflict",
            Reason::Invalid => "Invalid",
            Reason::BadRequest => "BadRequest",
            Reason::Expired => "Expired",
            Reason::Forbidden => "Forbidden",
            Reason::Unauthorized => "Unauthorized",
            Reason::TooLarge => "RequestEntityTooLarge",
            Reason::Unavailable => "ServiceUnavailable",
            Reason::TooManyRequests => "TooManyRequests",
            Reason::Timeout => "Timeout",
            Reason::Internal => "InternalError",
        }
    }

    fn code(self) -> Code {
        match self {
            Reason::NotFound => Code::NotFound,
            Reason::AlreadyExists => Code::AlreadyExists,
            Reason::Conflict => Code::Aborted,
            Reason::Invalid | Reason::BadRequest => Code::InvalidArgument,
            Reason::Expired => Code::OutOfRange,
            Reason::Forbidden => Code::PermissionDenied,
            Reason::Unauthorized => Code::Unauthenticated,
            Reason::TooLarge => Code::ResourceExhausted,
            Reason::Unavailable => Code::Unavailable,
            Reason::TooManyRequests => Code::ResourceExhausted,
            Reason::Timeout => Code::DeadlineExceeded,
            Reason::Internal => Code::Internal,
        }
    }

    /// The HTTP status Kubernetes answers this reason with.
    pub fn http_code(self) -> u16 {
        match self {
            Reason::NotFound => 404,
            Reason::AlreadyExists | Reason::Conflict => 409,
            Reason::Invalid => 422,
            Reason::BadRequest => 400,
            Reason::Expired => 410,
            Reason::Forbidden => 403,
            Reason::Unauthorized => 401,
            Reason::TooLarge => 413,
            Reason::Unavailable => 503,
            Reason::TooManyRequests => 429,
            Reason::Timeout => 504,
            Reason::Internal => 500,
        }
    }

    fn from_str(s: &str) -> Option<Reason> {
        [
            Reason::NotFound,
            Reason::AlreadyExists,
            Reason::Conflict,
            Reason::Invalid,
            Reason::BadRequest,
            Reason::Expired,
            Reason::Forbidden,
            Reason::Unauthorized,
            Reason::TooLarge,
            Reason::Unavailable,
            Reason::TooManyRequests,
            Reason::Timeout,
            Reason::Internal,
        ]
        .into_iter()
        .find(|r| r.as_str() == s)
    }

    fn from_code(code: Code) -> Reason {
        match code {
            Code::NotFound => Reason::NotFound,
            Code::AlreadyExists => Reason::AlreadyExists,
            Code::Aborted | Code::FailedPrecondition => Reason::Conflict,
            Code::InvalidArgument => Reason::BadRequest,
            // Our server tags its own Expired; an untagged OUT_OF_RANGE is tonic refusing a
            // message over its size limit.
            Code::OutOfRange => Reason::TooLarge,
            Code::PermissionDenied => Reason::Forbidden,
            Code::Unauthenticated => Reason::Unauthorized,
            Code::ResourceExhausted => Reason::TooLarge,
            Code::Unavailable | Code::DeadlineExceeded | Code::Cancelled => Reason::Unavailable,
            _ => Reason::Internal,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ApiError {
    pub reason: Reason,
    pub message: String,
    /// When to try again (Kubernetes' `Retry-After` header and `details.retryAfterSeconds`):
    /// set on 429s from overload protection and on 503s the server expects to clear.
    pub retry_after_seconds: Option<u32>,
}

impl ApiError {
    pub fn new(reason: Reason, message: impl Into<String>) -> Self {
        ApiError {
            reason,
            message: message.into(),
            retry_after_seconds: None,
        }
    }

    /// The same error, telling the client to wait `seconds` before trying again.
    pub fn with_retry_after(mut self, seconds: u32) -> Self {
        self.retry_after_seconds = Some(seconds);
        self
    }
    pub fn not_found(message: impl Into<String>) -> Self {
        Self::new(Reason::NotFound, message)
    }
    pub fn already_exists(message: impl Into<String>) -> Self {
        Self::new(Reason::AlreadyExists, message)
    }
    pub fn conflict(message: impl Into<String>) -> Self {
        Self::new(Reason::Conflict, message)
    }
    pub fn invalid(message: impl Into<String>) -> Self {
        Self::new(Reason::Invalid, message)
    }
    pub fn bad_request(message: impl Into<String>) -> Self {
        Self::new(Reason::BadRequest, message)
    }
    pub fn internal(message: impl Into<String>) -> Self {
        Self::new(Reason::Internal, message)
    }
    pub fn forbidden(message: impl Into<String>) -> Self {
        Self::new(Reason::Forbidden, message)
    }
    pub fn unauthorized(message: impl Into<String>) -> Self {
        Self::new(Reason::Unauthorized, message)
    }

    pub fn is(&self, reason: Reason) -> bool {
        self.reason == reason
    }

    /// Reads the reason from the metadata the server sets, else from the code alone
    /// (a transport failure, a proxy, a server of another version).
    pub fn from_status(status: &Status) -> Self {
        let reason = tagged_reason(status).unwrap_or_else(|| Reason::from_code(status.code()));
        let message = if status.message().is_empty() {
            format!("{:?}", status.code())
        } else {
            status.message().to_string()
        };
        let retry_after_seconds = status
            .metadata()
            .get(RETRY_AFTER_KEY)
            .and_then(|v| v.to_str().ok())
            .and_then(|v| v.parse().ok());
        ApiError {
            reason,
            message,
            retry_after_seconds,
        }
    }
}

/// The HTTP status Kubernetes would answer a failed call with: from the reason the server
/// tagged, else from the bare gRPC code (a proxy, a transport failure, a deadline), as
/// client metrics count calls by HTTP code.
pub fn http_code(status: &Status) -> u16 {
    if let Some(reason) = tagged_reason(status) {
        return reason.http_code();
    }
    match status.code() {
        Code::Ok => 200,
        Code::NotFound => 404,
        Code::AlreadyExists | Code::Aborted => 409,
        Code::InvalidArgument => 422,
        Code::PermissionDenied => 403,
        Code::Unauthenticated => 401,
        Code::Unavailable => 503,
        Code::DeadlineExceeded => 504,
        Code::ResourceExhausted => 429,
        _ => 500,
    }
}

fn tagged_reason(status: &Status) -> Option<Reason> {
    status
        .metadata()
        .get(REASON_KEY)
        .and_then(|v| v.to_str().ok())
        .and_then(Reason::from_str)
}

/// Messages travel in an HTTP/2 header, which clients refuse past about 16 KiB; messages that
/// quote client input (names, selectors, every invalid field) are cut well below that.
pub const MAX_MESSAGE_BYTES: usize = 2048;

/// Cuts `message` to `MAX_MESSAGE_BYTES` on a character boundary, saying how much went.
pub fn bounded_message(message: &str) -> String {
    if message.len() <= MAX_MESSAGE_BYTES {
        return message.to_string();
    }
    let mut end = MAX_MESSAGE_BYTES;
    while !message.is_char_boundary(end) {
        end -= 1;
    }
    format!(
        "{}... ({} more bytes)",
        &message[..end],
        message.len() - end
    )
}

impl From<ApiError> for Status {
    fn from(e: ApiError) -> Status {
        let mut status = Status::new(e.reason.code(), bounded_message(&e.message));
        status.metadata_mut().insert(
            REASON_KEY,
            tonic::metadata::MetadataValue::from_static(e.reason.as_str()),
        );
        if let Some(seconds) = e.retry_after_seconds {
            status
                .metadata_mut()
                .insert(RETRY_AFTER_KEY, seconds.into());
        }
        status
    }
}

impl From<Status> for ApiError {
    fn from(s: Status) -> Self {
        ApiError::from_status(&s)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reasons_survive_the_wire() {
        for r in [
            Reason::Invalid,
            Reason::BadRequest,
            Reason::Conflict,
            Reason::Expired,
            Reason::TooLarge,
            Reason::Forbidden,
            Reason::Unauthorized,
            Reason::TooManyRequests,
            Reason::Timeout,
        ] {
            let s: Status = ApiError::new(r, "x").into();
            assert_eq!(ApiError::from_status(&s).reason, r);
        }
        let huge: Status = ApiError::new(
            Reason::NotFound,
            format!("pods \"{}é\" not found", "x".repeat(20_000)),
        )
        .into();
        assert!(huge.message().len() < MAX_MESSAGE_BYTES + 64);
        assert!(huge.message().ends_with("more bytes)"));
        assert_eq!(ApiError::from_status(&huge).reason, Reason::NotFound);
        let too_big = Status::new(Code::OutOfRange, "decoded message length too large");
        assert_eq!(ApiError::from_status(&too_big).reason, Reason::TooLarge);
        let s: Status = ApiError::unauthorized("Unauthorized: x").into();
        assert_eq!(s.code(), Code::Unauthenticated);
        // Untagged codes (a layer in front of the handlers) still keep the two apart.
        let untagged = Status::new(Code::Unauthenticated, "Unauthorized");
        assert_eq!(
            ApiError::from_status(&untagged).reason,
            Reason::Unauthorized
        );
        let untagged = Status::new(Code::PermissionDenied, "forbidden");
        assert_eq!(ApiError::from_status(&untagged).reason, Reason::Forbidden);
        let bare = Status::new(Code::Unavailable, "");
        let e = ApiError::from_status(&bare);
        assert_eq!(e.reason, Reason::Unavailable);
        assert!(!e.message.is_empty());
    }

    #[test]
    fn retry_after_survives_the_wire() {
        let s: Status = ApiError::new(Reason::TooManyRequests, "busy")
            .with_retry_after(3)
            .into();
        let back = ApiError::from_status(&s);
        assert_eq!(back.reason, Reason::TooManyRequests);
        assert_eq!(back.retry_after_seconds, Some(3));
        let plain: Status = ApiError::new(Reason::Unavailable, "down").into();
        assert_eq!(ApiError::from_status(&plain).retry_after_seconds, None);
    }

    #[test]
    fn http_codes_follow_the_tagged_reason_then_the_grpc_code() {
        let tagged = |e: ApiError| http_code(&Status::from(e));
        assert_eq!(tagged(ApiError::invalid("x")), 422);
        assert_eq!(tagged(ApiError::bad_request("x")), 400);
        assert_eq!(tagged(ApiError::conflict("x")), 409);
        assert_eq!(tagged(ApiError::new(Reason::Expired, "x")), 410);
        assert_eq!(tagged(ApiError::new(Reason::TooManyRequests, "x")), 429);
        let bare = |c: Code| http_code(&Status::new(c, "x"));
        assert_eq!(bare(Code::NotFound), 404);
        assert_eq!(bare(Code::Aborted), 409);
        assert_eq!(bare(Code::DeadlineExceeded), 504);
        assert_eq!(bare(Code::ResourceExhausted), 429);
        assert_eq!(bare(Code::Unavailable), 503);
        assert_eq!(bare(Code::DataLoss), 500);
    }
}

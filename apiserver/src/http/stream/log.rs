//! `GET pods/{name}/log`: the container's log as `text/plain`, streamed from the kubelet
//! (through the proxy, which authorizes `get pods/log`) as it arrives.

use crate::http::query::Query;
use crate::http::{Body, HttpApi, HttpResponse, api_error_response, grpc, status_response};
use crate::store::Store;
use futures::StreamExt;
use proto::ApiError;
use proto::kubelet_api::LogsRequest;
use proto::kubelet_api::kubelet_server::Kubelet;
use std::time::SystemTime;

/// What a log request asks, checked as Kubernetes validates `PodLogOptions`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LogQuery {
    pub request: LogsRequest,
    /// `limitBytes`: the body stops after this many bytes.
    pub limit_bytes: Option<u64>,
}

/// Reads `container`, `follow`, `previous`, `timestamps`, `tailLines`, `sinceSeconds`,
/// `sinceTime` and `limitBytes`.
pub fn parse(
    query: &Query,
    namespace: &str,
    name: &str,
    now: SystemTime,
) -> Result<LogQuery, ApiError> {
    let tail = query.i64("tailLines")?;
    let limit = query.i64("limitBytes")?;
    let since_seconds = query.i64("sinceSeconds")?;
    let since_time = query.get("sinceTime").filter(|s| !s.is_empty());
    let mut errors = Vec::new();
    if let Some(t) = tail
        && t < 0
    {
        errors.push(format!(
            "tailLines: Invalid value: {t}: must be greater than or equal to 0"
        ));
    }
    if let Some(l) = limit
        && l < 1
    {
        errors.push(format!(
            "limitBytes: Invalid value: {l}: must be greater than 0"
        ));
    }
    if since_seconds.is_some() && since_time.is_some() {
        errors.push("sinceSeconds: Forbidden: at most one of `sinceTime` or `sinceSeconds` may be specified".to_string());
    }
    if let Some(s) = since_seconds
        && s < 1
    {
        errors.push(format!(
            "sinceSeconds: Invalid value: {s}: must be greater than 0"
        ));
    }
    let since = match (since_seconds, since_time) {
        (Some(s), _) => Some(s),
        (None, Some(t)) => {
            let at = proto::time::parse_rfc3339(t).ok_or_else(|| {
                ApiError::bad_request(format!(
                    "invalid value {t:?} for query parameter sinceTime: must be an RFC 3339 time"
                ))
            })?;
            // Seconds back from now, rounded up so nothing after `sinceTime` is lost; a
            // time in the future shows nothing older than now.
            let back = now
                .duration_since(at)
                .map(|d| d.as_secs() + u64::from(d.subsec_nanos() > 0))
                .unwrap_or(0);
            Some(i64::try_from(back.max(1)).unwrap_or(i64::MAX))
        }
        (None, None) => None,
    };
    if !errors.is_empty() {
        return Err(ApiError::new(
            proto::Reason::Invalid,
            format!("PodLogOptions \"{name}\" is invalid: {}", errors.join(", ")),
        ));
    }
    Ok(LogQuery {
        request: LogsRequest {
            namespace: namespace.to_string(),
            pod: name.to_string(),
            container: query.str("container"),
            follow: query.bool("follow")?,
            tail_lines: tail,
            previous: query.bool("previous")?,
            timestamps: query.bool("timestamps")?,
            since_seconds: since,
        },
        limit_bytes: limit.and_then(|l| u64::try_from(l).ok()),
    })
}

/// Chunks cut so that at most `limit` bytes pass in all.
fn limited(
    chunks: impl futures::Stream<Item = Vec<u8>> + Send + 'static,
    limit: Option<u64>,
) -> impl futures::Stream<Item = Vec<u8>> + Send + 'static {
    chunks.scan(limit.unwrap_or(u64::MAX), |left, mut c| {
        if *left == 0 {
            return futures::future::ready(None);
        }
        let n = usize::try_from(*left).unwrap_or(usize::MAX).min(c.len());
        c.truncate(n);
        *left -= n as u64;
        futures::future::ready(Some(c))
    })
}

pub(crate) async fn serve<S: Store>(
    http: &HttpApi<S>,
    parts: &::http::request::Parts,
    namespace: &str,
    name: &str,
) -> HttpResponse {
    let query = Query::parse(parts.uri.query().unwrap_or(""));
    let q = match parse(&query, namespace, name, SystemTime::now()) {
        Ok(q) => q,
        Err(e) => return api_error_response(&e),
    };
    let follow = q.request.follow;
    let stream = match Kubelet::logs(&*http.kubelet, grpc(parts, q.request)).await {
        Ok(r) => r.into_inner(),
        Err(s) => return status_response(&s),
    };
    tracing::debug!(pod = %format!("{namespace}/{name}"), follow, "streaming a pod log");
    // A failure mid-stream ends the body: the status line has gone already.
    let chunks = stream
        .take_while(|item| futures::future::ready(item.is_ok()))
        .filter_map(|item| futures::future::ready(item.ok().map(|c| c.data)));
    let body = limited(chunks, q.limit_bytes)
        .take_until(Box::pin(super::shutting_down(http.shutdown.clone())))
        .map(|c| Ok::<_, std::convert::Infallible>(bytes::Bytes::from(c)));
    let mut response = ::http::Response::new(Body::from_stream(body));
    response.headers_mut().insert(
        ::http::header::CONTENT_TYPE,
        ::http::HeaderValue::from_static("text/plain"),
    );
    response
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Duration;

    fn q(s: &str) -> Result<LogQuery, ApiError> {
        let now = SystemTime::UNIX_EPOCH + Duration::from_secs(1_700_000_000);
        parse(&Query::parse(s), "ns", "p", now)
    }

    #[test]
    fn log_options_from_the_query() {
        let l = q("container=c&follow=true&tailLines=10&previous=1&timestamps=true&limitBytes=5")
            .unwrap();
        assert_eq!(l.request.namespace, "ns");
        assert_eq!(l.request.pod, "p");
        assert_eq!(l.request.container, "c");
        assert!(l.request.follow && l.request.previous && l.request.timestamps);
        assert_eq!(l.request.tail_lines, Some(10));
        assert_eq!(l.limit_bytes, Some(5));
        assert_eq!(l.request.since_seconds, None);
        let plain = q("").unwrap();
        assert!(!plain.request.follow && plain.request.tail_lines.is_none());
        assert_eq!(
            q("sinceSeconds=30").unwrap().request.since_seconds,
            Some(30)
        );
        // 1_700_000_000 is 2023-11-14T22:13:20Z.
        assert_eq!(
            q("sinceTime=2023-11-14T22:12:20Z")
                .unwrap()
                .request
                .since_seconds,
            Some(60)
        );
        assert_eq!(
            q("sinceTime=2030-01-01T00:00:00Z")
                .unwrap()
                .request
                .since_seconds,
            Some(1)
        );
    }

    #[test]
    fn invalid_log_options_are_refused_as_kubernetes_words_them() {
        let e = q("tailLines=-1").unwrap_err();
        assert_eq!(e.reason, proto::Reason::Invalid);
        assert_eq!(
            e.message,
            "PodLogOptions \"p\" is invalid: tailLines: Invalid value: -1: must be greater than or equal to 0"
        );
        assert!(
            q("limitBytes=0")
                .unwrap_err()
                .message
                .contains("limitBytes")
        );
        assert!(
            q("sinceSeconds=0")
                .unwrap_err()
                .message
                .contains("sinceSeconds")
        );
        assert!(
            q("sinceSeconds=5&sinceTime=2023-11-14T22:12:20Z")
                .unwrap_err()
                .message
                .contains("at most one of")
        );
        assert_eq!(
            q("tailLines=x").unwrap_err().reason,
            proto::Reason::BadRequest
        );
        assert_eq!(
            q("follow=maybe").unwrap_err().reason,
            proto::Reason::BadRequest
        );
        assert_eq!(
            q("sinceTime=yesterday").unwrap_err().reason,
            proto::Reason::BadRequest
        );
    }

    #[tokio::test]
    async fn limit_bytes_cuts_the_stream() {
        let chunks =
            || futures::stream::iter(vec![b"abc".to_vec(), b"defg".to_vec(), b"h".to_vec()]);
        let all: Vec<Vec<u8>> = limited(chunks(), None).collect().await;
        assert_eq!(all.concat(), b"abcdefgh");
        let five: Vec<Vec<u8>> = limited(chunks(), Some(5)).collect().await;
        assert_eq!(five.concat(), b"abcde");
        let three: Vec<Vec<u8>> = limited(chunks(), Some(3)).collect().await;
        assert_eq!(three, vec![b"abc".to_vec()]);
    }
}

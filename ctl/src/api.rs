//! The connection `ctl` uses: `client::Client` with a time limit on every request, errors
//! turned into kubectl's wording, and lists read page by page.

use crate::args::DryRun;
use anyhow::{Result, anyhow};
use client::{Client, ConnectionConfig};
use proto::k8s::{
    CreateRequest, DeleteRequest, ListRequest, ListResponse, Object, PatchRequest, Scale,
    UpdateRequest, UpdateScaleRequest, WatchEvent, WatchRequest,
};
use proto::{ApiError, Reason};
use std::future::Future;
use std::time::Duration;

/// Items per list page: big lists arrive in pieces, as kubectl reads them.
const PAGE: i64 = 500;

#[derive(Clone)]
pub struct Api {
    client: Client,
    server: String,
    timeout: Option<Duration>,
    /// `--dry-run`: every mutation below honours it, so no command can forget it.
    dry_run: DryRun,
}

/// The server could not be reached: reported as `error: unable to connect to ...`.
#[derive(Debug)]
pub struct Unreachable {
    pub server: String,
    pub cause: String,
}

impl std::fmt::Display for Unreachable {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "unable to connect to the server at {}: {}",
            self.server, self.cause
        )
    }
}

impl std::error::Error for Unreachable {}

/// `Connection refused (os error 111)` -> `connection refused`.
pub fn tidy_cause(cause: &str) -> String {
    let mut s = cause.trim().to_string();
    if let Some(i) = s.find(" (os error") {
        s.truncate(i);
    }
    let mut chars = s.chars();
    match chars.next() {
        Some(c) => c.to_lowercase().chain(chars).collect(),
        None => "unknown error".into(),
    }
}

impl Api {
    /// `timeout` of None means no limit.
    pub async fn connect(connection: &ConnectionConfig, timeout: Option<Duration>) -> Result<Api> {
        let server = connection.server.as_str();
        let connect = Client::connect_with(connection);
        // The client has its own connect timeout; this bounds name resolution and the rest.
        let limit = timeout
            .unwrap_or(Duration::from_secs(30))
            .min(Duration::from_secs(30));
        let client = match tokio::time::timeout(limit, connect).await {
            // kubectl prints the apiserver's warnings on stderr as they come.
            Ok(Ok(c)) => {
                c.with_warning_handler(client::WarningHandler::new(|w| eprintln!("Warning: {w}")))
            }
            Ok(Err(e)) => return Err(convert(server, e)),
            Err(_) => {
                return Err(Unreachable {
                    server: server.to_string(),
                    cause: "connection timed out".into(),
                }
                .into());
            }
        };
        Ok(Api {
            client,
            server: server.to_string(),
            timeout,
            dry_run: DryRun::None,
        })
    }

    /// Mutations after this are dry runs: `Server` sends them with dryRun=All; `Client`
    /// sends no create, update or delete (they answer with what would have been written;
    /// a patch, which only the server can compute, goes as a server dry run).
    pub fn with_dry_run(mut self, dry_run: DryRun) -> Api {
        self.dry_run = dry_run;
        self
    }

    pub fn server(&self) -> &str {
        &self.server
    }

    /// The underlying client, for typed calls (`client::Api<K>`); run them through
    /// `call` to keep the request time limit and the error wording.
    pub fn client(&self) -> &Client {
        &self.client
    }

    /// Runs one request with the time limit, errors in kubectl's wording.
    pub async fn call<T>(&self, fut: impl Future<Output = Result<T, ApiError>>) -> Result<T> {
        self.run(fut).await
    }

    async fn run<T>(&self, fut: impl Future<Output = Result<T, ApiError>>) -> Result<T> {
        let res = match self.timeout {
            Some(t) => match tokio::time::timeout(t, fut).await {
                Ok(r) => r,
                Err(_) => {
                    return Err(anyhow!(
                        "the server at {} did not answer within {:?} (--request-timeout)",
                        self.server,
                        t
                    ));
                }
            },
            None => fut.await,
        };
        res.map_err(|e| convert(&self.server, e))
    }

    pub async fn get(&self, resource: &str, namespace: &str, name: &str) -> Result<Object> {
        self.run(self.client.get(resource, namespace, name)).await
    }

    /// Every page of the list; the resourceVersion is the first page's, from which a watch
    /// continues.
    pub async fn list(&self, req: ListRequest) -> Result<ListResponse> {
        let mut req = ListRequest { limit: PAGE, ..req };
        let mut first = self.run(self.client.list(req.clone())).await?;
        let mut next = std::mem::take(&mut first.r#continue);
        while !next.is_empty() {
            req.r#continue = next;
            let mut page = self.run(self.client.list(req.clone())).await?;
            first.items.append(&mut page.items);
            next = std::mem::take(&mut page.r#continue);
        }
        first.remaining_item_count = None;
        Ok(first)
    }

    pub async fn create(&self, object: Object) -> Result<Object> {
        if self.dry_run == DryRun::Client {
            return Ok(object);
        }
        let req = CreateRequest {
            object: Some(object),
            dry_run: self.dry_run == DryRun::Server,
            ..Default::default()
        };
        self.run(self.client.create_with(req)).await
    }

    pub async fn update(&self, object: Object) -> Result<Object> {
        self.update_subresource(object, "").await
    }

    /// `subresource`: "" or "status".
    pub async fn update_subresource(&self, object: Object, subresource: &str) -> Result<Object> {
        if self.dry_run == DryRun::Client {
            return Ok(object);
        }
        let req = UpdateRequest {
            object: Some(object),
            subresource: subresource.to_string(),
            dry_run: self.dry_run == DryRun::Server,
            ..Default::default()
        };
        self.run(self.client.update_with(req)).await
    }

    pub async fn patch(&self, mut req: PatchRequest) -> Result<Object> {
        req.dry_run |= self.dry_run != DryRun::None;
        self.run(self.client.patch(req)).await
    }

    pub async fn delete(&self, mut req: DeleteRequest) -> Result<Object> {
        if self.dry_run == DryRun::Client {
            return self.get(&req.resource, &req.namespace, &req.name).await;
        }
        req.dry_run |= self.dry_run == DryRun::Server;
        self.run(self.client.delete(req)).await
    }

    pub async fn get_scale(&self, resource: &str, namespace: &str, name: &str) -> Result<Scale> {
        self.run(self.client.get_scale(resource, namespace, name))
            .await
    }

    pub async fn update_scale(&self, resource: &str, scale: Scale) -> Result<Scale> {
        if self.dry_run == DryRun::Client {
            return Ok(scale);
        }
        let req = UpdateScaleRequest {
            resource: resource.to_string(),
            scale: Some(scale),
            dry_run: self.dry_run == DryRun::Server,
            ..Default::default()
        };
        self.run(self.client.update_scale_with(req)).await
    }

    /// Only opening the stream is time-limited: a watch runs until stopped.
    pub async fn watch(&self, req: WatchRequest) -> Result<tonic::Streaming<WatchEvent>> {
        self.run(self.client.watch(req)).await
    }
}

/// API errors stay `ApiError` (commands act on their reason); an unreachable server
/// becomes `Unreachable`.
pub fn convert(server: &str, e: ApiError) -> anyhow::Error {
    if e.reason == Reason::Unavailable {
        let prefix = format!("cannot reach the apiserver at {server}: ");
        if let Some(cause) = e.message.strip_prefix(&prefix) {
            return Unreachable {
                server: server.to_string(),
                cause: tidy_cause(cause),
            }
            .into();
        }
    }
    // Something answered HTTP, but not gRPC: a web server or proxy, not an apiserver.
    if let Some(i) = e.message.find("mapped from HTTP status code") {
        let code = e.message[i + "mapped from HTTP status code".len()..].trim();
        return Unreachable {
            server: server.to_string(),
            cause: format!("it is not an apiserver (it answered plain HTTP {code})"),
        }
        .into();
    }
    e.into()
}

/// The reason of an API error inside an anyhow error, if it is one.
pub fn reason_of(e: &anyhow::Error) -> Option<Reason> {
    e.downcast_ref::<ApiError>().map(|a| a.reason)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_plain_http_server_is_named_as_not_an_apiserver() {
        let e = ApiError::new(
            Reason::Internal,
            "grpc-status header missing, mapped from HTTP status code 404",
        );
        assert_eq!(
            convert("http://h:80", e).to_string(),
            "unable to connect to the server at http://h:80: it is not an apiserver (it answered plain HTTP 404)"
        );
    }

    #[test]
    fn causes_are_tidied() {
        assert_eq!(
            tidy_cause("Connection refused (os error 111)"),
            "connection refused"
        );
        assert_eq!(tidy_cause(""), "unknown error");
    }

    #[test]
    fn unreachable_is_recognized() {
        let e = ApiError::new(
            Reason::Unavailable,
            "cannot reach the apiserver at http://h:1: Connection refused (os error 111)",
        );
        let a = convert("http://h:1", e);
        assert_eq!(
            a.to_string(),
            "unable to connect to the server at http://h:1: connection refused"
        );
        let nf = convert("http://h:1", ApiError::not_found("pods \"x\" not found"));
        assert_eq!(reason_of(&nf), Some(Reason::NotFound));
    }

    #[tokio::test]
    async fn connecting_to_a_closed_port_fails_fast_with_one_line() {
        // Bind then drop a listener to get a port nothing listens on.
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let server = format!("http://127.0.0.1:{port}");
        let start = std::time::Instant::now();
        let err = Api::connect(
            &ConnectionConfig::plaintext(&server),
            Some(Duration::from_secs(5)),
        )
        .await
        .err()
        .unwrap();
        assert!(start.elapsed() < Duration::from_secs(5));
        let line = crate::errors::render_error(&err);
        assert_eq!(
            line,
            format!("error: unable to connect to the server at {server}: connection refused")
        );
    }
}

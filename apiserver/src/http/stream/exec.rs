//! `pods/{name}/exec` and `pods/{name}/attach` over WebSocket: the HTTP/1.1 upgrade, then
//! the channel protocol (see [`super::channel`]) bridged to the kubelet's `ExecStream`
//! through the proxy (which authorizes `create pods/exec` / `create pods/attach`).
//!
//! The session is opened on the kubelet before the upgrade is answered, so a refusal, a
//! missing pod or container, or an unreachable node is an ordinary `Status` response the
//! client prints. SPDY/3.1 (kubectl 1.29 and older, and the fallback of newer ones) is
//! served by [`super::spdy`] when the client offers `v4.channel.k8s.io`.

use super::channel::{self, Incoming, Outcome, Protocol};
use crate::http::query::Query;
use crate::http::{Body, HttpApi, HttpResponse, api_error_response, grpc, status_response};
use crate::store::Store;
use futures::{SinkExt, StreamExt};
use proto::ApiError;
use proto::kubelet_api::exec_stream_request::Kind as In;
use proto::kubelet_api::exec_stream_response::Kind as Out;
use proto::kubelet_api::{ExecStreamOpen, ExecStreamRequest, TerminalSize};
use tokio_tungstenite::WebSocketStream;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::tungstenite::protocol::frame::CloseFrame;
use tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode;
use tokio_tungstenite::tungstenite::protocol::{Role, WebSocketConfig};

/// What an exec or attach request asks (Kubernetes' `PodExecOptions` / `PodAttachOptions`).
pub fn parse(
    query: &Query,
    namespace: &str,
    name: &str,
    attach: bool,
) -> Result<ExecStreamOpen, ApiError> {
    let command: Vec<String> = query
        .all("command")
        .into_iter()
        .map(str::to_string)
        .collect();
    let (stdin, stdout, stderr, tty) = (
        query.bool("stdin")?,
        query.bool("stdout")?,
        query.bool("stderr")?,
        query.bool("tty")?,
    );
    if !attach && command.is_empty() {
        return Err(ApiError::bad_request(
            "you must specify at least one command for the container",
        ));
    }
    if !(stdin || stdout || stderr) {
        return Err(ApiError::bad_request(
            "you must specify at least 1 of stdin, stdout, stderr",
        ));
    }
    Ok(ExecStreamOpen {
        namespace: namespace.to_string(),
        pod: name.to_string(),
        container: query.str("container"),
        command: if attach { Vec::new() } else { command },
        stdin,
        stdout,
        // A terminal has one output stream.
        stderr: stderr && !tty,
        tty,
        attach,
    })
}

/// How the client asks to stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Upgrade {
    WebSocket {
        key: String,
    },
    Spdy,
    /// No upgrade (or one we do not know).
    None,
}

pub fn upgrade_of(headers: &::http::HeaderMap) -> Upgrade {
    let has = |name: ::http::header::HeaderName, word: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .is_ok_and(|s| s.split(',').any(|p| p.trim().eq_ignore_ascii_case(word)))
        })
    };
    if has(::http::header::UPGRADE, "websocket") {
        let key = headers
            .get(::http::header::SEC_WEBSOCKET_KEY)
            .and_then(|v| v.to_str().ok())
            .unwrap_or("")
            .to_string();
        return Upgrade::WebSocket { key };
    }
    if has(::http::header::UPGRADE, "SPDY/3.1") {
        return Upgrade::Spdy;
    }
    Upgrade::None
}

/// The refusal SPDY clients without v4 get.
pub const SPDY_REFUSED: &str = "SPDY/3.1 streaming needs the channel protocol v4.channel.k8s.io (exit codes), which this client does not offer";

pub(crate) async fn serve<S: Store>(
    http: &HttpApi<S>,
    request: ::http::Request<Body>,
    namespace: &str,
    name: &str,
    attach: bool,
) -> HttpResponse {
    let query = Query::parse(request.uri().query().unwrap_or(""));
    let open = match parse(&query, namespace, name, attach) {
        Ok(o) => o,
        Err(e) => return api_error_response(&e),
    };
    let key = match upgrade_of(request.headers()) {
        Upgrade::WebSocket { key } if !key.is_empty() => key,
        Upgrade::WebSocket { .. } => {
            return api_error_response(&ApiError::bad_request(
                "a WebSocket upgrade needs a Sec-WebSocket-Key header",
            ));
        }
        Upgrade::Spdy if super::spdy::offers_v4(request.headers()) => {
            return serve_spdy(http, request, open, namespace, name).await;
        }
        Upgrade::Spdy => {
            // What would have failed anyway is said first (kubectl 1.30+ falls back to
            // SPDY after a WebSocket refusal: its reason must not be lost).
            let (parts, _) = request.into_parts();
            let attrs = crate::kubelet_proxy::exec_stream_attributes(&open);
            let caller = crate::http::grpc(&parts, ());
            let check = http
                .kubelet
                .check_pod_target(&caller, &attrs, &open.container);
            if let Err(s) = check.await {
                return status_response(&s);
            }
            return api_error_response(&ApiError::bad_request(SPDY_REFUSED));
        }
        Upgrade::None => {
            return api_error_response(&ApiError::bad_request("Upgrade request required"));
        }
    };
    let offered: Vec<&str> = request
        .headers()
        .get_all(::http::header::SEC_WEBSOCKET_PROTOCOL)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let Some(protocol) = channel::negotiate(offered) else {
        tracing::debug!(offered = ?request.headers().get_all(::http::header::SEC_WEBSOCKET_PROTOCOL), "exec: no channel protocol we speak");
        return api_error_response(&ApiError::bad_request(format!(
            "none of the offered WebSocket subprotocols is supported; supported: {}",
            channel::SUPPORTED.join(", ")
        )));
    };
    let command = open.command.clone();
    let (stdout, stderr) = (open.stdout, open.stderr);
    let (tx, output, on_upgrade) = match open_session(http, request, open, "WebSocket").await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let shutdown = Box::pin(super::shutting_down(http.shutdown.clone()));
    let pod = format!("{namespace}/{name}");
    tokio::spawn(async move {
        let Some(io) = upgraded(on_upgrade, &pod).await else {
            return;
        };
        let ws =
            WebSocketStream::from_raw_socket(io, Role::Server, Some(WebSocketConfig::default()))
                .await;
        let session = Session {
            protocol,
            command,
            first: channel::first_writable(stdout, stderr),
        };
        session.run(ws, tx, output, shutdown).await;
        tracing::debug!(%pod, attach, "exec session ended");
    });

    let mut response = switching_protocols("websocket");
    let h = response.headers_mut();
    if let Ok(v) = ::http::HeaderValue::from_str(
        &tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes()),
    ) {
        h.insert(::http::header::SEC_WEBSOCKET_ACCEPT, v);
    }
    h.insert(
        ::http::header::SEC_WEBSOCKET_PROTOCOL,
        ::http::HeaderValue::from_static(protocol.name()),
    );
    response
}

/// The SPDY/3.1 form of [`serve`] (kubectl 1.29 and older, and newer ones' fallback).
async fn serve_spdy<S: Store>(
    http: &HttpApi<S>,
    request: ::http::Request<Body>,
    open: ExecStreamOpen,
    namespace: &str,
    name: &str,
) -> HttpResponse {
    let command = open.command.clone();
    let expected = super::spdy::Expected {
        stdout: open.stdout,
        stderr: open.stderr,
    };
    let (tx, output, on_upgrade) = match open_session(http, request, open, "SPDY").await {
        Ok(opened) => opened,
        Err(response) => return response,
    };
    let shutdown = Box::pin(super::shutting_down(http.shutdown.clone()));
    let pod = format!("{namespace}/{name}");
    tokio::spawn(async move {
        let Some(io) = upgraded(on_upgrade, &pod).await else {
            return;
        };
        super::spdy::run(io, expected, command, tx, output, shutdown).await;
        tracing::debug!(%pod, "exec session (SPDY) ended");
    });
    let mut response = switching_protocols("SPDY/3.1");
    response.headers_mut().insert(
        "x-stream-protocol-version",
        ::http::HeaderValue::from_static(super::spdy::PROTOCOL),
    );
    response
}

/// Opens the kubelet session of an upgradable request before the upgrade is answered, so
/// refusals and missing pods are an ordinary Status: the sender of the session's input, its
/// output, and the connection once upgraded.
async fn open_session<S: Store>(
    http: &HttpApi<S>,
    request: ::http::Request<Body>,
    open: ExecStreamOpen,
    protocol: &str,
) -> Result<
    (
        tokio::sync::mpsc::Sender<ExecStreamRequest>,
        crate::kubelet_proxy::ExecOutputStream,
        hyper::upgrade::OnUpgrade,
    ),
    HttpResponse,
> {
    if request
        .extensions()
        .get::<hyper::upgrade::OnUpgrade>()
        .is_none()
    {
        return Err(api_error_response(&ApiError::bad_request(format!(
            "this connection cannot be upgraded ({protocol} needs HTTP/1.1)"
        ))));
    }
    let (tx, rx) = tokio::sync::mpsc::channel::<ExecStreamRequest>(16);
    let (parts, body) = request.into_parts();
    let caller = grpc(&parts, ());
    let mut request = ::http::Request::from_parts(parts, body);
    let input = tokio_stream::wrappers::ReceiverStream::new(rx);
    let output = http
        .kubelet
        .open_exec_stream(&caller, open, input)
        .await
        .map_err(|s| status_response(&s))?;
    Ok((tx, output, hyper::upgrade::on(&mut request)))
}

/// The connection once the client has it upgraded (None, logged, if it never is).
async fn upgraded(
    on_upgrade: hyper::upgrade::OnUpgrade,
    pod: &str,
) -> Option<hyper_util::rt::TokioIo<hyper::upgrade::Upgraded>> {
    match on_upgrade.await {
        Ok(u) => Some(hyper_util::rt::TokioIo::new(u)),
        Err(e) => {
            tracing::debug!(%pod, error = %e, "exec: the connection was not upgraded");
            None
        }
    }
}

/// `101 Switching Protocols` to `upgrade`.
fn switching_protocols(upgrade: &'static str) -> HttpResponse {
    let mut response = ::http::Response::new(Body::empty());
    *response.status_mut() = ::http::StatusCode::SWITCHING_PROTOCOLS;
    let h = response.headers_mut();
    h.insert(
        ::http::header::UPGRADE,
        ::http::HeaderValue::from_static(upgrade),
    );
    h.insert(
        ::http::header::CONNECTION,
        ::http::HeaderValue::from_static("Upgrade"),
    );
    response
}

struct Session {
    protocol: Protocol,
    command: Vec<String>,
    /// The stream that gets the empty "established" message.
    first: u8,
}

impl Session {
    fn message(&self, channel: u8, data: &[u8]) -> Message {
        match channel::encode(self.protocol, channel, data) {
            (true, text) => Message::Text(String::from_utf8_lossy(&text).into_owned().into()),
            (false, bin) => Message::Binary(bin.into()),
        }
    }

    /// Bridges the client's WebSocket and the kubelet's session until the process ends
    /// (its status on the error stream, then a normal close) or the client goes.
    async fn run<T>(
        self,
        ws: WebSocketStream<T>,
        to_kubelet: tokio::sync::mpsc::Sender<ExecStreamRequest>,
        from_kubelet: crate::kubelet_proxy::ExecOutputStream,
        shutdown: impl std::future::Future<Output = ()> + Unpin,
    ) where
        T: tokio::io::AsyncRead + tokio::io::AsyncWrite + Unpin + Send + 'static,
    {
        let (mut sink, mut source) = ws.split();
        let protocol = self.protocol;
        // Client -> kubelet, in its own task: stdin must flow while output is written.
        let reader = tokio::spawn(async move {
            while let Some(m) = source.next().await {
                let (text, data) = match m {
                    Ok(Message::Binary(b)) => (false, b.to_vec()),
                    Ok(Message::Text(t)) => (true, t.as_bytes().to_vec()),
                    Ok(Message::Close(_)) | Err(_) => break,
                    Ok(_) => continue, // ping/pong: answered by tungstenite
                };
                let kind = match channel::decode(protocol, text, &data) {
                    Ok(Some(Incoming::Data {
                        channel: channel::STDIN,
                        data,
                    })) => In::Stdin(data),
                    Ok(Some(Incoming::Close {
                        channel: channel::STDIN,
                    })) => In::StdinClose(true),
                    Ok(Some(Incoming::Data {
                        channel: channel::RESIZE,
                        data,
                    })) => match channel::resize(&data) {
                        Ok((width, height)) => In::Resize(TerminalSize {
                            width: u32::from(width),
                            height: u32::from(height),
                        }),
                        Err(e) => {
                            tracing::debug!(error = %e, "exec: bad resize message ignored");
                            continue;
                        }
                    },
                    Ok(_) => continue,
                    Err(e) => {
                        tracing::debug!(error = %e, "exec: protocol error from the client");
                        break;
                    }
                };
                let r = ExecStreamRequest { kind: Some(kind) };
                if to_kubelet.send(r).await.is_err() {
                    break;
                }
            }
            // Dropping the sender ends the request stream: stdin closes for the process.
        });

        // The apiserver's shutdown ends the session like a kubelet that went away.
        let mut from_kubelet = from_kubelet.take_until(shutdown);
        let mut outcome = None;
        let mut ok = sink.send(self.message(self.first, &[])).await.is_ok();
        while ok && let Some(item) = from_kubelet.next().await {
            match item {
                Ok(r) => match r.kind {
                    Some(Out::Stdout(d)) => {
                        ok = sink.send(self.message(channel::STDOUT, &d)).await.is_ok();
                    }
                    Some(Out::Stderr(d)) => {
                        ok = sink.send(self.message(channel::STDERR, &d)).await.is_ok();
                    }
                    Some(Out::Exit(e)) => {
                        outcome = Some(if e.error.is_empty() {
                            Outcome::Exited(e.exit_code)
                        } else {
                            Outcome::Failed(e.error)
                        });
                        break;
                    }
                    None => {}
                },
                Err(s) => {
                    outcome = Some(Outcome::Failed(s.message().to_string()));
                    break;
                }
            }
        }
        if ok {
            let outcome = outcome.unwrap_or_else(|| {
                Outcome::Failed(
                    "the session ended without an exit status (kubelet gone or apiserver shutting down)"
                        .into(),
                )
            });
            let status = channel::exit_status(&outcome, &self.command);
            let status = serde_json::to_vec(&status).unwrap_or_default();
            let _ = sink.send(self.message(channel::ERROR, &status)).await;
            // A normal close is the client's end-of-stream on every channel.
            let _ = sink
                .send(Message::Close(Some(CloseFrame {
                    code: CloseCode::Normal,
                    reason: "".into(),
                })))
                .await;
            let _ = sink.close().await;
        }
        reader.abort();
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn exec_options_from_the_query() {
        let q = Query::parse(
            "command=sh&command=-c&command=cat%3B%20exit%203&container=c&stdin=true&stdout=true&stderr=true",
        );
        let o = parse(&q, "ns", "p", false).unwrap();
        assert_eq!(o.command, vec!["sh", "-c", "cat; exit 3"]);
        assert_eq!((o.namespace.as_str(), o.pod.as_str()), ("ns", "p"));
        assert_eq!(o.container, "c");
        assert!(o.stdin && o.stdout && o.stderr && !o.tty && !o.attach);
        let tty = parse(
            &Query::parse("command=sh&stdin=1&stdout=1&stderr=1&tty=1"),
            "ns",
            "p",
            false,
        )
        .unwrap();
        assert!(tty.tty && !tty.stderr, "a terminal merges stderr");
        let attach = parse(&Query::parse("stdout=1&command=ignored"), "ns", "p", true).unwrap();
        assert!(attach.attach && attach.command.is_empty());
    }

    #[test]
    fn bad_exec_options_are_refused_as_kubernetes_words_them() {
        let e = parse(&Query::parse("stdout=1"), "ns", "p", false).unwrap_err();
        assert_eq!(
            e.message,
            "you must specify at least one command for the container"
        );
        let e = parse(&Query::parse("command=ls"), "ns", "p", false).unwrap_err();
        assert_eq!(
            e.message,
            "you must specify at least 1 of stdin, stdout, stderr"
        );
        assert_eq!(e.reason, proto::Reason::BadRequest);
        assert!(parse(&Query::parse("command=ls&stdout=perhaps"), "ns", "p", false).is_err());
    }

    #[test]
    fn upgrades_are_told_apart() {
        let headers = |pairs: &[(&str, &str)]| {
            let mut h = ::http::HeaderMap::new();
            for (k, v) in pairs {
                h.append(
                    ::http::header::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                    v.parse().unwrap(),
                );
            }
            h
        };
        assert_eq!(
            upgrade_of(&headers(&[
                ("connection", "Upgrade"),
                ("upgrade", "websocket"),
                ("sec-websocket-key", "k")
            ])),
            Upgrade::WebSocket { key: "k".into() }
        );
        assert_eq!(
            upgrade_of(&headers(&[("upgrade", "WebSocket")])),
            Upgrade::WebSocket { key: "".into() }
        );
        assert_eq!(
            upgrade_of(&headers(&[
                ("connection", "Upgrade"),
                ("upgrade", "SPDY/3.1")
            ])),
            Upgrade::Spdy
        );
        assert_eq!(upgrade_of(&headers(&[])), Upgrade::None);
        assert_eq!(upgrade_of(&headers(&[("upgrade", "h2c")])), Upgrade::None);
    }

    /// The bridge against a fake kubelet session: stdin reaches it, output comes back on
    /// its streams, the exit code ends the session with a NonZeroExitCode status and a
    /// normal close.
    #[tokio::test]
    async fn a_session_bridges_the_websocket_and_the_kubelet() {
        use proto::kubelet_api::{ExecExit, ExecStreamResponse};
        let (server_io, client_io) = tokio::io::duplex(64 * 1024);
        let server = WebSocketStream::from_raw_socket(server_io, Role::Server, None).await;
        let mut client = WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
        let (to_kubelet, mut kubelet_in) = tokio::sync::mpsc::channel(16);
        let (kubelet_out_tx, kubelet_out_rx) = tokio::sync::mpsc::channel(16);
        let output: crate::kubelet_proxy::ExecOutputStream =
            tokio_stream::wrappers::ReceiverStream::new(kubelet_out_rx).boxed();
        let session = Session {
            protocol: channel::negotiate(["v5.channel.k8s.io"]).unwrap(),
            command: vec!["sh".into(), "-c".into(), "cat; exit 3".into()],
            first: channel::STDOUT,
        };
        let bridge =
            tokio::spawn(session.run(server, to_kubelet, output, std::future::pending::<()>()));

        // The empty "established" message on stdout.
        let first = client.next().await.unwrap().unwrap();
        assert_eq!(first, Message::Binary(vec![channel::STDOUT].into()));
        client
            .send(Message::Binary(b"\x00hello".to_vec().into()))
            .await
            .unwrap();
        client
            .send(Message::Binary(vec![channel::CLOSE, channel::STDIN].into()))
            .await
            .unwrap();
        let got = kubelet_in.recv().await.unwrap();
        assert_eq!(got.kind, Some(In::Stdin(b"hello".to_vec())));
        let got = kubelet_in.recv().await.unwrap();
        assert_eq!(got.kind, Some(In::StdinClose(true)));

        let send = |k| kubelet_out_tx.send(Ok(ExecStreamResponse { kind: Some(k) }));
        send(Out::Stdout(b"hello".to_vec())).await.unwrap();
        send(Out::Stderr(b"oops".to_vec())).await.unwrap();
        send(Out::Exit(ExecExit {
            exit_code: Some(3),
            error: String::new(),
        }))
        .await
        .unwrap();
        let mut got = Vec::new();
        while let Some(Ok(m)) = client.next().await {
            got.push(m);
        }
        assert_eq!(got[0], Message::Binary(b"\x01hello".to_vec().into()));
        assert_eq!(got[1], Message::Binary(b"\x02oops".to_vec().into()));
        let Message::Binary(status) = &got[2] else {
            panic!("{got:?}")
        };
        assert_eq!(status[0], channel::ERROR);
        let status: serde_json::Value = serde_json::from_slice(&status[1..]).unwrap();
        assert_eq!(status["reason"], "NonZeroExitCode");
        assert_eq!(status["details"]["causes"][0]["message"], "3");
        assert!(
            matches!(&got[3], Message::Close(Some(f)) if f.code == CloseCode::Normal),
            "{got:?}"
        );
        bridge.await.unwrap();
    }

    /// The apiserver's shutdown ends a session that would run on: a failure status, then
    /// a normal close, so the client does not hang.
    #[tokio::test]
    async fn shutdown_ends_a_session() {
        let (server_io, client_io) = tokio::io::duplex(64 * 1024);
        let server = WebSocketStream::from_raw_socket(server_io, Role::Server, None).await;
        let mut client = WebSocketStream::from_raw_socket(client_io, Role::Client, None).await;
        let (to_kubelet, _kubelet_in) = tokio::sync::mpsc::channel(16);
        let output: crate::kubelet_proxy::ExecOutputStream = futures::stream::pending().boxed();
        let (stop, stopped) = tokio::sync::watch::channel(false);
        let session = Session {
            protocol: channel::negotiate(["v4.channel.k8s.io"]).unwrap(),
            command: vec!["sleep".into(), "1000".into()],
            first: channel::STDOUT,
        };
        let shutdown = Box::pin(super::super::shutting_down(stopped));
        let bridge = tokio::spawn(session.run(server, to_kubelet, output, shutdown));
        let first = client.next().await.unwrap().unwrap();
        assert_eq!(first, Message::Binary(vec![channel::STDOUT].into()));
        stop.send(true).unwrap();
        let Some(Ok(Message::Binary(status))) = client.next().await else {
            panic!("no status")
        };
        assert_eq!(status[0], channel::ERROR);
        let status: serde_json::Value = serde_json::from_slice(&status[1..]).unwrap();
        assert_eq!(status["reason"], "InternalError");
        assert!(matches!(client.next().await, Some(Ok(Message::Close(_)))));
        tokio::time::timeout(std::time::Duration::from_secs(5), bridge)
            .await
            .unwrap()
            .unwrap();
    }
}

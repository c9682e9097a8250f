//! Kubernetes' channel protocols over WebSocket (`v5.channel.k8s.io`, `v4.channel.k8s.io`
//! and their `base64` forms): every message is one stream's data, the first byte naming the
//! stream (0 stdin, 1 stdout, 2 stderr, 3 error, 4 resize); v5 adds 255 + a stream number,
//! "this stream is closed" (how a client says stdin ended). Base64 forms carry the stream
//! number as an ASCII digit and the data base64-encoded, in text messages. Pure functions.

use base64::Engine;
use serde_json::{Value, json};

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const ERROR: u8 = 3;
pub const RESIZE: u8 = 4;
/// v5: the next byte names a stream the peer closed.
pub const CLOSE: u8 = 255;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Version {
    V4,
    /// Adds the CLOSE signal.
    V5,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Protocol {
    pub version: Version,
    pub base64: bool,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match (self.version, self.base64) {
            (Version::V5, false) => "v5.channel.k8s.io",
            (Version::V5, true) => "v5.base64.channel.k8s.io",
            (Version::V4, false) => "v4.channel.k8s.io",
            (Version::V4, true) => "v4.base64.channel.k8s.io",
        }
    }

    fn from_name(name: &str) -> Option<Protocol> {
        let (version, base64) = match name {
            "v5.channel.k8s.io" => (Version::V5, false),
            "v5.base64.channel.k8s.io" => (Version::V5, true),
            "v4.channel.k8s.io" => (Version::V4, false),
            "v4.base64.channel.k8s.io" => (Version::V4, true),
            _ => return None,
        };
        Some(Protocol { version, base64 })
    }
}

/// Every protocol we speak, most preferred first (what a refusal lists).
pub const SUPPORTED: &[&str] = &[
    "v5.channel.k8s.io",
    "v5.base64.channel.k8s.io",
    "v4.channel.k8s.io",
    "v4.base64.channel.k8s.io",
];

/// The protocol to answer with, from the `Sec-WebSocket-Protocol` header values the client
/// sent (each may list several, comma-separated): the first the client offers that we
/// speak, as Kubernetes picks. `None`: nothing we speak (v1-v3 have no exit codes).
pub fn negotiate<'a>(offered: impl IntoIterator<Item = &'a str>) -> Option<Protocol> {
    offered
        .into_iter()
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .find_map(Protocol::from_name)
}

/// A message as the peer sent it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Incoming {
    Data {
        channel: u8,
        data: Vec<u8>,
    },
    /// v5: the client closed this stream of its own (stdin: the process reads EOF).
    Close {
        channel: u8,
    },
}

/// Decodes a client message (`text`: it came as a text message). `Err` for what the
/// protocol does not allow, with why; an empty message is `Ok(None)` (ignored, as
/// Kubernetes does).
pub fn decode(protocol: Protocol, text: bool, message: &[u8]) -> Result<Option<Incoming>, String> {
    let Some((&first, rest)) = message.split_first() else {
        return Ok(None);
    };
    if protocol.version == Version::V5 && first == CLOSE {
        return match rest {
            [channel] => Ok(Some(Incoming::Close { channel: *channel })),
            _ => Err(format!(
                "a stream close signal must be followed by exactly one stream number, got {} bytes",
                rest.len()
            )),
        };
    }
    if protocol.base64 {
        if !first.is_ascii_digit() {
            return Err(format!(
                "base64 channel message starts with {first:#04x}, not a digit"
            ));
        }
        let data = base64::engine::general_purpose::STANDARD
            .decode(rest)
            .map_err(|e| format!("base64 channel message: {e}"))?;
        return Ok(Some(Incoming::Data {
            channel: first - b'0',
            data,
        }));
    }
    if text {
        return Err("text message on a binary channel protocol".to_string());
    }
    Ok(Some(Incoming::Data {
        channel: first,
        data: rest.to_vec(),
    }))
}

/// A message to the client on `channel`: (`true` = send as text, bytes).
pub fn encode(protocol: Protocol, channel: u8, data: &[u8]) -> (bool, Vec<u8>) {
    if protocol.base64 {
        let mut out = vec![b'0' + channel];
        out.extend_from_slice(
            base64::engine::general_purpose::STANDARD
                .encode(data)
                .as_bytes(),
        );
        (true, out)
    } else {
        let mut out = Vec::with_capacity(data.len() + 1);
        out.push(channel);
        out.extend_from_slice(data);
        (false, out)
    }
}

/// A resize message's terminal size (Go's `TerminalSize`, `{"Width":80,"Height":24}`; Go
/// decodes keys case-insensitively, so do we).
pub fn resize(data: &[u8]) -> Result<(u16, u16), String> {
    let v: Value = serde_json::from_slice(data).map_err(|e| format!("resize message: {e}"))?;
    let field = |name: &str| -> Result<u16, String> {
        let found = v
            .as_object()
            .and_then(|o| o.iter().find(|(k, _)| k.eq_ignore_ascii_case(name)))
            .map(|(_, v)| v);
        match found {
            None => Ok(0),
            Some(n) => n
                .as_u64()
                .and_then(|n| u16::try_from(n).ok())
                .ok_or_else(|| format!("resize message: {name} {n} is not a terminal size")),
        }
    };
    Ok((field("width")?, field("height")?))
}

/// The stream with the lowest number the client reads: Kubernetes sends an empty message
/// on it first, telling the client the session is established.
pub fn first_writable(stdout: bool, stderr: bool) -> u8 {
    if stdout {
        STDOUT
    } else if stderr {
        STDERR
    } else {
        ERROR
    }
}

/// How the session ended.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Outcome {
    /// The process ended with this exit code (`None`: unknown, as for attach).
    Exited(Option<i32>),
    /// The session failed after it started.
    Failed(String),
}

/// The `metav1.Status` sent on the error stream at the end, as Kubernetes' remotecommand
/// server writes it (v4+): Success, NonZeroExitCode with an `ExitCode` cause, or an
/// internal error.
pub fn exit_status(outcome: &Outcome, command: &[String]) -> Value {
    match outcome {
        Outcome::Exited(None | Some(0)) => json!({"metadata": {}, "status": "Success"}),
        Outcome::Exited(Some(code)) if *code > 0 => json!({
            "metadata": {},
            "status": "Failure",
            "message": format!(
                "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
                command.join(" ")
            ),
            "reason": "NonZeroExitCode",
            "details": {"causes": [{"reason": "ExitCode", "message": code.to_string()}]},
        }),
        Outcome::Exited(Some(code)) => internal_error(&format!(
            "command [{}] ended without an exit status ({code})",
            command.join(" ")
        )),
        Outcome::Failed(message) => internal_error(message),
    }
}

fn internal_error(message: &str) -> Value {
    json!({
        "metadata": {},
        "status": "Failure",
        "message": format!("Internal error occurred: {message}"),
        "reason": "InternalError",
        "details": {"causes": [{"message": message}]},
        "code": 500,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    const V5: Protocol = Protocol {
        version: Version::V5,
        base64: false,
    };
    const V4: Protocol = Protocol {
        version: Version::V4,
        base64: false,
    };
    const V4B64: Protocol = Protocol {
        version: Version::V4,
        base64: true,
    };

    #[test]
    fn negotiation_takes_the_first_offered_protocol_we_speak() {
        assert_eq!(negotiate(["v5.channel.k8s.io"]), Some(V5));
        assert_eq!(
            negotiate(["v3.channel.k8s.io, v4.channel.k8s.io", "v5.channel.k8s.io"]),
            Some(V4)
        );
        assert_eq!(negotiate(["v4.base64.channel.k8s.io"]), Some(V4B64));
        assert_eq!(negotiate(["channel.k8s.io", "v2.channel.k8s.io"]), None);
        assert_eq!(negotiate([]), None);
        for name in SUPPORTED {
            assert_eq!(negotiate([*name]).map(Protocol::name), Some(*name));
        }
    }

    #[test]
    fn binary_messages_name_their_stream_in_the_first_byte() {
        assert_eq!(
            decode(V5, false, b"\x00hello"),
            Ok(Some(Incoming::Data {
                channel: STDIN,
                data: b"hello".to_vec()
            }))
        );
        assert_eq!(decode(V5, false, b""), Ok(None));
        assert_eq!(
            decode(V5, false, &[CLOSE, STDIN]),
            Ok(Some(Incoming::Close { channel: STDIN }))
        );
        assert!(decode(V5, false, &[CLOSE]).is_err());
        assert!(decode(V5, false, &[CLOSE, 0, 1]).is_err());
        // v4 has no close signal: 255 is just a stream number nobody uses.
        assert_eq!(
            decode(V4, false, &[CLOSE, STDIN]),
            Ok(Some(Incoming::Data {
                channel: CLOSE,
                data: vec![STDIN]
            }))
        );
        assert!(decode(V4, true, b"\x00x").is_err(), "text on binary");
        assert_eq!(encode(V5, STDOUT, b"out"), (false, b"\x01out".to_vec()));
        assert_eq!(encode(V5, ERROR, b""), (false, vec![ERROR]));
    }

    #[test]
    fn base64_messages_carry_a_digit_and_base64_data() {
        assert_eq!(encode(V4B64, STDERR, b"hi"), (true, b"2aGk=".to_vec()));
        assert_eq!(
            decode(V4B64, true, b"0aGk="),
            Ok(Some(Incoming::Data {
                channel: STDIN,
                data: b"hi".to_vec()
            }))
        );
        assert!(decode(V4B64, true, b"0***").is_err());
        assert!(decode(V4B64, true, b"xaGk=").is_err());
    }

    #[test]
    fn resize_reads_gos_terminal_size() {
        assert_eq!(resize(br#"{"Width":80,"Height":24}"#), Ok((80, 24)));
        assert_eq!(resize(br#"{"width":100,"height":50}"#), Ok((100, 50)));
        assert!(resize(br#"{"Width":-1,"Height":24}"#).is_err());
        assert!(resize(br#"{"Width":70000}"#).is_err());
        assert!(resize(b"not json").is_err());
    }

    #[test]
    fn the_first_message_goes_to_the_lowest_stream_the_client_reads() {
        assert_eq!(first_writable(true, true), STDOUT);
        assert_eq!(first_writable(false, true), STDERR);
        assert_eq!(first_writable(false, false), ERROR);
    }

    #[test]
    fn exit_statuses_are_kubernetes_remotecommand_statuses() {
        let cmd = ["sh".to_string(), "-c".into(), "cat; exit 3".into()];
        assert_eq!(
            exit_status(&Outcome::Exited(Some(0)), &cmd),
            json!({"metadata": {}, "status": "Success"})
        );
        assert_eq!(
            exit_status(&Outcome::Exited(None), &cmd)["status"],
            "Success"
        );
        let three = exit_status(&Outcome::Exited(Some(3)), &cmd);
        assert_eq!(three["status"], "Failure");
        assert_eq!(three["reason"], "NonZeroExitCode");
        assert_eq!(
            three["details"]["causes"],
            json!([{"reason": "ExitCode", "message": "3"}])
        );
        assert_eq!(
            three["message"],
            "command terminated with non-zero exit code: error executing command [sh -c cat; exit 3], exit code 3"
        );
        let failed = exit_status(&Outcome::Failed("docker went away".into()), &cmd);
        assert_eq!(failed["reason"], "InternalError");
        assert_eq!(
            failed["message"],
            "Internal error occurred: docker went away"
        );
        assert_eq!(
            exit_status(&Outcome::Exited(Some(-1)), &cmd)["reason"],
            "InternalError"
        );
    }
}

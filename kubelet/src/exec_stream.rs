//! The kubelet API's interactive exec/attach (`ExecStream`) in the runtime's terms: the
//! first message opens the session, the rest feed it; the runtime's output goes back as
//! messages, the last one `exit`.

use crate::runtime::stream::{StreamInput, StreamOutput, StreamSpec};
use proto::kubelet_api::exec_stream_request::Kind as In;
use proto::kubelet_api::exec_stream_response::Kind as Out;
use proto::kubelet_api::{ExecExit, ExecStreamOpen, ExecStreamRequest, ExecStreamResponse};
use tonic::Status;

/// The session a stream's `open` asks for, or why it cannot start (Kubernetes' wording).
pub fn spec_of(open: &ExecStreamOpen) -> Result<StreamSpec, Status> {
    if !open.attach && open.command.is_empty() {
        return Err(Status::invalid_argument("a command is required"));
    }
    if !(open.stdin || open.stdout || open.stderr) {
        return Err(Status::invalid_argument(
            "you must specify at least 1 of stdin, stdout, stderr",
        ));
    }
    Ok(StreamSpec {
        command: if open.attach {
            Vec::new()
        } else {
            open.command.clone()
        },
        stdin: open.stdin,
        stdout: open.stdout,
        // A terminal has no separate stderr.
        stderr: open.stderr && !open.tty,
        tty: open.tty,
        attach: open.attach,
    })
}

/// The `open` message that must come first.
pub fn first(message: Option<ExecStreamRequest>) -> Result<ExecStreamOpen, Status> {
    match message.and_then(|m| m.kind) {
        Some(In::Open(open)) => Ok(open),
        _ => Err(Status::invalid_argument(
            "the first message of an exec stream must be `open`",
        )),
    }
}

/// A later request as runtime input; `None` for what has no meaning after the start
/// (another `open`, an empty message).
pub fn input_of(message: ExecStreamRequest) -> Option<StreamInput> {
    match message.kind? {
        In::Stdin(data) => Some(StreamInput::Stdin(data.into())),
        In::StdinClose(_) => Some(StreamInput::StdinClose),
        In::Resize(size) => Some(StreamInput::Resize {
            width: u16::try_from(size.width).unwrap_or(u16::MAX),
            height: u16::try_from(size.height).unwrap_or(u16::MAX),
        }),
        In::Open(_) => None,
    }
}

/// A runtime output (or its failure, which ends the session) as a response message.
pub fn response_of(item: crate::Result<StreamOutput>) -> ExecStreamResponse {
    let kind = match item {
        Ok(StreamOutput::Stdout(data)) => Out::Stdout(data.to_vec()),
        Ok(StreamOutput::Stderr(data)) => Out::Stderr(data.to_vec()),
        Ok(StreamOutput::Exit(code)) => Out::Exit(ExecExit {
            exit_code: code.map(|c| i32::try_from(c).unwrap_or(-1)),
            error: String::new(),
        }),
        Err(e) => Out::Exit(ExecExit {
            exit_code: None,
            error: e.to_string(),
        }),
    };
    ExecStreamResponse { kind: Some(kind) }
}

/// Whether this response is the session's last.
pub fn is_last(response: &ExecStreamResponse) -> bool {
    matches!(response.kind, Some(Out::Exit(_)))
}

#[cfg(test)]
mod tests {
    use super::*;
    use proto::kubelet_api::TerminalSize;

    fn open() -> ExecStreamOpen {
        ExecStreamOpen {
            namespace: "ns".into(),
            pod: "p".into(),
            command: vec!["sh".into()],
            stdin: true,
            stdout: true,
            stderr: true,
            ..Default::default()
        }
    }

    #[test]
    fn open_becomes_a_spec_and_bad_opens_are_refused() {
        let s = spec_of(&open()).unwrap();
        assert_eq!(s.command, vec!["sh".to_string()]);
        assert!(s.stdin && s.stdout && s.stderr && !s.tty && !s.attach);
        let tty = spec_of(&ExecStreamOpen {
            tty: true,
            ..open()
        })
        .unwrap();
        assert!(!tty.stderr, "a terminal merges stderr");
        let attach = spec_of(&ExecStreamOpen {
            attach: true,
            command: vec![],
            ..open()
        })
        .unwrap();
        assert!(attach.attach && attach.command.is_empty());
        let e = spec_of(&ExecStreamOpen {
            command: vec![],
            ..open()
        })
        .unwrap_err();
        assert_eq!(e.message(), "a command is required");
        let e = spec_of(&ExecStreamOpen {
            stdin: false,
            stdout: false,
            stderr: false,
            ..open()
        })
        .unwrap_err();
        assert!(e.message().contains("at least 1 of stdin"), "{e}");
    }

    #[test]
    fn the_first_message_must_open() {
        assert!(first(None).is_err());
        let stdin = ExecStreamRequest {
            kind: Some(In::Stdin(b"x".to_vec())),
        };
        assert!(first(Some(stdin)).is_err());
        let o = ExecStreamRequest {
            kind: Some(In::Open(open())),
        };
        assert_eq!(first(Some(o)).unwrap().pod, "p");
    }

    #[test]
    fn requests_and_outputs_map_one_to_one() {
        let m = |k| ExecStreamRequest { kind: Some(k) };
        assert_eq!(
            input_of(m(In::Stdin(b"ab".to_vec()))),
            Some(StreamInput::Stdin("ab".into()))
        );
        assert_eq!(
            input_of(m(In::StdinClose(true))),
            Some(StreamInput::StdinClose)
        );
        assert_eq!(
            input_of(m(In::Resize(TerminalSize {
                width: 80,
                height: 100_000
            }))),
            Some(StreamInput::Resize {
                width: 80,
                height: u16::MAX
            })
        );
        assert_eq!(input_of(m(In::Open(open()))), None);
        assert_eq!(input_of(ExecStreamRequest { kind: None }), None);

        let out = response_of(Ok(StreamOutput::Stderr("e".into())));
        assert_eq!(out.kind, Some(Out::Stderr(b"e".to_vec())));
        assert!(!is_last(&out));
        let exit = response_of(Ok(StreamOutput::Exit(Some(3))));
        assert!(is_last(&exit));
        assert_eq!(
            exit.kind,
            Some(Out::Exit(ExecExit {
                exit_code: Some(3),
                error: String::new()
            }))
        );
        let failed = response_of(Err(crate::Error::Runtime("gone".into())));
        assert!(is_last(&failed));
        let Some(Out::Exit(e)) = failed.kind else {
            panic!()
        };
        assert!(e.exit_code.is_none() && e.error.contains("gone"));
    }
}

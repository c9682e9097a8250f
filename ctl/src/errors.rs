//! The one line a failure prints on stderr, in kubectl's wording.

use proto::{ApiError, Reason};

/// `Error from server (NotFound): pods "x" not found` for API errors, `error: ...` for
/// everything else; always one line.
pub fn render_error(e: &anyhow::Error) -> String {
    let line = match e.downcast_ref::<ApiError>() {
        Some(api) if e.chain().count() == 1 => api_line(api),
        _ => format!("error: {e:#}"),
    };
    one_line(&line)
}

pub fn api_line(e: &ApiError) -> String {
    // kubectl: `error: You must be logged in to the server (Unauthorized)`; the server's
    // message (`Unauthorized: <cause>`) says why.
    if e.reason == Reason::Unauthorized {
        let msg = e.message.trim();
        let msg = if msg.is_empty() { "Unauthorized" } else { msg };
        return one_line(&format!(
            "error: You must be logged in to the server ({msg})"
        ));
    }
    // kubectl words validation failures as a sentence about the object.
    if e.reason == Reason::Invalid && e.message.contains(" is invalid") {
        let msg = e.message.trim();
        return one_line(&if msg.starts_with("The ") {
            msg.to_string()
        } else {
            format!("The {msg}")
        });
    }
    one_line(&format!(
        "Error from server ({}): {}",
        e.reason.as_str(),
        e.message
    ))
}

pub fn one_line(s: &str) -> String {
    s.trim()
        .lines()
        .map(str::trim)
        .filter(|l| !l.is_empty())
        .collect::<Vec<_>>()
        .join("; ")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn kubectl_forms() {
        let nf: anyhow::Error = ApiError::not_found("pods \"x\" not found").into();
        assert_eq!(
            render_error(&nf),
            "Error from server (NotFound): pods \"x\" not found"
        );
        let c: anyhow::Error =
            ApiError::new(Reason::Conflict, "Operation cannot be fulfilled").into();
        assert_eq!(
            render_error(&c),
            "Error from server (Conflict): Operation cannot be fulfilled"
        );
        let plain = anyhow::anyhow!("the server doesn't have a resource type \"foo\"");
        assert_eq!(
            render_error(&plain),
            "error: the server doesn't have a resource type \"foo\""
        );
        let inv: anyhow::Error =
            ApiError::invalid("Deployment \"web\" is invalid: spec.replicas: Invalid value: -1")
                .into();
        assert_eq!(
            render_error(&inv),
            "The Deployment \"web\" is invalid: spec.replicas: Invalid value: -1"
        );
        let unauth: anyhow::Error = ApiError::unauthorized(
            "Unauthorized: x509: certificate has expired or is not yet valid",
        )
        .into();
        assert_eq!(
            render_error(&unauth),
            "error: You must be logged in to the server (Unauthorized: x509: certificate has expired or is not yet valid)"
        );
        let multi = anyhow::anyhow!("a\nb\n");
        assert_eq!(render_error(&multi), "error: a; b");
    }
}

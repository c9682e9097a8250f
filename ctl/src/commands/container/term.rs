//! The local terminal of `exec -t`: raw mode while the session runs (restored when the
//! guard drops, on every path out, errors and panics included) and its size.

use anyhow::{Result, anyhow};
use rustix::termios::{self, OptionalActions, Termios};

/// Stdin in raw mode until dropped.
pub struct RawMode {
    saved: Termios,
}

impl RawMode {
    pub fn enable() -> Result<RawMode> {
        let stdin = std::io::stdin();
        let saved = termios::tcgetattr(&stdin)
            .map_err(|e| anyhow!("cannot read the terminal's settings: {e}"))?;
        let mut raw = saved.clone();
        raw.make_raw();
        termios::tcsetattr(&stdin, OptionalActions::Now, &raw)
            .map_err(|e| anyhow!("cannot put the terminal in raw mode: {e}"))?;
        Ok(RawMode { saved })
    }
}

impl Drop for RawMode {
    fn drop(&mut self) {
        let _ = termios::tcsetattr(std::io::stdin(), OptionalActions::Now, &self.saved);
    }
}

/// (columns, rows) of the terminal on stdout, else on stdin (as kubectl's MonitorSize).
pub fn size() -> Option<(u16, u16)> {
    let of =
        |ws: termios::Winsize| (ws.ws_col > 0 && ws.ws_row > 0).then_some((ws.ws_col, ws.ws_row));
    termios::tcgetwinsize(std::io::stdout())
        .ok()
        .and_then(of)
        .or_else(|| termios::tcgetwinsize(std::io::stdin()).ok().and_then(of))
}

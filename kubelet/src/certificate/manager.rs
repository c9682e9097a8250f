//! Renewal of a certificate before it expires (client-go's certificate manager): sleep to a
//! jittered deadline at 70-90% of the current certificate's lifetime, ask for a new one with
//! a fresh key through a CSR (authenticated by the current client certificate), then hand it
//! to `install` (which swaps the live identity and rewrites the file). Failures retry with
//! back-off; the current certificate stays in use meanwhile.

use super::request::{Issued, WAIT_TIMEOUT, request_certificate};
use super::rotation::{random_jitter, rotation_deadline, until};
use super::shape::CsrShape;
use crate::error::Result;
use client::Client;
use std::time::{Duration, SystemTime};
use tokio_util::sync::CancellationToken;

/// Sleeps are cut into pieces of at most this, so a wall-clock jump (suspend, NTP) is
/// noticed.
const MAX_SLEEP: Duration = Duration::from_secs(600);

/// Runs until `cancel`. `what` names the certificate in logs ("client", "serving").
pub async fn rotate<F>(
    what: &'static str,
    client: Client,
    shape: CsrShape,
    mut current_cert_pem: String,
    install: F,
    cancel: CancellationToken,
) where
    F: Fn(&Issued) -> Result<()> + Send + Sync + 'static,
{
    let mut backoff = client::Backoff::new(Duration::from_secs(1), Duration::from_secs(300));
    let mut failed = false;
    loop {
        let deadline = match crate::bootstrap::files::validity(&current_cert_pem) {
            Ok((nb, na)) => rotation_deadline(nb, na, random_jitter()),
            Err(e) => {
                tracing::warn!(certificate = what, error = %e, "cannot read the current certificate; renewing now");
                SystemTime::now()
            }
        };
        let wait = if failed {
            backoff.next_delay()
        } else {
            until(deadline, SystemTime::now())
        };
        tracing::info!(certificate = what, deadline = %proto::time::format_rfc3339(deadline), wait = ?wait, "certificate rotation scheduled");
        let mut left = wait;
        while !left.is_zero() {
            let step = left.min(MAX_SLEEP);
            tokio::select! {
                _ = cancel.cancelled() => return,
                _ = tokio::time::sleep(step) => {}
            }
            left -= step;
            if !failed {
                left = until(deadline, SystemTime::now());
            }
        }
        match request_certificate(&client, &shape, false, WAIT_TIMEOUT, &cancel).await {
            Ok(issued) => match install(&issued) {
                Ok(()) => {
                    tracing::info!(certificate = what, "certificate rotated");
                    current_cert_pem = issued.cert_pem;
                    failed = false;
                    backoff.reset();
                }
                Err(e) => {
                    tracing::warn!(certificate = what, error = %e, "installing the rotated certificate failed");
                    failed = true;
                }
            },
            Err(e) => {
                if cancel.is_cancelled() {
                    return;
                }
                tracing::warn!(certificate = what, error = %e, "certificate rotation failed");
                failed = true;
            }
        }
    }
}

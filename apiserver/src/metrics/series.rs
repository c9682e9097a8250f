//! A request's series in the families, looked up by its labels: the slow path, taken once
//! per label set (see `label_set`) and for the few requests whose labels hold a string of
//! their own.

use std::borrow::Cow;

use telemetry::metrics::{Counter, Histogram};

use super::request::{self, Info};
use super::{Labels, METRICS};

/// The labels of `apiserver_response_sizes` and `apiserver_longrunning_requests`.
pub(crate) fn shape_labels(info: &Info) -> Labels<7> {
    [
        ("verb", Cow::Borrowed(info.verb)),
        ("group", Cow::Borrowed(info.group)),
        ("version", Cow::Borrowed(info.version)),
        ("resource", Cow::Borrowed(info.resource)),
        ("subresource", info.subresource.clone()),
        ("scope", Cow::Borrowed(info.scope)),
        ("component", Cow::Borrowed(request::COMPONENT)),
    ]
}

/// The labels of `apiserver_request_duration_seconds`; with the code, of
/// `apiserver_request_total`.
fn duration_labels(info: &Info) -> Labels<8> {
    let [
        verb,
        group,
        version,
        resource,
        subresource,
        scope,
        component,
    ] = shape_labels(info);
    [
        verb,
        ("dry_run", Cow::Borrowed(info.dry_run)),
        group,
        version,
        resource,
        subresource,
        scope,
        component,
    ]
}

/// `info`'s latency histogram, and its response sizes if it is a get or a list (the
/// answers Kubernetes measures).
pub(crate) fn shape_series(info: &Info) -> (Histogram, Option<Histogram>) {
    let m = &*METRICS;
    let sizes = (info.verb == request::GET || info.verb == request::LIST)
        .then(|| m.response_sizes.get_or_create_owned(&shape_labels(info)));
    (
        m.duration.get_or_create_owned(&duration_labels(info)),
        sizes,
    )
}

/// `info`'s request counter for answers with `code`.
pub(crate) fn requests(info: &Info, code: u16) -> Counter {
    let mut labels = duration_labels(info).into_iter();
    let with_code: Labels<9> = std::array::from_fn(|_| {
        labels
            .next()
            .unwrap_or_else(|| ("code", request::code_label(code)))
    });
    METRICS.requests.get_or_create_owned(&with_code)
}

/// The series one request moves.
pub(crate) struct Series {
    pub(crate) requests: Counter,
    duration: Histogram,
    response_sizes: Option<Histogram>,
}

impl Series {
    pub(crate) fn observe(&self, seconds: f64, bytes: u64) {
        if let Some(sizes) = &self.response_sizes {
            sizes.observe(bytes as f64);
        }
        self.duration.observe(seconds);
        self.requests.inc();
    }
}

/// The series of `info` answered with `code`, from the families.
pub(crate) fn series(info: &Info, code: u16) -> Series {
    let (duration, response_sizes) = shape_series(info);
    Series {
        requests: requests(info, code),
        duration,
        response_sizes,
    }
}

//! The first render of a large cluster on one thread per core, shared by both backends.

use crate::model::ServicePort;
use std::sync::Arc;

/// For each port whose `keyed` entry has nothing to reuse, `render(port)`; in order. Runs on
/// up to one thread per core (at most 8) when many ports need rendering (a first sync at
/// 10000 services), on the calling thread otherwise.
pub fn map_missing<T: Send + Sync>(
    ports: &[ServicePort],
    keyed: &[(String, Option<Arc<T>>)],
    render: impl Fn(&ServicePort) -> T + Sync,
) -> Vec<Option<Arc<T>>> {
    let run = |range: std::ops::Range<usize>| -> Vec<Option<Arc<T>>> {
        range
            .map(|i| keyed[i].1.is_none().then(|| Arc::new(render(&ports[i]))))
            .collect()
    };
    let missing = keyed.iter().filter(|(_, r)| r.is_none()).count();
    let threads = std::thread::available_parallelism()
        .map_or(1, |n| n.get())
        .min(8);
    if missing < 2000 || threads < 2 {
        return run(0..ports.len());
    }
    let chunk = ports.len().div_ceil(threads);
    std::thread::scope(|scope| {
        let handles: Vec<_> = (0..threads)
            .map(|t| {
                let range = (t * chunk).min(ports.len())..((t + 1) * chunk).min(ports.len());
                let run = &run;
                scope.spawn(move || run(range))
            })
            .collect();
        handles
            .into_iter()
            .flat_map(|h| match h.join() {
                Ok(v) => v,
                // A panic while rendering is a bug; re-raise it on this thread.
                Err(p) => std::panic::resume_unwind(p),
            })
            .collect()
    })
}

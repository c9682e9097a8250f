//! Raw sled baseline with the store's durability (a write counts once a `flush()` that
//! began after it returned), so benchmarks can report the store's overhead as a ratio.

use crate::store::{Error, Result};
use std::path::Path;
use std::sync::mpsc;
use std::sync::{Arc, Condvar, Mutex};
use std::time::Instant;

/// Value size the raw baseline writes.
pub const BENCH_VALUE_LEN: usize = 1024;

/// Durable writes per second into a fresh sled db in `dir` (which must not hold one),
/// `n` writes of `BENCH_VALUE_LEN` bytes in total. One writer flushes after each insert;
/// several writer threads share flushes through one flusher thread (group commit).
pub fn bench_raw_sled(dir: &Path, writers: usize, n: usize) -> Result<f64> {
    let writers = writers.max(1);
    let db = sled::Config::new()
        .path(dir)
        .cache_capacity(64 << 20)
        .flush_every_ms(None)
        .open()
        .map_err(|e| Error::Backend(e.to_string()))?;
    let value = vec![7u8; BENCH_VALUE_LEN];
    let start = Instant::now();
    if writers == 1 {
        for i in 0..n {
            db.insert(format!("/bench/{i:08}"), value.as_slice())
                .map_err(|e| Error::Backend(e.to_string()))?;
            db.flush().map_err(|e| Error::Backend(e.to_string()))?;
        }
    } else {
        group_commit_writes(&db, writers, n, &value)?;
    }
    let secs = start.elapsed().as_secs_f64();
    Ok(n as f64 / secs.max(f64::EPSILON))
}

struct Waiters {
    waiting: Vec<mpsc::Sender<bool>>,
    stop: bool,
}

fn group_commit_writes(db: &sled::Db, writers: usize, n: usize, value: &[u8]) -> Result<()> {
    let shared = Arc::new((
        Mutex::new(Waiters {
            waiting: Vec::new(),
            stop: false,
        }),
        Condvar::new(),
    ));
    std::thread::scope(|s| {
        let flusher = {
            let shared = shared.clone();
            s.spawn(move || {
                let (lock, cv) = &*shared;
                loop {
                    let batch = {
                        let mut w = lock.lock().unwrap_or_else(|p| p.into_inner());
                        while w.waiting.is_empty() && !w.stop {
                            w = cv.wait(w).unwrap_or_else(|p| p.into_inner());
                        }
                        if w.waiting.is_empty() {
                            return;
                        }
                        std::mem::take(&mut w.waiting)
                    };
                    let ok = db.flush().is_ok();
                    for tx in batch {
                        let _ = tx.send(ok);
                    }
                }
            })
        };
        let per = n.div_ceil(writers);
        let results: Vec<Result<()>> = (0..writers)
            .map(|w| {
                let shared = shared.clone();
                s.spawn(move || {
                    let (lock, cv) = &*shared;
                    for i in (w * per)..((w + 1) * per).min(n) {
                        db.insert(format!("/bench/{i:08}"), value)
                            .map_err(|e| Error::Backend(e.to_string()))?;
                        let (tx, rx) = mpsc::channel();
                        lock.lock()
                            .unwrap_or_else(|p| p.into_inner())
                            .waiting
                            .push(tx);
                        cv.notify_one();
                        if !rx.recv().unwrap_or(false) {
                            return Err(Error::Backend("flush failed".into()));
                        }
                    }
                    Ok(())
                })
            })
            .collect::<Vec<_>>()
            .into_iter()
            .map(|h| {
                h.join()
                    .unwrap_or_else(|_| Err(Error::Backend("writer panicked".into())))
            })
            .collect();
        {
            let (lock, cv) = &*shared;
            lock.lock().unwrap_or_else(|p| p.into_inner()).stop = true;
            cv.notify_all();
        }
        let _ = flusher.join();
        results.into_iter().collect::<Result<()>>()
    })
}

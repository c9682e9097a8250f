//! Store baseline: raw sled durable writes vs `SledStore` writes, and a 10k-key list, in
//! one run so the store's overhead reads as a ratio. Run with
//! `cargo bench -p apiserver --bench store`.

use apiserver::store::Store;
use apiserver::store::sled_store::{BENCH_VALUE_LEN, SledOptions, SledStore, bench_raw_sled};
use bytes::Bytes;
use std::sync::Arc;
use std::time::{Duration, Instant};

const LIST_KEYS: usize = 10_000;

struct Row {
    case: String,
    writers: usize,
    ops: usize,
    secs: f64,
    baseline: Option<f64>,
}

impl Row {
    fn rate(&self) -> f64 {
        self.ops as f64 / self.secs.max(f64::EPSILON)
    }
}

async fn store_writes(tasks: usize, n: usize) -> anyhow::Result<f64> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SledStore::open(dir.path(), SledOptions::default())?);
    let value = Bytes::from(vec![7u8; BENCH_VALUE_LEN]);
    let per = n.div_ceil(tasks);
    let start = Instant::now();
    let handles: Vec<_> = (0..tasks)
        .map(|t| {
            let (store, value) = (store.clone(), value.clone());
            tokio::spawn(async move {
                for i in (t * per)..((t + 1) * per).min(n) {
                    store
                        .create(&format!("/bench/{i:08}"), value.clone())
                        .await?;
                }
                Ok::<_, apiserver::store::Error>(())
            })
        })
        .collect();
    for h in handles {
        h.await??;
    }
    let secs = start.elapsed().as_secs_f64();
    store.close().await?;
    Ok(secs)
}

/// Fills a store with `LIST_KEYS` pods (1 KiB each) and times full and paged lists.
async fn list_rows() -> anyhow::Result<Vec<Row>> {
    let dir = tempfile::tempdir()?;
    let store = Arc::new(SledStore::open(dir.path(), SledOptions::default())?);
    let value = Bytes::from(vec![7u8; BENCH_VALUE_LEN]);
    let handles: Vec<_> = (0..64)
        .map(|t| {
            let (store, value) = (store.clone(), value.clone());
            tokio::spawn(async move {
                for i in (t..LIST_KEYS).step_by(64) {
                    store
                        .create(
                            &format!("/registry/pods/ns{}/pod-{i:05}", i % 10),
                            value.clone(),
                        )
                        .await?;
                }
                Ok::<_, apiserver::store::Error>(())
            })
        })
        .collect();
    for h in handles {
        h.await??;
    }
    // Noise under another prefix the lists must skip.
    for i in 0..1000 {
        store
            .create(&format!("/registry/services/ns/svc-{i}"), value.clone())
            .await?;
    }

    let rounds = 20;
    let start = Instant::now();
    for _ in 0..rounds {
        let list = store.list("/registry/pods/", None, 0).await?;
        anyhow::ensure!(
            list.items.len() == LIST_KEYS,
            "listed {} keys",
            list.items.len()
        );
    }
    let full = start.elapsed().as_secs_f64() / rounds as f64;

    let start = Instant::now();
    for _ in 0..rounds {
        let mut after: Option<String> = None;
        let mut seen = 0;
        loop {
            let page = store.list("/registry/pods/", after.as_deref(), 500).await?;
            seen += page.items.len();
            after = page.items.last().map(|kv| kv.key.clone());
            if !page.more {
                break;
            }
        }
        anyhow::ensure!(seen == LIST_KEYS, "paged {seen} keys");
    }
    let paged = start.elapsed().as_secs_f64() / rounds as f64;
    store.close().await?;
    Ok(vec![
        Row {
            case: "list 10k keys (one call)".into(),
            writers: 1,
            ops: LIST_KEYS,
            secs: full,
            baseline: None,
        },
        Row {
            case: "list 10k keys (pages of 500)".into(),
            writers: 1,
            ops: LIST_KEYS,
            secs: paged,
            baseline: None,
        },
    ])
}

fn raw(writers: usize, n: usize) -> anyhow::Result<(Row, f64)> {
    let dir = tempfile::tempdir()?;
    let rate = bench_raw_sled(dir.path(), writers, n)?;
    let case = if writers == 1 {
        "raw sled, flush per write"
    } else {
        "raw sled, group flush"
    };
    let row = Row {
        case: case.into(),
        writers,
        ops: n,
        secs: n as f64 / rate,
        baseline: None,
    };
    Ok((row, rate))
}

fn print(rows: &[Row]) {
    println!("| case | writers | ops | seconds | ops/s | vs raw sled |");
    println!("|---|---:|---:|---:|---:|---:|");
    for r in rows {
        let ratio = r
            .baseline
            .map_or_else(|| "-".to_owned(), |b| format!("{:.2}", r.rate() / b));
        println!(
            "| {} | {} | {} | {:.3} | {:.0} | {} |",
            r.case,
            r.writers,
            r.ops,
            r.secs,
            r.rate(),
            ratio
        );
    }
}

fn main() -> anyhow::Result<()> {
    let rt = tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()?;
    let started = Instant::now();
    let mut rows = Vec::new();
    // (writers, writes): sized so the whole run stays well under a minute on 2 cores.
    for (writers, n) in [(1, 2_000), (8, 10_000), (64, 20_000)] {
        let (raw_row, raw_rate) = raw(writers, n)?;
        rows.push(raw_row);
        let secs = rt.block_on(store_writes(writers, n))?;
        rows.push(Row {
            case: "SledStore::create".into(),
            writers,
            ops: n,
            secs,
            baseline: Some(raw_rate),
        });
    }
    rows.extend(rt.block_on(list_rows())?);
    println!("store bench: {BENCH_VALUE_LEN}-byte values, every write durable before it returns");
    print(&rows);
    println!("total {:.1} s", started.elapsed().as_secs_f64());
    anyhow::ensure!(
        started.elapsed() < Duration::from_secs(120),
        "bench took too long"
    );
    Ok(())
}

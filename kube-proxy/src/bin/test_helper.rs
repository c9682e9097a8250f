//! Test helper for the network-namespace tests (run with `ip netns exec NS ...`):
//!
//! - `serve ADDR NAME`: accepts TCP connections on ADDR, answers each with `NAME\n` and
//!   closes it; runs until killed.
//! - `probe ADDR COUNT TIMEOUT_MS`: opens COUNT connections one after another and prints one
//!   line per connection: the answer, or `ERR <kind> <elapsed_ms>`.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("serve") if args.len() == 4 => serve(&args[2], &args[3]),
        Some("probe") if args.len() == 5 => probe(&args[2], &args[3], &args[4]),
        _ => {
            eprintln!("usage: serve ADDR NAME | probe ADDR COUNT TIMEOUT_MS");
            std::process::exit(2);
        }
    }
}

fn serve(addr: &str, name: &str) {
    let listener = match TcpListener::bind(addr) {
        Ok(l) => l,
        Err(e) => {
            eprintln!("bind {addr}: {e}");
            std::process::exit(1);
        }
    };
    // Tells the test the listener is up.
    println!("listening {addr}");
    let _ = std::io::stdout().flush();
    for conn in listener.incoming().flatten() {
        let mut c = conn;
        let _ = c.write_all(format!("{name}\n").as_bytes());
    }
}

fn probe(addr: &str, count: &str, timeout_ms: &str) {
    let (Ok(addr), Ok(count), Ok(timeout_ms)) = (
        addr.parse::<SocketAddr>(),
        count.parse::<usize>(),
        timeout_ms.parse::<u64>(),
    ) else {
        eprintln!("probe: bad arguments");
        std::process::exit(2);
    };
    let timeout = Duration::from_millis(timeout_ms);
    let mut out = String::new();
    for _ in 0..count {
        let start = Instant::now();
        let line = match TcpStream::connect_timeout(&addr, timeout) {
            Ok(mut s) => {
                let _ = s.set_read_timeout(Some(timeout));
                let mut buf = String::new();
                match s.read_to_string(&mut buf) {
                    Ok(_) if !buf.trim().is_empty() => buf.trim().to_string(),
                    Ok(_) => format!("ERR empty {}", start.elapsed().as_millis()),
                    Err(e) => format!("ERR {:?} {}", e.kind(), start.elapsed().as_millis()),
                }
            }
            Err(e) => format!("ERR {:?} {}", e.kind(), start.elapsed().as_millis()),
        };
        out.push_str(&line);
        out.push('\n');
    }
    print!("{out}");
}

//! Test helper for the network-namespace tests (run with `ip netns exec NS ...`):
//!
//! - `serve ADDR NAME`: accepts TCP connections on ADDR, answers each with `NAME\n` and
//!   closes it; runs until killed.
//! - `probe ADDR COUNT TIMEOUT_MS`: opens COUNT connections one after another and prints one
//!   line per connection: the answer, or `ERR <kind> <elapsed_ms>`.
//! - `udp-serve ADDR NAME`: answers every UDP datagram on ADDR with `NAME`.
//! - `udp-probe ADDR DURATION_MS INTERVAL_MS`: from ONE socket (one source port, so one
//!   conntrack flow) sends a datagram every INTERVAL_MS for DURATION_MS and prints a line
//!   `<unix_ms> <answer>` per answer received.

use std::io::{Read, Write};
use std::net::{SocketAddr, TcpListener, TcpStream, UdpSocket};
use std::time::{Duration, Instant};

fn main() {
    let args: Vec<String> = std::env::args().collect();
    match args.get(1).map(String::as_str) {
        Some("serve") if args.len() == 4 => serve(&args[2], &args[3]),
        Some("probe") if args.len() == 5 => probe(&args[2], &args[3], &args[4]),
        Some("udp-serve") if args.len() == 4 => udp_serve(&args[2], &args[3]),
        Some("udp-probe") if args.len() == 5 => udp_probe(&args[2], &args[3], &args[4]),
        _ => {
            eprintln!(
                "usage: serve ADDR NAME | probe ADDR COUNT TIMEOUT_MS | udp-serve ADDR NAME | udp-probe ADDR DURATION_MS INTERVAL_MS"
            );
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

fn udp_serve(addr: &str, name: &str) {
    let sock = match UdpSocket::bind(addr) {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bind {addr}: {e}");
            std::process::exit(1);
        }
    };
    println!("listening {addr}");
    let _ = std::io::stdout().flush();
    let mut buf = [0u8; 512];
    while let Ok((_, from)) = sock.recv_from(&mut buf) {
        let _ = sock.send_to(name.as_bytes(), from);
    }
}

fn unix_ms() -> u128 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map(|d| d.as_millis())
        .unwrap_or(0)
}

fn udp_probe(addr: &str, duration_ms: &str, interval_ms: &str) {
    let (Ok(addr), Ok(duration), Ok(interval)) = (
        addr.parse::<SocketAddr>(),
        duration_ms.parse::<u64>(),
        interval_ms.parse::<u64>(),
    ) else {
        eprintln!("udp-probe: bad arguments");
        std::process::exit(2);
    };
    let sock = match UdpSocket::bind("0.0.0.0:0") {
        Ok(s) => s,
        Err(e) => {
            eprintln!("bind: {e}");
            std::process::exit(1);
        }
    };
    let _ = sock.set_read_timeout(Some(Duration::from_millis(interval.max(1))));
    let end = Instant::now() + Duration::from_millis(duration);
    let mut buf = [0u8; 512];
    let mut out = std::io::stdout();
    while Instant::now() < end {
        // An ICMP error (nothing listening yet) surfaces here or on recv: keep going.
        let _ = sock.send_to(b"ping", addr);
        let next = Instant::now() + Duration::from_millis(interval);
        while Instant::now() < next {
            match sock.recv_from(&mut buf) {
                Ok((n, _)) => {
                    let _ = writeln!(out, "{} {}", unix_ms(), String::from_utf8_lossy(&buf[..n]));
                    let _ = out.flush();
                }
                Err(e)
                    if e.kind() == std::io::ErrorKind::WouldBlock
                        || e.kind() == std::io::ErrorKind::TimedOut =>
                {
                    break;
                }
                Err(_) => std::thread::sleep(Duration::from_millis(5)),
            }
        }
        let rest = next.saturating_duration_since(Instant::now());
        std::thread::sleep(rest);
    }
}

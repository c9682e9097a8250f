//! Exec output is bounded against real Docker: a command writing 20 MB gives back the
//! first 16 MiB, marked truncated, and the kubelet does not hold the rest.

use kubelet::runtime::Runtime;
use kubelet::runtime::bounded::OUTPUT_LIMIT;
use std::process::Command;

mod common;

/// Removes the test's container whatever happens.
struct ContainerGuard(String);

impl Drop for ContainerGuard {
    fn drop(&mut self) {
        let _ = Command::new("docker").args(["rm", "-f", &self.0]).output();
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn exec_output_is_cut_at_the_limit_and_marked_truncated() {
    let Some(rt) =
        common::docker("exec_output_is_cut_at_the_limit_and_marked_truncated", &[]).await
    else {
        return;
    };
    kubelet::images::ensure_local_images(&rt, std::path::Path::new("/bin/busybox"))
        .await
        .unwrap();
    let name = format!("exec-output-is-cut-{}", std::process::id());
    let _guard = ContainerGuard(name.clone());
    let out = Command::new("docker")
        .args([
            "run",
            "-d",
            "--name",
            &name,
            "local/busybox:1",
            "sleep",
            "300",
        ])
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let id = String::from_utf8_lossy(&out.stdout).trim().to_string();
    let cmd = |s: &str| vec!["sh".to_string(), "-c".to_string(), s.to_string()];

    let small = rt.exec(&id, &cmd("echo hello; exit 3")).await.unwrap();
    assert_eq!(small.output, b"hello\n");
    assert_eq!(small.exit_code, 3);
    assert!(!small.truncated);

    let big = rt
        .exec(&id, &cmd("yes 0123456789abcdef | head -c 20000000"))
        .await
        .unwrap();
    assert!(big.truncated, "20 MB is over the limit");
    assert_eq!(big.output.len(), OUTPUT_LIMIT);
    assert!(
        big.output
            .starts_with(b"0123456789abcdef\n0123456789abcdef\n")
    );
    // Exactly at the limit is not truncated.
    let exact = rt
        .exec(&id, &cmd(&format!("yes | head -c {OUTPUT_LIMIT}")))
        .await
        .unwrap();
    assert_eq!(exact.output.len(), OUTPUT_LIMIT);
    assert!(!exact.truncated);
    assert_eq!(exact.exit_code, 0);
}

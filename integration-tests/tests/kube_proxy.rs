//! The real `kube-proxy` binary: start-up errors and `--cleanup`, inside a network
//! namespace made by the test (the host's own iptables are never touched).

use integration_tests::{binary, text};
use std::process::Command;

/// A network namespace deleted on drop; None (with the reason) when this host cannot.
struct Netns(String);

impl Netns {
    fn new() -> Result<Netns, String> {
        let name = format!("kp-it-{}", std::process::id());
        let out = Command::new("ip")
            .args(["netns", "add", &name])
            .output()
            .map_err(|e| e.to_string())?;
        if !out.status.success() {
            return Err(text(&out.stderr));
        }
        Ok(Netns(name))
    }

    fn exec(&self, args: &[&str]) -> std::process::Output {
        Command::new("ip")
            .args(["netns", "exec", &self.0])
            .args(args)
            .output()
            .expect("ip netns exec")
    }
}

impl Drop for Netns {
    fn drop(&mut self) {
        let _ = Command::new("ip").args(["netns", "del", &self.0]).output();
    }
}

#[test]
fn ipvs_mode_without_kernel_support_exits_with_one_clear_line() {
    // What it checks needs the module absent; under CI=true a kernel with IP_VS fails here
    // instead of passing without checking anything.
    if !testkit::require(
        "ipvs_mode_without_kernel_support_exits_with_one_clear_line",
        &[testkit::Prereq::NoIpvs],
    ) {
        return;
    }
    let out = Command::new(binary("kube-proxy"))
        .args(["--mode", "ipvs", "--metrics-bind-address", ""])
        .env("RUST_LOG", "off")
        .output()
        .expect("run kube-proxy");
    assert!(!out.status.success());
    let err = text(&out.stderr);
    assert!(
        err.contains("IP Virtual Server") && err.contains("CONFIG_IP_VS"),
        "{err}"
    );
    assert_eq!(err.trim().lines().count(), 1, "one line: {err}");
}

#[test]
fn cleanup_removes_its_chains_and_jumps_and_keeps_others() {
    let ns = match Netns::new() {
        Ok(ns) => ns,
        Err(why) => {
            testkit::unmet(
                "cleanup_removes_its_chains_and_jumps_and_keeps_others",
                &format!("cannot make a network namespace: {why}"),
            );
            return;
        }
    };
    // What a previous run left: its chains and jumps, plus someone else's chain.
    let rules = "*nat\n:KUBE-SERVICES - [0:0]\n:KUBE-SVC-AAAAAAAAAAAAAAAA - [0:0]\n:KUBE-SEP-BBBBBBBBBBBBBBBB - [0:0]\n:DOCKER - [0:0]\n\
-A KUBE-SERVICES -d 10.96.0.1/32 -p tcp -m tcp --dport 80 -j KUBE-SVC-AAAAAAAAAAAAAAAA\n\
-A KUBE-SVC-AAAAAAAAAAAAAAAA -j KUBE-SEP-BBBBBBBBBBBBBBBB\n\
-A KUBE-SEP-BBBBBBBBBBBBBBBB -p tcp -m tcp -j DNAT --to-destination 10.244.0.2:80\n\
-A DOCKER -i docker0 -j RETURN\n\
-A PREROUTING -m comment --comment \"kubernetes service portals\" -j KUBE-SERVICES\nCOMMIT\n";
    let mut child = Command::new("ip")
        .args(["netns", "exec", &ns.0, "iptables-restore", "--noflush"])
        .stdin(std::process::Stdio::piped())
        .spawn()
        .expect("iptables-restore");
    std::io::Write::write_all(&mut child.stdin.take().expect("stdin"), rules.as_bytes())
        .expect("write rules");
    assert!(child.wait().expect("wait").success());

    let out = ns.exec(&[binary("kube-proxy").to_str().expect("path"), "--cleanup"]);
    assert!(out.status.success(), "{}", text(&out.stderr));
    let saved = text(&ns.exec(&["iptables-save", "-t", "nat"]).stdout);
    assert!(!saved.contains("KUBE-"), "{saved}");
    assert!(saved.contains("-A DOCKER -i docker0 -j RETURN"), "{saved}");
}

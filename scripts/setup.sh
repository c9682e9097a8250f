#!/usr/bin/env bash
# Installs what a fresh machine lacks to build and test the project. Idempotent: run it as
# often as you like. Needs root for apt-get (CI and the project's machines run as root).
set -euo pipefail

need_apt=()
command -v cc >/dev/null 2>&1 || need_apt+=(build-essential)
command -v pkg-config >/dev/null 2>&1 || need_apt+=(pkg-config)
# The kubelet builds its pause image and the local/busybox:1 test image from a static busybox
# (a dynamically linked one, from Debian's `busybox` package, cannot run in an empty image).
if ! [ -x /bin/busybox ] || ldd /bin/busybox >/dev/null 2>&1; then
  need_apt+=(busybox-static)
fi
# The kubelet's and kube-proxy's tests make network namespaces (ip netns) and program
# iptables inside them; kube-proxy runs iptables-restore.
command -v ip >/dev/null 2>&1 || need_apt+=(iproute2)
command -v iptables-restore >/dev/null 2>&1 || need_apt+=(iptables)
# The pki tests check our certificates, CSRs and CA pin hash against OpenSSL's.
command -v openssl >/dev/null 2>&1 || need_apt+=(openssl)
if ((${#need_apt[@]})); then
  echo "setup: installing ${need_apt[*]}"
  apt-get update -qq
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "${need_apt[@]}" >/dev/null
fi

# The observability test scrapes a real cluster with a real Prometheus, which it starts
# itself on a free loopback port. Debian's package would also start a system service on
# :9090 (where systemd runs) and recommends node-exporter (:9100): keep both from running.
if ! command -v prometheus >/dev/null 2>&1; then
  echo "setup: installing prometheus"
  apt-get update -qq
  made_policy=0
  if ! [ -e /usr/sbin/policy-rc.d ]; then
    # 101: "action not allowed", which invoke-rc.d and deb-systemd-invoke obey.
    printf '#!/bin/sh\nexit 101\n' >/usr/sbin/policy-rc.d
    chmod 755 /usr/sbin/policy-rc.d
    made_policy=1
  fi
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends prometheus >/dev/null
  if ((made_policy)); then rm -f /usr/sbin/policy-rc.d; fi
fi
# Whatever installed it, a system service must not hold :9090 or scrape on its own.
if [ -d /run/systemd/system ] && systemctl is-enabled prometheus >/dev/null 2>&1; then
  systemctl disable --now prometheus >/dev/null 2>&1 || true
fi

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is missing; install the Rust toolchain (rustup) first" >&2
  exit 1
fi
# protoc is vendored through the protoc-bin-vendored crate: nothing to install for gRPC.
echo "setup: ok ($(cargo --version))"

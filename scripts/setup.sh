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

if ! command -v cargo >/dev/null 2>&1; then
  echo "setup: cargo is missing; install the Rust toolchain (rustup) first" >&2
  exit 1
fi
# protoc is vendored through the protoc-bin-vendored crate: nothing to install for gRPC.
echo "setup: ok ($(cargo --version))"

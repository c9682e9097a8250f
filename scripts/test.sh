#!/usr/bin/env bash
# Runs every test of the workspace: unit, component (in-process apiserver on a temporary
# sled store) and integration (real binaries as separate processes).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Integration tests start the real binaries; build them first so the tests find them.
cargo build --bins
cargo test --workspace --no-fail-fast "$@"

#!/usr/bin/env bash
# Runs every test of the workspace: unit, component (in-process apiserver on a temporary
# sled store) and integration (real binaries as separate processes).
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# Integration tests start the real binaries; build them first so the tests find them.
cargo build --bins
# The end-to-end scenarios append their figures (wall times, pod start-up, failed requests)
# here; printed at the end, pass or fail, since cargo hides a passing test's output.
report=target/e2e-report.txt
rm -f "$report"
status=0
cargo test --workspace --no-fail-fast "$@" || status=$?
if [ -s "$report" ]; then
  echo "---- end-to-end scenario figures ($report) ----"
  cat "$report"
fi
exit "$status"

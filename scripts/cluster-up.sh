#!/usr/bin/env bash
# Builds and starts a local cluster on this machine; Ctrl-C stops it cleanly, and a second
# start reuses the data. Today the cluster is its API spine: the apiserver on an embedded
# sled store, driven with `ctl`. (Scheduler, controller-manager, kubelet and kube-proxy are
# not built yet; their binaries say so and exit.)
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
cargo build --release --bins
DATA=${DATA:-$PWD/data}
LOGS=$DATA/logs
mkdir -p "$LOGS"
LISTEN=${LISTEN:-127.0.0.1:6443}

pids=()
stop() {
  echo
  echo "stopping..."
  for p in "${pids[@]}"; do kill -TERM "$p" 2>/dev/null || true; done
  wait || true
  echo "stopped. data kept in $DATA (delete it to start afresh)"
}
trap stop INT TERM

target/release/apiserver --listen "$LISTEN" --data-dir "$DATA/apiserver" >"$LOGS/apiserver.log" 2>&1 &
pids+=($!)

for _ in $(seq 1 50); do
  if target/release/ctl --server "http://$LISTEN" get namespaces >/dev/null 2>&1; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "apiserver failed to start; its log:" >&2
    cat "$LOGS/apiserver.log" >&2
    exit 1
  fi
  sleep 0.2
done

cat <<MSG
cluster is up: apiserver at http://$LISTEN, data in $DATA
logs: $LOGS/apiserver.log
try:
  export PATH=\$PWD/target/release:\$PATH
  ctl get namespaces
  ctl apply -f examples/
  ctl get deployments -o wide
press Ctrl-C to stop.
MSG
wait

#!/usr/bin/env bash
# Builds and starts a single-node cluster on this machine: apiserver (embedded sled store),
# controller-manager, scheduler, kubelet (Docker) and kube-proxy (iptables), each its own
# process with its own log file. Ctrl-C stops every daemon cleanly; a second start reuses
# the data (and the kubelet adopts the pods still running). Needs root and a Docker engine.
set -euo pipefail
cd "$(dirname "$0")/.."
scripts/setup.sh
# BUILD=debug uses (and builds) target/debug instead: quicker to build, slower to run.
if [ "${BUILD:-release}" = debug ]; then
  cargo build --bins
  bin=target/debug
else
  cargo build --release --bins
  bin=target/release
fi
DATA=${DATA:-$PWD/data}
LOGS=$DATA/logs
mkdir -p "$LOGS"
LISTEN=${LISTEN:-127.0.0.1:6443}
SERVER="http://$LISTEN"
CLUSTER_CIDR=${CLUSTER_CIDR:-10.244.0.0/16}
NODE_NAME=${NODE_NAME:-$(hostname)}

pids=()
names=()
stop() {
  trap - INT TERM
  echo
  echo "stopping..."
  # Nodes first, the apiserver last, so every daemon can say goodbye to it.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[$i]}" 2>/dev/null || true
    wait "${pids[$i]}" 2>/dev/null || true
  done
  echo "stopped. data kept in $DATA (delete it to start afresh; pods' containers are"
  echo "removed by the kubelet when their pods are deleted)"
  exit 0
}
trap stop INT TERM

start() {
  local name=$1
  shift
  "$bin/$name" "$@" >"$LOGS/$name.log" 2>&1 &
  pids+=($!)
  names+=("$name")
}

if [ "$(id -u)" != 0 ]; then
  echo "cluster-up: the kubelet and kube-proxy program the kernel (bridge, routes, iptables); run as root" >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "cluster-up: the Docker engine does not answer (docker info failed); start it first" >&2
  exit 1
fi

start apiserver --listen "$LISTEN" --data-dir "$DATA/apiserver"
for _ in $(seq 1 100); do
  if "$bin/ctl" --server "$SERVER" get namespaces >/dev/null 2>&1; then break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then
    echo "apiserver failed to start; its log:" >&2
    cat "$LOGS/apiserver.log" >&2
    exit 1
  fi
  sleep 0.2
done

start controller-manager --server "$SERVER" --cluster-cidr "$CLUSTER_CIDR" \
  --service-account-private-key-file "$DATA/sa.key"
start scheduler --server "$SERVER"
start kubelet --server "$SERVER" --node-name "$NODE_NAME" --root-dir "$DATA/kubelet" \
  ${NODE_IP:+--node-ip "$NODE_IP"}
start kube-proxy --server "$SERVER" --node-name "$NODE_NAME" --cluster-cidr "$CLUSTER_CIDR"

# The node is usable once it has registered and the kubelet reports Ready.
for _ in $(seq 1 150); do
  if "$bin/ctl" --server "$SERVER" get node "$NODE_NAME" 2>/dev/null | grep -qw Ready; then break; fi
  sleep 0.2
done
sleep 0.5
for i in "${!pids[@]}"; do
  if ! kill -0 "${pids[$i]}" 2>/dev/null; then
    echo "${names[$i]} exited at start; its log ($LOGS/${names[$i]}.log):" >&2
    tail -n 20 "$LOGS/${names[$i]}.log" >&2
    stop
  fi
done

cat <<MSG
cluster is up: apiserver at $SERVER, node $NODE_NAME, data in $DATA
logs: $LOGS/{apiserver,controller-manager,scheduler,kubelet,kube-proxy}.log
images: local/busybox:1 (made locally by the kubelet; no registry is reachable)
try:
  export PATH=\$PWD/$bin:\$PATH
  ctl get nodes
  ctl apply -f examples/
  ctl get pods -o wide
  ctl logs POD
press Ctrl-C to stop.
MSG
wait

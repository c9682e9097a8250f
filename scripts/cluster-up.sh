#!/usr/bin/env bash
# Builds and starts a single-node cluster on this machine: apiserver (embedded sled store),
# controller-manager, scheduler, kubelet (Docker) and kube-proxy (iptables), each its own
# process with its own log file. Ctrl-C stops every daemon cleanly; a second start reuses
# the data (and the kubelet adopts the pods still running). Needs root and a Docker engine.
set -euo pipefail
# Paths given relative to where the command was run, before moving to the repository.
DATA=$(realpath -m "${DATA:-$(dirname "$0")/../data}")
if [ -n "${IMAGE_DIR:-}" ]; then IMAGE_DIR=$(realpath -m "$IMAGE_DIR"); fi
# ENCRYPTION_CONFIG: an EncryptionConfiguration file for the apiserver (docs/security.md).
if [ -n "${ENCRYPTION_CONFIG:-}" ]; then ENCRYPTION_CONFIG=$(realpath -m "$ENCRYPTION_CONFIG"); fi
cd "$(dirname "$0")/.."
# Checked first, so a missing precondition costs no build.
if [ "$(id -u)" != 0 ]; then
  echo "cluster-up: the kubelet and kube-proxy program the kernel (bridge, routes, iptables); run as root" >&2
  exit 1
fi
if ! docker info >/dev/null 2>&1; then
  echo "cluster-up: the Docker engine does not answer (docker info failed); start it first" >&2
  exit 1
fi
scripts/setup.sh
# BUILD=debug uses (and builds) target/debug instead: quicker to build, slower to run.
if [ "${BUILD:-release}" = debug ]; then
  cargo build --bins
  bin=target/debug
else
  cargo build --release --bins
  bin=target/release
fi
LOGS=$DATA/logs
mkdir -p "$LOGS"
CLUSTER_CIDR=${CLUSTER_CIDR:-10.244.0.0/16}
NODE_NAME=${NODE_NAME:-$(hostname)}
# The node's address: the source address of the default route (no packet is sent), else the
# first global IPv4 address. The kubelet registers it, cluster DNS listens on it, and the
# apiserver advertises it (in its certificate and the `kubernetes` Service's endpoints).
if [ -z "${NODE_IP:-}" ]; then
  NODE_IP=$(ip -4 route get 1.1.1.1 2>/dev/null | awk '{for (i = 1; i < NF; i++) if ($i == "src") print $(i + 1)}' | head -n 1)
fi
if [ -z "${NODE_IP:-}" ]; then
  NODE_IP=$(ip -4 -o addr show scope global | awk '{split($4, a, "/"); print a[1]; exit}')
fi
if [ -z "${NODE_IP:-}" ]; then
  echo "cluster-up: this machine has no global IPv4 address; set NODE_IP" >&2
  exit 1
fi
# TLS and authentication on every connection, as kubeadm's clusters: the apiserver listens on
# every interface (pods reach it through the `kubernetes` Service at the node's address) and
# answers only callers with a certificate or token it trusts.
LISTEN=${LISTEN:-0.0.0.0:6443}
PORT=${LISTEN##*:}
SERVER="https://$NODE_IP:$PORT"
ADMIN=$DATA/apiserver/admin.kubeconfig
PKI=$DATA/apiserver/pki
# Cluster DNS (DNS=0 turns it off): the kube-dns Service's IP, inside the apiserver's
# default service range as in Kubernetes, and the host's resolver for other names.
DNS=${DNS:-1}
DNS_IP=${DNS_IP:-10.96.0.10}
UPSTREAM=${UPSTREAM:-$(awk '$1 == "nameserver" {print $2; exit}' /etc/resolv.conf 2>/dev/null || true)}

pids=()
names=()
stop() {
  trap - INT TERM HUP
  echo
  echo "stopping..."
  # Nodes first, the apiserver last, so every daemon can say goodbye to it (release its
  # leader lease, finish its last status write).
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    if kill -TERM "${pids[$i]}" 2>/dev/null; then
      wait "${pids[$i]}" 2>/dev/null || true
      echo "  ${names[$i]} stopped"
    fi
  done
  echo "stopped. data kept in $DATA (delete it to start afresh); pods' containers keep"
  echo "running and the next start adopts them; they are removed when their pods are deleted"
  exit "${1:-0}"
}
trap stop INT TERM HUP

start() {
  local name=$1
  shift
  # Each daemon in its own session: Ctrl-C in the terminal reaches only this script, which
  # then stops the daemons in order (a SIGINT to the whole process group would stop the
  # apiserver at the same time as the daemons still talking to it).
  # Appended, so a restart keeps the previous run's log to compare with.
  echo "==== $(date -u +%FT%TZ) cluster-up: $bin/$name $*" >>"$LOGS/$name.log"
  setsid "$bin/$name" "$@" >>"$LOGS/$name.log" 2>&1 </dev/null &
  pids+=($!)
  names+=("$name")
}

# An older cluster's token signing key (made by the controller-manager) moves into the PKI,
# so the tokens it signed stay valid.
if [ -f "$DATA/apiserver/sa.key" ] && [ ! -e "$PKI/sa.key" ]; then
  mkdir -p -m 0700 "$PKI"
  mv "$DATA/apiserver/sa.key" "$PKI/sa.key"
  rm -f "$DATA/apiserver/sa.key.pub"
fi
# Pod Security: non-system namespaces get Kubernetes' baseline level (no privileged,
# hostPath, host namespaces, ...), refused and warned about; kube-system is exempt. A
# namespace labelled pod-security.kubernetes.io/enforce=privileged opts out.
# The first start writes the cluster CA, every certificate and one kubeconfig per client
# into $DATA/apiserver (pki/, *.kubeconfig); later starts reuse them.
start apiserver --listen "$LISTEN" --advertise-address "$NODE_IP" --data-dir "$DATA/apiserver" \
  --pod-security-enforce baseline --pod-security-warn baseline \
  ${ENCRYPTION_CONFIG:+--encryption-provider-config "$ENCRYPTION_CONFIG"}
up=
for _ in $(seq 1 150); do
  if [ -f "$ADMIN" ] && "$bin/ctl" --kubeconfig "$ADMIN" get namespaces >/dev/null 2>&1; then up=1 && break; fi
  if ! kill -0 "${pids[0]}" 2>/dev/null; then break; fi
  sleep 0.2
done
if [ -z "$up" ]; then
  echo "apiserver did not come up at $SERVER; the end of its log ($LOGS/apiserver.log):" >&2
  tail -n 20 "$LOGS/apiserver.log" >&2
  stop 1
fi

# Before anything else makes a Service, so the DNS Service's IP is still free.
dns_flags=()
if [ "$DNS" = 1 ]; then
  start cluster-dns --kubeconfig "$DATA/apiserver/cluster-dns.kubeconfig" \
    --advertise-address "$NODE_IP" --service-ip "$DNS_IP" --cluster-cidr "$CLUSTER_CIDR" \
    ${UPSTREAM:+--upstream "$UPSTREAM:53"}
  dns_flags=(--cluster-dns "$DNS_IP")
fi
# The controller-manager signs node certificates with the cluster CA, legacy ServiceAccount
# tokens with the apiserver's key, and publishes the CA to every namespace.
start controller-manager --kubeconfig "$DATA/apiserver/controller-manager.kubeconfig" \
  --cluster-cidr "$CLUSTER_CIDR" \
  --cluster-signing-cert-file "$PKI/ca.crt" --cluster-signing-key-file "$PKI/ca.key" \
  --service-account-private-key-file "$PKI/sa.key" --root-ca-file "$PKI/ca.crt"
start scheduler --kubeconfig "$DATA/apiserver/scheduler.kubeconfig"
# The kubelet joins as any other node would (kubeadm's flow): a bootstrap token and the CA's
# hash get it a certificate of its own, kept under its root dir; later starts reuse it.
join=()
if [ ! -f "$DATA/kubelet/kubelet.kubeconfig" ]; then
  join_command=$("$bin/ctl" --kubeconfig "$ADMIN" token create --ttl 1h \
    --description "cluster-up: the local node" --print-join-command)
  read -r -a join <<<"${join_command#kubelet }"
fi
start kubelet --node-name "$NODE_NAME" --root-dir "$DATA/kubelet" --node-ip "$NODE_IP" \
  --cluster-cidr "$CLUSTER_CIDR" --seccomp-default "${dns_flags[@]}" \
  ${IMAGE_DIR:+--image-dir "$IMAGE_DIR"} "${join[@]}"
start kube-proxy --kubeconfig "$DATA/apiserver/kube-proxy.kubeconfig" --node-name "$NODE_NAME" \
  --cluster-cidr "$CLUSTER_CIDR"

# The node is usable once it has registered and the kubelet reports Ready.
ready=
for _ in $(seq 1 150); do
  if "$bin/ctl" --kubeconfig "$ADMIN" get node "$NODE_NAME" 2>/dev/null | grep -qw Ready; then
    ready=1 && break
  fi
  sleep 0.2
done
[ -n "$ready" ] || echo "warning: node $NODE_NAME is not Ready after 30 s; see $LOGS/kubelet.log" >&2
sleep 0.5
for i in "${!pids[@]}"; do
  if ! kill -0 "${pids[$i]}" 2>/dev/null; then
    echo "${names[$i]} exited at start; its log ($LOGS/${names[$i]}.log):" >&2
    tail -n 20 "$LOGS/${names[$i]}.log" >&2
    stop 1
  fi
done

# ctl (and kubectl) read ~/.kube/config by default: the admin kubeconfig goes there unless
# that file belongs to another cluster.
KUBE_CONFIG=${HOME:-/root}/.kube/config
config_hint="export KUBECONFIG=$ADMIN"
if [ ! -e "$KUBE_CONFIG" ] || grep -q "cluster-up-managed" "$KUBE_CONFIG" 2>/dev/null; then
  mkdir -p "$(dirname "$KUBE_CONFIG")"
  { echo "# cluster-up-managed: written by scripts/cluster-up.sh from $ADMIN"; cat "$ADMIN"; } >"$KUBE_CONFIG.tmp"
  chmod 0600 "$KUBE_CONFIG.tmp" && mv "$KUBE_CONFIG.tmp" "$KUBE_CONFIG"
  config_hint="(the admin kubeconfig is in $KUBE_CONFIG, where ctl looks by default)"
fi
JOIN=$("$bin/ctl" --kubeconfig "$ADMIN" token create --ttl 24h \
  --description "cluster-up: joining nodes" --print-join-command 2>/dev/null || true)

cat <<MSG
cluster is up: apiserver at $SERVER (TLS; clients need a kubeconfig), node $NODE_NAME, data in $DATA
logs: $LOGS/{apiserver,cluster-dns,controller-manager,scheduler,kubelet,kube-proxy}.log
images: local/busybox:1 (made locally by the kubelet; no registry is reachable;
        load others with docker load, or IMAGE_DIR=dir-of-docker-save-tarballs)
try:
  export PATH=$PWD/$bin:\$PATH
  $config_hint
  ctl get nodes
  ctl auth whoami
  ctl apply -f examples/
  ctl get pods -o wide
  ctl logs POD
join another machine as a node (token valid 24 h; docs/cluster.md):
  $JOIN --node-name NAME --node-ip IP
press Ctrl-C to stop.
MSG
# Runs until Ctrl-C (the trap stops everything) or until a daemon exits on its own, which
# is reported with the end of its log before the others are stopped.
while true; do
  wait -n || true
  for i in "${!pids[@]}"; do
    if ! kill -0 "${pids[$i]}" 2>/dev/null; then
      echo "${names[$i]} exited; the end of its log ($LOGS/${names[$i]}.log):" >&2
      tail -n 20 "$LOGS/${names[$i]}.log" >&2
      stop 1
    fi
  done
done

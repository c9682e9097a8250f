#!/usr/bin/env bash
# Tears down what scripts/cluster-up.sh made on this machine, in an order that lets every
# daemon finish cleanly: the scheduler and controller-manager stop first (nothing recreates
# or places pods any more), every pod is deleted through the API so the kubelet stops its
# containers gracefully, then kube-proxy, the kubelet, cluster-dns and the apiserver stop.
# Then whatever is left is removed: the pods' containers (name k8s_..., label
# io.kubelet.node=$NODE_NAME), kube-proxy's KUBE-... chains, the bridge cni0 and the
# kubelet's two FORWARD rules. `--purge` (or `--data`) also deletes $DATA and the
# ~/.kube/config cluster-up wrote. Running it again, or with nothing running, is fine: each
# step says what it found. Only what cluster-up makes is touched: daemons are this
# repository's binaries whose command line names $DATA, containers and links are matched by
# exact names and labels, and shared kernel state (chains, bridge) is left alone while a
# kube-proxy (or a kubelet on cni0) that is not this cluster's runs in this network namespace.
# Needs root. Settings (as for cluster-up): DATA, NODE_NAME, WAIT (seconds pods get to go).
# No pipefail: `grep -q` ending a pipe early must not make the pipe fail.
set -u

purge=
for a in "$@"; do
  case $a in
    --purge | --data) purge=1 ;;
    -h | --help)
      sed -n '2,14p' "$0" | sed 's/^# \{0,1\}//'
      echo "usage: scripts/cluster-down.sh [--purge]"
      exit 0
      ;;
    *)
      echo "cluster-down: unknown argument $a (usage: scripts/cluster-down.sh [--purge])" >&2
      exit 2
      ;;
  esac
done
DATA=$(realpath -m "${DATA:-$(dirname "$0")/../data}")
cd "$(dirname "$0")/.." || exit 1
REPO=$PWD
if [ "$(id -u)" != 0 ]; then
  echo "cluster-down: stopping the kubelet's containers and removing its bridge and iptables rules needs root" >&2
  exit 1
fi
NODE_NAME=${NODE_NAME:-$(hostname)}
WAIT=${WAIT:-90}
# What cluster-up runs: the kubelet's defaults for the bridge and the container prefix.
BRIDGE=cni0
PREFIX=k8s
ADMIN=$DATA/apiserver/admin.kubeconfig
failed=0

# The pids of this cluster's daemon `name`: a binary of this repository's target directory
# (also when rebuilt since: "(deleted)") whose command line names a path under $DATA.
daemon_pids() {
  local name=$1 p exe
  for p in /proc/[0-9]*; do
    exe=$(readlink "$p/exe" 2>/dev/null) || continue
    exe=${exe% (deleted)}
    case $exe in
      "$REPO/target/debug/$name" | "$REPO/target/release/$name") ;;
      *) continue ;;
    esac
    if tr '\0' '\n' <"$p/cmdline" 2>/dev/null | grep -q -F -e "$DATA/"; then
      echo "${p#/proc/}"
    fi
  done
}

# Processes named `name` (any binary) in this network namespace that are not this cluster's.
foreign_in_netns() {
  local name=$1 p mine
  mine=$(daemon_pids "$name")
  for p in /proc/[0-9]*; do
    [ "$(cat "$p/comm" 2>/dev/null)" = "$name" ] || continue
    [ "$(readlink "$p/ns/net" 2>/dev/null)" = "$(readlink /proc/self/ns/net)" ] || continue
    grep -qx "${p#/proc/}" <<<"$mine" || echo "${p#/proc/}"
  done
}

# Of those kubelets, the ones whose bridge (--bridge-name, default cni0) is $BRIDGE.
foreign_kubelets_on_bridge() {
  local pid bridge
  for pid in $(foreign_in_netns kubelet); do
    bridge=$(tr '\0' '\n' <"/proc/$pid/cmdline" 2>/dev/null |
      awk 'b {print; exit} $0 == "--bridge-name" {b = 1} /^--bridge-name=/ {sub(/^--bridge-name=/, ""); print; exit}')
    [ "${bridge:-cni0}" = "$BRIDGE" ] && echo "$pid"
  done
}

# Running: a process that exited stays a zombie while its parent (the paused
# cluster-up.sh) does not reap it.
alive() {
  [ -e "/proc/$1" ] && ! grep -q '^State:[[:space:]]*Z' "/proc/$1/status" 2>/dev/null
}

# SIGTERM, then up to 30 s for the process to exit, then SIGKILL.
stop_daemon() {
  local name=$1 pids pid
  pids=$(daemon_pids "$name")
  if [ -z "$pids" ]; then
    echo "  $name: not running"
    return
  fi
  for pid in $pids; do
    kill -TERM "$pid" 2>/dev/null || continue
    for _ in $(seq 1 300); do
      alive "$pid" || break
      sleep 0.1
    done
    if alive "$pid"; then
      kill -KILL "$pid" 2>/dev/null
      echo "  $name (pid $pid): killed after 30 s"
    else
      echo "  $name (pid $pid): stopped"
    fi
  done
}

ctl=
for b in target/release/ctl target/debug/ctl; do
  if [ -x "$b" ]; then ctl=$b && break; fi
done

echo "cluster-down: the cluster of $DATA (node $NODE_NAME)"
echo "daemons:"
any=
for name in apiserver cluster-dns controller-manager scheduler kubelet kube-proxy; do
  for pid in $(daemon_pids "$name"); do
    echo "  found $name (pid $pid)"
    any=1
  done
done
[ -n "$any" ] || echo "  none running"

# cluster-up.sh watches its daemons and stops them all when one exits: it would stop the
# apiserver while pods are still being deleted. It is frozen now and ended at the end.
scripts=()
for name in apiserver kubelet; do
  for pid in $(daemon_pids "$name"); do
    ppid=$(awk '/^PPid:/ {print $2}' "/proc/$pid/status" 2>/dev/null)
    if [ -n "$ppid" ] && tr '\0' ' ' <"/proc/$ppid/cmdline" 2>/dev/null | grep -q 'cluster-up\.sh'; then
      if ! printf '%s\n' "${scripts[@]}" | grep -qx "$ppid"; then
        scripts+=("$ppid")
        kill -STOP "$ppid" 2>/dev/null && echo "  found cluster-up.sh (pid $ppid): paused"
      fi
    fi
  done
done

echo "stopping the scheduler and the controller-manager (nothing recreates pods now):"
stop_daemon scheduler
stop_daemon controller-manager

if [ -n "$(daemon_pids apiserver)" ] && [ -f "$ADMIN" ] && [ -n "$ctl" ]; then
  echo "deleting every pod through the API (the kubelet stops their containers):"
  k() { "$ctl" --kubeconfig "$ADMIN" --request-timeout 10s "$@"; }
  left=$(k get pods -A --no-headers 2>/dev/null | wc -l)
  if [ "$left" = 0 ]; then
    echo "  no pods"
  else
    k delete pods --all -A --wait=false 2>&1 | sed 's/^/  /'
    [ -n "$(daemon_pids kubelet)" ] || echo "  (the kubelet is not running: its pods' containers are removed below)"
    for _ in $(seq 1 "$WAIT"); do
      left=$(k get pods -A --no-headers 2>/dev/null | wc -l)
      [ "$left" = 0 ] && break
      [ -n "$(daemon_pids kubelet)" ] || break
      sleep 1
    done
    if [ "$left" = 0 ]; then
      echo "  all pods gone"
    else
      echo "  $left pods still terminating; their containers are removed below"
    fi
  fi
else
  echo "pods: the apiserver is not running (or $ADMIN or a built ctl is missing); not deleted through the API"
fi

echo "stopping the node and the apiserver:"
for name in kube-proxy kubelet cluster-dns apiserver; do
  stop_daemon "$name"
done
for pid in "${scripts[@]}"; do
  # Its daemons are gone; it has nothing left to do.
  kill -KILL "$pid" 2>/dev/null && echo "  cluster-up.sh (pid $pid): ended"
done

echo "containers (name ${PREFIX}_..., label io.kubelet.node=$NODE_NAME):"
if docker info >/dev/null 2>&1; then
  ids=$(docker ps -aq --filter "label=io.kubelet.node=$NODE_NAME" --filter "name=^${PREFIX}_")
  if [ -z "$ids" ]; then
    echo "  none"
  else
    n=$(wc -w <<<"$ids")
    # shellcheck disable=SC2086
    if docker rm -f $ids >/dev/null; then echo "  removed $n"; else echo "  removing $n failed" && failed=1; fi
  fi
else
  echo "  the Docker engine does not answer: not checked"
fi

echo "kube-proxy's rules (KUBE-... chains, nftables table ip kube-proxy):"
others=$(foreign_in_netns kube-proxy)
if [ -n "$others" ]; then
  echo "  left alone: another kube-proxy runs in this network namespace (pid $(echo $others))"
elif [ "$(iptables-save 2>/dev/null | grep -c '^:KUBE-')" = 0 ] && ! nft list table ip kube-proxy >/dev/null 2>&1; then
  echo "  none"
else
  proxy=
  for b in target/release/kube-proxy target/debug/kube-proxy; do
    if [ -x "$b" ]; then proxy=$b && break; fi
  done
  if [ -n "$proxy" ] && "$proxy" --cleanup >/dev/null 2>&1; then
    echo "  removed ($proxy --cleanup)"
  else
    echo "  kube-proxy --cleanup failed or is not built (cargo build -p kube-proxy)" && failed=1
  fi
fi

echo "the pod bridge $BRIDGE and its FORWARD rules:"
others=$(foreign_kubelets_on_bridge)
if [ -n "$others" ]; then
  echo "  left alone: another kubelet on $BRIDGE runs in this network namespace (pid $(echo $others))"
else
  if ip link show "$BRIDGE" >/dev/null 2>&1; then
    if ip link del "$BRIDGE"; then echo "  bridge removed"; else failed=1; fi
  else
    echo "  no bridge"
  fi
  rules=0
  for dir in -o -i; do
    while iptables -w -C FORWARD "$dir" "$BRIDGE" -j ACCEPT 2>/dev/null; do
      iptables -w -D FORWARD "$dir" "$BRIDGE" -j ACCEPT || { failed=1 && break; }
      rules=$((rules + 1))
    done
  done
  echo "  $rules FORWARD rules removed"
fi

if [ -n "$purge" ]; then
  echo "data:"
  if [ ! -e "$DATA" ]; then
    echo "  $DATA: not there"
  elif [ ! -d "$DATA/apiserver" ] && [ ! -d "$DATA/kubelet" ] && [ ! -d "$DATA/logs" ]; then
    echo "  $DATA does not look like cluster-up's (no apiserver/, kubelet/ or logs/): left alone" && failed=1
  else
    # Volumes the kubelet mounted (tmpfs for secrets) first, deepest first.
    awk -v d="$DATA/" 'index($2, d) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
      umount "$m" 2>/dev/null || umount -l "$m"
    done
    if rm -rf "$DATA"; then echo "  $DATA removed"; else failed=1; fi
  fi
  KUBE_CONFIG=${HOME:-/root}/.kube/config
  if grep -q "cluster-up-managed" "$KUBE_CONFIG" 2>/dev/null &&
    grep -q -F "# cluster-up-managed: written by scripts/cluster-up.sh from $ADMIN" "$KUBE_CONFIG"; then
    rm -f "$KUBE_CONFIG" && echo "  $KUBE_CONFIG (written by cluster-up for this cluster) removed"
  fi
else
  echo "data kept in $DATA (--purge deletes it)"
fi

if [ "$failed" = 0 ]; then
  echo "cluster-down: done"
else
  echo "cluster-down: done, with failures (above)" >&2
fi
exit "$failed"

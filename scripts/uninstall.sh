#!/usr/bin/env bash
# Stops the cluster ./scripts/install.sh started and removes what it made on this machine.
# Run as root from the checkout, with the same environment as install.sh:
#   ./scripts/uninstall.sh              # stop, clean the machine, delete the data dir
#   ./scripts/uninstall.sh --keep-data  # the same, but keep SKIFF_DATA_DIR (cluster and images)
# Environment: SKIFF_DATA_DIR (default /var/lib/skiff).
#
# Stopping the server alone leaves pods running: the node agent keeps containers across its own
# restarts, as a kubelet does. So pods are deleted first, through the API: the agent stops their
# containers and the CNI plugins take back their veths, addresses and masquerade rules. Then the
# server stops, and what the node itself made goes: the bridge skiff0 (and its route), the cgroup
# root /kubepods in every hierarchy, the runtime state in /run/skiff/agent. Anything a crash left
# behind (containers, mounts, CNI masquerade rules of skiff0) is removed the same way.
set -uo pipefail
cd "$(dirname "$0")/.."

data_dir=${SKIFF_DATA_DIR:-/var/lib/skiff}
keep_data=false
case "${1:-}" in
  --keep-data) keep_data=true ;;
  '') ;;
  *) echo "usage: $0 [--keep-data]" >&2; exit 2 ;;
esac
pid_file="$data_dir/skiff.pid"
kubeconfig="$data_dir/kubeconfig.yaml"
runtime_root=/run/skiff/agent
bridge=skiff0

wait_for() { # seconds, then a command that succeeds when done
  local deadline=$((SECONDS + $1)); shift
  until "$@"; do [ $SECONDS -ge $deadline ] && return 1; sleep 0.5; done
}

if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  pid=$(cat "$pid_file")
  if command -v kubectl >/dev/null && [ -f "$kubeconfig" ]; then
    k=(kubectl --kubeconfig "$kubeconfig" --request-timeout=10s)
    echo "==> deleting every workload and pod (their containers stop, CNI removes their network)"
    # Controllers first, so nothing re-creates the pods; their pods are orphaned rather than
    # deleted by the garbage collector with their full grace period, and then deleted with a
    # 1 s one (one kind at a time: a kind this Skiff does not serve would fail the command).
    for kind in cronjobs jobs deployments statefulsets daemonsets replicasets replicationcontrollers; do
      "${k[@]}" delete "$kind" --all --all-namespaces --cascade=orphan --wait=false >/dev/null 2>&1
    done
    "${k[@]}" delete pods --all --all-namespaces --grace-period=1 --wait=false >/dev/null 2>&1
    # This machine's node (named after the hostname) confirms its pods gone once their containers
    # and networks are; pods of nodes no agent runs any more (a stopped `skiff sim`) never would.
    no_local_pods() { [ -z "$("${k[@]}" get pods --all-namespaces --field-selector "spec.nodeName=$(hostname)" -o name 2>/dev/null)" ]; }
    wait_for 90 no_local_pods || echo "    some of this node's pods are still there; their containers are removed below" >&2
    "${k[@]}" delete pods --all --all-namespaces --force --grace-period=0 >/dev/null 2>&1
  else
    echo "==> kubectl or $kubeconfig missing: pods are not deleted through the API; their containers are removed below" >&2
  fi
  echo "==> stopping skiff server (pid $pid)"
  kill "$pid"
  gone() { ! kill -0 "$pid" 2>/dev/null; }
  wait_for 30 gone || { echo "    still running after 30 s: SIGKILL" >&2; kill -9 "$pid" 2>/dev/null; }
else
  echo "==> skiff server is not running (no live pid in $pid_file)"
fi
rm -f "$pid_file"

echo "==> removing what the node made on this machine"
# Containers a crash or a missing kubectl left behind.
for runtime in runc crun; do
  [ -d "$runtime_root/$runtime" ] || continue
  for id in $("$runtime" --root "$runtime_root/$runtime" list -q 2>/dev/null); do
    echo "    $runtime container $id"
    "$runtime" --root "$runtime_root/$runtime" delete -f "$id" >/dev/null 2>&1
  done
done
# Mounts (container root filesystems, volumes, network namespaces), innermost first.
for target in $(awk -v d="$data_dir/" -v r="$runtime_root/" 'index($5, d) == 1 || index($5, r) == 1 { print $5 }' /proc/self/mountinfo | sort -r); do
  echo "    mount $target"
  umount -l "$target" 2>/dev/null
done
# CNI's per-pod masquerade rules on skiff0 (normally removed when each pod goes).
while read -r rule; do
  chain=$(grep -o -- '-j CNI-[0-9a-f]*' <<<"$rule" | cut -c4-)
  echo "    iptables nat rule for $chain"
  eval "iptables -t nat ${rule/-A POSTROUTING/-D POSTROUTING}"
  iptables -t nat -F "$chain" 2>/dev/null && iptables -t nat -X "$chain" 2>/dev/null
done < <(iptables -t nat -S POSTROUTING 2>/dev/null | grep -F "name: \\\"skiff-$bridge\\\"")
# The bridge (its route goes with it).
if ip link show "$bridge" >/dev/null 2>&1; then
  echo "    bridge $bridge"
  ip link del "$bridge"
fi
# The cgroup root, in every hierarchy (only empty groups can be removed).
for dir in /sys/fs/cgroup/kubepods /sys/fs/cgroup/*/kubepods; do
  [ -d "$dir" ] || continue
  echo "    cgroup $dir"
  find "$dir" -depth -type d -exec rmdir {} \; 2>/dev/null
done
rm -rf "$runtime_root"
rmdir /run/skiff 2>/dev/null

if $keep_data; then
  echo "==> kept $data_dir (./scripts/install.sh starts the same cluster again)"
else
  echo "==> removing $data_dir"
  rm -rf "$data_dir"
fi
echo "==> Skiff is stopped and removed."

#!/usr/bin/env bash
# Installs what Skiff needs on a Debian machine and starts a single-node cluster in the
# background. Run as root from a checkout:  ./scripts/install.sh
# Environment: SKIFF_DATA_DIR (default /var/lib/skiff), SKIFF_PORT (default 6443).
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir=${SKIFF_DATA_DIR:-/var/lib/skiff}
port=${SKIFF_PORT:-6443}

# Debian packages the server uses at run time (grows with the node agent: runc, CNI, nftables).
packages=(ca-certificates attr runc containernetworking-plugins iptables iproute2 perl socat)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi

echo "==> installing npm packages (brings Node.js 24)"
npm ci --no-audit --no-fund --loglevel=error

pid_file="$data_dir/skiff.pid"
if [ -f "$pid_file" ] && kill -0 "$(cat "$pid_file")" 2>/dev/null; then
  echo "==> skiff server is already running (pid $(cat "$pid_file"))"
else
  mkdir -p "$data_dir"
  rm -f "$data_dir/kubeconfig.yaml"
  echo "==> starting skiff server (log: $data_dir/skiff.log)"
  nohup bin/skiff server --data-dir "$data_dir" --https-listen-port "$port" >>"$data_dir/skiff.log" 2>&1 &
  echo $! >"$pid_file"
  for _ in $(seq 1 300); do
    [ -f "$data_dir/kubeconfig.yaml" ] && break
    if ! kill -0 "$(cat "$pid_file")" 2>/dev/null; then
      echo "skiff server exited; last lines of its log:" >&2
      tail -n 20 "$data_dir/skiff.log" >&2
      exit 1
    fi
    sleep 0.1
  done
  [ -f "$data_dir/kubeconfig.yaml" ] || { echo "skiff server did not become ready" >&2; exit 1; }
fi

cat <<MSG
==> Skiff is running.
    export KUBECONFIG=$data_dir/kubeconfig.yaml
    kubectl get namespaces
    Stop it with: kill \$(cat $pid_file)
MSG

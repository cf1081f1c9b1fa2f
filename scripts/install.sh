#!/usr/bin/env bash
# Installs what Skiff needs on a Debian machine, builds the demo images (skiff.local/busybox and
# skiff.local/hello-http:1.0, from Debian's busybox-static: no internet needed) into the node's
# image store, and starts a single-node cluster in the background, its embedded agent running
# pods in runc containers. Run as root from a checkout:  ./scripts/install.sh
# Environment: SKIFF_DATA_DIR (default /var/lib/skiff), SKIFF_PORT (default 6443).
# Stop it and remove what it made on the machine: ./scripts/uninstall.sh (same environment).
set -euo pipefail
cd "$(dirname "$0")/.."

data_dir=${SKIFF_DATA_DIR:-/var/lib/skiff}
port=${SKIFF_PORT:-6443}

# Debian packages the server and its node agent use at run time; busybox-static is what the demo
# images are built from.
packages=(ca-certificates attr runc crun containernetworking-plugins iptables iproute2 perl socat busybox-static)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ]; then
  echo "==> installing Debian packages: ${missing[*]}"
  apt-get update -qq
  apt-get install -y -qq "${missing[@]}"
fi

echo "==> installing npm packages (brings Node.js 24)"
npm ci --no-audit --no-fund --loglevel=error

mkdir -p "$data_dir"
echo "==> building the demo images into the node's image store ($data_dir/agent/images)"
node_modules/.bin/node scripts/build-images.ts --out "$data_dir/demo-images" >/dev/null
for archive in "$data_dir"/demo-images/*.oci.tar; do
  bin/skiff image import --data-dir "$data_dir" "$archive" | grep '^Imported' | tail -n 1
done

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
    kubectl create deployment hello --image=skiff.local/hello-http:1.0 --replicas=2
    kubectl get pods -o wide
    Stop it (pods, server, bridge and rules): $( [ "$data_dir" = /var/lib/skiff ] || printf 'SKIFF_DATA_DIR=%s ' "$data_dir")./scripts/uninstall.sh
MSG

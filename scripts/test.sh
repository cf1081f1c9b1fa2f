#!/usr/bin/env bash
# Runs Skiff's whole test suite. Installs the Debian packages the tests use (etcd for the etcd
# storage driver) and the npm packages; tests start and stop their own services on loopback.
set -euo pipefail
cd "$(dirname "$0")/.."

packages=(etcd-server ca-certificates runc crun containernetworking-plugins busybox-static socat iptables iproute2 docker-registry apache2-utils attr openssl)
missing=()
for p in "${packages[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
if [ ${#missing[@]} -gt 0 ] || [ "${CI:-}" = "true" ]; then
  if [ "$(id -u)" = 0 ]; then
    apt-get update -qq
    apt-get install -y -qq "${packages[@]}"
  else
    echo "missing Debian packages: ${missing[*]} (run as root to install them)" >&2
  fi
fi
# Debian starts etcd as a service when one can run; the tests start their own on loopback.
npm ci --no-audit --no-fund --loglevel=error

node_modules/.bin/tsc -p .
node_modules/.bin/node scripts/check-imports.ts
exec node_modules/.bin/node --disable-warning=ExperimentalWarning --test --test-concurrency=2 \
  'src/**/*.test.ts' 'test/**/*.test.ts'

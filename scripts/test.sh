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

# The CNI portmap plugin (hostPort tests) creates shared nat chains it never removes on DEL;
# if this run created them and no mapping is left in them, they go at the end.
portmap_chains_before=$(iptables -t nat -S CNI-HOSTPORT-DNAT >/dev/null 2>&1 && echo yes || echo no)
remove_portmap_chains() {
  [ "$portmap_chains_before" = no ] || return 0
  iptables -t nat -S CNI-HOSTPORT-DNAT >/dev/null 2>&1 || return 0
  [ "$(iptables -t nat -S CNI-HOSTPORT-DNAT | wc -l)" -le 1 ] || return 0
  iptables -t nat -D PREROUTING -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT 2>/dev/null || true
  iptables -t nat -D OUTPUT -m addrtype --dst-type LOCAL -j CNI-HOSTPORT-DNAT 2>/dev/null || true
  iptables -t nat -D POSTROUTING -m comment --comment "CNI portfwd requiring masquerade" -j CNI-HOSTPORT-MASQ 2>/dev/null || true
  for chain in CNI-HOSTPORT-DNAT CNI-HOSTPORT-MASQ CNI-HOSTPORT-SETMARK; do
    iptables -t nat -F "$chain" 2>/dev/null || true
    iptables -t nat -X "$chain" 2>/dev/null || true
  done
}

status=0
node_modules/.bin/node --disable-warning=ExperimentalWarning --test --test-concurrency=2 \
  'src/**/*.test.ts' 'test/**/*.test.ts' || status=$?
if [ "$(id -u)" = 0 ] && command -v iptables >/dev/null; then remove_portmap_chains; fi
exit "$status"

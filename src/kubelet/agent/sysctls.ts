/**
 * The kubelet's sysctl admission, as upstream's: a pod may set the namespaced sysctls that are
 * safe (isolated between pods on one node) and the unsafe ones the node's operator allows
 * (`--kubelet-arg allowed-unsafe-sysctls=kernel.msg*,net.core.somaxconn`); any other makes the
 * kubelet reject the pod (phase Failed, reason `SysctlForbidden`). Network sysctls are refused for
 * a pod on the host's network, IPC ones for a pod in the host's IPC namespace, since they would
 * change the host.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';

/** Upstream's safe set (pkg/kubelet/sysctl/safe_sysctls.go, Kubernetes 1.32). */
export const SAFE_SYSCTLS: readonly string[] = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
];

/** The reason of a pod rejected for its sysctls. */
export const SYSCTL_FORBIDDEN = 'SysctlForbidden';

const IPC_PREFIXES = ['kernel.shm', 'kernel.msg', 'kernel.sem', 'fs.mqueue.'];

/** Upstream accepts `/` as the separator too (`net/ipv4/...`). */
function normalize(name: string): string {
  const first = name.search(/[./]/);
  if (first < 0 || name[first] === '.') return name;
  return name.replace(/\//g, '.');
}

function allowed(name: string, patterns: readonly string[]): boolean {
  return patterns.some((p) => (p.endsWith('*') ? name.startsWith(p.slice(0, -1)) : name === p));
}

/**
 * Why the pod's sysctls are refused (upstream's message after "forbidden sysctl: "), or
 * undefined when they are all allowed.
 */
export function forbiddenSysctl(pod: Pod, allowedUnsafe: readonly string[] = []): string | undefined {
  for (const sysctl of pod.spec?.securityContext?.sysctls ?? []) {
    const name = normalize(sysctl.name);
    if (!SAFE_SYSCTLS.includes(name) && !allowed(name, allowedUnsafe)) return `"${sysctl.name}" not allowlisted`;
    if (pod.spec?.hostNetwork && name.startsWith('net.')) return `"${sysctl.name}" not allowed with host net enabled`;
    if (pod.spec?.hostIPC && IPC_PREFIXES.some((p) => name.startsWith(p))) return `"${sysctl.name}" not allowed with host ipc enabled`;
  }
  return undefined;
}

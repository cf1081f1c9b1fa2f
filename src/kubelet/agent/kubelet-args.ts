/**
 * The `--kubelet-arg KEY=VALUE` settings Skiff's agent understands, shared by `skiff server`
 * (its embedded agent) and `skiff agent`. Keys are upstream's kubelet flag names where upstream
 * has one: `port`, `container-log-max-size`, `container-log-max-files`,
 * `container-log-monitor-interval`, `allowed-unsafe-sysctls`; `image-pull-backoff` and
 * `image-pull-backoff-max` are Skiff's own (upstream compiles in 10s and 5m).
 */
import { containerLogSetting, durationMs, type ContainerLogSettings } from './container-log-manager.ts';

/** What the `--kubelet-arg` settings give the agent (see the module comment). */
export interface KubeletArgSettings {
  kubeletPort?: number;
  imagePullBackoff?: { initialMs?: number; maxMs?: number };
  containerLogs?: ContainerLogSettings;
  allowedUnsafeSysctls?: string[];
}

/** Reads the settings; a key it does not know, or a value it cannot use, goes to `unsupported`. */
export function parseKubeletArgs(pairs: Iterable<readonly [string, string]>, unsupported: (key: string, value: string) => void): KubeletArgSettings {
  const out: KubeletArgSettings = {};
  for (const [key, value] of pairs) {
    const ms = durationMs(value);
    const logs = containerLogSetting(key, value);
    if (key === 'port' && /^[0-9]+$/.test(value) && Number(value) <= 65535) out.kubeletPort = Number(value);
    else if (logs) out.containerLogs = { ...out.containerLogs, ...logs };
    else if (key === 'image-pull-backoff' && ms) out.imagePullBackoff = { ...out.imagePullBackoff, initialMs: ms };
    else if (key === 'image-pull-backoff-max' && ms) out.imagePullBackoff = { ...out.imagePullBackoff, maxMs: ms };
    else if (key === 'allowed-unsafe-sysctls') out.allowedUnsafeSysctls = value.split(',').map((x) => x.trim()).filter(Boolean);
    else unsupported(key, value);
  }
  return out;
}

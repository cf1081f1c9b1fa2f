/**
 * The `--kubelet-arg KEY=VALUE` settings Skiff's agent understands, shared by `skiff server`
 * (its embedded agent) and `skiff agent`. Keys are upstream's kubelet flag names where upstream
 * has one: `port`, `container-log-max-size`, `container-log-max-files`,
 * `container-log-monitor-interval`, `allowed-unsafe-sysctls`, `eviction-hard`,
 * `eviction-pressure-transition-period`, `protect-kernel-defaults`; `image-pull-backoff` and
 * `image-pull-backoff-max` are Skiff's own (upstream compiles in 10s and 5m).
 */
import { containerLogSetting, durationMs, type ContainerLogSettings } from './container-log-manager.ts';
import { parseEvictionHard } from './eviction-thresholds.ts';

function validEvictionHard(text: string): boolean {
  try {
    parseEvictionHard(text);
    return true;
  } catch {
    return false;
  }
}

/** What the `--kubelet-arg` settings give the agent (see the module comment). */
export interface KubeletArgSettings {
  kubeletPort?: number;
  imagePullBackoff?: { initialMs?: number; maxMs?: number };
  containerLogs?: ContainerLogSettings;
  allowedUnsafeSysctls?: string[];
  /** Hard eviction thresholds in upstream's syntax (`memory.available<100Mi,nodefs.available<10%`). */
  evictionHard?: string;
  pressureTransitionPeriodMs?: number;
  /** Leave the node's kernel settings as they are (upstream's `--protect-kernel-defaults`). */
  protectKernelDefaults?: boolean;
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
    else if (key === 'eviction-hard' && validEvictionHard(value)) out.evictionHard = value;
    else if (key === 'eviction-pressure-transition-period' && ms) out.pressureTransitionPeriodMs = ms;
    else if (key === 'protect-kernel-defaults' && (value === 'true' || value === 'false' || value === '')) out.protectKernelDefaults = value !== 'false';
    else unsupported(key, value);
  }
  return out;
}

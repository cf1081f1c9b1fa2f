/**
 * Container lifecycle hooks (postStart, preStop) as upstream's handler runner: `exec` runs in
 * the container through the runtime, `httpGet` is sent from the node (to the pod IP unless the
 * hook names a host) with `User-Agent: kube-lifecycle/<version>` — any HTTP response counts as
 * success, only a failed request fails the hook — and `sleep` waits. A failure's message is worded
 * as upstream's `FailedPostStartHook` / `FailedPreStopHook` events.
 */
import type { LifecycleHandler, Pod } from 'kubernetes-types/core/v1.js';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { KUBELET_VERSION } from './node-status.ts';
import { runProbe, type ProbeTarget } from './probes.ts';

/** `kube-lifecycle/1.32`, as upstream's lifecycle HTTP handler. */
export const LIFECYCLE_USER_AGENT = `kube-lifecycle/${KUBELET_VERSION.replace(/^v(\d+\.\d+).*$/, '$1')}`;

/** One hook run's outcome; `message` is the event message on failure. */
export interface HookOutcome {
  ok: boolean;
  message: string;
}

/** Options of {@link runLifecycleHook}. */
export interface RunHookOptions {
  runtime: ContainerRuntime;
  /** The pod (its name in messages). */
  pod: Pod;
  /** How long the hook may take (exec and httpGet), seconds; a `sleep` is cut to it too. */
  timeoutSeconds: number;
}

function formatPod(pod: Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
}

/** Runs one lifecycle handler against a running container (see the file header). */
export async function runLifecycleHook(hook: LifecycleHandler, target: ProbeTarget, options: RunHookOptions): Promise<HookOutcome> {
  const { runtime, pod } = options;
  const timeoutSeconds = Math.max(1, options.timeoutSeconds);
  const name = target.container.name;
  if (hook.sleep) {
    await new Promise((r) => setTimeout(r, Math.min(hook.sleep!.seconds, options.timeoutSeconds) * 1000));
    return { ok: true, message: '' };
  }
  if (hook.exec) {
    const command = hook.exec.command ?? [];
    try {
      const r = await runtime.execSync(target.containerId, command, timeoutSeconds * 1000);
      if (r.exitCode === 0) return { ok: true, message: '' };
      const output = Buffer.concat([r.stdout, r.stderr]).toString();
      const error = `command '${command.join(' ')}' exited with ${r.exitCode}: ${r.stderr.toString()}`;
      return { ok: false, message: `Exec lifecycle hook ([${command.join(' ')}]) for Container "${name}" in Pod "${formatPod(pod)}" failed - error: ${error}, message: ${JSON.stringify(output)}` };
    } catch (e) {
      return { ok: false, message: `Exec lifecycle hook ([${command.join(' ')}]) for Container "${name}" in Pod "${formatPod(pod)}" failed - error: ${(e as Error).message}, message: ""` };
    }
  }
  if (hook.httpGet) {
    const outcome = await runProbe({ httpGet: hook.httpGet, timeoutSeconds }, target, runtime, { userAgent: LIFECYCLE_USER_AGENT, anyStatus: true });
    if (outcome.ok) return outcome;
    return { ok: false, message: `HTTP lifecycle hook (${hook.httpGet.path ?? ''}) for Container "${name}" in Pod "${formatPod(pod)}" failed - error: ${outcome.message}` };
  }
  if (hook.tcpSocket) {
    // Deprecated as a handler upstream (kept for compatibility); a connect check here.
    const outcome = await runProbe({ tcpSocket: hook.tcpSocket, timeoutSeconds }, target, runtime);
    return outcome.ok ? outcome : { ok: false, message: `TCP lifecycle hook for Container "${name}" in Pod "${formatPod(pod)}" failed - error: ${outcome.message}` };
  }
  return { ok: false, message: `Cannot run handler: invalid handler: ${JSON.stringify(hook)}` };
}

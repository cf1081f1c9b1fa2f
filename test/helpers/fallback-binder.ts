/**
 * Test helper: binds pods the scheduler has left unbound for a while, for workload tests that
 * run while the scheduler may be absent or still learning. A pod whose required node affinity
 * names nodes by `metadata.name` (DaemonSet pods) goes to the first of those; any other pod
 * goes to the candidate node with the fewest pods bound by this helper. When the scheduler
 * binds first, the helper's bind fails (409) and is ignored.
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, Informer, isApiError, kinds, objectKey } from '../../src/client/index.ts';
import type { TestServer } from './cluster.ts';

/** A running binder. */
export interface FallbackBinder {
  stop(): void;
}

/** Options of {@link startFallbackBinder}. */
export interface FallbackBinderOptions {
  /** Nodes for pods without a node-name affinity. */
  nodes: string[];
  /** How long a pod may stay unbound before the helper binds it. Default 400 ms. */
  afterMs?: number;
}

/** The node names a pod's required node affinity allows through `matchFields` on `metadata.name`. */
export function affinityNodeNames(pod: Pod): string[] {
  const terms = pod.spec?.affinity?.nodeAffinity?.requiredDuringSchedulingIgnoredDuringExecution?.nodeSelectorTerms ?? [];
  return terms.flatMap((t) => (t.matchFields ?? []).filter((f) => f.key === 'metadata.name' && f.operator === 'In').flatMap((f) => f.values ?? []));
}

/** Starts binding. */
export async function startFallbackBinder(server: Pick<TestServer, 'kubeconfig'>, options: FallbackBinderOptions): Promise<FallbackBinder> {
  const transport = HttpTransport.fromKubeconfig(server.kubeconfig, { userAgent: 'fallback-binder' });
  const client = new Client(transport);
  const pods = client.resource(kinds.pods);
  const counts = new Map(options.nodes.map((n) => [n, 0]));
  const timers = new Map<string, NodeJS.Timeout>();
  const bind = async (key: string) => {
    timers.delete(key);
    const [namespace, name] = key.split('/') as [string, string];
    const pod = informer.get(namespace, name);
    if (!pod || pod.spec?.nodeName || pod.metadata?.deletionTimestamp) return;
    let node = affinityNodeNames(pod)[0];
    if (!node) {
      node = [...counts].sort((a, b) => a[1] - b[1])[0]?.[0];
      if (!node) return;
      counts.set(node, counts.get(node)! + 1);
    }
    try {
      await pods.createSubresource(namespace, name, 'binding', {
        apiVersion: 'v1',
        kind: 'Binding',
        metadata: { name, namespace, uid: pod.metadata?.uid },
        target: { apiVersion: 'v1', kind: 'Node', name: node },
      });
    } catch (error) {
      if (!isApiError(error)) console.error('fallback binder:', error);
    }
  };
  const consider = (pod: Pod) => {
    const key = objectKey(pod);
    if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp || timers.has(key)) return;
    timers.set(key, setTimeout(() => void bind(key), options.afterMs ?? 400));
  };
  const informer = new Informer<Pod>(pods, { onError: () => undefined });
  informer.addHandler({ add: consider, update: (_, pod) => consider(pod) });
  await informer.start();
  return {
    stop() {
      informer.stop();
      for (const timer of timers.values()) clearTimeout(timer);
      transport.close();
    },
  };
}

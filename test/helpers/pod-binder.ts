/**
 * Test helper: a stand-in for the scheduler, for tests that need pods on (simulated) nodes while
 * `skiff server` runs no scheduler. It binds every pending pod to the given nodes in turn through
 * pods/binding, as kube-scheduler would. A pod some real scheduler bound first is left alone
 * (its binding answers 409).
 */
import type { Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, Informer, isApiError, kinds, objectKey } from '../../src/client/index.ts';
import type { TestServer } from './cluster.ts';

/** A running binder. */
export interface PodBinder {
  stop(): void;
}

/** Binds pending pods of every namespace to `nodes`, round robin. */
export async function startPodBinder(server: Pick<TestServer, 'kubeconfig'>, nodes: string[]): Promise<PodBinder> {
  const transport = HttpTransport.fromKubeconfig(server.kubeconfig, { userAgent: 'test-pod-binder' });
  const pods = new Client(transport).resource(kinds.pods);
  const informer = new Informer<Pod>(pods, { fieldSelector: 'spec.nodeName=', onError: () => undefined });
  const asked = new Set<string>();
  let next = 0;
  const bind = (pod: Pod) => {
    const key = objectKey(pod);
    if (pod.spec?.nodeName || pod.metadata?.deletionTimestamp || asked.has(key)) return;
    if (pod.spec?.schedulerName && pod.spec.schedulerName !== 'default-scheduler') return;
    asked.add(key);
    const node = nodes[next++ % nodes.length]!;
    const binding = { apiVersion: 'v1', kind: 'Binding', metadata: { name: pod.metadata?.name, uid: pod.metadata?.uid }, target: { apiVersion: 'v1', kind: 'Node', name: node } };
    pods.createSubresource(pod.metadata?.namespace, pod.metadata?.name ?? '', 'binding', binding).catch((error: unknown) => {
      if (!isApiError(error, 409) && !isApiError(error, 404)) asked.delete(key);
    });
  };
  informer.addHandler({ add: bind, update: (_old, pod) => bind(pod), delete: (pod) => asked.delete(objectKey(pod)) });
  await informer.start();
  return {
    stop() {
      informer.stop();
      transport.close();
    },
  };
}

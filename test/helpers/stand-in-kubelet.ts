/**
 * Test helper: a stand-in for kubelets, for tests that need pods with IPs and readiness but not
 * the simulator. It registers plain Node objects through the API, and for every pod bound to
 * one of them (spec.nodeName set by the test) writes the status a kubelet would through
 * pods/status: Running, a pod IP, the Ready condition (per `setReady`, initially
 * `readyByDefault`). A pod being deleted is removed at once (grace period 0), as a kubelet does
 * once its containers stopped.
 */
import type { Node, Pod } from 'kubernetes-types/core/v1.js';
import { Client, HttpTransport, Informer, isApiError, kinds, objectKey } from '../../src/client/index.ts';
import type { TestServer } from './cluster.ts';

/** A running stand-in. */
export interface StandInKubelet {
  /** Makes a pod (`namespace/name`) Ready or not; resolves once the status is written. */
  setReady(key: string, ready: boolean): Promise<void>;
  /** Stops watching; the Nodes stay. */
  stop(): void;
}

/** Options of {@link startStandInKubelet}. */
export interface StandInKubeletOptions {
  /** Node names to register, with their zone label (`topology.kubernetes.io/zone`). */
  nodes: Record<string, string>;
  /** Whether a pod starts Ready. Default true. */
  readyByDefault?: boolean;
}

/** Registers the nodes and starts writing pod status. */
export async function startStandInKubelet(server: Pick<TestServer, 'kubeconfig'>, options: StandInKubeletOptions): Promise<StandInKubelet> {
  const transport = HttpTransport.fromKubeconfig(server.kubeconfig, { userAgent: 'stand-in-kubelet' });
  const client = new Client(transport);
  const podsApi = client.resource(kinds.pods);
  for (const [name, zone] of Object.entries(options.nodes)) {
    const node: Node = {
      metadata: { name, labels: { 'kubernetes.io/hostname': name, 'topology.kubernetes.io/zone': zone } },
      status: { conditions: [{ type: 'Ready', status: 'True' }] },
    };
    await client.resource(kinds.nodes).create(node);
  }
  const readiness = new Map<string, boolean>();
  const ips = new Map<string, string>();
  let next = 2;
  const busy = new Map<string, Promise<void>>();

  /** Writes the status the pod should have, if it differs. */
  const reconcile = async (key: string): Promise<void> => {
    const pod = informer.get(key.split('/')[0], key.split('/')[1]!);
    if (!pod || !pod.spec?.nodeName || !(pod.spec.nodeName in options.nodes)) return;
    if (pod.metadata?.deletionTimestamp) {
      try {
        await podsApi.delete(pod.metadata.namespace, pod.metadata.name!, { gracePeriodSeconds: 0, preconditions: { uid: pod.metadata.uid! } });
      } catch (error) {
        if (!isApiError(error, 404) && !isApiError(error, 409)) throw error;
      }
      return;
    }
    const uidKey = `${key}/${pod.metadata?.uid}`;
    let ip = ips.get(uidKey);
    if (!ip) ips.set(uidKey, (ip = `10.42.${Math.floor(next / 250)}.${(next++ % 250) + 2}`));
    const ready = readiness.get(key) ?? options.readyByDefault ?? true;
    const readyStatus = ready ? 'True' : 'False';
    const old = pod.status?.conditions?.find((c) => c.type === 'Ready');
    if (pod.status?.podIP === ip && pod.status.phase === 'Running' && old?.status === readyStatus) return;
    const now = new Date().toISOString().replace(/\.\d+Z$/, 'Z');
    const transition = old?.status === readyStatus && old.lastTransitionTime ? old.lastTransitionTime : now;
    const base = structuredClone(pod) as Pod;
    const updated: Pod = { ...base, status: {
      ...base.status,
      phase: 'Running',
      hostIP: '192.168.0.1',
      podIP: ip,
      podIPs: [{ ip }],
      startTime: base.status?.startTime ?? now,
      conditions: [
        { type: 'PodScheduled', status: 'True', lastTransitionTime: now },
        { type: 'Initialized', status: 'True', lastTransitionTime: now },
        { type: 'ContainersReady', status: readyStatus, lastTransitionTime: transition },
        { type: 'Ready', status: readyStatus, lastTransitionTime: transition },
      ],
      containerStatuses: (pod.spec.containers ?? []).map((c) => ({
        name: c.name,
        image: c.image ?? '',
        imageID: '',
        ready,
        restartCount: 0,
        started: true,
        state: { running: { startedAt: now } },
      })),
    } };
    try {
      await podsApi.updateStatus(updated);
    } catch (error) {
      // A newer pod (409) comes back through the watch; a deleted one (404) needs nothing.
      if (!isApiError(error, 409) && !isApiError(error, 404)) throw error;
    }
  };
  /** One reconcile per pod at a time; a change meanwhile runs it again. */
  const kick = (key: string): Promise<void> => {
    const run = (busy.get(key) ?? Promise.resolve()).then(() => reconcile(key)).catch((error) => console.error('stand-in kubelet:', error));
    busy.set(key, run);
    return run;
  };
  const informer = new Informer<Pod>(podsApi, { onError: () => undefined });
  informer.addHandler({ add: (pod) => void kick(objectKey(pod)), update: (_, pod) => void kick(objectKey(pod)) });
  await informer.start();
  return {
    async setReady(key, ready) {
      readiness.set(key, ready);
      await kick(key);
    },
    stop() {
      informer.stop();
      transport.close();
    },
  };
}

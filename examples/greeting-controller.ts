/**
 * A user's own controller, in TypeScript, for a custom resource: every `Greeting` gets a
 * ConfigMap holding its message, owned by the Greeting (so deleting the Greeting deletes the
 * ConfigMap), and the Greeting's status says which ConfigMap and which generation it saw.
 *
 *   kubectl apply -f examples/greeting-crd.yaml
 *   node_modules/.bin/node examples/greeting-controller.ts --kubeconfig /var/lib/skiff/kubeconfig.yaml
 *   kubectl apply -f examples/greeting.yaml && kubectl get configmap hello-greeting -o yaml
 *
 * The shape is the one every Skiff controller has: informers feed a work queue of keys; `sync`
 * reads the caches, makes the world match, and is safe to run any number of times.
 */
import { parseArgs } from 'node:util';
import {
  Client,
  HttpTransport,
  Informer,
  controllerOf,
  controllerRef,
  kinds,
  objectKey,
  processQueue,
  resourceType,
  splitKey,
  WorkQueue,
  type KubeObject,
} from '../src/client/index.ts';

/** The custom resource: `spec.message`, and a status the controller writes. */
interface Greeting extends KubeObject {
  spec?: { message?: string };
  status?: { configMap?: string; observedGeneration?: number };
}

const greetings = resourceType<Greeting>('example.com', 'v1', 'Greeting', 'greetings', true);

/** Runs the controller until `signal` aborts. */
export async function runGreetingController(client: Client, signal: AbortSignal): Promise<void> {
  const greetingInformer = new Informer(client.resource(greetings));
  const configMapInformer = new Informer(client.resource(kinds.configMaps));
  const queue = new WorkQueue();

  // Handlers only enqueue keys: a Greeting's own, or its owner's for a ConfigMap it controls.
  greetingInformer.addHandler({ add: (g) => queue.add(objectKey(g)), update: (_, g) => queue.add(objectKey(g)) });
  const enqueueOwner = (cm: KubeObject) => {
    const owner = controllerOf(cm);
    if (owner?.kind === 'Greeting') queue.add(`${cm.metadata!.namespace}/${owner.name}`);
  };
  configMapInformer.addHandler({ update: (_, cm) => enqueueOwner(cm), delete: enqueueOwner });

  await Promise.all([greetingInformer.start(), configMapInformer.start()]);

  const sync = async (key: string): Promise<void> => {
    const { namespace, name } = splitKey(key);
    const greeting = greetingInformer.get(namespace, name);
    if (!greeting || greeting.metadata?.deletionTimestamp) return; // the garbage collector removes the ConfigMap
    const cmName = `${name}-greeting`;
    const message = greeting.spec?.message ?? '';
    const existing = configMapInformer.get(namespace, cmName);
    if (!existing) {
      await client.resource(kinds.configMaps).create({
        metadata: { name: cmName, namespace, ownerReferences: [controllerRef(greeting, 'example.com/v1', 'Greeting')] },
        data: { message },
      });
    } else if (existing.data?.message !== message) {
      // The resourceVersion from the cache makes this a compare-and-swap: a stale cache gets a
      // 409, and the key is retried with back-off.
      await client.resource(kinds.configMaps).update({ ...structuredClone(existing), data: { ...existing.data, message } });
    }
    const generation = greeting.metadata?.generation ?? 0;
    if (greeting.status?.configMap !== cmName || greeting.status?.observedGeneration !== generation) {
      await client.resource(greetings).updateStatus({ ...structuredClone(greeting), status: { configMap: cmName, observedGeneration: generation } });
    }
  };

  const workers = [1, 2].map(() => processQueue(queue, sync, { onError: (key, e) => console.error(`greeting ${key}:`, (e as Error).message) }));
  await new Promise<void>((resolve) => signal.addEventListener('abort', () => resolve(), { once: true }));
  queue.shutDown();
  greetingInformer.stop();
  configMapInformer.stop();
  await Promise.all(workers);
}

if (import.meta.main) {
  const { values } = parseArgs({ options: { kubeconfig: { type: 'string' } } });
  const kubeconfig = values.kubeconfig ?? process.env.KUBECONFIG ?? `${process.env.HOME}/.kube/config`;
  const transport = HttpTransport.fromKubeconfig(kubeconfig, { userAgent: 'greeting-controller' });
  const stop = new AbortController();
  process.once('SIGINT', () => stop.abort());
  process.once('SIGTERM', () => stop.abort());
  console.error('greeting-controller: running; Ctrl-C stops');
  await runGreetingController(new Client(transport), stop.signal);
  transport.close();
}

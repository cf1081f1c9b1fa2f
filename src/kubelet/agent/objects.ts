/**
 * ConfigMaps and Secrets the node's pods reference, as upstream's watch-based manager: one
 * watch per referenced object (a field selector on its name), started when the first pod
 * references it and stopped when the last one goes, so the node never lists every Secret of
 * the cluster and updates reach the pods at once (`onChange`).
 */
import type { ConfigMap, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { Informer, kinds, type Client } from '../../client/index.ts';
import type { ObjectSource } from './env.ts';

type Kind = 'configmap' | 'secret';

interface Watched {
  informer: Informer<ConfigMap> | Informer<Secret>;
  users: Set<string>;
}

/** The objects a pod references: `configmap/ns/name` and `secret/ns/name` keys. */
export function podReferences(pod: Pod): string[] {
  const ns = pod.metadata?.namespace ?? 'default';
  const out = new Set<string>();
  const add = (kind: Kind, name: string | undefined) => { if (name) out.add(`${kind}/${ns}/${name}`); };
  for (const s of pod.spec?.imagePullSecrets ?? []) add('secret', s.name);
  for (const v of pod.spec?.volumes ?? []) {
    add('configmap', v.configMap?.name);
    add('secret', v.secret?.secretName);
    for (const p of v.projected?.sources ?? []) {
      add('configmap', p.configMap?.name);
      add('secret', p.secret?.name);
    }
  }
  for (const c of [...(pod.spec?.initContainers ?? []), ...(pod.spec?.containers ?? [])]) {
    for (const f of c.envFrom ?? []) {
      add('configmap', f.configMapRef?.name);
      add('secret', f.secretRef?.name);
    }
    for (const e of c.env ?? []) {
      add('configmap', e.valueFrom?.configMapKeyRef?.name);
      add('secret', e.valueFrom?.secretKeyRef?.name);
    }
  }
  return [...out];
}

/** See the file header. */
export class ObjectCache implements ObjectSource {
  readonly #client: Client;
  readonly #onChange: (key: string) => void;
  readonly #log: (line: string) => void;
  readonly #watched = new Map<string, Watched>();
  readonly #byPod = new Map<string, Set<string>>();

  constructor(client: Client, onChange: (key: string) => void, log: (line: string) => void) {
    this.#client = client;
    this.#onChange = onChange;
    this.#log = log;
  }

  /** Sets the objects a pod uses (starting and stopping watches as needed). */
  track(podUid: string, keys: string[]): void {
    const next = new Set(keys);
    const prev = this.#byPod.get(podUid) ?? new Set<string>();
    for (const key of next) {
      if (prev.has(key)) continue;
      let w = this.#watched.get(key);
      if (!w) {
        const [kind, ns, name] = key.split('/') as [Kind, string, string];
        const type = kind === 'configmap' ? kinds.configMaps : kinds.secrets;
        const informer = new Informer(this.#client.resource(type as typeof kinds.secrets), {
          namespace: ns,
          fieldSelector: `metadata.name=${name}`,
          onError: (e) => this.#log(`kubelet: watch ${key}: ${(e as Error).message}`),
        });
        const changed = () => { if (informer.synced) this.#onChange(key); };
        informer.addHandler({ add: changed, update: (a, b) => { if (a.metadata?.resourceVersion !== b.metadata?.resourceVersion) changed(); }, delete: changed });
        w = { informer, users: new Set() };
        this.#watched.set(key, w);
      }
      w.users.add(podUid);
    }
    for (const key of prev) {
      if (next.has(key)) continue;
      this.#release(key, podUid);
    }
    if (next.size) this.#byPod.set(podUid, next);
    else this.#byPod.delete(podUid);
  }

  /** The pods using an object key. */
  users(key: string): string[] {
    return [...(this.#watched.get(key)?.users ?? [])];
  }

  #release(key: string, podUid: string): void {
    const w = this.#watched.get(key);
    if (!w) return;
    w.users.delete(podUid);
    if (w.users.size === 0) {
      w.informer.stop();
      this.#watched.delete(key);
    }
  }

  /** Stops every watch. */
  stop(): void {
    for (const w of this.#watched.values()) w.informer.stop();
    this.#watched.clear();
    this.#byPod.clear();
  }

  async #get<T extends ConfigMap | Secret>(kind: Kind, ns: string, name: string): Promise<T | undefined> {
    const w = this.#watched.get(`${kind}/${ns}/${name}`);
    if (w) {
      await w.informer.start();
      return w.informer.get(ns, name) as T | undefined;
    }
    try {
      const type = kind === 'configmap' ? kinds.configMaps : kinds.secrets;
      return (await this.#client.resource(type as typeof kinds.secrets).get(ns, name)) as T;
    } catch {
      return undefined;
    }
  }

  configMap(ns: string, name: string): Promise<ConfigMap | undefined> {
    return this.#get<ConfigMap>('configmap', ns, name);
  }

  secret(ns: string, name: string): Promise<Secret | undefined> {
    return this.#get<Secret>('secret', ns, name);
  }
}

/**
 * Writes pod statuses to the API as upstream's status manager: only when the status differs
 * from what was last written (or from what the API holds), coalesced — many changes to one pod
 * between two writes become one write — and with a bounded number of writes in flight, so a
 * burst of pods does not flood the API server. Writes are JSON merge patches of `status` with
 * whole lists (conditions keep other writers' types, such as the scheduler's PodScheduled and
 * readiness gates), guarded by the pod's uid.
 */
import type { Pod, PodCondition, PodStatus } from 'kubernetes-types/core/v1.js';
import { isApiError, kinds, type Client } from '../../client/index.ts';

/** Options of {@link StatusManager}. */
export interface StatusManagerOptions {
  client: Client;
  /** Writes in flight at once. Default 16. */
  concurrency?: number;
  /** Where failures are reported. */
  log?: (line: string) => void;
}

interface Entry {
  namespace: string;
  name: string;
  uid: string;
  status: PodStatus;
  /** JSON of the last status written (or seen in the API). */
  written?: string;
  dirty: boolean;
  inFlight: boolean;
}

/** The conditions the kubelet owns. */
const OWN_CONDITIONS = new Set(['Initialized', 'ContainersReady', 'Ready', 'PodReadyToStartContainers']);

/** See the file header. */
export class StatusManager {
  readonly #client: Client;
  readonly #concurrency: number;
  readonly #log: (line: string) => void;
  readonly #entries = new Map<string, Entry>();
  readonly #queue: string[] = [];
  #active = 0;
  #idle: (() => void)[] = [];

  constructor(options: StatusManagerOptions) {
    this.#client = options.client;
    this.#concurrency = options.concurrency ?? 16;
    this.#log = options.log ?? ((l) => console.error(l));
  }

  /** The status most recently set for a pod uid. */
  get(uid: string): PodStatus | undefined {
    return this.#entries.get(uid)?.status;
  }

  /**
   * Sets a pod's status; it is written soon if it differs from the last written one. `api` is the
   * pod as the informer holds it: its conditions of other owners are kept.
   */
  set(api: Pod, status: PodStatus): void {
    const uid = api.metadata!.uid!;
    let entry = this.#entries.get(uid);
    if (!entry) {
      entry = { namespace: api.metadata!.namespace!, name: api.metadata!.name!, uid, status, dirty: false, inFlight: false };
      this.#entries.set(uid, entry);
    }
    const merged = mergeConditions(status, api.status?.conditions);
    entry.status = merged;
    const text = canonical(merged);
    if (entry.written === undefined && canonical(normalizeApi(api.status ?? {}, merged)) === text) entry.written = text;
    if (text === entry.written) return;
    if (!entry.dirty) {
      entry.dirty = true;
      this.#queue.push(uid);
      this.#pump();
    }
  }

  /** Forgets a pod (deleted). */
  forget(uid: string): void {
    this.#entries.delete(uid);
  }

  /** Resolves when no write is queued or in flight. */
  flush(): Promise<void> {
    if (this.#queue.length === 0 && this.#active === 0) return Promise.resolve();
    return new Promise((resolve) => this.#idle.push(resolve));
  }

  #pump(): void {
    while (this.#active < this.#concurrency && this.#queue.length > 0) {
      const uid = this.#queue.shift()!;
      const entry = this.#entries.get(uid);
      if (!entry) continue;
      if (entry.inFlight) {
        // Out of the queue: the write in flight queues it again when it ends (the status has
        // changed since). Why not keep it marked queued: nothing would queue it again.
        entry.dirty = false;
        continue;
      }
      entry.dirty = false;
      entry.inFlight = true;
      this.#active++;
      void this.#write(entry).finally(() => {
        entry.inFlight = false;
        this.#active--;
        // Changed while the write was in flight: write again.
        if (this.#entries.get(uid) === entry && canonical(entry.status) !== entry.written && !entry.dirty) {
          entry.dirty = true;
          this.#queue.push(uid);
        }
        this.#pump();
        if (this.#queue.length === 0 && this.#active === 0) for (const r of this.#idle.splice(0)) r();
      });
    }
  }

  async #write(entry: Entry): Promise<void> {
    const status = entry.status;
    const text = canonical(status);
    try {
      await this.#client.resource(kinds.pods).patch(entry.namespace, entry.name, { metadata: { uid: entry.uid }, status }, { type: 'merge', subresource: 'status' });
      entry.written = text;
    } catch (error) {
      if (isApiError(error, 404) || isApiError(error, 409)) {
        // Gone, or a new pod of that name: nothing to write.
        entry.written = text;
        return;
      }
      this.#log(`kubelet: status of pod ${entry.namespace}/${entry.name}: ${(error as Error).message}`);
      // Retry after a pause.
      await new Promise((r) => setTimeout(r, 1000));
    }
  }
}

/** Conditions: ours (as computed, keeping transition times when unchanged) plus others' from the API. */
function mergeConditions(status: PodStatus, api: readonly PodCondition[] | undefined): PodStatus {
  const out: PodCondition[] = [];
  for (const c of status.conditions ?? []) {
    const old = api?.find((o) => o.type === c.type);
    out.push(old && old.status === c.status && old.lastTransitionTime ? { ...c, lastTransitionTime: old.lastTransitionTime } : c);
  }
  for (const c of api ?? []) if (!OWN_CONDITIONS.has(c.type) && !out.some((o) => o.type === c.type)) out.push(c);
  return { ...status, conditions: out };
}

/** The API's status reduced to the fields the kubelet writes, to tell whether a write is needed. */
function normalizeApi(api: PodStatus, ours: PodStatus): PodStatus {
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(ours)) out[key] = (api as Record<string, unknown>)[key];
  return out as PodStatus;
}

/** Stable JSON (sorted keys) of a status. */
function canonical(value: unknown): string {
  return JSON.stringify(value, (_k, v: unknown) => {
    if (v && typeof v === 'object' && !Array.isArray(v)) {
      const o = v as Record<string, unknown>;
      return Object.fromEntries(Object.keys(o).filter((k) => o[k] !== undefined).sort().map((k) => [k, o[k]]));
    }
    return v;
  });
}

/**
 * The generic object store: the object semantics of every kind on top of a {@link Backend}.
 * It is upstream's `genericregistry.Store` in small: names and uids, resourceVersion
 * concurrency, generation, status subresource rules, defaulting and validation, finalizers and
 * graceful deletion, lists with selectors and pagination.
 *
 * Contract: every method either completes one atomic store write (or none) or throws a
 * {@link StatusError}; no object is ever half-written. Reads of single objects and lists with
 * `resourceVersion` unset are consistent (they see every write acknowledged before them).
 */
import { randomUUID } from 'node:crypto';
import { CompactedError, FutureRevisionError, KeyExistsError, type Backend, type KeyValue } from '../storage/index.ts';
import {
  alreadyExists,
  badRequest,
  conflict,
  expired,
  forbidden,
  invalid,
  notFound,
  StatusError,
  type ObjectRef,
} from './errors.ts';
import { convertOut, storageGroupVersion } from './conversion.ts';
import { clone, generatedName, jsonEqual, meta, specPart } from './object-meta.ts';
import { groupVersion, type FieldError, type KubeObject, type ResourceDef } from './resource.ts';
import { validateObjectMeta, validateObjectMetaUpdate } from './validation/index.ts';
import { type CachedObject, type ObjectFilter, type WatchCache, withResourceVersion } from './watch-cache.ts';

/** Options of {@link ObjectStore}. */
export interface ObjectStoreOptions {
  /** The clock for timestamps. Default: `() => new Date()`. */
  now?: () => Date;
  /** Validator of `metadata.name` per kind. Default: DNS-1123 subdomain for every kind. */
  nameErrors?: (def: ResourceDef) => (name: string) => string[];
  /**
   * Runs on a valid new object just before it is stored (e.g. to allocate a Service's
   * ClusterIP). May change the object or throw a StatusError. Returns a function that undoes
   * its side effects, called if the object is not stored after all.
   */
  beforeCreate?: (def: ResourceDef, object: KubeObject) => (() => void) | undefined;
  /** Runs before an object is deleted or marked for deletion; may refuse with a StatusError. */
  beforeDelete?: (def: ResourceDef, object: KubeObject) => void;
}

/** Which part of an object a write addresses. */
/** `binding` is the pods/binding subresource: it sets `spec.nodeName` and the status, nothing else. */
export type Subresource = '' | 'status' | 'finalize' | 'binding';

/** Options of a list. */
export interface ListOptions {
  filter: ObjectFilter;
  /** Page size; 0 = all. */
  limit: number;
  /** The continue token of the previous page. */
  continueToken: string;
  /** `resourceVersion` as sent: '' (consistent), '0' (any), or a number. */
  resourceVersion: string;
}

/** A page of a list. */
export interface ListPage {
  items: CachedObject[] | KubeObject[];
  revision: number;
  continueToken: string | undefined;
}

/** Options of every write. */
export interface WriteOptions {
  /** `dryRun=All`: do everything a write does except store it. */
  dryRun?: boolean;
  /**
   * Field management: sets `metadata.managedFields` of the object about to be stored, given the
   * stored object (`undefined` on create). Runs after defaulting and before validation, again on
   * every retry of a write that lost a race. Default: managedFields are left as they are.
   */
  manageFields?: (current: KubeObject | undefined, next: KubeObject) => void;
}

/** Options of a delete, from `DeleteOptions`. */
export interface DeleteOptions extends WriteOptions {
  gracePeriodSeconds?: number;
  preconditions?: { uid?: string; resourceVersion?: string };
  propagationPolicy?: string;
  /** Deprecated form of `propagationPolicy: Orphan`. */
  orphanDependents?: boolean;
}

/** See the file header. */
export class ObjectStore {
  readonly #backend: Backend;
  readonly #cache: WatchCache;
  readonly #now: () => Date;
  readonly #nameErrors: ((def: ResourceDef) => (name: string) => string[]) | undefined;
  readonly #beforeCreate: ObjectStoreOptions['beforeCreate'];
  readonly #beforeDelete: ObjectStoreOptions['beforeDelete'];

  constructor(backend: Backend, cache: WatchCache, options: ObjectStoreOptions = {}) {
    this.#backend = backend;
    this.#cache = cache;
    this.#now = options.now ?? (() => new Date());
    this.#nameErrors = options.nameErrors;
    this.#beforeCreate = options.beforeCreate;
    this.#beforeDelete = options.beforeDelete;
  }

  /** The store's latest revision. */
  currentRevision(): Promise<number> {
    return this.#backend.currentRevision();
  }

  /** Storage prefix of a resource: `/registry/apps/deployments/`. */
  resourcePrefix(def: ResourceDef): string {
    return `/registry/${def.group === '' ? 'core' : def.group}/${def.plural}/`;
  }

  /** Storage key of an object. */
  key(def: ResourceDef, namespace: string | undefined, name: string): string {
    return def.namespaced ? `${this.resourcePrefix(def)}${namespace}/${name}` : `${this.resourcePrefix(def)}${name}`;
  }

  /** Reads one object (consistent). */
  async get(def: ResourceDef, namespace: string | undefined, name: string): Promise<KubeObject> {
    return decode(await this.read(def, namespace, name));
  }

  /**
   * Reads one object (consistent), undecoded: the watch cache's entry when the cache has caught
   * up with the store — every write acknowledged before this read is in it — or else the
   * store's value (see {@link answerJson}).
   */
  async readLatest(def: ResourceDef, namespace: string | undefined, name: string): Promise<CachedObject | KeyValue> {
    if (this.#cache.revision >= (await this.#backend.currentRevision())) {
      const cached = this.#cache.get(this.key(def, namespace, name));
      if (!cached) throw notFound(ref(def, name));
      return cached;
    }
    return this.read(def, namespace, name);
  }

  /** Reads one object's stored value (consistent), undecoded: see {@link storedJson}. */
  async read(def: ResourceDef, namespace: string | undefined, name: string): Promise<KeyValue> {
    const { kv } = await this.#backend.get(this.key(def, namespace, name));
    if (!kv) throw notFound(ref(def, name));
    return kv;
  }

  /** Creates an object. `object` is the decoded request body and is consumed. */
  async create(def: ResourceDef, namespace: string | undefined, object: KubeObject, options: WriteOptions = {}): Promise<KubeObject> {
    checkTypeMeta(def, object);
    const m = meta(object);
    if (def.namespaced) {
      if (m.namespace !== undefined && m.namespace !== '' && m.namespace !== namespace) {
        throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
      }
      m.namespace = namespace;
      await this.#checkNamespaceOpen(namespace!);
    } else if (m.namespace) {
      delete m.namespace;
    }
    if (m.resourceVersion) throw badRequest('resourceVersion should not be set on objects to be created');
    const named = Boolean(m.name);
    if (!named && m.generateName) m.name = generatedName(m.generateName);
    m.uid = randomUUID();
    m.creationTimestamp = rfc3339(this.#now());
    delete m.deletionTimestamp;
    delete m.deletionGracePeriodSeconds;
    if (def.generation) m.generation = 1;
    else delete m.generation;
    object.apiVersion = storageGroupVersion(def);
    object.kind = def.kind;
    def.defaults?.(object);
    options.manageFields?.(undefined, object);
    def.prepareForCreate?.(object);
    this.#validate(def, object, undefined);
    const undo = this.#beforeCreate?.(def, object);
    if (options.dryRun) {
      undo?.();
      const { kv } = await this.#backend.get(this.key(def, namespace, m.name!));
      if (kv) throw alreadyExists(ref(def, m.name!));
      return object;
    }
    // A generated name can collide; upstream retries with a fresh suffix. A chosen one cannot.
    for (let attempt = 0; ; attempt++) {
      try {
        const value = encode(object);
        const revision = await this.#backend.create(this.key(def, namespace, m.name!), value, {
          ...(def.ttlSeconds ? { ttlSeconds: def.ttlSeconds } : {}),
        });
        m.resourceVersion = String(revision);
        writtenText.set(object, value);
        return object;
      } catch (error) {
        const retry = error instanceof KeyExistsError && !named && m.generateName && attempt < 7;
        if (!retry) {
          undo?.();
          throw error instanceof KeyExistsError ? alreadyExists(ref(def, m.name!)) : error;
        }
        m.name = generatedName(m.generateName!);
      }
    }
  }

  /**
   * Replaces an object (PUT). With `metadata.resourceVersion` set it is a compare-and-swap
   * (409 on mismatch); without, the latest version is replaced.
   */
  async update(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    incoming: KubeObject,
    subresource: Subresource,
    options: WriteOptions = {},
  ): Promise<KubeObject> {
    checkTypeMeta(def, incoming);
    const m = meta(incoming);
    if (m.name !== undefined && m.name !== name) {
      throw badRequest(`the name of the object (${m.name}) does not match the name on the URL (${name})`);
    }
    if (def.namespaced && m.namespace && m.namespace !== namespace) {
      throw badRequest('the namespace of the provided object does not match the namespace sent on the request');
    }
    const precondition = m.resourceVersion ? parseRevision(m.resourceVersion) : undefined;
    return this.#guaranteedUpdate(def, namespace, name, precondition, options, subresource, (current) =>
      mergeForUpdate(def, current, clone(incoming), subresource),
    );
  }

  /**
   * Read-modify-write: `transform` gets the current object (a private copy) and returns the
   * next one; it runs again if another writer got in between. Used by PATCH and by the scale
   * subresource. A resourceVersion in the returned object acts as a precondition.
   */
  async modify(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    subresource: Subresource,
    transform: (current: KubeObject) => KubeObject,
    options: WriteOptions = {},
  ): Promise<KubeObject> {
    return this.#guaranteedUpdate(def, namespace, name, undefined, options, subresource, (current) => {
      const rv = current.metadata!.resourceVersion;
      const next = transform(clone(current));
      const nextRv = meta(next).resourceVersion;
      if (nextRv && nextRv !== rv) throw conflict(ref(def, name));
      const m = meta(next);
      if (m.name !== name) throw badRequest(`the name of the object (${m.name}) does not match the name on the URL (${name})`);
      return mergeForUpdate(def, current, next, subresource);
    });
  }

  /** Deletes an object, or starts its graceful / finalized deletion. */
  async delete(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    options: DeleteOptions,
  ): Promise<{ object: KubeObject; deleted: boolean }> {
    const key = this.key(def, namespace, name);
    for (;;) {
      const { kv } = await this.#backend.get(key);
      if (!kv) throw notFound(ref(def, name));
      const current = decode(kv);
      const m = meta(current);
      const pre = options.preconditions;
      if (pre?.uid && pre.uid !== m.uid) {
        throw conflict(ref(def, name), `Precondition failed: UID in precondition: ${pre.uid}, UID in object meta: ${m.uid}`);
      }
      if (pre?.resourceVersion && pre.resourceVersion !== m.resourceVersion) {
        throw conflict(
          ref(def, name),
          `Precondition failed: ResourceVersion in precondition: ${pre.resourceVersion}, ResourceVersion in object meta: ${m.resourceVersion}`,
        );
      }
      this.#beforeDelete?.(def, current);
      const grace = gracePeriod(def, current, options.gracePeriodSeconds);
      // Orphan and Foreground propagation hold the object with a finalizer that the garbage
      // collector removes once it has released or deleted the dependents.
      const gcFinalizer = propagationFinalizer(options);
      const addsFinalizer = gcFinalizer !== undefined && !(m.finalizers ?? []).includes(gcFinalizer);
      if (addsFinalizer) m.finalizers = [...(m.finalizers ?? []), gcFinalizer];
      const pending = (m.finalizers?.length ?? 0) > 0 || hasSpecFinalizers(def, current);
      if (options.dryRun) return { object: current, deleted: false };
      if (!pending && grace === 0) {
        const result = await this.#backend.delete(key, kv.modRevision);
        if (!result.succeeded) continue;
        m.resourceVersion = String(result.revision);
        return { object: current, deleted: true };
      }
      const now = this.#now();
      const alreadyDeleting = m.deletionTimestamp !== undefined && (m.deletionGracePeriodSeconds ?? 0) <= grace;
      if (alreadyDeleting && !addsFinalizer) return { object: current, deleted: false };
      if (!alreadyDeleting) {
        // Graceful deletion: mark the object; its finalizers or its kubelet finish the job.
        m.deletionTimestamp = rfc3339(new Date(now.getTime() + grace * 1000));
        m.deletionGracePeriodSeconds = grace;
      }
      if (def.group === '' && def.plural === 'namespaces') {
        (current.status as Record<string, unknown> | undefined) ??= {};
        (current.status as Record<string, unknown>).phase = 'Terminating';
      }
      const result = await this.#backend.update(key, encode(current), kv.modRevision);
      if (!result.succeeded) continue;
      m.resourceVersion = String(result.revision);
      return { object: current, deleted: false };
    }
  }

  /**
   * Lists objects. Unpaginated lists are served from the watch cache (after it has caught up
   * with the store, so the result is consistent); paginated ones from the store at one
   * revision, so that every page belongs to the same snapshot.
   */
  async list(def: ResourceDef, namespace: string | undefined, options: ListOptions): Promise<ListPage> {
    const prefix = this.resourcePrefix(def);
    const keyPrefix = namespace ? `${prefix}${namespace}/` : prefix;
    const exact = options.resourceVersion !== '' && options.resourceVersion !== '0';
    if (!options.continueToken && !exact) {
      if (options.resourceVersion === '') await this.#cache.waitForRevision(await this.#backend.currentRevision());
      const revision = this.#cache.revision;
      const items = this.#cache.list(prefix, keyPrefix, options.filter);
      if (options.limit <= 0 || items.length <= options.limit) return { items, revision, continueToken: undefined };
    }
    let revision = exact ? parseRevision(options.resourceVersion) : 0;
    let startKey = keyPrefix;
    if (options.continueToken) {
      const token = decodeContinue(options.continueToken);
      revision = token.rv;
      startKey = keyPrefix + token.start;
    }
    const items: KubeObject[] = [];
    const want = options.limit > 0 ? options.limit : Infinity;
    try {
      for (;;) {
        const page = await this.#backend.list(keyPrefix, {
          revision,
          startKey,
          limit: Number.isFinite(want) ? Math.max(want - items.length, 100) + 1 : 0,
        });
        revision = page.revision;
        for (let i = 0; i < page.kvs.length; i++) {
          const kv = page.kvs[i]!;
          const object = decode(kv);
          if (!options.filter(object)) continue;
          if (items.length === want) {
            // One more match exists: the next page starts at it.
            return { items, revision, continueToken: encodeContinue(revision, kv.key.slice(keyPrefix.length)) };
          }
          items.push(object);
        }
        if (!page.more) return { items, revision, continueToken: undefined };
        startKey = page.kvs[page.kvs.length - 1]!.key + '\u0000';
      }
    } catch (error) {
      if (error instanceof FutureRevisionError) {
        throw new StatusError(504, 'Timeout', `Too large resource version: ${error.requestedRevision}, current: ${error.currentRevision}`, {
          causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
          retryAfterSeconds: 1,
        });
      }
      if (error instanceof CompactedError) {
        throw options.continueToken
          ? expired(
              'The provided continue parameter is too old to display a consistent list result. You can start a new list without the continue parameter, or use the continue token in this response to retrieve the remainder of the results. Continuing with the provided token results in an inconsistent list - objects that were created, modified, or deleted between the time the first chunk was returned and now may show up in the list.',
            )
          : expired(`too old resource version: ${revision} (${error.compactedRevision + 1})`);
      }
      throw error;
    }
  }

  /**
   * Read-modify-write with a compare-and-swap on the key's mod revision, retried until it
   * lands. As upstream's GuaranteedUpdate, the first attempt starts from the watch cache's copy
   * (no store read, no JSON decode); whenever that copy may be stale — it fails a precondition,
   * the change or its validation fails on it, it loses the swap, or it makes the write look
   * like a no-op while the cache is behind the store — the attempt is redone from the store.
   */
  async #guaranteedUpdate(
    def: ResourceDef,
    namespace: string | undefined,
    name: string,
    precondition: number | undefined,
    options: WriteOptions,
    subresource: Subresource,
    next: (current: KubeObject) => KubeObject,
  ): Promise<KubeObject> {
    const key = this.key(def, namespace, name);
    // A dry run answers from what it read: it reads the store, never a copy that may be behind.
    let fromCache = !options.dryRun;
    for (;;) {
      const cached = fromCache ? this.#cache.get(key) : undefined;
      fromCache = false;
      let current: KubeObject | undefined;
      let modRevision: number;
      if (cached) {
        current = cached.copy();
        modRevision = cached.revision;
      } else {
        const { kv } = await this.#backend.get(key);
        if (!kv) throw notFound(ref(def, name));
        current = decode(kv);
        modRevision = kv.modRevision;
      }
      if (precondition !== undefined && precondition !== modRevision) {
        if (cached) continue;
        throw conflict(ref(def, name));
      }
      let updated: KubeObject;
      try {
        updated = next(current);
        def.defaults?.(updated);
        options.manageFields?.(current, updated);
        this.#validate(def, updated, current, subresource);
      } catch (error) {
        // A cached copy may be what made the write fail (a JSON patch testing the
        // resourceVersion, a precondition in the body): the store decides, as upstream.
        if (cached) continue;
        throw error;
      }
      // Versions are left out as undefined rather than deleted (a delete turns an object into a
      // slower dictionary): the comparison below and the encoding skip them just the same.
      const um = meta(updated);
      um.resourceVersion = undefined;
      if (um.deletionTimestamp && !(um.finalizers?.length ?? 0) && !hasSpecFinalizers(def, updated) && (um.deletionGracePeriodSeconds ?? 0) === 0) {
        // The last finalizer is gone from an object being deleted: the update completes the delete.
        if (options.dryRun) return updated;
        const result = await this.#backend.delete(key, modRevision);
        if (!result.succeeded) continue;
        um.resourceVersion = String(result.revision);
        return updated;
      }
      let cm: ReturnType<typeof meta> | undefined = meta(current);
      const currentRv = cm.resourceVersion;
      cm.resourceVersion = undefined;
      if (jsonEqual(updated, current)) {
        // Nothing to write — if the cached copy was current, as it is when the cache has seen
        // every revision the store has; otherwise the store decides.
        if (cached && this.#cache.revision < (await this.#backend.currentRevision())) continue;
        // A no-op update writes nothing and keeps the resourceVersion, as upstream.
        um.resourceVersion = currentRv;
        return updated;
      }
      if (def.generation && !jsonEqual(specPart(updated), specPart(current))) {
        um.generation = (cm.generation ?? 0) + 1;
      }
      if (options.dryRun) {
        um.resourceVersion = currentRv;
        return updated;
      }
      const value = encode(updated);
      // The object replaced is not needed past here: let it go before the write waits for its
      // fsync, or it outlives the young generation and a full collection has to take it back.
      current = undefined;
      cm = undefined;
      const result = await this.#backend.update(key, value, modRevision, {
        ...(def.ttlSeconds ? { ttlSeconds: def.ttlSeconds } : {}),
      });
      if (!result.succeeded) {
        // A swap lost against a cached copy says nothing about the precondition: the store decides.
        if (precondition !== undefined && !cached) throw conflict(ref(def, name));
        continue;
      }
      um.resourceVersion = String(result.revision);
      writtenText.set(updated, value);
      return updated;
    }
  }

  #validate(def: ResourceDef, object: KubeObject, old: KubeObject | undefined, subresource: Subresource = ''): void {
    const mistyped = def.typeErrors?.(object) ?? [];
    if (mistyped.length > 0) {
      throw badRequest(`${def.kind} in version "${def.version}" cannot be handled as a ${def.kind}: ${mistyped.join('; ')}`);
    }
    const errors: FieldError[] = validateObjectMeta(object.metadata, {
      namespaced: def.namespaced,
      ...(old ? { old: meta(old) } : {}),
      ...(this.#nameErrors ? { nameErrors: this.#nameErrors(def) } : {}),
    });
    if (old) errors.push(...validateObjectMetaUpdate(meta(object), meta(old)));
    // A binding is the one write allowed to set a pod's nodeName: the object is checked whole,
    // without the update rules that forbid spec changes.
    if (def.validate) errors.push(...def.validate(object, subresource === 'binding' ? undefined : old));
    if (errors.length > 0) {
      const name = object.metadata?.name ?? object.metadata?.generateName ?? '';
      throw invalid(def.kind, def.group, name, errors);
    }
  }

  async #checkNamespaceOpen(namespace: string): Promise<void> {
    const key = `/registry/core/namespaces/${namespace}`;
    // The cache answers almost always; a namespace created a moment ago may not be there yet.
    let ns = this.#cache.get(key)?.object;
    if (!ns) {
      const { kv } = await this.#backend.get(key);
      if (kv) ns = decode(kv);
    }
    if (!ns) throw notFound({ resource: 'namespaces', group: '', name: namespace });
    if (ns.metadata?.deletionTimestamp) {
      throw forbidden(
        `unable to create new content in namespace ${namespace} because it is being terminated`,
        { name: namespace, kind: 'namespaces' },
      );
    }
  }
}

/** Combines the stored object with an update of the object, its status, or its finalizers. */
function mergeForUpdate(def: ResourceDef, current: KubeObject, incoming: KubeObject, subresource: Subresource): KubeObject {
  let next: KubeObject;
  if (subresource === 'status') {
    // A status write changes status and nothing else.
    next = clone(current);
    if (incoming.status === undefined) delete next.status;
    else next.status = incoming.status;
  } else if (subresource === 'binding') {
    next = clone(current);
    next.spec = { ...((current.spec as Record<string, unknown> | undefined) ?? {}), nodeName: (incoming.spec as { nodeName?: string }).nodeName };
    next.status = incoming.status;
    const annotations = incoming.metadata?.annotations;
    if (annotations) next.metadata = { ...next.metadata, annotations };
  } else if (subresource === 'finalize') {
    next = clone(current);
    const spec = { ...((current.spec as Record<string, unknown> | undefined) ?? {}) };
    spec.finalizers = (incoming.spec as Record<string, unknown> | undefined)?.finalizers ?? [];
    next.spec = spec;
  } else {
    next = incoming;
    def.prepareForUpdate?.(next, current);
    // With a status subresource, the main resource cannot change status.
    if (def.subresources.status) {
      if (current.status === undefined) delete next.status;
      else next.status = clone(current.status);
    }
  }
  const nm = meta(next);
  const cm = current.metadata!;
  nm.name = cm.name;
  if (def.namespaced) nm.namespace = cm.namespace;
  nm.uid = cm.uid;
  nm.creationTimestamp = cm.creationTimestamp;
  if (cm.deletionTimestamp) nm.deletionTimestamp = cm.deletionTimestamp;
  else delete nm.deletionTimestamp;
  if (cm.deletionGracePeriodSeconds !== undefined) nm.deletionGracePeriodSeconds = cm.deletionGracePeriodSeconds;
  else delete nm.deletionGracePeriodSeconds;
  if (def.generation) nm.generation = cm.generation;
  else delete nm.generation;
  if (nm.generateName === undefined && cm.generateName !== undefined) nm.generateName = cm.generateName;
  next.apiVersion = current.apiVersion;
  next.kind = current.kind;
  return next;
}

/** The grace period a delete gives: only scheduled, running pods get one. */
function gracePeriod(def: ResourceDef, object: KubeObject, requested: number | undefined): number {
  if (!(def.group === '' && def.plural === 'pods')) return 0;
  const spec = (object.spec ?? {}) as { nodeName?: string; terminationGracePeriodSeconds?: number };
  const phase = (object.status as { phase?: string } | undefined)?.phase;
  // Nothing runs an unscheduled or finished pod, so there is nobody to wait for.
  if (!spec.nodeName || phase === 'Succeeded' || phase === 'Failed') return 0;
  const grace = requested ?? spec.terminationGracePeriodSeconds ?? 30;
  return Math.max(0, grace);
}

/** The finalizer a delete's propagation policy puts on the object, if any. */
function propagationFinalizer(options: DeleteOptions): string | undefined {
  const policy = options.propagationPolicy ?? (options.orphanDependents ? 'Orphan' : undefined);
  switch (policy) {
    case undefined:
    case 'Background':
      return undefined;
    case 'Orphan':
      return 'orphan';
    case 'Foreground':
      return 'foregroundDeletion';
    default:
      throw new StatusError(422, 'Invalid', `DeleteOptions is invalid: propagationPolicy: Unsupported value: ${JSON.stringify(policy)}: supported values: "Foreground", "Background", "Orphan"`, {
        kind: 'DeleteOptions',
        causes: [{ reason: 'FieldValueNotSupported', message: `Unsupported value: ${JSON.stringify(policy)}`, field: 'propagationPolicy' }],
      });
  }
}

/** Namespaces keep `spec.finalizers` (`kubernetes`) until their contents are gone. */
function hasSpecFinalizers(def: ResourceDef, object: KubeObject): boolean {
  if (!(def.group === '' && def.plural === 'namespaces')) return false;
  const finalizers = (object.spec as { finalizers?: string[] } | undefined)?.finalizers;
  return (finalizers?.length ?? 0) > 0;
}

/** Rejects a body whose apiVersion/kind names another kind (empty is allowed). */
function checkTypeMeta(def: ResourceDef, object: KubeObject): void {
  if (object.kind !== undefined && object.kind !== '' && object.kind !== def.kind) {
    throw badRequest(`the kind in the data (${String(object.kind)}) does not match the expected kind (${def.kind})`);
  }
  if (object.apiVersion !== undefined && object.apiVersion !== '' && object.apiVersion !== groupVersion(def)) {
    throw badRequest(
      `the API version in the data (${String(object.apiVersion)}) does not match the expected API version (${groupVersion(def)})`,
    );
  }
}

function ref(def: ResourceDef, name: string): ObjectRef {
  return { resource: def.plural, group: def.group, name };
}

/** A stored value → object, with `metadata.resourceVersion` = the key's mod revision. */
export function decode(kv: KeyValue): KubeObject {
  const object = JSON.parse(kv.value) as KubeObject;
  meta(object).resourceVersion = String(kv.modRevision);
  return object;
}

/** `{"apiVersion":"<group/version>"` per kind: how the stored text of its objects starts. */
const storedHeads = new WeakMap<ResourceDef, string>();

/**
 * The JSON a read of `kv` answers with, made from the stored text without decoding it and
 * encoding it again: the text plus its resourceVersion. Undefined when the object must be
 * decoded to be sent as `def`'s version (the text does not start with that `apiVersion`, as
 * objects written through kubectl and client libraries do).
 */
export function storedJson(def: ResourceDef, kv: KeyValue): string | undefined {
  return servedAsIs(def, kv.value) ? withResourceVersion(kv.value, String(kv.modRevision)) : undefined;
}

/** The JSON a read answers with, from what {@link ObjectStore.readLatest} found. */
export function answerJson(def: ResourceDef, found: CachedObject | KeyValue): string {
  if ('value' in found) return storedJson(def, found) ?? JSON.stringify(convertOut(def, decode(found)));
  return servedAsIs(def, found.json) ? found.json : JSON.stringify(convertOut(def, found.object));
}

/** Whether the JSON text of an object starts with `def`'s apiVersion, so goes out as it is. */
function servedAsIs(def: ResourceDef, text: string): boolean {
  let head = storedHeads.get(def);
  if (head === undefined) storedHeads.set(def, (head = `{"apiVersion":${JSON.stringify(groupVersion(def))}`));
  if (!text.startsWith(head)) return false;
  const next = text.charCodeAt(head.length);
  return next === 44 || next === 125; // ',' or '}'
}

/**
 * The stored text (without the resourceVersion) of each object a create or an update just
 * wrote and returned, for the answer to reuse ({@link writtenJson}) instead of encoding the
 * same object a second time on the API thread.
 */
const writtenText = new WeakMap<KubeObject, string>();

/**
 * The JSON of an object a create or an update of this store returned, as it was written plus
 * its resourceVersion; undefined for any other object. Valid only while the object is as the
 * write left it: for answering the write.
 */
export function writtenJson(object: KubeObject): string | undefined {
  const stored = writtenText.get(object);
  const rv = object.metadata?.resourceVersion;
  return stored === undefined || rv === undefined ? undefined : withResourceVersion(stored, rv);
}

/** Object → stored value. The resourceVersion is the store's business, so it is not stored. */
function encode(object: KubeObject): string {
  const m = object.metadata;
  if (m?.resourceVersion === undefined) return JSON.stringify(object);
  const rv = m.resourceVersion;
  // Left out as undefined rather than deleted: JSON.stringify skips it just the same, and the
  // object keeps its shape (a delete would turn it into a slower dictionary).
  m.resourceVersion = undefined;
  try {
    return JSON.stringify(object);
  } finally {
    m.resourceVersion = rv;
  }
}

/** `resourceVersion` text → revision; 400 when it is not a number. */
export function parseRevision(text: string): number {
  if (!/^[0-9]{1,15}$/.test(text)) throw badRequest(`invalid resource version: "${text}"`);
  return Number(text);
}

/** The last second formatted by {@link rfc3339}: every write of a second stamps the same text. */
let lastSecond = NaN;
let lastStamp = '';

/** Timestamps as Kubernetes writes them: RFC 3339, whole seconds, UTC. */
export function rfc3339(date: Date): string {
  const second = Math.floor(date.getTime() / 1000);
  if (second !== lastSecond) {
    lastStamp = `${date.toISOString().slice(0, 19)}Z`;
    lastSecond = second;
  }
  return lastStamp;
}

function encodeContinue(revision: number, start: string): string {
  const json = JSON.stringify({ v: 'meta.k8s.io/v1', rv: revision, start });
  return Buffer.from(json).toString('base64url');
}

function decodeContinue(token: string): { rv: number; start: string } {
  try {
    const parsed = JSON.parse(Buffer.from(token, 'base64url').toString('utf8')) as { v?: unknown; rv?: unknown; start?: unknown };
    const valid =
      parsed.v === 'meta.k8s.io/v1' &&
      Number.isSafeInteger(parsed.rv) &&
      (parsed.rv as number) > 0 &&
      typeof parsed.start === 'string' &&
      !parsed.start.includes('/..');
    if (valid) {
      return { rv: parsed.rv as number, start: parsed.start as string };
    }
  } catch {
    // fall through to the error below
  }
  throw badRequest(`continue key is not valid: ${token}`);
}


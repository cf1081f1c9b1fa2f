/**
 * The watch verb: an event stream of `{"type":…,"object":…}` lines fed by the watch cache.
 * Resource versions follow upstream: unset or "0" starts with the current objects as ADDED
 * events (unset first waits until the cache has caught up with the store), a number resumes
 * after that revision, and a revision the cache no longer holds ends the stream with an ERROR
 * event carrying a 410 Expired Status.
 */
import type { ApiRequest, ApiResponse } from '../client/index.ts';
import { badRequest, expired, StatusError, toStatus } from './errors.ts';
import { buildFilter } from './filter.ts';
import type { Rendering } from './negotiate.ts';
import { parseRevision, type ObjectStore } from './object-store.ts';
import { groupVersion, type KubeObject, type ResourceDef } from './resource.ts';
import { convertOut, converts } from './conversion.ts';
import { partialMetadata, toTable } from './table.ts';
import { CompactedWindowError, RevisionTimeoutError, type CachedObject, type CacheEventType, type WatchCache } from './watch-cache.ts';

/** What a watch needs from the server. */
export interface WatchDeps {
  cache: WatchCache;
  store: ObjectStore;
  currentRevision: () => Promise<number>;
  now: () => Date;
  /** How often bookmarks are sent to watchers that allow them. Default 60 s. */
  bookmarkIntervalMs?: number;
  /**
   * A watch without `timeoutSeconds` ends after a random time between this and twice this
   * (upstream's `--min-request-timeout`, default 1800 s), so that load spreads across servers.
   */
  minRequestTimeoutSeconds?: number;
}

/** Starts a watch response. Errors found before streaming (bad selector) are thrown. */
export async function watchStream(
  request: ApiRequest,
  def: ResourceDef,
  namespace: string | undefined,
  name: string | undefined,
  rendering: Rendering,
  deps: WatchDeps,
): Promise<ApiResponse> {
  const q = request.query;
  let fieldSelector = q.get('fieldSelector') ?? '';
  if (name !== undefined) fieldSelector = fieldSelector ? `${fieldSelector},metadata.name=${name}` : `metadata.name=${name}`;
  const filter = buildFilter(def, q.get('labelSelector') ?? '', fieldSelector);
  const rv = q.get('resourceVersion') ?? '';
  const sendInitial = q.get('sendInitialEvents') === 'true';
  let fromRevision: number | undefined;
  if (rv === '' || rv === '0' || sendInitial) {
    if (rv === '' || sendInitial) await deps.cache.waitForRevision(await deps.currentRevision()).catch(() => undefined);
    fromRevision = undefined;
  } else {
    fromRevision = parseRevision(rv);
    try {
      await deps.cache.waitForRevision(fromRevision);
    } catch (error) {
      if (error instanceof RevisionTimeoutError) {
        throw new StatusError(504, 'Timeout', `Too large resource version: ${fromRevision}, current: ${deps.cache.revision}`, {
          causes: [{ reason: 'ResourceVersionTooLarge', message: 'Too large resource version' }],
          retryAfterSeconds: 1,
        });
      }
      throw error;
    }
  }
  const timeoutText = q.get('timeoutSeconds');
  let timeoutS = (deps.minRequestTimeoutSeconds ?? 1800) * (1 + Math.random());
  if (timeoutText !== null) {
    const n = Number(timeoutText);
    if (!Number.isFinite(n) || n < 0) throw badRequest(`invalid timeoutSeconds: ${timeoutText}`);
    if (n > 0) timeoutS = n;
  }
  const bookmarks = q.get('allowWatchBookmarks') === 'true';
  const prefix = deps.store.resourcePrefix(def);
  const keyPrefix = namespace === undefined ? prefix : `${prefix}${namespace}/`;
  const contentType = rendering.as === 'Table' ? `application/json;as=Table;v=${rendering.version};g=meta.k8s.io` : 'application/json';
  let headersSent = false;
  const encode = (type: CacheEventType | 'BOOKMARK' | 'ERROR', cached: CachedObject | undefined, raw?: unknown): string | Uint8Array => {
    if (raw !== undefined) return `{"type":"${type}","object":${JSON.stringify(raw)}}\n`;
    if (rendering.as === 'object') {
      return converts(def) ? `{"type":"${type}","object":${JSON.stringify(convertOut(def, cached!.object))}}\n` : cached!.line(type);
    }
    if (rendering.as === 'PartialObjectMetadata') {
      return `{"type":"${type}","object":${JSON.stringify(partialMetadataOf(cached!, rendering.version))}}\n`;
    }
    const object: KubeObject = convertOut(def, cached!.object);
    const table = toTable(def, [object], { resourceVersion: object.metadata?.resourceVersion ?? '' }, {
      includeObject: q.get('includeObject') === 'Object' ? 'Object' : q.get('includeObject') === 'None' ? 'None' : 'Metadata',
      noHeaders: headersSent,
      version: rendering.version,
      now: deps.now(),
    });
    headersSent = true;
    return `{"type":"${type}","object":${JSON.stringify(table)}}\n`;
  };
  const bookmark = (extra?: Record<string, string>) => ({
    kind: def.kind,
    apiVersion: groupVersion(def),
    metadata: { resourceVersion: String(deps.cache.revision), ...(extra ? { annotations: extra } : {}) },
  });

  return {
    status: 200,
    contentType,
    stream: {
      start(write, end, options) {
        // In-process consumers of plain JSON and metadata-only watches take the objects themselves
        // (metadata-only: without managedFields, which no controller reads).
        const objects = rendering.as === 'object' || rendering.as === 'PartialObjectMetadata' ? options?.objects : undefined;
        const version = rendering.as === 'PartialObjectMetadata' ? rendering.version : undefined;
        const follows = objects && options?.onlyChangesTo ? fieldsFollowed(options.onlyChangesTo) : undefined;
        const metadataOf = (cached: CachedObject, version: 'v1' | 'v1beta1') => {
          // A consumer that follows only some fields gets, of an object without any of them,
          // its identity alone, read without decoding its metadata.
          const identity = follows && !follows.in(cached) ? cached.identity : undefined;
          return identity ? partialMetadata({ metadata: identity }, version) : partialMetadataOf(cached, version);
        };
        let stopWatch: (() => void) | undefined;
        let done = false;
        const timers: NodeJS.Timeout[] = [];
        const finish = () => {
          if (done) return;
          done = true;
          stopWatch?.();
          for (const t of timers) clearTimeout(t);
          end();
        };
        try {
          stopWatch = deps.cache.watch(prefix, keyPrefix, fromRevision, filter, {
            event: (type, object) => {
              if (done) return;
              if (objects) objects({ type, object: version ? metadataOf(object, version) : convertOut(def, object.object) });
              else write(encode(type, object));
            },
            end: (error) => {
              if (!done) write(encode('ERROR', undefined, toStatus(expired(`watch ended: ${error.message}`))));
              finish();
            },
            // In-process consumers (the controllers) run their handlers after this turn's answers
            // and network events have left.
            deferred: objects !== undefined,
            ...(follows ? { uninteresting: (previous: CachedObject, next: CachedObject) => !follows.in(previous) && !follows.in(next) } : {}),
          });
        } catch (error) {
          const status = error instanceof CompactedWindowError ? expired(error.message) : error;
          write(encode('ERROR', undefined, toStatus(status)));
          finish();
          return finish;
        }
        if (sendInitial && bookmarks) {
          write(encode('BOOKMARK', undefined, bookmark({ 'k8s.io/initial-events-end': 'true' })));
        }
        timers.push(setTimeout(finish, timeoutS * 1000));
        if (bookmarks) {
          const every = deps.bookmarkIntervalMs ?? 60_000;
          timers.push(setInterval(() => write(encode('BOOKMARK', undefined, bookmark())), every));
        }
        return finish;
      },
    },
  };
}

/** Whether an object may have any of `fields` (see `WatchHints.onlyChangesTo`). */
function fieldsFollowed(fields: readonly string[]): { in: (cached: CachedObject) => boolean } {
  // One pass over the text for all of them (searching for each, `"` first, was ~4× slower).
  const members = new RegExp(`"(?:${fields.map((f) => f.replace(/[^A-Za-z0-9]/g, (c) => `\\${c}`)).join('|')})":`);
  return { in: (cached) => cached.mentions(members) };
}

/**
 * An in-process metadata-only watcher's view of a cached object: its metadata, decoded apart from
 * the rest, without managedFields (see `CachedObject.metadataWithoutManagedFields`).
 */
function partialMetadataOf(cached: CachedObject, version: 'v1' | 'v1beta1'): Record<string, unknown> {
  return partialMetadata({ metadata: cached.metadataWithoutManagedFields }, version);
}

/**
 * The API side of ControllerRevisions (upstream's `history.Interface`): list an owner's
 * revisions from the cache, adopt orphans, create with hash-collision handling, renumber,
 * delete, and trim the history to `revisionHistoryLimit`.
 *
 * Contract: reads come from the informer's lister (possibly a little stale); every write goes
 * to the API. A create that meets an existing revision with the same data returns that one, so
 * a stale cache never makes a duplicate.
 */
import type { ControllerRevision } from 'kubernetes-types/apps/v1.js';
import type { LabelSelector } from 'kubernetes-types/meta/v1.js';
import { controllerOf, controllerRef, isApiError, kinds, type Client, type KubeObject, type Lister } from '../../client/index.ts';
import { canonicalJson, hashRevisionData, revisionHashLabel, revisionName } from './revision.ts';

/** The owner of revisions: a StatefulSet or DaemonSet, with `apiVersion` and `kind` known. */
export interface RevisionOwner {
  apiVersion: string;
  kind: string;
  object: KubeObject;
}

/** See the file header. */
export class History {
  readonly #client: Client;
  readonly #lister: Lister<ControllerRevision>;

  constructor(client: Client, lister: Lister<ControllerRevision>) {
    this.#client = client;
    this.#lister = lister;
  }

  /** Revisions in the owner's namespace that match `selector` and are owned by it or by nobody. */
  list(owner: KubeObject, selector: LabelSelector | undefined): ControllerRevision[] {
    const uid = owner.metadata?.uid;
    return this.#lister.list(owner.metadata?.namespace ?? '', selector).filter((r) => {
      const ref = controllerOf(r);
      return !ref || ref.uid === uid;
    });
  }

  /** Revisions that name the owner as controller, whatever their labels (for kubectl's view). */
  owned(owner: KubeObject): ControllerRevision[] {
    const uid = owner.metadata?.uid;
    return this.#lister.list(owner.metadata?.namespace ?? '').filter((r) => controllerOf(r)?.uid === uid);
  }

  /** Makes `owner` the controller of each orphan in `revisions`; returns the list with the adopted copies. */
  async adoptOrphans(owner: RevisionOwner, revisions: ControllerRevision[]): Promise<ControllerRevision[]> {
    const out: ControllerRevision[] = [];
    for (const revision of revisions) {
      if (controllerOf(revision)) {
        out.push(revision);
        continue;
      }
      const ref = controllerRef(owner.object, owner.apiVersion, owner.kind);
      const meta = revision.metadata ?? {};
      out.push(
        await this.#api().patch(meta.namespace, meta.name ?? '', { metadata: { ownerReferences: [ref], uid: meta.uid } }, { type: 'strategic' }),
      );
    }
    return out;
  }

  /**
   * A revision object (not yet created) of `owner` holding `data`: labelled with the template's
   * labels and its hash, named `<owner>-<hash>`.
   */
  newRevision(owner: RevisionOwner, templateLabels: Record<string, string> | undefined, data: unknown, revision: number, collisionCount: number): ControllerRevision {
    const hash = hashRevisionData(data, collisionCount);
    const meta = owner.object.metadata ?? {};
    return {
      apiVersion: 'apps/v1',
      kind: 'ControllerRevision',
      metadata: {
        name: revisionName(meta.name ?? '', hash),
        namespace: meta.namespace ?? '',
        labels: { ...templateLabels, [revisionHashLabel]: hash },
        ...(meta.annotations ? { annotations: { ...meta.annotations } } : {}),
        ownerReferences: [controllerRef(owner.object, owner.apiVersion, owner.kind)],
      },
      data: data as ControllerRevision['data'],
      revision,
    };
  }

  /**
   * Creates `revision`. When its name is taken by a revision with other data (a hash collision),
   * `collision.count` goes up and the name is recomputed, as upstream's; the caller stores the
   * count in its status. A taken name holding the same data is that revision: returned as is.
   */
  async create(owner: RevisionOwner, revision: ControllerRevision, collision: { count: number }): Promise<ControllerRevision> {
    const prefix = owner.object.metadata?.name ?? '';
    for (let attempt = 0; attempt < 100; attempt++) {
      const hash = hashRevisionData(revision.data, collision.count);
      const body = structuredClone(revision);
      body.metadata!.name = revisionName(prefix, hash);
      body.metadata!.labels = { ...body.metadata!.labels, [revisionHashLabel]: hash };
      try {
        return await this.#api().create(body);
      } catch (error) {
        if (!isApiError(error, 409)) throw error;
        const existing = await this.#api().find(body.metadata!.namespace, body.metadata!.name!);
        if (!existing) continue;
        if (canonicalJson(existing.data) === canonicalJson(body.data)) return existing;
        collision.count++;
      }
    }
    throw new Error(`cannot create a revision of ${owner.kind} "${prefix}": every name collided`);
  }

  /** Gives an existing revision a new number (a rollback to an earlier template). */
  async renumber(revision: ControllerRevision, number: number): Promise<ControllerRevision> {
    let current = structuredClone(revision);
    for (let attempt = 0; ; attempt++) {
      if (current.revision === number) return current;
      current.revision = number;
      try {
        return await this.#api().update(current);
      } catch (error) {
        if (!isApiError(error, 409) || attempt >= 5) throw error;
        const fresh = await this.#api().get(current.metadata?.namespace, current.metadata?.name ?? '');
        current = structuredClone(fresh);
      }
    }
  }

  /** Deletes a revision (gone already is fine). */
  async delete(revision: ControllerRevision): Promise<void> {
    try {
      await this.#api().delete(revision.metadata?.namespace, revision.metadata?.name ?? '');
    } catch (error) {
      if (!isApiError(error, 404)) throw error;
    }
  }

  /**
   * Deletes the oldest revisions not in `live` until at most `limit` non-live ones remain
   * (`sorted` in ascending revision order). A negative limit keeps everything.
   */
  async truncate(sorted: readonly ControllerRevision[], live: ReadonlySet<string>, limit: number): Promise<void> {
    if (limit < 0) return;
    const history = sorted.filter((r) => !live.has(r.metadata?.name ?? ''));
    for (const revision of history.slice(0, Math.max(0, history.length - limit))) await this.delete(revision);
  }

  #api() {
    return this.#client.resource(kinds.controllerRevisions);
  }
}

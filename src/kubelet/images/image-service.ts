/**
 * The node's image service: pulls images from OCI distribution registries, imports image
 * archives, and gives the runtime each image's unpacked layers and container defaults.
 * Storage under one root (the agent uses `<data-dir>/agent/images`):
 * `blobs/sha256/…` (content store), `layers/<diffID hex>/fs` (unpacked layers), `images.json`
 * (records).
 */
import { statfs } from 'node:fs/promises';
import { mkdir } from 'node:fs/promises';
import type { RegistryCredentials } from './docker-config.ts';
import { withArchive } from './archive.ts';
import { ContentStore, sha256Digest } from './content-store.ts';
import { DigestMismatchError, ImageError, ImageInUseError, ImageNotFoundError, PlatformNotFoundError, RegistryResponseError } from './errors.ts';
import { ImageStore, type ImageRecord, type LayerRecord } from './image-store.ts';
import { chainIds, LayerStore } from './layer-store.ts';
import {
  DOCKER_FOREIGN_LAYER,
  isIndexType,
  isManifestType,
  type ContainerConfig,
  type Descriptor,
  type ImageConfigFile,
  type Index,
  type Manifest,
  type Platform,
} from './media-types.ts';
import { DEFAULT_PLATFORM, formatPlatform, selectManifest } from './platform.ts';
import { formatReference, isSha256Digest, parseReference, type ImageReference } from './reference.ts';
import { RegistryClient, type RepositoryLocation } from './registry-client.ts';

/** An image as the kubelet sees it (CRI's `Image`). */
export interface Image {
  /** The config digest, `sha256:…`. */
  id: string;
  /** `docker.io/library/busybox:1.36`, … */
  repoTags: string[];
  /** `docker.io/library/busybox@sha256:…`, … */
  repoDigests: string[];
  /** Bytes: manifest, config and compressed layers, as CRI reports it. */
  size: number;
  /** When a container last used the image, or it was pulled (ms since the epoch). */
  lastUsed: number;
}

/** The container defaults from the image config. Absent fields are empty. */
export interface ImageConfig {
  Entrypoint: string[];
  Cmd: string[];
  Env: string[];
  WorkingDir: string;
  User: string;
  ExposedPorts: Record<string, object>;
  Volumes: Record<string, object>;
  StopSignal: string;
  Labels: Record<string, string>;
}

/** Progress of one layer during a pull or import. */
export interface LayerProgress {
  /** Layer blob digest. */
  digest: string;
  /** Position in the image, lowest layer 0. */
  index: number;
  /** Number of layers in the image. */
  count: number;
  /** `exists`: already stored; `downloading`; `unpacking`; `done`. */
  status: 'exists' | 'downloading' | 'unpacking' | 'done';
  /** Bytes downloaded so far. */
  done: number;
  /** Blob size in bytes. */
  total: number;
}

/** Options of {@link ImageService.pull}. */
export interface PullOptions {
  /**
   * Credentials to try in turn until one works (as the kubelet tries a pod's pull secrets);
   * empty or absent: anonymous. Build them with `DockerKeyring.fromSecrets(...).lookup(name)`.
   */
  credentials?: RegistryCredentials[];
  /** Called as layers progress (several layers move at once). */
  onProgress?: (progress: LayerProgress) => void;
}

/** Options of {@link ImageService.open}. */
export interface ImageServiceOptions {
  /** Store root, e.g. `<data-dir>/agent/images`. */
  root: string;
  /** Registries (`host:port`) spoken to over plain HTTP although not on loopback. */
  insecureRegistries?: string[];
  /** Layers downloaded at once per pull (default 3, containerd's `max_concurrent_downloads`). */
  maxConcurrentDownloads?: number;
  /** Platform picked from indexes (default linux/amd64). */
  platform?: Platform;
  /** The fetch to use (default the global one). */
  fetch?: typeof fetch;
  /** Milliseconds since the epoch (default `Date.now`). */
  clock?: () => number;
}

/** What {@link ImageService.remove} freed. */
export interface RemoveResult {
  /** Ids of the images removed. */
  removed: string[];
  /** Bytes of blobs and unpacked layers deleted. */
  freedBytes: number;
}

/** One image's content, however it arrived (registry or archive), ready to be stored. */
export interface ImageSource {
  /** Bytes of the platform manifest, if there is one (stored as a blob). */
  manifest?: { digest: string; bytes: Buffer };
  /** Bytes of the index it came from, if any. */
  index?: { digest: string; bytes: Buffer };
  config: Descriptor;
  layers: Descriptor[];
  /** Stores the blob of a descriptor in the content store (verified), reporting progress. */
  fetchBlob(descriptor: Descriptor, onBytes: (done: number) => void): Promise<void>;
  /** Full names with tag to record (`docker.io/library/busybox:1.36`). */
  repoTags?: string[];
  /** Full name with digest to record. */
  repoDigest?: string;
}

function limiter(concurrency: number): <T>(task: () => Promise<T>) => Promise<T> {
  let active = 0;
  const waiting: (() => void)[] = [];
  return async <T>(task: () => Promise<T>) => {
    if (active >= concurrency) await new Promise<void>((resolve) => waiting.push(resolve));
    active++;
    try {
      return await task();
    } finally {
      active--;
      waiting.shift()?.();
    }
  };
}

function toImage(record: ImageRecord): Image {
  return { id: record.id, repoTags: [...record.repoTags], repoDigests: [...record.repoDigests], size: record.size, lastUsed: record.lastUsed };
}

function parseJson<T>(bytes: Buffer, what: string): T {
  try {
    return JSON.parse(bytes.toString('utf8')) as T;
  } catch (cause) {
    throw new RegistryResponseError(`${what} is not JSON`, { cause });
  }
}

/**
 * The image service. Contract: `pull` resolves only when every blob is stored and verified and
 * every layer unpacked; concurrent pulls of one reference share one pull, and of images sharing
 * layers share the layers' downloads and unpacking; on error nothing unverified is stored (blobs
 * already verified stay, to be reused or pruned). Tags move: pulling a tag that named another
 * image takes the tag from it. `remove` deletes the image record with all its names and then
 * every blob and layer no remaining image references.
 */
export class ImageService {
  readonly root: string;
  readonly #content: ContentStore;
  readonly #layers: LayerStore;
  readonly #store: ImageStore;
  readonly #registry: RegistryClient;
  readonly #platform: Platform;
  readonly #clock: () => number;
  /** Image configs read, by image id (see `config`). */
  readonly #configs = new Map<string, ContainerConfig>();
  /** When `markUsed` last wrote each image's use. */
  readonly #marked = new Map<string, number>();
  readonly #maxDownloads: number;
  readonly #pulls = new Map<string, Promise<Image>>();

  private constructor(options: ImageServiceOptions) {
    this.root = options.root;
    this.#content = new ContentStore(options.root);
    this.#layers = new LayerStore(options.root, this.#content);
    this.#store = new ImageStore(options.root);
    this.#clock = options.clock ?? Date.now;
    this.#registry = new RegistryClient({
      ...(options.insecureRegistries ? { insecureRegistries: options.insecureRegistries } : {}),
      ...(options.fetch ? { fetch: options.fetch } : {}),
      clock: this.#clock,
    });
    this.#platform = options.platform ?? DEFAULT_PLATFORM;
    this.#maxDownloads = options.maxConcurrentDownloads ?? 3;
    if (!Number.isInteger(this.#maxDownloads) || this.#maxDownloads < 1) throw new RangeError(`maxConcurrentDownloads must be a positive integer, got ${options.maxConcurrentDownloads}`);
  }

  /** Opens (creating if needed) the store at `options.root`, clearing what an interrupted pull left. */
  static async open(options: ImageServiceOptions): Promise<ImageService> {
    const service = new ImageService(options);
    await mkdir(options.root, { recursive: true });
    await service.#content.init();
    await service.#layers.init();
    return service;
  }

  /**
   * Pulls `ref` (tag or digest; `busybox` means `docker.io/library/busybox:latest`). Tries each
   * of `options.credentials` in turn; the last error is thrown when none works.
   * @throws InvalidImageNameError, or an ImagePullError subclass (unreachable, auth, not found, digest mismatch, platform).
   */
  async pull(ref: string, options: PullOptions = {}): Promise<Image> {
    const parsed = parseReference(ref);
    // Concurrent pulls of one reference share the work only with the same credentials: a pull
    // without (or with other) credentials must not succeed on the strength of another's.
    const creds = options.credentials && options.credentials.length > 0 ? sha256Digest(JSON.stringify(options.credentials)) : '';
    const key = `${formatReference(parsed)}|${creds}`;
    const pending = this.#pulls.get(key);
    if (pending !== undefined) return pending;
    const work = this.#pullWithCredentials(parsed, options).finally(() => this.#pulls.delete(key));
    this.#pulls.set(key, work);
    return work;
  }

  async #pullWithCredentials(ref: ImageReference, options: PullOptions): Promise<Image> {
    const candidates: (RegistryCredentials | undefined)[] = options.credentials && options.credentials.length > 0 ? options.credentials : [undefined];
    let lastError: unknown;
    for (const credentials of candidates) {
      try {
        return await this.#pullOnce(ref, credentials, options.onProgress);
      } catch (error) {
        lastError = error;
        // Only another credential can fix an auth failure; anything else fails the pull now.
        if ((error as ImageError).code !== 'ERR_REGISTRY_AUTH') throw error;
      }
    }
    throw lastError;
  }

  async #pullOnce(ref: ImageReference, credentials: RegistryCredentials | undefined, onProgress: PullOptions['onProgress']): Promise<Image> {
    const repo: RepositoryLocation = { domain: ref.domain, path: ref.path };
    const name = ref.name;
    const top = await this.#registry.getManifest(repo, ref.digest ?? ref.tag!, credentials);
    const topDigest = sha256Digest(top.bytes);
    if (ref.digest !== undefined && topDigest !== ref.digest) throw new DigestMismatchError(`manifest ${formatReference(ref)}`, ref.digest, topDigest);
    if (ref.digest === undefined && top.digest !== undefined && top.digest !== topDigest) {
      throw new DigestMismatchError(`manifest ${formatReference(ref)} (Docker-Content-Digest)`, top.digest, topDigest);
    }
    let manifestBytes = top.bytes;
    let manifestDigest = topDigest;
    let index: ImageSource['index'];
    if (isIndexType(top.mediaType)) {
      const list = parseJson<Index>(top.bytes, `index ${formatReference(ref)}`);
      const chosen = selectManifest(list.manifests ?? [], this.#platform);
      if (chosen === undefined) {
        const offered = (list.manifests ?? []).map((d) => (d.platform ? formatPlatform(d.platform) : 'unknown')).join(', ');
        throw new PlatformNotFoundError(`image ${formatReference(ref)} has no manifest for ${formatPlatform(this.#platform)} (it has: ${offered || 'none'})`);
      }
      const child = await this.#registry.getManifest(repo, chosen.digest, credentials);
      const childDigest = sha256Digest(child.bytes);
      if (childDigest !== chosen.digest) throw new DigestMismatchError(`manifest for ${formatPlatform(this.#platform)} of ${formatReference(ref)}`, chosen.digest, childDigest);
      if (!isManifestType(child.mediaType)) throw new RegistryResponseError(`manifest ${chosen.digest} of ${name} has unsupported media type "${child.mediaType}"`);
      index = { digest: topDigest, bytes: top.bytes };
      manifestBytes = child.bytes;
      manifestDigest = childDigest;
    } else if (!isManifestType(top.mediaType)) {
      throw new RegistryResponseError(`manifest ${formatReference(ref)} has unsupported media type "${top.mediaType}" (schema 1 manifests are not supported)`);
    }
    const manifest = parseJson<Manifest>(manifestBytes, `manifest ${manifestDigest} of ${name}`);
    if (manifest.config?.digest === undefined || !Array.isArray(manifest.layers)) throw new RegistryResponseError(`manifest ${manifestDigest} of ${name} has no config or layers`);
    const source: ImageSource = {
      manifest: { digest: manifestDigest, bytes: manifestBytes },
      ...(index ? { index } : {}),
      config: manifest.config,
      layers: manifest.layers,
      fetchBlob: async (descriptor, onBytes) => {
        await this.#content.ingest(
          descriptor.digest,
          async () => {
            const response = await this.#registry.getBlob(repo, descriptor.digest, credentials);
            if (response.body === null) throw new RegistryResponseError(`blob ${descriptor.digest} of ${name}: empty response`);
            return response.body;
          },
          { size: descriptor.size, onBytes, what: `blob ${descriptor.digest} of ${name}` },
        );
      },
      ...(ref.tag !== undefined ? { repoTags: [`${name}:${ref.tag}`] } : {}),
      repoDigest: `${name}@${topDigest}`,
    };
    return this.install(source, { onProgress });
  }

  /**
   * Stores an image from any source: blobs verified into the content store, layers unpacked
   * (several at once), then the record written. Used by pulls and archive imports.
   */
  async install(source: ImageSource, options: { onProgress?: PullOptions['onProgress'] } = {}): Promise<Image> {
    if (source.index) await this.#content.put(source.index.digest, source.index.bytes, 'index');
    if (source.manifest) await this.#content.put(source.manifest.digest, source.manifest.bytes, 'manifest');
    await source.fetchBlob(source.config, () => {});
    const config = parseJson<ImageConfigFile>(await this.#content.read(source.config.digest), `config ${source.config.digest}`);
    const layers = source.layers.filter((l) => l.mediaType !== DOCKER_FOREIGN_LAYER);
    const diffIds = config.rootfs?.diff_ids ?? [];
    if (diffIds.length !== layers.length) {
      throw new ImageError('ERR_IMAGE_CONFIG', `image config ${source.config.digest} lists ${diffIds.length} layers, the manifest ${layers.length}`);
    }
    const limit = limiter(this.#maxDownloads);
    const count = layers.length;
    await Promise.all(
      layers.map((layer, index) =>
        limit(async () => {
          const report = (status: LayerProgress['status'], done: number) => options.onProgress?.({ digest: layer.digest, index, count, status, done, total: layer.size });
          const diffId = diffIds[index]!;
          if (await this.#layers.has(diffId)) {
            report('exists', layer.size);
            return;
          }
          if (await this.#content.has(layer.digest)) report('exists', layer.size);
          else await source.fetchBlob(layer, (done) => report('downloading', done));
          report('unpacking', layer.size);
          await this.#layers.unpack(diffId, layer.digest);
          report('done', layer.size);
        }),
      ),
    );
    const layerRecords: LayerRecord[] = layers.map((l, i) => ({ digest: l.digest, diffId: diffIds[i]!, mediaType: l.mediaType, size: l.size }));
    const size = (source.manifest?.bytes.length ?? 0) + source.config.size + layers.reduce((sum, l) => sum + l.size, 0);
    const now = this.#clock();
    const id = source.config.digest;
    return this.#store.update((images) => {
      for (const other of images) {
        if (other.id === id) continue;
        // A tag names one image: pulling it elsewhere moves it.
        other.repoTags = other.repoTags.filter((t) => !source.repoTags?.includes(t));
      }
      let record = images.find((i) => i.id === id);
      if (record === undefined) {
        record = { id, repoTags: [], repoDigests: [], size, layers: layerRecords, chainIds: chainIds(diffIds), pulledAt: now, lastUsed: now };
        images.push(record);
      }
      if (source.manifest) record.manifestDigest = source.manifest.digest;
      if (source.index) record.indexDigest = source.index.digest;
      else delete record.indexDigest;
      record.size = size;
      record.lastUsed = now;
      for (const tag of source.repoTags ?? []) if (!record.repoTags.includes(tag)) record.repoTags.push(tag);
      if (source.repoDigest !== undefined && !record.repoDigests.includes(source.repoDigest)) record.repoDigests.push(source.repoDigest);
      return [images, toImage(record)];
    });
  }

  /** Finds a record by reference (tag or digest), by id (`sha256:…`), or by a unique id prefix (at least 4 hex characters). */
  #find(images: ImageRecord[], ref: string): ImageRecord | undefined {
    const hex = /^(?:sha256:)?([0-9a-f]{4,64})$/.exec(ref)?.[1];
    if (hex !== undefined && hex.length === 64) {
      const byId = images.find((i) => i.id === `sha256:${hex}`);
      if (byId) return byId;
    }
    let parsed: ImageReference | undefined;
    try {
      parsed = parseReference(ref);
    } catch {
      parsed = undefined;
    }
    if (parsed !== undefined) {
      const p = parsed;
      const found =
        p.digest !== undefined
          ? images.find((i) => i.repoDigests.includes(`${p.name}@${p.digest}`) || (i.manifestDigest === p.digest && i.repoDigests.some((d) => d.startsWith(`${p.name}@`))))
          : images.find((i) => i.repoTags.includes(`${p.name}:${p.tag}`));
      if (found) return found;
    }
    if (hex !== undefined) {
      const matches = images.filter((i) => i.id.startsWith(`sha256:${hex}`));
      if (matches.length === 1) return matches[0];
    }
    return undefined;
  }

  /** The image a reference or id names, or undefined. */
  async get(ref: string): Promise<Image | undefined> {
    const record = this.#find(await this.#store.read(), ref);
    return record ? toImage(record) : undefined;
  }

  /** Every image, oldest pull first. */
  async list(): Promise<Image[]> {
    return (await this.#store.read()).sort((a, b) => a.pulledAt - b.pulledAt).map(toImage);
  }

  async #record(imageId: string): Promise<ImageRecord> {
    const record = this.#find(await this.#store.read(), imageId);
    if (record === undefined) throw new ImageNotFoundError(imageId);
    return record;
  }

  /**
   * The unpacked layer directories of an image, lowest first (overlayfs wants them highest
   * first in `lowerdir=`, so reverse them there). A layer missing on disk (removed by hand) is
   * unpacked again from its blob.
   * @throws ImageNotFoundError
   */
  async layers(imageId: string): Promise<string[]> {
    const record = await this.#record(imageId);
    for (const layer of record.layers) {
      if (!(await this.#layers.has(layer.diffId))) await this.#layers.unpack(layer.diffId, layer.digest);
    }
    return record.layers.map((l) => this.#layers.dir(l.diffId));
  }

  /**
   * The container defaults of an image.
   * @throws ImageNotFoundError
   */
  async config(imageId: string): Promise<ImageConfig> {
    const record = await this.#record(imageId);
    // The config blob is named by its digest, so what it says never changes: read once.
    let c = this.#configs.get(record.id);
    if (c === undefined) {
      const file = JSON.parse((await this.#content.read(record.id)).toString('utf8')) as ImageConfigFile;
      this.#configs.set(record.id, (c = file.config ?? {}));
    }
    return {
      Entrypoint: [...(c.Entrypoint ?? [])],
      Cmd: [...(c.Cmd ?? [])],
      Env: [...(c.Env ?? [])],
      WorkingDir: c.WorkingDir ?? '',
      User: c.User ?? '',
      ExposedPorts: { ...c.ExposedPorts },
      Volumes: { ...c.Volumes },
      StopSignal: c.StopSignal ?? '',
      Labels: { ...c.Labels },
    };
  }

  /**
   * The `imageID` the kubelet reports in container statuses: the first repo digest
   * (`docker.io/library/busybox@sha256:…`), or the image id for an image without one (as
   * containerd does for imported images). Given the reference the image was asked for, a repo
   * digest of that same repository comes first (an image pulled from two registries reports the
   * one the container named).
   */
  imageRef(image: Image, reference?: string): string {
    if (reference !== undefined) {
      let name: string | undefined;
      try {
        name = parseReference(reference).name;
      } catch {
        name = undefined;
      }
      const same = name === undefined ? undefined : image.repoDigests.find((d) => d.startsWith(`${name}@`));
      if (same !== undefined) return same;
    }
    return image.repoDigests[0] ?? image.id;
  }

  /**
   * Records that a container used the image now (for garbage collection's least-recently-used
   * order). Garbage collection works in minutes, so a use within a minute of the last one this
   * service recorded is not written: a burst of pods of one image rewrites the records once.
   */
  async markUsed(imageId: string, at: number = this.#clock()): Promise<void> {
    const last = this.#marked.get(imageId);
    if (last !== undefined && at >= last && at - last < 60_000) return;
    this.#marked.set(imageId, at);
    await this.#store.update((images) => {
      const record = this.#find(images, imageId);
      if (record) record.lastUsed = Math.max(record.lastUsed, at);
      return [images, undefined];
    });
  }

  /**
   * Removes an image (every tag and digest of it, as CRI's RemoveImage) and the content no
   * other image uses.
   * @throws ImageNotFoundError; ImageInUseError when `inUse` says a container uses it.
   */
  async remove(ref: string, options: { inUse?: (image: Image) => boolean } = {}): Promise<RemoveResult> {
    const removed = await this.#store.update((images) => {
      const record = this.#find(images, ref);
      if (record === undefined) throw new ImageNotFoundError(ref);
      if (options.inUse?.(toImage(record))) throw new ImageInUseError(ref);
      return [images.filter((i) => i !== record), [record.id]];
    });
    for (const id of removed) {
      this.#configs.delete(id);
      this.#marked.delete(id);
    }
    return { removed, freedBytes: await this.prune() };
  }

  /** Deletes blobs and unpacked layers that no image references; returns the bytes freed. */
  async prune(): Promise<number> {
    const images = await this.#store.read();
    const blobs = new Set<string>();
    const diffIds = new Set<string>();
    for (const image of images) {
      blobs.add(image.id);
      if (image.manifestDigest) blobs.add(image.manifestDigest);
      if (image.indexDigest) blobs.add(image.indexDigest);
      for (const layer of image.layers) {
        blobs.add(layer.digest);
        diffIds.add(layer.diffId);
      }
    }
    // A pull in progress has stored blobs but no record yet: leave everything alone while one runs.
    if (this.#pulls.size > 0) return 0;
    let freed = 0;
    for (const digest of await this.#content.list()) {
      if (blobs.has(digest)) continue;
      freed += await this.#content.size(digest);
      await this.#content.delete(digest);
    }
    for (const diffId of await this.#layers.list()) {
      if (diffIds.has(diffId)) continue;
      freed += await this.#layers.size(diffId);
      await this.#layers.delete(diffId);
    }
    return freed;
  }

  /** Bytes the store holds: blobs plus unpacked layer contents. */
  async usage(): Promise<number> {
    let total = 0;
    for (const digest of await this.#content.list()) total += await this.#content.size(digest);
    for (const diffId of await this.#layers.list()) total += await this.#layers.size(diffId);
    return total;
  }

  /** Capacity and available bytes of the file system holding the store. */
  async diskUsage(): Promise<{ capacity: number; available: number }> {
    const s = await statfs(this.root);
    return { capacity: s.blocks * s.bsize, available: s.bavail * s.bsize };
  }

  /**
   * Imports the images of an archive (`skiff image import`): an OCI image layout tar or a
   * `docker save` tar. Blobs are verified against their digests like pulled ones.
   * @throws ImageArchiveError when the archive is neither.
   */
  async import(archivePath: string, options: { onProgress?: PullOptions['onProgress'] } = {}): Promise<Image[]> {
    const images: Image[] = [];
    await withArchive(archivePath, { content: this.#content, platform: this.#platform }, async (sources) => {
      for (const source of sources) images.push(await this.install(source, options));
    });
    return images;
  }
}

/** Whether a string is a full image id. */
export function isImageId(text: string): boolean {
  return isSha256Digest(text);
}

/**
 * The image records: which images the node has, their names and layers, in
 * `<root>/images.json`. Each change re-reads the file and writes it back atomically (temp file +
 * rename), serialized within the process, so the `skiff image` CLI and a running agent see each
 * other's changes and a crash leaves either the old or the new file.
 */
import { randomBytes } from 'node:crypto';
import { readFileSync, statSync } from 'node:fs';
import { readFile, rename, writeFile } from 'node:fs/promises';
import { join } from 'node:path';

/** One layer of an image record. */
export interface LayerRecord {
  /** Digest of the blob as stored (compressed, as in the manifest). */
  digest: string;
  /** Digest of the uncompressed tar, keying the unpacked directory. */
  diffId: string;
  mediaType: string;
  /** Blob size in bytes. */
  size: number;
}

/** An image as the store keeps it. */
export interface ImageRecord {
  /** The config digest: the image id. */
  id: string;
  /** Full names with tag: `docker.io/library/busybox:1.36`. A tag names one image at a time. */
  repoTags: string[];
  /** Full names with the digest pulled by (index or manifest): `docker.io/library/busybox@sha256:…`. */
  repoDigests: string[];
  /** Digest of the platform manifest, when the image came with one. */
  manifestDigest?: string;
  /** Digest of the index the manifest was picked from, if any. */
  indexDigest?: string;
  /** Size as CRI reports it: manifest, config and compressed layers. */
  size: number;
  layers: LayerRecord[];
  chainIds: string[];
  /** When the image was first stored (ms since the epoch). */
  pulledAt: number;
  /** When a container last used it, or it was last pulled (ms since the epoch). */
  lastUsed: number;
}

interface StoreFile {
  version: 1;
  images: ImageRecord[];
}

/**
 * The record store. Contract: `update` runs its function on the current records (read from disk)
 * and persists what it returns before resolving; updates in one process never interleave.
 */
export class ImageStore {
  readonly #file: string;
  #queue: Promise<unknown> = Promise.resolve();
  /** The last read, with the identity of the file it came from (see `read`). */
  #cache: { ino: number; mtimeMs: number; size: number; images: ImageRecord[] } | undefined;

  constructor(root: string) {
    this.#file = join(root, 'images.json');
  }

  /**
   * All records, as on disk now; the records are shared with other readers until the file
   * changes, so read them, never change them (`update` changes them). Why a cache: a container
   * start reads them three times (its image, config and layers), and a stat costs microseconds
   * where a read through fs/promises is four hand-offs to the thread pool. Every write puts a
   * new file in place, so another process's write (`skiff image`) is seen too.
   */
  async read(): Promise<ImageRecord[]> {
    const st = statSync(this.#file, { throwIfNoEntry: false });
    if (!st) {
      this.#cache = undefined;
      return [];
    }
    const c = this.#cache;
    if (c && c.ino === st.ino && c.mtimeMs === st.mtimeMs && c.size === st.size) return [...c.images];
    const images = (JSON.parse(readFileSync(this.#file, 'utf8')) as StoreFile).images;
    this.#cache = { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, images };
    return [...images];
  }

  /** The records read afresh, for `update` to change. */
  async #readFresh(): Promise<ImageRecord[]> {
    let text: string;
    try {
      text = await readFile(this.#file, 'utf8');
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw error;
    }
    return (JSON.parse(text) as StoreFile).images;
  }

  /** Applies `change` to the records and saves the result; resolves to what `change` returned as its second element. */
  async update<T>(change: (images: ImageRecord[]) => [ImageRecord[], T] | Promise<[ImageRecord[], T]>): Promise<T> {
    const run = async () => {
      const [images, result] = await change(await this.#readFresh());
      const temp = `${this.#file}.${randomBytes(6).toString('hex')}.tmp`;
      await writeFile(temp, JSON.stringify({ version: 1, images } satisfies StoreFile, null, 1));
      const st = statSync(temp);
      await rename(temp, this.#file);
      this.#cache = { ino: st.ino, mtimeMs: st.mtimeMs, size: st.size, images };
      return result;
    };
    const next = this.#queue.then(run, run);
    this.#queue = next.catch(() => undefined);
    return next;
  }
}

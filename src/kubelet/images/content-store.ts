/**
 * Blobs by digest under `<root>/blobs/sha256/<hex>`: manifests, configs and compressed layers.
 * Content is written to `<root>/ingest/` while its sha256 is computed and only renamed into
 * place when digest (and size, when known) match, so a blob in the store is always whole and
 * verified; a crash leaves at most a file in `ingest/`, cleared at the next start.
 */
import { createHash } from 'node:crypto';
import { createReadStream, type ReadStream } from 'node:fs';
import { mkdir, open, readdir, readFile, rename, rm, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { DigestMismatchError, ImageError } from './errors.ts';
import { isSha256Digest } from './reference.ts';
import { isStaleTemp, tempName } from './temp-names.ts';

/** The sha256 digest of bytes, `sha256:<hex>`. */
export function sha256Digest(data: Buffer | string): string {
  return `sha256:${createHash('sha256').update(data).digest('hex')}`;
}

function hexOf(digest: string): string {
  if (!isSha256Digest(digest)) throw new ImageError('ERR_UNSUPPORTED_DIGEST', `unsupported or malformed digest "${digest}" (only sha256 is supported)`);
  return digest.slice(7);
}

/** Options of {@link ContentStore.ingest}. */
export interface IngestOptions {
  /** Expected size in bytes, checked as well when given. */
  size?: number;
  /** Called with the bytes written so far, as they arrive. */
  onBytes?: (done: number) => void;
  /** What the blob is, for error messages (`layer 2 of docker.io/library/busybox`). */
  what?: string;
}

/**
 * The content-addressed blob store. Contract: `ingest` of a digest already present returns at
 * once; concurrent ingests of one digest share one write (the later callers' sources are never
 * opened); a digest mismatch throws {@link DigestMismatchError} and leaves nothing behind.
 */
export class ContentStore {
  readonly #blobs: string;
  readonly #ingest: string;
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(root: string) {
    this.#blobs = join(root, 'blobs', 'sha256');
    this.#ingest = join(root, 'ingest');
  }

  /** The folder for temporary files (same file system as the blobs, so renames are atomic). */
  get ingestDir(): string {
    return this.#ingest;
  }

  /** Creates the folders and removes what an interrupted ingest of a dead process left. */
  async init(): Promise<void> {
    await mkdir(this.#blobs, { recursive: true });
    await mkdir(this.#ingest, { recursive: true });
    for (const name of await readdir(this.#ingest)) {
      if (isStaleTemp(name, '')) await rm(join(this.#ingest, name), { recursive: true, force: true });
    }
  }

  /** The file holding a blob (present or not). */
  path(digest: string): string {
    return join(this.#blobs, hexOf(digest));
  }

  /** Whether the blob is present. */
  async has(digest: string): Promise<boolean> {
    return stat(this.path(digest)).then(
      () => true,
      () => false,
    );
  }

  /** A blob's bytes. */
  async read(digest: string): Promise<Buffer> {
    return readFile(this.path(digest));
  }

  /** A blob as a stream. */
  stream(digest: string): ReadStream {
    return createReadStream(this.path(digest), { highWaterMark: 1 << 20 });
  }

  /** Stores bytes whose digest is known, verifying them. */
  async put(digest: string, data: Buffer, what = 'blob'): Promise<void> {
    await this.ingest(digest, async () => (async function* () {
      yield data;
    })(), { size: data.length, what });
  }

  /**
   * Stores the content `open()` yields under `digest`, verifying it, unless present.
   * @throws DigestMismatchError when the content's sha256 or size differs.
   */
  async ingest(digest: string, open: () => Promise<AsyncIterable<Uint8Array>>, options: IngestOptions = {}): Promise<void> {
    const final = this.path(digest);
    const pending = this.#inFlight.get(digest);
    if (pending !== undefined) return pending;
    // Registered before the first await, so a concurrent caller finds it.
    const work = (async () => {
      if (!(await this.has(digest))) await this.#write(digest, final, open, options);
    })().finally(() => this.#inFlight.delete(digest));
    this.#inFlight.set(digest, work);
    return work;
  }

  async #write(digest: string, final: string, openSource: () => Promise<AsyncIterable<Uint8Array>>, options: IngestOptions): Promise<void> {
    const temp = join(this.#ingest, tempName('', hexOf(digest).slice(0, 12)));
    const hash = createHash('sha256');
    let done = 0;
    const handle = await open(temp, 'w', 0o644);
    try {
      try {
        for await (const piece of await openSource()) {
          hash.update(piece);
          await handle.write(piece);
          done += piece.length;
          options.onBytes?.(done);
        }
        await handle.sync();
      } finally {
        await handle.close();
      }
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== digest) throw new DigestMismatchError(options.what ?? 'blob', digest, actual);
      if (options.size !== undefined && done !== options.size) {
        throw new DigestMismatchError(`${options.what ?? 'blob'} (size ${done} bytes, descriptor says ${options.size})`, digest, actual);
      }
      await rename(temp, final);
    } catch (error) {
      await rm(temp, { force: true });
      throw error;
    }
  }

  /** Removes a blob (no error when absent). */
  async delete(digest: string): Promise<void> {
    await rm(this.path(digest), { force: true });
  }

  /** Digests of every stored blob. */
  async list(): Promise<string[]> {
    const names = await readdir(this.#blobs).catch(() => [] as string[]);
    return names.filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }

  /** A blob's size in bytes (0 when absent). */
  async size(digest: string): Promise<number> {
    return stat(this.path(digest)).then(
      (s) => s.size,
      () => 0,
    );
  }
}

/**
 * Unpacked layers, one directory per layer keyed by its diffID (the sha256 of the uncompressed
 * tar): `<root>/layers/<hex>/fs` is the tree overlayfs takes as a lowerdir, `<root>/layers/<hex>/size`
 * its content size. Keyed by diffID rather than chainID because each directory holds only its own
 * layer's changes (whiteouts included) and the runtime stacks them as separate lowerdirs; a
 * diff's directory is therefore the same whatever layers lie below it, and images sharing a
 * layer share its directory. The chainIDs are still computed for the image record.
 *
 * A layer is unpacked into `<root>/layers/.tmp-*` and renamed into place once complete and its
 * diffID verified, so a crash never leaves a half-unpacked layer visible; leftovers are removed
 * at start.
 */
import { createHash } from 'node:crypto';
import { open, mkdir, readdir, readFile, rename, rm, stat, writeFile, chmod } from 'node:fs/promises';
import { join } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip, createZstdDecompress } from 'node:zlib';
import type { ContentStore } from './content-store.ts';
import { DigestMismatchError, LayerUnpackError } from './errors.ts';
import { isSha256Digest } from './reference.ts';
import { readTar } from './tar.ts';
import { isStaleTemp, tempName } from './temp-names.ts';
import { applyLayer } from './unpack.ts';

/** The chainIDs of a layer stack, as the OCI image spec defines them (lowest first). */
export function chainIds(diffIds: string[]): string[] {
  const result: string[] = [];
  for (const diffId of diffIds) {
    const parent = result[result.length - 1];
    result.push(parent === undefined ? diffId : `sha256:${createHash('sha256').update(`${parent} ${diffId}`).digest('hex')}`);
  }
  return result;
}

async function compressionOf(path: string): Promise<'gzip' | 'zstd' | 'none'> {
  const handle = await open(path, 'r');
  try {
    const head = Buffer.alloc(4);
    const { bytesRead } = await handle.read(head, 0, 4, 0);
    if (bytesRead >= 2 && head[0] === 0x1f && head[1] === 0x8b) return 'gzip';
    if (bytesRead === 4 && head.readUInt32LE(0) === 0xfd2fb528) return 'zstd';
    return 'none';
  } finally {
    await handle.close();
  }
}

/**
 * The layer store. Contract: `unpack` of a diffID already present returns at once; concurrent
 * unpacks of one diffID share one unpacking; the directory appears (by rename) only complete and
 * verified; on error nothing of the attempt remains.
 */
export class LayerStore {
  readonly #root: string;
  readonly #content: ContentStore;
  readonly #inFlight = new Map<string, Promise<void>>();

  constructor(root: string, content: ContentStore) {
    this.#root = join(root, 'layers');
    this.#content = content;
  }

  /** Creates the folder and removes what an interrupted unpack left. */
  async init(): Promise<void> {
    await mkdir(this.#root, { recursive: true });
    for (const name of await readdir(this.#root)) {
      if (isStaleTemp(name, '.tmp-')) await rm(join(this.#root, name), { recursive: true, force: true });
    }
  }

  /** The directory a layer's files are in (the overlayfs lowerdir). */
  dir(diffId: string): string {
    if (!isSha256Digest(diffId)) throw new TypeError(`layer id "${diffId}" is not a sha256 digest`);
    return join(this.#root, diffId.slice(7), 'fs');
  }

  /** Whether a layer is unpacked. */
  async has(diffId: string): Promise<boolean> {
    return stat(join(this.#root, diffId.slice(7), 'size')).then(
      () => true,
      () => false,
    );
  }

  /** Bytes of file content in an unpacked layer (0 when absent). */
  async size(diffId: string): Promise<number> {
    return readFile(join(this.#root, diffId.slice(7), 'size'), 'utf8').then(Number, () => 0);
  }

  /**
   * Unpacks the layer blob `blobDigest` (gzip, zstd or plain tar, told apart by magic bytes)
   * from the content store as layer `diffId`.
   * @throws DigestMismatchError when the uncompressed content is not `diffId`.
   */
  async unpack(diffId: string, blobDigest: string): Promise<void> {
    const pending = this.#inFlight.get(diffId);
    if (pending !== undefined) return pending;
    // Registered before the first await, so a concurrent caller finds it.
    const work = (async () => {
      if (!(await this.has(diffId))) await this.#unpack(diffId, blobDigest);
    })().finally(() => this.#inFlight.delete(diffId));
    this.#inFlight.set(diffId, work);
    return work;
  }

  async #unpack(diffId: string, blobDigest: string): Promise<void> {
    const hex = diffId.slice(7);
    const temp = join(this.#root, tempName('.tmp-', hex.slice(0, 12)));
    try {
      await mkdir(join(temp, 'fs'), { recursive: true });
      await chmod(join(temp, 'fs'), 0o755);
      const blobPath = this.#content.path(blobDigest);
      const compression = await compressionOf(blobPath);
      const source = this.#content.stream(blobDigest);
      let stream: Readable = source;
      if (compression !== 'none') {
        const decompressor = compression === 'gzip' ? createGunzip({ chunkSize: 1 << 17 }) : createZstdDecompress({ chunkSize: 1 << 17 });
        stream = pipeline(source, decompressor, () => {});
      }
      const hash = createHash('sha256');
      const hashed = (async function* () {
        for await (const piece of stream) {
          hash.update(piece as Buffer);
          yield piece as Buffer;
        }
      })();
      let result;
      try {
        result = await applyLayer(readTar(hashed), join(temp, 'fs'));
      } catch (cause) {
        stream.destroy();
        if (cause instanceof LayerUnpackError) throw new LayerUnpackError(`layer ${diffId}: ${cause.message}`, { cause });
        throw new LayerUnpackError(`layer ${diffId}: ${(cause as Error).message}`, { cause });
      }
      const actual = `sha256:${hash.digest('hex')}`;
      if (actual !== diffId) throw new DigestMismatchError(`uncompressed layer ${blobDigest}`, diffId, actual);
      await writeFile(join(temp, 'size'), String(result.bytes));
      try {
        await rename(temp, join(this.#root, hex));
      } catch (error) {
        // Another process unpacked the same layer meanwhile: theirs is as good as ours.
        if ((error as NodeJS.ErrnoException).code !== 'ENOTEMPTY' && (error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
        await rm(temp, { recursive: true, force: true });
      }
    } catch (error) {
      await rm(temp, { recursive: true, force: true });
      throw error;
    }
  }

  /** Removes an unpacked layer (no error when absent). Renamed away first so it vanishes at once. */
  async delete(diffId: string): Promise<void> {
    const hex = diffId.slice(7);
    const doomed = join(this.#root, tempName('.tmp-', `rm-${hex.slice(0, 12)}`));
    try {
      await rename(join(this.#root, hex), doomed);
    } catch {
      return;
    }
    await rm(doomed, { recursive: true, force: true });
  }

  /** DiffIDs of every unpacked layer. */
  async list(): Promise<string[]> {
    const names = await readdir(this.#root).catch(() => [] as string[]);
    return names.filter((n) => /^[0-9a-f]{64}$/.test(n)).map((n) => `sha256:${n}`);
  }
}

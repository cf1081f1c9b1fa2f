/**
 * Image archives for `skiff image import`: an OCI image layout in a tar (`index.json`,
 * `oci-layout`, `blobs/<alg>/<hex>`; what `skopeo copy oci-archive:`, `ctr export` and Docker 25+
 * `docker save` write) or a classic `docker save` tar (`manifest.json` naming the config file,
 * the repo tags and the layer tars). Either may be gzip-compressed. The archive is unpacked into
 * a temporary folder inside the store's root, read into {@link ImageSource}s whose blobs are
 * verified like pulled ones, and removed afterwards.
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { copyFile, mkdir, open, readFile, rm, stat } from 'node:fs/promises';
import { dirname, join, posix } from 'node:path';
import { pipeline, type Readable } from 'node:stream';
import { createGunzip } from 'node:zlib';
import type { ContentStore } from './content-store.ts';
import { sha256Digest } from './content-store.ts';
import { DigestMismatchError, ImageArchiveError, PlatformNotFoundError } from './errors.ts';
import type { ImageSource } from './image-service.ts';
import { DOCKER_CONFIG, DOCKER_LAYER, DOCKER_LAYER_GZIP, isIndexType, type Descriptor, type Index, type Manifest, type Platform } from './media-types.ts';
import { formatPlatform, selectManifest } from './platform.ts';
import { parseReference } from './reference.ts';
import { readTar } from './tar.ts';
import { tempName } from './temp-names.ts';

/** What reading an archive needs from the image service. */
export interface ArchiveContext {
  content: ContentStore;
  platform: Platform;
}

function clean(name: string): string {
  const normalized = posix.normalize(`/${name}`);
  return normalized === '/' ? '' : normalized.replace(/\/+$/, '').slice(1);
}

async function extract(archivePath: string, dir: string): Promise<void> {
  const handle = await open(archivePath, 'r');
  const head = Buffer.alloc(2);
  await handle.read(head, 0, 2, 0);
  await handle.close();
  let stream: Readable = createReadStream(archivePath, { highWaterMark: 1 << 20 });
  if (head[0] === 0x1f && head[1] === 0x8b) stream = pipeline(stream, createGunzip(), () => {});
  const links: { path: string; target: string }[] = [];
  for await (const { header, body } of readTar(stream)) {
    const rel = clean(header.name);
    if (rel === '') continue;
    const full = join(dir, rel);
    if (header.type === 'directory') {
      await mkdir(full, { recursive: true });
    } else if (header.type === 'file') {
      await mkdir(dirname(full), { recursive: true });
      const out = await open(full, 'w');
      try {
        for await (const piece of body) await out.write(piece);
      } finally {
        await out.close();
      }
    } else if (header.type === 'symlink' || header.type === 'link') {
      // docker save links a repeated layer to its first copy; resolve within the archive.
      const target = header.type === 'link' ? clean(header.linkname) : clean(posix.join(posix.dirname(rel), header.linkname));
      links.push({ path: full, target: join(dir, target) });
    }
  }
  for (const link of links) {
    await mkdir(dirname(link.path), { recursive: true });
    await copyFile(link.target, link.path).catch(() => {});
  }
}

async function readJson<T>(path: string, what: string): Promise<T> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch {
    throw new ImageArchiveError(`archive has no ${what}`);
  }
  try {
    return JSON.parse(text) as T;
  } catch (cause) {
    throw new ImageArchiveError(`archive's ${what} is not JSON`, { cause });
  }
}

async function fileDigest(path: string): Promise<{ digest: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  for await (const piece of createReadStream(path, { highWaterMark: 1 << 20 })) {
    hash.update(piece as Buffer);
    size += (piece as Buffer).length;
  }
  return { digest: `sha256:${hash.digest('hex')}`, size };
}

function blobSource(content: ContentStore, path: () => string, what: string) {
  return async (descriptor: Descriptor, onBytes: (done: number) => void) => {
    const file = path();
    await stat(file).catch(() => {
      throw new ImageArchiveError(`archive lacks ${what} ${descriptor.digest}`);
    });
    await content.ingest(descriptor.digest, async () => createReadStream(file, { highWaterMark: 1 << 20 }), { size: descriptor.size, onBytes, what: `${what} ${descriptor.digest} in the archive` });
  };
}

/** An image name from an OCI layout annotation: a full reference, or nothing for a bare tag. */
function nameFromAnnotations(annotations: Record<string, string> | undefined): { repoTag?: string; name?: string } {
  const candidate = annotations?.['io.containerd.image.name'] ?? annotations?.['org.opencontainers.image.ref.name'];
  if (candidate === undefined || !/[/:]/.test(candidate)) return {};
  try {
    const ref = parseReference(candidate);
    return { name: ref.name, ...(ref.tag !== undefined ? { repoTag: `${ref.name}:${ref.tag}` } : {}) };
  } catch {
    return {};
  }
}

async function ociSources(dir: string, ctx: ArchiveContext): Promise<ImageSource[]> {
  const blobPath = (digest: string) => {
    const [alg, hex] = digest.split(':');
    return join(dir, 'blobs', alg!, hex!);
  };
  const readBlob = async (descriptor: Descriptor): Promise<Buffer> => {
    let bytes: Buffer;
    try {
      bytes = await readFile(blobPath(descriptor.digest));
    } catch {
      throw new ImageArchiveError(`archive lacks blob ${descriptor.digest}`);
    }
    const actual = sha256Digest(bytes);
    if (actual !== descriptor.digest) throw new DigestMismatchError(`blob in the archive`, descriptor.digest, actual);
    return bytes;
  };
  const index = await readJson<Index>(join(dir, 'index.json'), 'index.json');
  const sources: ImageSource[] = [];
  for (const entry of index.manifests ?? []) {
    const names = nameFromAnnotations(entry.annotations);
    let manifestDescriptor = entry;
    let bytes = await readBlob(entry);
    let parent: ImageSource['index'];
    if (isIndexType(entry.mediaType) || (JSON.parse(bytes.toString('utf8')) as { manifests?: unknown }).manifests !== undefined) {
      const nested = JSON.parse(bytes.toString('utf8')) as Index;
      const chosen = selectManifest(nested.manifests ?? [], ctx.platform);
      if (chosen === undefined) throw new PlatformNotFoundError(`archive's index ${entry.digest} has no manifest for ${formatPlatform(ctx.platform)}`);
      parent = { digest: entry.digest, bytes };
      manifestDescriptor = chosen;
      bytes = await readBlob(chosen);
    }
    const manifest = JSON.parse(bytes.toString('utf8')) as Manifest;
    sources.push({
      manifest: { digest: manifestDescriptor.digest, bytes },
      ...(parent ? { index: parent } : {}),
      config: manifest.config,
      layers: manifest.layers,
      fetchBlob: (descriptor, onBytes) => blobSource(ctx.content, () => blobPath(descriptor.digest), 'blob')(descriptor, onBytes),
      ...(names.repoTag ? { repoTags: [names.repoTag] } : {}),
      ...(names.name ? { repoDigest: `${names.name}@${entry.digest}` } : {}),
    });
  }
  return sources;
}

interface DockerSaveEntry {
  Config: string;
  RepoTags?: string[] | null;
  Layers: string[];
}

async function dockerSources(dir: string, ctx: ArchiveContext): Promise<ImageSource[]> {
  const entries = await readJson<DockerSaveEntry[]>(join(dir, 'manifest.json'), 'manifest.json');
  if (!Array.isArray(entries)) throw new ImageArchiveError(`archive's manifest.json is not a list of images`);
  const sources: ImageSource[] = [];
  for (const entry of entries) {
    const configPath = join(dir, clean(entry.Config));
    const config = await fileDigest(configPath).catch(() => {
      throw new ImageArchiveError(`archive lacks the config file "${entry.Config}"`);
    });
    const files = new Map<string, string>([[config.digest, configPath]]);
    const layers: Descriptor[] = [];
    for (const layerPath of entry.Layers ?? []) {
      const path = join(dir, clean(layerPath));
      const { digest, size } = await fileDigest(path).catch(() => {
        throw new ImageArchiveError(`archive lacks the layer "${layerPath}"`);
      });
      const head = Buffer.alloc(2);
      const handle = await open(path, 'r');
      await handle.read(head, 0, 2, 0);
      await handle.close();
      files.set(digest, path);
      layers.push({ mediaType: head[0] === 0x1f && head[1] === 0x8b ? DOCKER_LAYER_GZIP : DOCKER_LAYER, digest, size });
    }
    const repoTags: string[] = [];
    for (const tag of entry.RepoTags ?? []) {
      try {
        const ref = parseReference(tag);
        if (ref.tag !== undefined) repoTags.push(`${ref.name}:${ref.tag}`);
      } catch {
        // docker save writes only valid names; skip anything else rather than fail the import.
      }
    }
    sources.push({
      config: { mediaType: DOCKER_CONFIG, digest: config.digest, size: config.size },
      layers,
      fetchBlob: (descriptor, onBytes) => blobSource(ctx.content, () => files.get(descriptor.digest)!, 'file')(descriptor, onBytes),
      repoTags,
    });
  }
  return sources;
}

/**
 * Unpacks the archive at `archivePath`, gives its images to `use`, then removes the temporary copy.
 * @throws ImageArchiveError when it is neither an OCI layout nor a docker save tar.
 */
export async function withArchive(archivePath: string, ctx: ArchiveContext, use: (sources: ImageSource[]) => Promise<void>): Promise<void> {
  await stat(archivePath).catch((cause) => {
    throw new ImageArchiveError(`cannot read archive "${archivePath}": ${(cause as Error).message}`, { cause });
  });
  const dir = join(ctx.content.ingestDir, tempName('', 'import'));
  await mkdir(dir, { recursive: true });
  try {
    try {
      await extract(archivePath, dir);
    } catch (cause) {
      throw new ImageArchiveError(`"${archivePath}" is not a readable tar archive: ${(cause as Error).message}`, { cause });
    }
    const isOci = await stat(join(dir, 'index.json')).then(
      () => true,
      () => false,
    );
    const isDocker = await stat(join(dir, 'manifest.json')).then(
      () => true,
      () => false,
    );
    if (!isOci && !isDocker) throw new ImageArchiveError(`"${archivePath}" is neither an OCI image layout (index.json) nor a docker save archive (manifest.json)`);
    await use(isOci ? await ociSources(dir, ctx) : await dockerSources(dir, ctx));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

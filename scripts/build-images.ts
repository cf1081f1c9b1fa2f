/**
 * Builds Skiff's small demo and test images from what a Debian machine has — no Docker, no
 * internet — and pushes them to a registry and/or writes them as OCI archives for
 * `skiff image import`:
 *
 *   skiff.local/busybox:<version>  (and :latest) — Debian's `busybox-static` with its applet
 *                                  symlinks, /etc/passwd and /etc/group; Cmd ["sh"]. An OCI index.
 *   skiff.local/hello-http:1.0     — the busybox layer plus a page, served by `busybox httpd` on
 *                                  port 8080. A Docker v2 schema 2 manifest.
 *
 * Usage: node scripts/build-images.ts [--push HOST:PORT] [--insecure] [--username U --password P] [--out DIR]
 * (`--push 127.0.0.1:5000` pushes busybox and hello-http to that registry's root namespace.)
 * The builds are reproducible: fixed mtimes and deterministic gzip give the same digests every run.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, writeFileSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { gzipSync, zstdCompressSync } from 'node:zlib';
import { mediaTypes, RegistryClient, sha256Digest, writeTar, type RegistryCredentials, type TarWriteEntry } from '../src/kubelet/index.ts';

/** One JSON document or blob with its digest. */
export interface Blob {
  mediaType: string;
  digest: string;
  bytes: Buffer;
}

/** An image ready to push or archive: the object its tag points at, the manifests below it, and every blob. */
export interface BuiltImage {
  /** What the tag names: a manifest or an index. */
  top: Blob;
  /** Manifests an index lists (empty for a single manifest). */
  children: Blob[];
  /** Config and layer blobs by digest. */
  blobs: Map<string, Buffer>;
}

/** The container defaults written into an image config. */
export interface ImageDefaults {
  Entrypoint?: string[];
  Cmd?: string[];
  Env?: string[];
  WorkingDir?: string;
  User?: string;
  ExposedPorts?: Record<string, object>;
  Labels?: Record<string, string>;
  StopSignal?: string;
}

/** Options of {@link buildImage}. */
export interface BuildImageOptions {
  /** Uncompressed layer tars, lowest first. */
  layers: Buffer[];
  config: ImageDefaults;
  architecture?: string;
  variant?: string;
  /** Docker schema 2 media types instead of OCI. */
  docker?: boolean;
  /** Layer compression (default gzip; zstd only with OCI media types). */
  compression?: 'gzip' | 'zstd' | 'none';
}

function blob(mediaType: string, bytes: Buffer): Blob {
  return { mediaType, digest: sha256Digest(bytes), bytes };
}

function json(value: unknown): Buffer {
  return Buffer.from(JSON.stringify(value));
}

/** A single-platform image: config and manifest over the given layers. */
export function buildImage(options: BuildImageOptions): BuiltImage {
  const m = mediaTypes;
  const compression = options.compression ?? 'gzip';
  const gzip = compression === 'gzip';
  const blobs = new Map<string, Buffer>();
  const layerDescriptors = options.layers.map((tar) => {
    const bytes = gzip ? gzipSync(tar, { level: 6 }) : compression === 'zstd' ? zstdCompressSync(tar) : tar;
    const mediaType = options.docker ? (gzip ? m.DOCKER_LAYER_GZIP : m.DOCKER_LAYER) : gzip ? m.OCI_LAYER_GZIP : compression === 'zstd' ? m.OCI_LAYER_ZSTD : m.OCI_LAYER;
    const digest = sha256Digest(bytes);
    blobs.set(digest, bytes);
    return { mediaType, digest, size: bytes.length };
  });
  const config = json({
    created: '1970-01-01T00:00:00Z',
    architecture: options.architecture ?? 'amd64',
    ...(options.variant ? { variant: options.variant } : {}),
    os: 'linux',
    config: { Env: ['PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin'], ...options.config },
    rootfs: { type: 'layers', diff_ids: options.layers.map((tar) => sha256Digest(tar)) },
    history: options.layers.map(() => ({ created: '1970-01-01T00:00:00Z', created_by: 'skiff scripts/build-images.ts' })),
  });
  const configDigest = sha256Digest(config);
  blobs.set(configDigest, config);
  const manifest = json({
    schemaVersion: 2,
    mediaType: options.docker ? m.DOCKER_MANIFEST : m.OCI_MANIFEST,
    config: { mediaType: options.docker ? m.DOCKER_CONFIG : m.OCI_CONFIG, digest: configDigest, size: config.length },
    layers: layerDescriptors,
  });
  return { top: blob(options.docker ? m.DOCKER_MANIFEST : m.OCI_MANIFEST, manifest), children: [], blobs };
}

/** An index (OCI) or manifest list (Docker) over single-platform images. */
export function buildIndex(images: { image: BuiltImage; platform: { os: string; architecture: string; variant?: string } }[], options: { docker?: boolean } = {}): BuiltImage {
  const m = mediaTypes;
  const blobs = new Map<string, Buffer>();
  for (const { image } of images) for (const [d, b] of image.blobs) blobs.set(d, b);
  const index = json({
    schemaVersion: 2,
    mediaType: options.docker ? m.DOCKER_MANIFEST_LIST : m.OCI_INDEX,
    manifests: images.map(({ image, platform }) => ({ mediaType: image.top.mediaType, digest: image.top.digest, size: image.top.bytes.length, platform })),
  });
  return { top: blob(options.docker ? m.DOCKER_MANIFEST_LIST : m.OCI_INDEX, index), children: images.map(({ image }) => image.top), blobs };
}

/** The layer of the busybox image: the static binary, its applet symlinks, a minimal /etc. */
export function busyboxLayer(binary = '/usr/bin/busybox'): Buffer {
  const applets = execFileSync(binary, ['--list-full'], { encoding: 'utf8' }).split('\n').filter((l) => l !== '' && l !== 'bin/busybox');
  const dirs = new Set(['bin', 'sbin', 'usr', 'usr/bin', 'usr/sbin', 'etc', 'dev', 'proc', 'sys', 'var', 'var/www', 'home']);
  for (const a of applets) dirs.add(a.slice(0, a.lastIndexOf('/')));
  const entries: TarWriteEntry[] = [...dirs].sort().map((name) => ({ name, type: 'directory' }));
  entries.push({ name: 'tmp', type: 'directory', mode: 0o1777 }, { name: 'root', type: 'directory', mode: 0o700 });
  entries.push({ name: 'bin/busybox', type: 'file', mode: 0o755, data: readFileSync(binary) });
  for (const applet of applets.sort()) entries.push({ name: applet, type: 'symlink', linkname: '/bin/busybox' });
  entries.push(
    { name: 'etc/passwd', type: 'file', data: Buffer.from('root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/bin/false\n') },
    { name: 'etc/group', type: 'file', data: Buffer.from('root:x:0:\nnogroup:x:65534:\n') },
  );
  return writeTar(entries);
}

/** The version of the busybox binary, `major.minor` (`1.35`). */
export function busyboxVersion(binary = '/usr/bin/busybox'): string {
  const banner = execFileSync(binary, [], { encoding: 'utf8' }).split('\n')[0]!;
  const match = /BusyBox v(\d+\.\d+)/.exec(banner);
  if (!match) throw new Error(`cannot tell the busybox version from "${banner}"`);
  return match[1]!;
}

/** `skiff.local/busybox`: an OCI index with the linux/amd64 image. */
export function buildBusybox(): BuiltImage {
  const image = buildImage({ layers: [busyboxLayer()], config: { Cmd: ['sh'] } });
  return buildIndex([{ image, platform: { os: 'linux', architecture: 'amd64' } }]);
}

/** `skiff.local/hello-http:1.0`: busybox plus a page, served by `httpd -f -p 8080`. Docker schema 2. */
export function buildHelloHttp(): BuiltImage {
  const page = writeTar([
    { name: 'var', type: 'directory' },
    { name: 'var/www', type: 'directory' },
    { name: 'var/www/index.html', type: 'file', data: Buffer.from('<h1>Hello from Skiff</h1>\n') },
  ]);
  return buildImage({
    layers: [busyboxLayer(), page],
    config: { Cmd: ['httpd', '-f', '-v', '-p', '8080', '-h', '/var/www'], ExposedPorts: { '8080/tcp': {} }, StopSignal: 'SIGTERM' },
    docker: true,
  });
}

/** Pushes an image (blobs, child manifests by digest, then the tag) to `host/repository:tag`. */
export async function pushImage(client: RegistryClient, host: string, repository: string, tag: string, image: BuiltImage, credentials?: RegistryCredentials): Promise<void> {
  const repo = { domain: host, path: repository };
  for (const [digest, bytes] of image.blobs) await client.pushBlob(repo, digest, bytes, credentials);
  for (const child of image.children) await client.pushManifest(repo, child.digest, child.mediaType, child.bytes, credentials);
  await client.pushManifest(repo, tag, image.top.mediaType, image.top.bytes, credentials);
}

/** An OCI image layout tar holding `image` under the full name `name` (`skiff.local/busybox:1.35`). */
export function ociArchive(images: { image: BuiltImage; name: string }[]): Buffer {
  const entries: TarWriteEntry[] = [
    { name: 'oci-layout', type: 'file', data: json({ imageLayoutVersion: '1.0.0' }) },
    { name: 'blobs', type: 'directory' },
    { name: 'blobs/sha256', type: 'directory' },
  ];
  const seen = new Set<string>();
  const add = (digest: string, bytes: Buffer) => {
    if (seen.has(digest)) return;
    seen.add(digest);
    entries.push({ name: `blobs/sha256/${digest.slice(7)}`, type: 'file', data: bytes });
  };
  for (const { image } of images) {
    for (const [digest, bytes] of image.blobs) add(digest, bytes);
    for (const child of image.children) add(child.digest, child.bytes);
    add(image.top.digest, image.top.bytes);
  }
  const index = {
    schemaVersion: 2,
    mediaType: mediaTypes.OCI_INDEX,
    manifests: images.map(({ image, name }) => ({
      mediaType: image.top.mediaType,
      digest: image.top.digest,
      size: image.top.bytes.length,
      annotations: { 'io.containerd.image.name': name, 'org.opencontainers.image.ref.name': name.slice(name.lastIndexOf(':') + 1) },
    })),
  };
  entries.push({ name: 'index.json', type: 'file', data: json(index) });
  return writeTar(entries);
}

async function main(): Promise<void> {
  const { values } = parseArgs({
    options: {
      push: { type: 'string' },
      insecure: { type: 'boolean' },
      username: { type: 'string' },
      password: { type: 'string' },
      out: { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  if (values.help || (values.push === undefined && values.out === undefined)) {
    process.stdout.write('Usage: node scripts/build-images.ts [--push HOST:PORT] [--insecure] [--username U --password P] [--out DIR]\n');
    return;
  }
  const version = busyboxVersion();
  const busybox = buildBusybox();
  const hello = buildHelloHttp();
  if (values.out !== undefined) {
    mkdirSync(values.out, { recursive: true });
    writeFileSync(join(values.out, 'busybox.oci.tar'), ociArchive([{ image: busybox, name: `skiff.local/busybox:${version}` }, { image: busybox, name: 'skiff.local/busybox:latest' }]));
    writeFileSync(join(values.out, 'hello-http.oci.tar'), ociArchive([{ image: hello, name: 'skiff.local/hello-http:1.0' }]));
    console.log(`wrote ${join(values.out, 'busybox.oci.tar')} and ${join(values.out, 'hello-http.oci.tar')}`);
  }
  if (values.push !== undefined) {
    const client = new RegistryClient({ insecureRegistries: values.insecure ? [values.push] : [] });
    const creds = values.username !== undefined ? { username: values.username, password: values.password ?? '' } : undefined;
    for (const tag of [version, 'latest']) await pushImage(client, values.push, 'busybox', tag, busybox, creds);
    await pushImage(client, values.push, 'hello-http', '1.0', hello, creds);
    console.log(`pushed ${values.push}/busybox:${version}, ${values.push}/busybox:latest, ${values.push}/hello-http:1.0`);
  }
}

if (import.meta.main) {
  main().catch((error: unknown) => {
    console.error(`build-images: ${error instanceof Error ? error.message : String(error)}`);
    process.exit(1);
  });
}

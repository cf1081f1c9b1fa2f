/**
 * Images for the node agent against a real registry (Debian's `docker-registry` on 127.0.0.1):
 * pull by tag and by digest through OCI indexes and Docker manifest lists (linux/amd64 picked),
 * Docker schema 2; digest verification (a corrupted blob and a tampered manifest are refused and
 * nothing is stored); basic and bearer-token auth with a dockerconfigjson pull secret; an
 * unreachable registry; whiteouts and opaque directories under a real overlayfs mount; import of
 * OCI and docker-save archives; `skiff image ls/rm`; concurrent pulls downloading once; garbage
 * collection; pull throughput of a ~50 MB image.
 */
import assert from 'node:assert/strict';
import { execFile, execFileSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { promisify } from 'node:util';
import { gunzipSync } from 'node:zlib';
import {
  buildBusybox,
  buildHelloHttp,
  buildImage,
  buildIndex,
  busyboxLayer,
  ociArchive,
  pushImage,
  type BuiltImage,
} from '../scripts/build-images.ts';
import {
  DigestMismatchError,
  DockerKeyring,
  garbageCollectImages,
  ImageService,
  RegistryAuthError,
  RegistryClient,
  RegistryUnreachableError,
  sha256Digest,
  writeTar,
  type Image,
  type Manifest,
} from '../src/kubelet/index.ts';
import { freePort, registryBlobPath, startProxy, startRegistry, startTokenServer, type TestRegistry } from './helpers/registry.ts';

const run = promisify(execFile);
const skiff = join(import.meta.dirname, '..', 'bin', 'skiff');

function manifestOf(image: BuiltImage, index = 0): Manifest {
  const top = image.children.length > 0 ? image.children[index]! : image.top;
  return JSON.parse(top.bytes.toString()) as Manifest;
}

function secretFor(host: string, username: string, password: string) {
  const config = JSON.stringify({ auths: { [host]: { auth: Buffer.from(`${username}:${password}`).toString('base64') } } });
  return { type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': Buffer.from(config).toString('base64') } };
}

describe('images', () => {
  const prefix = `skiff-test-${randomBytes(4).toString('hex')}`;
  const work = mkdtempSync(join(tmpdir(), `${prefix}-images-`));
  let registry: TestRegistry;
  const client = new RegistryClient();
  const busybox = buildBusybox();
  const hello = buildHelloHttp();
  // A Docker manifest list with linux/arm64 listed first: the pull must still pick linux/amd64.
  const armImage = buildImage({ layers: [writeTar([{ name: 'ARCH', type: 'file', data: Buffer.from('arm64\n') }])], config: { Cmd: ['sh'] }, architecture: 'arm64', docker: true });
  const amdImage = buildImage({ layers: [busyboxLayer()], config: { Cmd: ['sh'] }, docker: true });
  const multi = buildIndex(
    [
      { image: armImage, platform: { os: 'linux', architecture: 'arm64', variant: 'v8' } },
      { image: amdImage, platform: { os: 'linux', architecture: 'amd64' } },
    ],
    { docker: true },
  );
  let n = 0;
  const newService = async (options: { insecureRegistries?: string[]; clock?: () => number } = {}) =>
    ImageService.open({ root: join(work, `store-${++n}`), ...options });

  before(async () => {
    registry = await startRegistry();
    await pushImage(client, registry.host, 'busybox', '1.35', busybox);
    await pushImage(client, registry.host, 'hello-http', '1.0', hello);
    await pushImage(client, registry.host, 'multiarch', '1', multi);
  });

  after(async () => {
    await registry?.stop();
    rmSync(work, { recursive: true, force: true });
  });

  it('pulls by tag through an OCI index and unpacks the layer once', async () => {
    const service = await newService();
    const progress: string[] = [];
    const image = await service.pull(`${registry.host}/busybox:1.35`, { onProgress: (p) => progress.push(p.status) });
    const amd = manifestOf(busybox);
    assert.equal(image.id, amd.config.digest);
    assert.deepEqual(image.repoTags, [`${registry.host}/busybox:1.35`]);
    assert.deepEqual(image.repoDigests, [`${registry.host}/busybox@${busybox.top.digest}`]);
    assert.equal(service.imageRef(image), `${registry.host}/busybox@${busybox.top.digest}`);
    assert.ok(progress.includes('downloading') && progress.at(-1) === 'done');
    const [layer] = await service.layers(image.id);
    assert.equal(statSync(join(layer!, 'bin/busybox')).mode & 0o7777, 0o755);
    assert.equal(readlinkSync(join(layer!, 'bin/sh')), '/bin/busybox');
    assert.equal(statSync(join(layer!, 'tmp')).mode & 0o7777, 0o1777);
    assert.equal(statSync(join(layer!, 'etc/passwd')).mtimeMs, 0);
    assert.deepEqual((await service.config(image.id)).Cmd, ['sh']);
    // The busybox in the layer runs.
    assert.equal(execFileSync('chroot', [layer!, '/bin/sh', '-c', 'echo hello from $(basename $0)'], { encoding: 'utf8' }).trim(), 'hello from sh');
    // A second pull finds everything present.
    const statuses: string[] = [];
    await service.pull(`${registry.host}/busybox:1.35`, { onProgress: (p) => statuses.push(p.status) });
    assert.deepEqual(statuses, ['exists']);
    assert.equal((await service.list()).length, 1);
  });

  it('picks linux/amd64 from a manifest list, by tag and by digest', async () => {
    const service = await newService();
    const amdConfig = manifestOf(multi, 1).config.digest;
    const byTag = await service.pull(`${registry.host}/multiarch:1`);
    assert.equal(byTag.id, amdConfig);
    const byDigest = await service.pull(`${registry.host}/multiarch@${multi.top.digest}`);
    assert.equal(byDigest.id, amdConfig);
    assert.deepEqual(byDigest.repoDigests, [`${registry.host}/multiarch@${multi.top.digest}`]);
    assert.deepEqual((await service.get(`${registry.host}/multiarch@${multi.top.digest}`))?.id, amdConfig);
    const [layer] = await service.layers(byTag.id);
    assert.ok(existsSync(join(layer!, 'bin/busybox')) && !existsSync(join(layer!, 'ARCH')));
    // A Docker schema 2 manifest straight under a tag, with its config defaults.
    const web = await service.pull(`${registry.host}/hello-http:1.0`);
    const config = await service.config(web.id);
    assert.deepEqual(config.Cmd, ['httpd', '-f', '-v', '-p', '8080', '-h', '/var/www']);
    assert.deepEqual(Object.keys(config.ExposedPorts), ['8080/tcp']);
    assert.equal((await service.layers(web.id)).length, 2);
  });

  it('refuses a corrupted blob and a tampered manifest, storing nothing', async () => {
    const image = buildImage({ layers: [writeTar([{ name: 'data', type: 'file', data: randomBytes(4096) }])], config: { Cmd: ['sh'] } });
    await pushImage(client, registry.host, 'corrupt', '1', image);
    const layerDigest = manifestOf(image).layers[0]!.digest;
    const path = registryBlobPath(registry, layerDigest);
    const bytes = readFileSync(path);
    bytes[bytes.length - 20] = bytes[bytes.length - 20]! ^ 0xff;
    writeFileSync(path, bytes);
    const service = await newService();
    await assert.rejects(service.pull(`${registry.host}/corrupt:1`), (error: Error) => {
      assert.ok(error instanceof DigestMismatchError, String(error));
      assert.match(error.message, new RegExp(`${layerDigest}.*expected|expected ${layerDigest}`));
      assert.ok(error.message.includes(sha256Digest(bytes)), error.message);
      return true;
    });
    assert.equal(await service.get(`${registry.host}/corrupt:1`), undefined);
    assert.ok(!existsSync(join(service.root, 'blobs', 'sha256', layerDigest.slice(7))));
    assert.deepEqual(readdirSync(join(service.root, 'ingest')), []);
    assert.deepEqual(readdirSync(join(service.root, 'layers')), []);

    // A proxy that alters the manifest of a pull by digest.
    const proxy = await startProxy(registry.host, {
      tamper: (method, path, body) => (method === 'GET' && path.includes('/manifests/') ? Buffer.from(body.toString().replace('"schemaVersion":2', '"schemaVersion": 2')) : undefined),
    });
    try {
      const service2 = await newService();
      await assert.rejects(service2.pull(`${proxy.host}/hello-http@${hello.top.digest}`), (error: Error) => {
        assert.ok(error instanceof DigestMismatchError, String(error));
        assert.ok(error.message.includes(hello.top.digest), error.message);
        return true;
      });
      assert.deepEqual(await service2.list(), []);
      assert.deepEqual(readdirSync(join(service2.root, 'blobs', 'sha256')), []);
    } finally {
      await proxy.stop();
    }
  });

  it('pulls with basic auth from a dockerconfigjson pull secret', async () => {
    const secured = await startRegistry({ basicAuth: { username: 'alice', password: 's3cret' } });
    try {
      await pushImage(client, secured.host, 'private/busybox', '1.35', busybox, { username: 'alice', password: 's3cret' });
      const service = await newService();
      await assert.rejects(service.pull(`${secured.host}/private/busybox:1.35`), RegistryAuthError);
      const wrong = DockerKeyring.fromSecrets([secretFor(secured.host, 'alice', 'wrong')]).lookup(`${secured.host}/private/busybox`);
      await assert.rejects(service.pull(`${secured.host}/private/busybox:1.35`, { credentials: wrong }), /refused access.*alice.*401/);
      const keyring = DockerKeyring.fromSecrets([secretFor('example.com', 'bob', 'x'), secretFor(secured.host, 'alice', 's3cret')]);
      const image = await service.pull(`${secured.host}/private/busybox:1.35`, { credentials: keyring.lookup(`${secured.host}/private/busybox`) });
      assert.equal(image.id, manifestOf(busybox).config.digest);
    } finally {
      await secured.stop();
    }
  });

  it('pulls with bearer tokens from a token server, caching the token', async () => {
    const tokens = await startTokenServer({ username: 'carol', password: 'tok3n' });
    const secured = await startRegistry({ tokenAuth: tokens });
    try {
      await pushImage(client, secured.host, 'team/hello-http', '1.0', hello, { username: 'carol', password: 'tok3n' });
      const service = await newService();
      await assert.rejects(service.pull(`${secured.host}/team/hello-http:1.0`), (error: Error) => error instanceof RegistryAuthError && /refused/.test(error.message));
      const credentials = DockerKeyring.fromSecrets([secretFor(`https://${secured.host}/v2/`, 'carol', 'tok3n')]).lookup(`${secured.host}/team/hello-http:1.0`);
      assert.equal(credentials.length, 1);
      const before = tokens.requests;
      const image = await service.pull(`${secured.host}/team/hello-http:1.0`, { credentials });
      assert.equal(image.id, manifestOf(hello).config.digest);
      // One token served the manifest and all blobs; a second pull reuses it.
      assert.equal(tokens.requests - before, 1);
      await service.pull(`${secured.host}/team/hello-http:1.0`, { credentials });
      assert.equal(tokens.requests - before, 1);
    } finally {
      await secured.stop();
      await tokens.stop();
    }
  });

  it('unpacks zstd and uncompressed layers', async () => {
    const image = buildImage({
      layers: [writeTar([{ name: 'z', type: 'file', data: Buffer.from('zstd') }])],
      config: { Cmd: ['sh'] },
      compression: 'zstd',
    });
    const plain = buildImage({ layers: [writeTar([{ name: 'p', type: 'file', data: Buffer.from('plain') }])], config: { Cmd: ['sh'] }, compression: 'none' });
    await pushImage(client, registry.host, 'zstd', '1', image);
    await pushImage(client, registry.host, 'plain', '1', plain);
    const service = await newService();
    const [z] = await service.layers((await service.pull(`${registry.host}/zstd:1`)).id);
    const [p] = await service.layers((await service.pull(`${registry.host}/plain:1`)).id);
    assert.equal(readFileSync(join(z!, 'z'), 'utf8'), 'zstd');
    assert.equal(readFileSync(join(p!, 'p'), 'utf8'), 'plain');
  });

  it('reports an unreachable registry clearly', async () => {
    const port = await freePort();
    const service = await newService();
    await assert.rejects(service.pull(`127.0.0.1:${port}/busybox:1.35`), (error: Error) => {
      assert.ok(error instanceof RegistryUnreachableError, String(error));
      assert.match(error.message, new RegExp(`cannot reach registry 127\\.0\\.0\\.1:${port} .*ECONNREFUSED`));
      return true;
    });
  });

  it('turns whiteouts and opaque directories into the right overlayfs view', async () => {
    const lower = writeTar([
      { name: 'a', type: 'directory' },
      { name: 'a/x', type: 'file', data: Buffer.from('x') },
      { name: 'a/y', type: 'file', data: Buffer.from('y') },
      { name: 'b', type: 'directory', mode: 0o750 },
      { name: 'b/old1', type: 'file', data: Buffer.from('1') },
      { name: 'b/sub', type: 'directory' },
      { name: 'b/sub/old2', type: 'file', data: Buffer.from('2') },
      { name: 'c', type: 'file', data: Buffer.from('c') },
      { name: 'd', type: 'directory' },
      { name: 'd/e', type: 'file', data: Buffer.from('e') },
      { name: 'link', type: 'link', linkname: 'c' },
      { name: 'owned', type: 'file', uid: 1234, gid: 5678, mode: 0o4755, data: Buffer.from('#!/bin/sh\n') },
      { name: 'null', type: 'char', devmajor: 1, devminor: 3, mode: 0o666 },
    ]);
    const upper = writeTar([
      { name: 'a', type: 'directory' },
      { name: 'a/.wh.x', type: 'file' },
      { name: 'b', type: 'directory', mode: 0o750 },
      { name: 'b/.wh..wh..opq', type: 'file' },
      { name: 'b/new', type: 'file', data: Buffer.from('new') },
      { name: '.wh.c', type: 'file' },
      { name: '.wh.d', type: 'file' },
      { name: 'd', type: 'file', data: Buffer.from('now a file') },
    ]);
    const image = buildImage({ layers: [lower, upper], config: { Cmd: ['sh'] } });
    await pushImage(client, registry.host, 'whiteouts', '1', image);
    const service = await newService();
    const pulled = await service.pull(`${registry.host}/whiteouts:1`);
    const layers = await service.layers(pulled.id);
    assert.equal(layers.length, 2);
    const whiteout = lstatSync(join(layers[1]!, 'c'));
    assert.ok(whiteout.isCharacterDevice() && whiteout.rdev === 0);
    const mnt = join(work, `${prefix}-mnt`);
    const upperDir = join(work, `${prefix}-upper`);
    const workDir = join(work, `${prefix}-work`);
    for (const d of [mnt, upperDir, workDir]) mkdirSync(d);
    // overlayfs lists lowerdirs highest first.
    execFileSync('mount', ['-t', 'overlay', 'overlay', '-o', `lowerdir=${[...layers].reverse().join(':')},upperdir=${upperDir},workdir=${workDir}`, mnt]);
    try {
      assert.deepEqual(readdirSync(mnt).sort(), ['a', 'b', 'd', 'link', 'null', 'owned']);
      assert.deepEqual(readdirSync(join(mnt, 'a')), ['y']);
      assert.deepEqual(readdirSync(join(mnt, 'b')), ['new']);
      assert.equal(statSync(join(mnt, 'b')).mode & 0o777, 0o750);
      assert.equal(readFileSync(join(mnt, 'd'), 'utf8'), 'now a file');
      assert.equal(readFileSync(join(mnt, 'link'), 'utf8'), 'c');
      const owned = statSync(join(mnt, 'owned'));
      assert.deepEqual([owned.uid, owned.gid, owned.mode & 0o7777], [1234, 5678, 0o4755]);
      const dev = statSync(join(mnt, 'null'));
      assert.ok(dev.isCharacterDevice() && dev.rdev === 0x103);
    } finally {
      execFileSync('umount', [mnt]);
    }
  });

  it('imports an OCI archive and a docker-save archive', async () => {
    const ociPath = join(work, 'busybox.oci.tar');
    writeFileSync(ociPath, ociArchive([{ image: busybox, name: 'skiff.local/busybox:1.35' }]));
    // docker save: manifest.json, <config hex>.json and <n>/layer.tar (uncompressed) with repo tags.
    const manifest = manifestOf(hello);
    const entries = [
      { name: `${manifest.config.digest.slice(7)}.json`, type: 'file' as const, data: hello.blobs.get(manifest.config.digest)! },
      ...manifest.layers.flatMap((l, i) => [
        { name: `${i}`, type: 'directory' as const },
        { name: `${i}/layer.tar`, type: 'file' as const, data: gunzipSync(hello.blobs.get(l.digest)!) },
      ]),
      {
        name: 'manifest.json',
        type: 'file' as const,
        data: Buffer.from(JSON.stringify([{ Config: `${manifest.config.digest.slice(7)}.json`, RepoTags: ['hello-http:1.0'], Layers: manifest.layers.map((_, i) => `${i}/layer.tar`) }])),
      },
    ];
    const dockerPath = join(work, 'hello.docker.tar');
    writeFileSync(dockerPath, writeTar(entries));
    const service = await newService();
    const [fromOci] = await service.import(ociPath);
    assert.equal(fromOci!.id, manifestOf(busybox).config.digest);
    assert.deepEqual(fromOci!.repoTags, ['skiff.local/busybox:1.35']);
    const [fromDocker] = await service.import(dockerPath);
    assert.equal(fromDocker!.id, manifest.config.digest);
    assert.deepEqual(fromDocker!.repoTags, ['docker.io/library/hello-http:1.0']);
    assert.deepEqual(fromDocker!.repoDigests, []);
    assert.equal(service.imageRef(fromDocker!), fromDocker!.id);
    const layers = await service.layers('hello-http:1.0');
    assert.equal(readFileSync(join(layers[1]!, 'var/www/index.html'), 'utf8'), '<h1>Hello from Skiff</h1>\n');
    // The busybox layer is shared by both images: unpacked once.
    assert.equal((await service.layers('skiff.local/busybox:1.35'))[0], layers[0]);
    await assert.rejects(service.import(join(work, 'missing.tar')), /cannot read archive/);
  });

  it('skiff image pull, import, ls and rm', async () => {
    const dataDir = join(work, 'cli');
    const pull = await run(skiff, ['image', 'pull', `${registry.host}/hello-http:1.0`, '--data-dir', dataDir]);
    assert.match(pull.stdout, /: downloading/);
    assert.match(pull.stdout, new RegExp(`Image is up to date for ${registry.host}/hello-http@${hello.top.digest}`));
    const ociPath = join(work, 'cli-busybox.oci.tar');
    writeFileSync(ociPath, ociArchive([{ image: busybox, name: 'skiff.local/busybox:1.35' }]));
    const imported = await run(skiff, ['image', 'import', ociPath, '--data-dir', dataDir]);
    assert.match(imported.stdout, /Imported skiff\.local\/busybox:1\.35/);
    const ls = await run(skiff, ['image', 'ls', '--data-dir', dataDir]);
    const lines = ls.stdout.trimEnd().split('\n');
    assert.match(lines[0]!, /^REPOSITORY\s+TAG\s+IMAGE ID\s+SIZE$/);
    const helloId = manifestOf(hello).config.digest.slice(7, 20);
    assert.match(lines[1]!, new RegExp(`^${registry.host}/hello-http\\s+1\\.0\\s+${helloId}\\s+1\\.06MB$`));
    assert.match(lines[2]!, /^skiff\.local\/busybox\s+1\.35\s+[0-9a-f]{13}\s+1\.06MB$/);
    const rm = await run(skiff, ['image', 'rm', 'skiff.local/busybox:1.35', '--data-dir', dataDir]);
    assert.equal(rm.stdout, 'Deleted: skiff.local/busybox:1.35\n');
    const after = await run(skiff, ['image', 'ls', '--data-dir', dataDir]);
    assert.equal(after.stdout.trimEnd().split('\n').length, 2);
    await assert.rejects(run(skiff, ['image', 'rm', 'nothing:here', '--data-dir', dataDir]), (e: { code: number; stderr: string }) => e.code === 1 && /no such image: nothing:here/.test(e.stderr));
  });

  it('concurrent pulls download each blob once', async () => {
    const proxy = await startProxy(registry.host);
    try {
      const service = await newService();
      const results = await Promise.all([
        service.pull(`${proxy.host}/busybox:1.35`),
        service.pull(`${proxy.host}/busybox:1.35`),
        service.pull(`${proxy.host}/busybox:1.35`),
        service.pull(`${proxy.host}/hello-http:1.0`),
      ]);
      assert.equal(new Set(results.slice(0, 3).map((r) => r.id)).size, 1);
      const blobGets = proxy.requests.filter((r) => r.startsWith('GET') && r.includes('/blobs/'));
      const perDigest = new Map<string, number>();
      for (const r of blobGets) {
        const digest = r.slice(r.lastIndexOf('/') + 1);
        perDigest.set(digest, (perDigest.get(digest) ?? 0) + 1);
      }
      // busybox config + layer, hello config + page layer; the shared busybox layer fetched once.
      assert.deepEqual([...perDigest.values()], [1, 1, 1, 1], blobGets.join('\n'));
      assert.equal(perDigest.size, 4);
    } finally {
      await proxy.stop();
    }
  });

  it('garbage collection removes the least recently used unused images', async () => {
    let now = 1_000_000;
    const service = await newService({ clock: () => now });
    const images: Image[] = [];
    for (let i = 0; i < 3; i++) {
      const image = buildImage({ layers: [writeTar([{ name: `blob${i}`, type: 'file', data: randomBytes(200_000) }])], config: { Cmd: ['sh'] } });
      await pushImage(client, registry.host, `gc${i}`, '1', image);
      now += 1000;
      images.push(await service.pull(`${registry.host}/gc${i}:1`));
    }
    // gc0 is the oldest but in use; gc1 is the least recently used unused one; gc2 was used last.
    now += 1000;
    await service.markUsed(images[2]!.id);
    const usage = await service.usage();
    const capacity = Math.ceil(usage / 0.9);
    const diskUsage = async () => ({ capacity, available: capacity - (await service.usage()) });
    const result = await garbageCollectImages(service, { inUse: (image) => image.id === images[0]!.id, diskUsage, clock: () => now });
    assert.ok(result.usagePercent >= 85 && result.usagePercent < 95);
    assert.deepEqual(result.removed, [images[1]!.id]);
    assert.ok(result.freedBytes >= result.bytesToFree);
    assert.deepEqual((await service.list()).map((i) => i.id), [images[0]!.id, images[2]!.id]);
    // Under the high threshold nothing more goes.
    const again = await garbageCollectImages(service, { inUse: () => false, diskUsage, clock: () => now });
    assert.deepEqual(again.removed, []);
  });

  it('a use is written at most once a minute per image; another process\'s changes to the records are seen', async () => {
    let now = 5_000_000;
    const service = await newService({ clock: () => now });
    const image = await service.pull(`${registry.host}/busybox:1.35`);
    const lastUsed = async (s: ImageService) => (await s.get(image.id))!.lastUsed;
    // Another service over the same directory: what `skiff image` does next to a running agent.
    const other = await ImageService.open({ root: service.root });
    now += 1_000;
    await service.markUsed(image.id);
    assert.equal(await lastUsed(other), now);
    const first = now;
    now += 30_000;
    await service.markUsed(image.id);
    assert.equal(await lastUsed(service), first, 'a use within the minute is not written');
    now += 31_000;
    await service.markUsed(image.id);
    assert.equal(await lastUsed(service), now);
    // The other process removes it: this one sees it gone at once.
    await other.remove(image.id);
    assert.equal(await service.get(image.id), undefined);
    assert.deepEqual(await service.list(), []);
  });

  it('pulls a ~50 MB image (throughput)', async (t) => {
    const layers = Array.from({ length: 5 }, (_, i) => writeTar([{ name: `data${i}.bin`, type: 'file', data: randomBytes(10_000_000) }]));
    const image = buildImage({ layers, config: { Cmd: ['sh'] } });
    await pushImage(client, registry.host, 'big', '1', image);
    const total = manifestOf(image).layers.reduce((s, l) => s + l.size, 0);
    const service = await newService();
    const start = process.hrtime.bigint();
    const pulled = await service.pull(`${registry.host}/big:1`);
    const seconds = Number(process.hrtime.bigint() - start) / 1e9;
    t.diagnostic(`pulled ${(total / 1e6).toFixed(1)} MB in ${seconds.toFixed(2)} s: ${(total / 1e6 / seconds).toFixed(1)} MB/s (download, verify, unpack)`);
    assert.equal((await service.layers(pulled.id)).length, 5);
  });
});

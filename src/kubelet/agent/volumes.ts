/**
 * Pod volumes on the node, under `<root>/<pod uid>/volumes/<plugin>/<name>` as the kubelet lays
 * them out: emptyDir (a directory, or a tmpfs for `medium: Memory` sized by `sizeLimit`),
 * hostPath (with its type checks), configMap, secret (always on a tmpfs), downwardAPI and
 * projected volumes (a `serviceAccountToken` source fails the mount: no TokenRequest API yet). The last four are written by an atomic writer as upstream's: the files live
 * in a timestamped directory, `..data` points at it, and each visible name is a symlink through
 * `..data`; an update writes a new directory and swaps `..data` with one rename, so a running
 * container sees either the old or the new set, never a mix, and sees updates without a restart.
 *
 * Contract: `setup` is idempotent and cheap when nothing changed (a pod sync calls it every
 * time); `teardown` unmounts and removes everything of the pod.
 */
import { randomBytes } from 'node:crypto';
import { spawn } from 'node:child_process';
import { chmod, chown, lstat, mkdir, readFile, readdir, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, normalize } from 'node:path';
import type { Container, DownwardAPIVolumeFile, KeyToPath, Pod, Volume } from 'kubernetes-types/core/v1.js';
import type { MountConfig } from '../runtime/container-runtime.ts';
import { formatMap, podFieldValue, type EnvContext, type ObjectSource } from './env.ts';
import { ContainerConfigError, VolumeError } from './errors.ts';
import { parseQuantity, podQosClass, podResources, resourceFieldValue } from './resources.ts';

/** Options of {@link VolumeManager}. */
export interface VolumeManagerOptions {
  /** Pods directory, e.g. `<data-dir>/agent/pods`. */
  root: string;
  objects: ObjectSource;
}

/** A prepared volume: where it is on the host. */
export interface PreparedVolume {
  path: string;
  /** The volume itself is read-only (configMap, secret, downwardAPI, projected). */
  readOnly: boolean;
}

type Payload = Map<string, { data: Buffer; mode: number }>;

function exec(cmd: string, args: string[]): Promise<{ code: number; stderr: string }> {
  return new Promise((resolve) => {
    const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', (e) => resolve({ code: 127, stderr: e.message }));
    child.on('close', (code) => resolve({ code: code ?? 1, stderr }));
  });
}

async function isMountPoint(path: string): Promise<boolean> {
  try {
    const [a, b] = await Promise.all([stat(path), stat(dirname(path))]);
    return a.dev !== b.dev;
  } catch {
    return false;
  }
}

/** Mounts a tmpfs at `path` unless one is there. */
async function ensureTmpfs(path: string, sizeBytes?: number): Promise<void> {
  await mkdir(path, { recursive: true });
  if (await isMountPoint(path)) return;
  const opts = sizeBytes ? `size=${sizeBytes}` : 'mode=0777';
  const r = await exec('mount', ['-t', 'tmpfs', '-o', sizeBytes ? `${opts},mode=0777` : opts, 'tmpfs', path]);
  if (r.code !== 0) throw new VolumeError(`mount tmpfs at ${path}: ${r.stderr.trim()}`);
}

function pluginDir(volume: Volume): string | undefined {
  if (volume.emptyDir) return 'kubernetes.io~empty-dir';
  if (volume.configMap) return 'kubernetes.io~configmap';
  if (volume.secret) return 'kubernetes.io~secret';
  if (volume.downwardAPI) return 'kubernetes.io~downward-api';
  if (volume.projected) return 'kubernetes.io~projected';
  return undefined;
}

/** See the file header. */
export class VolumeManager {
  readonly #root: string;
  readonly #objects: ObjectSource;

  constructor(options: VolumeManagerOptions) {
    this.#root = options.root;
    this.#objects = options.objects;
  }

  /** The pod's directory on the host. */
  podDir(uid: string): string {
    return join(this.#root, uid);
  }

  /**
   * Prepares (or refreshes) every volume of the pod.
   * @throws VolumeError naming the first volume that failed (event `FailedMount`).
   */
  async setup(pod: Pod, ctx: EnvContext): Promise<Map<string, PreparedVolume>> {
    const uid = pod.metadata!.uid!;
    const out = new Map<string, PreparedVolume>();
    const fsGroup = pod.spec?.securityContext?.fsGroup;
    for (const volume of pod.spec?.volumes ?? []) {
      try {
        out.set(volume.name, await this.#setupOne(pod, uid, volume, ctx, fsGroup));
      } catch (error) {
        if (error instanceof VolumeError) throw error;
        throw new VolumeError(`MountVolume.SetUp failed for volume "${volume.name}" : ${(error as Error).message}`, { cause: error });
      }
    }
    return out;
  }

  async #setupOne(pod: Pod, uid: string, volume: Volume, ctx: EnvContext, fsGroup: number | undefined): Promise<PreparedVolume> {
    const ns = pod.metadata?.namespace ?? 'default';
    const plugin = pluginDir(volume);
    const dir = plugin ? join(this.podDir(uid), 'volumes', plugin, volume.name) : '';
    if (volume.hostPath) return { path: await this.#hostPath(volume), readOnly: false };
    if (volume.emptyDir) {
      if (volume.emptyDir.medium === 'Memory') {
        await ensureTmpfs(dir, memoryVolumeSize(pod, parseQuantity(volume.emptyDir.sizeLimit), ctx.allocatable.memory));
      } else {
        await mkdir(dir, { recursive: true });
      }
      if (fsGroup !== undefined) await chown(dir, 0, fsGroup);
      // One chmod, to the final mode: every sync of the pod sets its volumes up again, and a
      // container creating a file while the setgid bit was briefly off would get the wrong group.
      await chmod(dir, fsGroup !== undefined ? 0o2777 : 0o777);
      return { path: dir, readOnly: false };
    }
    if (!plugin) throw new VolumeError(`MountVolume.SetUp failed for volume "${volume.name}" : volume type not supported by this node`);
    let payload: Payload;
    if (volume.configMap) {
      const src = volume.configMap;
      const cm = await this.#objects.configMap(ns, src.name ?? '');
      if (!cm && !src.optional) throw new VolumeError(`MountVolume.SetUp failed for volume "${volume.name}" : configmap "${src.name}" not found`);
      payload = projectKeys(volume.name, 'configmap', src.name ?? '', mapOf(cm?.data, cm?.binaryData), src.items, src.defaultMode ?? 0o644, src.optional === true);
    } else if (volume.secret) {
      const src = volume.secret;
      const secret = await this.#objects.secret(ns, src.secretName ?? '');
      if (!secret && !src.optional) throw new VolumeError(`MountVolume.SetUp failed for volume "${volume.name}" : secret "${src.secretName}" not found`);
      payload = projectKeys(volume.name, 'secret', src.secretName ?? '', mapOf(secret?.stringData, secret?.data), src.items, src.defaultMode ?? 0o644, src.optional === true);
      await ensureTmpfs(dir);
    } else if (volume.downwardAPI) {
      payload = downward(pod, volume.downwardAPI.items ?? [], volume.downwardAPI.defaultMode ?? 0o644, ctx);
    } else {
      const projected = volume.projected!;
      const mode = projected.defaultMode ?? 0o644;
      payload = new Map();
      for (const source of projected.sources ?? []) {
        let part: Payload = new Map();
        if (source.configMap) {
          const cm = await this.#objects.configMap(ns, source.configMap.name ?? '');
          if (!cm && !source.configMap.optional) throw new VolumeError(`MountVolume.SetUp failed for volume "${volume.name}" : configmap "${source.configMap.name}" not found`);
          part = projectKeys(volume.name, 'configmap', source.configMap.name ?? '', mapOf(cm?.data, cm?.binaryData), source.configMap.items, mode, source.configMap.optional === true);
        } else if (source.secret) {
          const secret = await this.#objects.secret(ns, source.secret.name ?? '');
          if (!secret && !source.secret.optional) throw new VolumeError(`MountVolume.SetUp failed for volume "${volume.name}" : secret "${source.secret.name}" not found`);
          part = projectKeys(volume.name, 'secret', source.secret.name ?? '', mapOf(secret?.stringData, secret?.data), source.secret.items, mode, source.secret.optional === true);
        } else if (source.downwardAPI) {
          part = downward(pod, source.downwardAPI.items ?? [], mode, ctx);
        } else if (source.serviceAccountToken) {
          // A token needs the TokenRequest API (serviceaccounts/token), which Skiff does not serve yet:
          // as upstream when a token cannot be fetched, the mount fails rather than a pod without its token file.
          throw new VolumeError(`MountVolume.SetUp failed for volume "${volume.name}" : failed to fetch token: the API server does not serve TokenRequest (serviceaccounts/token)`);
        }
        for (const [k, v] of part) payload.set(k, v);
      }
      await ensureTmpfs(dir);
    }
    await mkdir(dir, { recursive: true });
    await atomicWrite(dir, payload, fsGroup);
    return { path: dir, readOnly: true };
  }

  async #hostPath(volume: Volume): Promise<string> {
    const path = volume.hostPath!.path;
    const type = volume.hostPath!.type ?? '';
    const st = await stat(path).catch(() => undefined);
    const fail = (what: string) => {
      throw new VolumeError(`MountVolume.SetUp failed for volume "${volume.name}" : hostPath type check failed: ${path} is not ${what}`);
    };
    switch (type) {
      case 'DirectoryOrCreate':
        if (!st) await mkdir(path, { recursive: true, mode: 0o755 });
        else if (!st.isDirectory()) fail('a directory');
        break;
      case 'FileOrCreate':
        if (!st) {
          await mkdir(dirname(path), { recursive: true });
          await writeFile(path, '', { mode: 0o644 });
        } else if (!st.isFile()) fail('a file');
        break;
      case 'Directory':
        if (!st?.isDirectory()) fail('a directory');
        break;
      case 'File':
        if (!st?.isFile()) fail('a file');
        break;
      case 'Socket':
        if (!st?.isSocket()) fail('a socket file');
        break;
      case 'CharDevice':
        if (!st?.isCharacterDevice()) fail('a character device');
        break;
      case 'BlockDevice':
        if (!st?.isBlockDevice()) fail('a block device');
        break;
      default:
        break;
    }
    return path;
  }

  /**
   * The container's mounts for its volumeMounts (subPath resolved inside the volume; a missing
   * subPath directory is created as upstream does).
   * @throws ContainerConfigError for a mount of an unknown volume or a subPath leaving the volume.
   */
  async mountsFor(container: Container, volumes: Map<string, PreparedVolume>, pod: Pod, ctx: Pick<EnvContext, 'podIps' | 'hostIps'>): Promise<MountConfig[]> {
    const out: MountConfig[] = [];
    for (const vm of container.volumeMounts ?? []) {
      const vol = volumes.get(vm.name);
      if (!vol) throw new ContainerConfigError(`cannot find volume "${vm.name}" to mount into container "${container.name}"`);
      let hostPath = vol.path;
      let sub = vm.subPath ?? '';
      if (vm.subPathExpr) sub = vm.subPathExpr.replace(/\$\(([^)]+)\)/g, (_, n: string) => {
        const e = container.env?.find((v) => v.name === n);
        if (e?.valueFrom?.fieldRef) return podFieldValue(pod, e.valueFrom.fieldRef.fieldPath, ctx);
        return e?.value ?? '';
      });
      if (sub) {
        const clean = normalize(sub);
        if (clean.startsWith('..') || clean.startsWith('/')) throw new ContainerConfigError(`subPath "${sub}" must not leave the volume "${vm.name}"`);
        hostPath = join(vol.path, clean);
        // Inside an atomic-writer volume the visible name is a symlink through ..data: follow it.
        const link = await readlink(hostPath).catch(() => undefined);
        if (link !== undefined) hostPath = join(dirname(hostPath), link);
        if (!(await stat(hostPath).catch(() => undefined))) await mkdir(hostPath, { recursive: true, mode: 0o755 });
      }
      const propagation = vm.mountPropagation === 'Bidirectional' ? 'rshared' : vm.mountPropagation === 'HostToContainer' ? 'rslave' : 'private';
      out.push({ containerPath: vm.mountPath, hostPath, readonly: vm.readOnly === true || vol.readOnly, propagation });
    }
    return out;
  }

  /** Unmounts every tmpfs of the pod and removes its directory. */
  async teardown(uid: string): Promise<void> {
    const base = join(this.podDir(uid), 'volumes');
    for (const plugin of await readdir(base).catch(() => [] as string[])) {
      for (const name of await readdir(join(base, plugin)).catch(() => [] as string[])) {
        const path = join(base, plugin, name);
        for (let i = 0; i < 4 && (await isMountPoint(path)); i++) await exec('umount', [path]);
      }
    }
    await rm(this.podDir(uid), { recursive: true, force: true });
  }
}

/**
 * The size of a `medium: Memory` emptyDir, as upstream's `calculateEmptyDirMemorySize`: the
 * node's allocatable memory, lowered to the pod's memory limit (when every container has one),
 * lowered to the volume's `sizeLimit`.
 */
export function memoryVolumeSize(pod: Pod, sizeLimit: number | undefined, allocatableMemory: number): number | undefined {
  let size = allocatableMemory > 0 ? allocatableMemory : undefined;
  const podLimit = podResources(pod, podQosClass(pod))?.memoryLimitBytes;
  if (podLimit && podLimit > 0 && (size === undefined || podLimit <= size)) size = podLimit;
  if (sizeLimit && sizeLimit > 0 && (size === undefined || sizeLimit <= size)) size = Math.floor(sizeLimit);
  return size;
}

/** data + binaryData (configMap) or stringData + data (secret, base64 values) as bytes. */
function mapOf(plain: Record<string, string> | undefined, base64: Record<string, string> | undefined): Map<string, Buffer> {
  const out = new Map<string, Buffer>();
  for (const [k, v] of Object.entries(base64 ?? {})) out.set(k, Buffer.from(v, 'base64'));
  for (const [k, v] of Object.entries(plain ?? {})) out.set(k, Buffer.from(v, 'utf8'));
  return out;
}

function projectKeys(volume: string, kind: string, name: string, data: Map<string, Buffer>, items: KeyToPath[] | undefined, mode: number, optional: boolean): Payload {
  const out: Payload = new Map();
  if (!items || items.length === 0) {
    for (const [k, v] of data) out.set(k, { data: v, mode });
    return out;
  }
  for (const item of items) {
    const v = data.get(item.key);
    if (v === undefined) {
      if (optional) continue;
      throw new VolumeError(`MountVolume.SetUp failed for volume "${volume}" : configuration error: ${kind} ${name} has no key ${item.key}`);
    }
    out.set(item.path, { data: v, mode: item.mode ?? mode });
  }
  return out;
}

function downward(pod: Pod, items: DownwardAPIVolumeFile[], mode: number, ctx: EnvContext): Payload {
  const out: Payload = new Map();
  for (const item of items) {
    let value = '';
    if (item.fieldRef) value = podFieldValue(pod, item.fieldRef.fieldPath, ctx);
    else if (item.resourceFieldRef) {
      const c = pod.spec?.containers?.find((x) => x.name === item.resourceFieldRef!.containerName);
      value = resourceFieldValue(c, item.resourceFieldRef.resource, item.resourceFieldRef.divisor, ctx.allocatable);
    }
    out.set(item.path, { data: Buffer.from(value), mode: item.mode ?? mode });
  }
  return out;
}

/** Reads the payload currently visible through `..data` (undefined when absent). */
async function currentPayload(dir: string): Promise<Payload | undefined> {
  const target = await readlink(join(dir, '..data')).catch(() => undefined);
  if (!target) return undefined;
  const out: Payload = new Map();
  const walk = async (rel: string): Promise<void> => {
    for (const e of await readdir(join(dir, target, rel), { withFileTypes: true })) {
      const p = rel ? `${rel}/${e.name}` : e.name;
      if (e.isDirectory()) await walk(p);
      else {
        const file = join(dir, target, p);
        out.set(p, { data: await readFile(file), mode: (await lstat(file)).mode & 0o7777 });
      }
    }
  };
  await walk('');
  return out;
}

function samePayload(a: Payload, b: Payload): boolean {
  if (a.size !== b.size) return false;
  for (const [k, v] of a) {
    const o = b.get(k);
    if (!o || o.mode !== v.mode || !o.data.equals(v.data)) return false;
  }
  return true;
}

/** Upstream's AtomicWriter: new timestamped dir, `..data` swapped by rename, visible names as symlinks. */
export async function atomicWrite(dir: string, payload: Payload, fsGroup?: number): Promise<void> {
  for (const key of payload.keys()) {
    const clean = normalize(key);
    if (clean.startsWith('..') || clean.startsWith('/')) throw new VolumeError(`invalid path "${key}" in volume payload`);
  }
  const current = await currentPayload(dir);
  if (current && samePayload(current, payload)) return;
  const oldTarget = await readlink(join(dir, '..data')).catch(() => undefined);
  const stamp = `..${new Date().toISOString().replace(/[-:]/g, '_').replace('T', '_').replace('Z', '')}.${randomBytes(4).toString('hex')}`;
  const tsDir = join(dir, stamp);
  await mkdir(tsDir, { mode: 0o755 });
  for (const [key, { data, mode }] of payload) {
    const file = join(tsDir, key);
    await mkdir(dirname(file), { recursive: true });
    await writeFile(file, data);
    // With an fsGroup the group may read (and the files belong to it), as SetVolumeOwnership does.
    if (fsGroup !== undefined) await chown(file, 0, fsGroup);
    await chmod(file, fsGroup !== undefined ? mode | 0o040 : mode);
  }
  const tmpLink = join(dir, '..data_tmp');
  await rm(tmpLink, { force: true });
  await symlink(stamp, tmpLink);
  await rename(tmpLink, join(dir, '..data'));
  const top = new Set([...payload.keys()].map((k) => k.split('/')[0]!));
  for (const name of top) {
    const link = join(dir, name);
    const existing = await readlink(link).catch(() => undefined);
    if (existing !== join('..data', name)) {
      await rm(link, { force: true, recursive: true });
      await symlink(join('..data', name), link);
    }
  }
  for (const e of await readdir(dir)) {
    if (e.startsWith('..') || top.has(e)) continue;
    await rm(join(dir, e), { force: true, recursive: true });
  }
  if (oldTarget && oldTarget !== stamp) await rm(join(dir, oldTarget), { recursive: true, force: true });
}

/**
 * Applies one layer's tar entries to an empty directory, producing the directory overlayfs
 * takes as a lower layer — as containerd's overlay snapshotter applies layers: OCI whiteouts
 * become overlayfs whiteouts (`.wh.NAME` → a character device 0/0 named NAME) and opaque
 * markers (`DIR/.wh..wh..opq`) become the `trusted.overlay.opaque=y` xattr on DIR; modes,
 * ownership, mtimes and xattrs are kept; device nodes are made only when running as root.
 * Node has no mknod or setxattr, so those few operations run `mknod` and `setfattr`.
 */
import { execFile } from 'node:child_process';
import { chmod, link, lchown, lstat, lutimes, mkdir, open, rm, symlink } from 'node:fs/promises';
import { join, posix } from 'node:path';
import { promisify } from 'node:util';
import { LayerUnpackError } from './errors.ts';
import type { TarEntry } from './tar.ts';

const run = promisify(execFile);

const WHITEOUT_PREFIX = '.wh.';
const OPAQUE_MARKER = '.wh..wh..opq';

/** Options of {@link applyLayer}. */
export interface ApplyLayerOptions {
  /** Whether to chown, make device nodes and set trusted xattrs (default: running as root). */
  asRoot?: boolean;
}

/** What applying a layer produced. */
export interface ApplyLayerResult {
  /** Bytes of regular-file content written. */
  bytes: number;
  /** Entries applied (whiteouts included). */
  entries: number;
}

/** A tar path as a clean relative path (`''` for the root); `..` cannot climb above the root. */
function cleanPath(name: string): string {
  const normalized = posix.normalize(`/${name}`);
  return normalized === '/' ? '' : normalized.replace(/\/+$/, '').slice(1);
}

async function runTool(tool: string, args: string[], what: string): Promise<void> {
  try {
    await run(tool, args);
  } catch (cause) {
    const stderr = (cause as { stderr?: string }).stderr?.trim();
    throw new LayerUnpackError(`${what}: ${tool} failed${stderr ? `: ${stderr}` : ''}`, { cause });
  }
}

/** Sets an extended attribute without following a symlink. */
export async function setXattr(path: string, name: string, value: Buffer): Promise<void> {
  await runTool('setfattr', ['-h', '-n', name, '-v', `0x${value.toString('hex')}`, path], `setting xattr ${name} on ${path}`);
}

async function mknod(path: string, type: 'c' | 'b' | 'p', major: number, minor: number): Promise<void> {
  await runTool('mknod', type === 'p' ? [path, 'p'] : [path, type, String(major), String(minor)], `making device node ${path}`);
}

/**
 * Applies `entries` to `dir` (which should be empty). Later entries for the same path replace
 * earlier ones. An entry whose parent is not a directory of this layer (e.g. a symlink) is
 * refused, so a layer cannot write outside `dir`.
 * @throws LayerUnpackError on a path that escapes, a hard link to a missing file, or a tool failure.
 */
export async function applyLayer(entries: AsyncIterable<TarEntry>, dir: string, options: ApplyLayerOptions = {}): Promise<ApplyLayerResult> {
  const asRoot = options.asRoot ?? process.getuid?.() === 0;
  const knownDirs = new Set<string>(['']);
  const dirTimes: { path: string; mtime: number }[] = [];
  const opaque = new Set<string>();
  let bytes = 0;
  let count = 0;

  const ensureParents = async (rel: string): Promise<void> => {
    const parts = rel.split('/');
    let current = '';
    for (let i = 0; i < parts.length - 1; i++) {
      current = current === '' ? parts[i]! : `${current}/${parts[i]}`;
      if (knownDirs.has(current)) continue;
      const stat = await lstat(join(dir, current)).catch(() => undefined);
      if (stat === undefined) await mkdir(join(dir, current), { mode: 0o755 });
      else if (!stat.isDirectory()) throw new LayerUnpackError(`layer entry "${rel}": "${current}" is not a directory in this layer`);
      knownDirs.add(current);
    }
  };

  for await (const { header, body } of entries) {
    count++;
    const rel = cleanPath(header.name);
    const base = posix.basename(rel);
    if (base.startsWith(WHITEOUT_PREFIX)) {
      await ensureParents(rel);
      const parent = posix.dirname(rel) === '.' ? '' : posix.dirname(rel);
      if (base === OPAQUE_MARKER) opaque.add(parent);
      else if (!base.startsWith(`${WHITEOUT_PREFIX}${WHITEOUT_PREFIX}`)) {
        // Any other `.wh..wh.` name is aufs bookkeeping, not a deletion.
        const target = join(dir, parent, base.slice(WHITEOUT_PREFIX.length));
        await rm(target, { recursive: true, force: true });
        await mknod(target, 'c', 0, 0);
      }
      continue;
    }
    const full = rel === '' ? dir : join(dir, rel);
    if (rel !== '') {
      await ensureParents(rel);
      const existing = await lstat(full).catch(() => undefined);
      if (existing !== undefined && !(existing.isDirectory() && header.type === 'directory')) {
        await rm(full, { recursive: true, force: true });
        knownDirs.delete(rel);
      }
    }
    switch (header.type) {
      case 'directory':
        if (rel !== '') await mkdir(full, { mode: 0o700, recursive: true });
        knownDirs.add(rel);
        dirTimes.push({ path: full, mtime: header.mtime });
        break;
      case 'file': {
        const handle = await open(full, 'w', 0o600);
        try {
          for await (const piece of body) {
            await handle.write(piece);
            bytes += piece.length;
          }
        } finally {
          await handle.close();
        }
        break;
      }
      case 'symlink':
        await symlink(header.linkname, full);
        break;
      case 'link': {
        const target = cleanPath(header.linkname);
        const stat = await lstat(join(dir, target)).catch(() => undefined);
        if (stat === undefined || stat.isDirectory()) throw new LayerUnpackError(`layer entry "${rel}": hard link target "${header.linkname}" is not a file of this layer`);
        await link(join(dir, target), full);
        break;
      }
      case 'char':
      case 'block':
      case 'fifo':
        // Only root may make device nodes; unprivileged unpacking skips them, as containerd does in user namespaces.
        if (!asRoot && header.type !== 'fifo') continue;
        await mknod(full, header.type === 'char' ? 'c' : header.type === 'block' ? 'b' : 'p', header.devmajor, header.devminor);
        break;
    }
    if (asRoot) await lchown(full, header.uid, header.gid);
    // chmod after chown: chown clears the setuid and setgid bits.
    if (header.type !== 'symlink' && header.type !== 'link') await chmod(full, header.mode);
    for (const [name, value] of Object.entries(header.xattrs)) {
      if (!asRoot && (name.startsWith('trusted.') || name.startsWith('security.'))) continue;
      await setXattr(full, name, value);
    }
    if (header.type !== 'directory' && header.type !== 'link') await lutimes(full, header.mtime, header.mtime);
  }
  for (const parent of opaque) await setXattr(parent === '' ? dir : join(dir, parent), 'trusted.overlay.opaque', Buffer.from('y'));
  // Directory times last: creating their children changed them.
  for (const { path, mtime } of dirTimes.reverse()) await lutimes(path, mtime, mtime);
  return { bytes, entries: count };
}

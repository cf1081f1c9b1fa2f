/**
 * Container log rotation by size, as upstream's kubelet container log manager: every
 * `monitorIntervalMs` (upstream's `containerLogMonitorInterval`, 10 s) each running container's
 * log file is checked; one of `maxSizeBytes` or more (`containerLogMaxSize`, 10Mi) is rotated:
 *
 * 1. the rotated files `<log>.*` are tidied: temporary files (`.tmp`) and files whose `.gz`
 *    already exists are removed;
 * 2. the oldest rotated files are removed until `maxFiles - 2` remain (`containerLogMaxFiles`,
 *    5: the current file and the one about to be rotated make up the rest);
 * 3. every rotated file not yet compressed is gzipped (`<log>.<ts>.gz`, through `.gz.tmp`);
 * 4. the current file is renamed to `<log>.<YYYYMMDD-hhmmss>` (local time, upstream's format)
 *    and the runtime is asked to reopen the log (`reopenContainerLog`); if that fails the file
 *    is renamed back so the next round tries again.
 *
 * So at most `maxFiles` files exist per container: the current one, the latest rotated one
 * uncompressed (a reader following the log can finish it), older ones compressed. `kubectl
 * logs` reads the current file only, as upstream. Logs of exited containers are never rotated
 * (`--previous` reads them whole). `clean(id)` removes a container's log and rotated files.
 *
 * Contract: rotations of one manager never overlap; a failure for one container is logged and
 * the others go on. Two rotations within the same second would reuse a name: the second is
 * put off to the next round instead of overwriting the first.
 */
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';
import type { ContainerRuntime } from '../runtime/container-runtime.ts';
import { KubeletError } from './errors.ts';
import { parseQuantity } from './resources.ts';

/** Upstream's defaults. */
export const DEFAULT_CONTAINER_LOG_MAX_SIZE = 10 * 2 ** 20;
export const DEFAULT_CONTAINER_LOG_MAX_FILES = 5;
export const DEFAULT_CONTAINER_LOG_MONITOR_INTERVAL_MS = 10_000;

const COMPRESS_SUFFIX = '.gz';
const TMP_SUFFIX = '.tmp';

/** Options of {@link ContainerLogManager}. */
export interface ContainerLogManagerOptions {
  runtime: ContainerRuntime;
  /** Rotate at this size (bytes); default 10Mi. Negative turns rotation off, as upstream. */
  maxSizeBytes?: number;
  /** Files kept per container, the current one included; default 5; must be at least 2. */
  maxFiles?: number;
  /** How often logs are checked; default 10 s. */
  monitorIntervalMs?: number;
  /** Clock for the rotated files' names; default `new Date()`. */
  now?: () => Date;
  log?: (line: string) => void;
}

/** `YYYYMMDD-hhmmss` in local time (Go's `20060102-150405`). */
export function rotationTimestamp(date: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${date.getFullYear()}${p(date.getMonth() + 1)}${p(date.getDate())}-${p(date.getHours())}${p(date.getMinutes())}${p(date.getSeconds())}`;
}

/** Parses `containerLogMaxSize` (a quantity: `10Mi`, `500Ki`, `1024`); throws on nonsense. */
export function parseLogMaxSize(text: string): number {
  const n = parseQuantity(text);
  if (n === undefined || !Number.isFinite(n)) throw new KubeletError('ERR_LOG_MAX_SIZE', `invalid container log max size "${text}"`);
  return Math.floor(n);
}

/** The rotation settings as `startAgent` takes them. */
export interface ContainerLogSettings {
  maxSizeBytes?: number;
  maxFiles?: number;
  monitorIntervalMs?: number;
}

/** `300ms`, `10s`, `1m30s` → milliseconds; undefined when malformed or zero. */
/** A Go duration (`1h2m3s`, `300ms`) in ms; undefined when not one or zero. */
export function durationMs(text: string): number | undefined {
  const m = /^(?:(\d+)h)?(?:(\d+)m(?!s))?(?:(\d+)s)?(?:(\d+)ms)?$/.exec(text);
  if (!m || text === '') return undefined;
  const ms = ((Number(m[1] ?? 0) * 60 + Number(m[2] ?? 0)) * 60 + Number(m[3] ?? 0)) * 1000 + Number(m[4] ?? 0);
  return ms > 0 ? ms : undefined;
}

/**
 * A `--kubelet-arg` for log rotation, upstream's names: `container-log-max-size=10Mi`,
 * `container-log-max-files=5`, `container-log-monitor-interval=10s` (KubeletConfiguration's
 * `containerLogMonitorInterval`). Undefined when `key` is none of them or the value is invalid.
 */
export function containerLogSetting(key: string, value: string): ContainerLogSettings | undefined {
  if (key === 'container-log-max-size') {
    try {
      return { maxSizeBytes: parseLogMaxSize(value) };
    } catch {
      return undefined;
    }
  }
  if (key === 'container-log-max-files') return /^[0-9]+$/.test(value) && Number(value) > 1 ? { maxFiles: Number(value) } : undefined;
  if (key === 'container-log-monitor-interval') {
    const ms = durationMs(value);
    return ms ? { monitorIntervalMs: ms } : undefined;
  }
  return undefined;
}

/** See the file header. */
export class ContainerLogManager {
  readonly #runtime: ContainerRuntime;
  readonly #maxSize: number;
  readonly #maxFiles: number;
  readonly #intervalMs: number;
  readonly #now: () => Date;
  readonly #log: (line: string) => void;
  #timer: NodeJS.Timeout | undefined;
  #running: Promise<void> = Promise.resolve();

  constructor(options: ContainerLogManagerOptions) {
    this.#runtime = options.runtime;
    this.#maxSize = options.maxSizeBytes ?? DEFAULT_CONTAINER_LOG_MAX_SIZE;
    this.#maxFiles = options.maxFiles ?? DEFAULT_CONTAINER_LOG_MAX_FILES;
    if (!Number.isInteger(this.#maxFiles) || this.#maxFiles < 2) throw new KubeletError('ERR_LOG_MAX_FILES', `invalid container log max files ${this.#maxFiles}: must be > 1`);
    this.#intervalMs = options.monitorIntervalMs ?? DEFAULT_CONTAINER_LOG_MONITOR_INTERVAL_MS;
    this.#now = options.now ?? (() => new Date());
    this.#log = options.log ?? ((l) => console.error(l));
  }

  /** Starts the periodic check (a no-op when rotation is off or the runtime cannot reopen logs). */
  start(): void {
    if (this.#timer || this.#maxSize < 0 || !this.#runtime.reopenContainerLog) return;
    this.#timer = setInterval(() => void this.rotateLogs(), this.#intervalMs);
    this.#timer.unref();
  }

  /** Stops the periodic check and waits for a rotation under way. */
  async stop(): Promise<void> {
    clearInterval(this.#timer);
    this.#timer = undefined;
    await this.#running;
  }

  /** One pass over every running container (what each tick does); resolves when done. */
  rotateLogs(): Promise<void> {
    const pass = this.#running.then(() => this.#pass());
    this.#running = pass.catch(() => {});
    return pass;
  }

  async #pass(): Promise<void> {
    let containers;
    try {
      containers = await this.#runtime.listContainers({ state: 'running' });
    } catch (error) {
      this.#log(`kubelet: log rotation: listing containers: ${(error as Error).message}`);
      return;
    }
    for (const c of containers) {
      try {
        await this.#check(c.id, c.logPath);
      } catch (error) {
        this.#log(`kubelet: log rotation of container ${c.id} (${c.logPath}): ${(error as Error).message}`);
      }
    }
  }

  async #check(id: string, path: string): Promise<void> {
    const reopen = this.#runtime.reopenContainerLog?.bind(this.#runtime);
    if (!reopen || this.#maxSize < 0) return;
    let size: number;
    try {
      size = (await stat(path)).size;
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
      // The log file was removed underneath: have it recreated.
      await reopen(id);
      size = (await stat(path)).size;
    }
    if (size < this.#maxSize) return;
    await this.#rotate(id, path, reopen);
  }

  async #rotate(id: string, path: string, reopen: (id: string) => Promise<void>): Promise<void> {
    const rotated = `${path}.${rotationTimestamp(this.#now())}`;
    if (await exists(rotated) || await exists(rotated + COMPRESS_SUFFIX)) return;
    const prefix = `${basename(path)}.`;
    const dir = dirname(path);
    let logs = (await readdir(dir)).filter((n) => n.startsWith(prefix)).map((n) => join(dir, n));
    // 1. Leftovers of an interrupted rotation.
    const unused = logs.filter((l) => l.endsWith(TMP_SUFFIX) || (!l.endsWith(COMPRESS_SUFFIX) && logs.includes(l + COMPRESS_SUFFIX)));
    for (const l of unused) await rm(l, { force: true });
    logs = logs.filter((l) => !unused.includes(l)).sort();
    // 2. Oldest first, keep maxFiles - 2.
    const keep = Math.max(0, this.#maxFiles - 2);
    while (logs.length > keep) await rm(logs.shift()!, { force: true });
    // 3. Compress what is not yet.
    for (const l of logs) if (!l.endsWith(COMPRESS_SUFFIX)) await compress(l);
    // 4. Rotate the current file and have the runtime reopen it.
    await rename(path, rotated);
    try {
      await reopen(id);
    } catch (error) {
      await rename(rotated, path).catch((e: Error) => this.#log(`kubelet: log rotation: renaming ${rotated} back: ${e.message}`));
      throw error;
    }
  }

  /** Removes a container's log file and every rotated file of it (upstream's `Clean`). */
  async clean(logPath: string): Promise<void> {
    const dir = dirname(logPath);
    const name = basename(logPath);
    const names = await readdir(dir).catch(() => [] as string[]);
    for (const n of names) if (n === name || n.startsWith(`${name}.`)) await rm(join(dir, n), { force: true });
  }
}

async function exists(path: string): Promise<boolean> {
  return stat(path).then(() => true, () => false);
}

/** gzips `log` to `log.gz` through a temporary file, then removes `log`. */
async function compress(log: string): Promise<void> {
  const tmp = log + COMPRESS_SUFFIX + TMP_SUFFIX;
  try {
    await pipeline(createReadStream(log), createGzip(), createWriteStream(tmp, { mode: (await stat(log)).mode }));
    await rename(tmp, log + COMPRESS_SUFFIX);
  } finally {
    await rm(tmp, { force: true });
  }
  await rm(log, { force: true });
}

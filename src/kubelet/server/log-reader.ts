/**
 * Reads a container's CRI log file (`<RFC3339Nano> stdout|stderr F|P <text>` per line, as the
 * runtime writes it) back into what `kubectl logs` shows, with upstream's options: tailLines,
 * sinceTime (sinceSeconds is turned into it), timestamps, limitBytes and follow.
 *
 * Contract: without `follow` the current file is read once. With `follow`, reading goes on as
 * the file grows and across rotations (the file renamed away and a new one created at the same
 * path: the rest of the old file is read, then the new one from its start), and ends when the
 * container is no longer running and nothing new is left, when `limitBytes` is reached, or when
 * `signal` aborts. `P` (partial) entries are joined to the line they continue. Lines that are
 * not CRI log lines are skipped.
 */
import { watch, type FSWatcher } from 'node:fs';
import { open, stat, type FileHandle } from 'node:fs/promises';
import { basename, dirname } from 'node:path';

/** What to read. */
export interface LogOptions {
  follow?: boolean;
  /** Only the last N lines (before following). */
  tailLines?: number;
  /** Only lines logged at or after this time. */
  sinceTime?: Date;
  /** Prefix each line with its RFC3339Nano timestamp and a space. */
  timestamps?: boolean;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
}

/** A parsed CRI log line. */
export interface LogEntry {
  timestamp: string;
  stream: 'stdout' | 'stderr';
  /** False for a `P` piece of a longer line. */
  full: boolean;
  text: string;
}

const LINE = /^(\S+) (stdout|stderr) ([FP]) ?(.*)$/s;

/** Parses one CRI log line (without its newline); undefined when it is not one. */
export function parseLogLine(line: string): LogEntry | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  return { timestamp: m[1]!, stream: m[2] as 'stdout' | 'stderr', full: m[3] === 'F', text: m[4]! };
}

/** Milliseconds since the epoch of an RFC3339Nano time (fractions beyond ms dropped). */
export function timeOf(timestamp: string): number {
  return Date.parse(timestamp.replace(/(\.\d{3})\d+/, '$1'));
}

/** Options of {@link readLogs}. */
export interface ReadLogsOptions extends LogOptions {
  /** Whether the container still runs (follow ends once it does not and the file is drained). */
  running: () => Promise<boolean>;
  signal?: AbortSignal;
  /** Where output goes; resolves when the consumer can take more. */
  write: (chunk: Buffer) => Promise<void> | void;
  /** Longest wait between checks for new data when no file event comes. Default 1000 ms. */
  pollMs?: number;
}

/** Formats entries as `kubectl logs` prints them, applying sinceTime. */
class Formatter {
  readonly #since: number | undefined;
  readonly #timestamps: boolean;
  /** A P piece was printed and its line's end has not come yet. */
  #open = false;

  constructor(options: LogOptions) {
    this.#since = options.sinceTime?.getTime();
    this.#timestamps = options.timestamps === true;
  }

  format(entry: LogEntry): string {
    if (this.#since !== undefined && timeOf(entry.timestamp) < this.#since) return '';
    const prefix = this.#timestamps && !this.#open ? `${entry.timestamp} ` : '';
    this.#open = !entry.full;
    return prefix + entry.text + (entry.full ? '\n' : '');
  }
}

/** Reads logs per `options` (see the file header). Resolves when done. */
export async function readLogs(path: string, options: ReadLogsOptions): Promise<void> {
  const formatter = new Formatter(options);
  let budget = options.limitBytes && options.limitBytes > 0 ? options.limitBytes : Infinity;
  const emit = async (text: string): Promise<boolean> => {
    if (text === '' || budget <= 0) return budget > 0;
    let bytes = Buffer.from(text);
    if (bytes.length > budget) bytes = bytes.subarray(0, budget);
    budget -= bytes.length;
    await options.write(bytes);
    return budget > 0;
  };

  let file: FileHandle;
  try {
    file = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return;
    throw error;
  }
  try {
    // The file as it is now.
    const size = (await file.stat()).size;
    const initial = size > 0 ? (await file.read(Buffer.alloc(size), 0, size, 0)).buffer : Buffer.alloc(0);
    const cut = initial.lastIndexOf(0x0a) + 1;
    let offset = cut;
    let rest = initial.subarray(cut).toString();
    let lines = initial.subarray(0, cut).toString().split('\n');
    lines.pop();
    let entries = lines.map(parseLogLine).filter((e): e is LogEntry => e !== undefined);
    if (options.tailLines !== undefined && options.tailLines >= 0) {
      entries = options.tailLines === 0 ? [] : entries.slice(-options.tailLines);
    }
    lines = [];
    for (const entry of entries) if (!(await emit(formatter.format(entry)))) return;
    if (!options.follow) return;

    // Following: new bytes, rotations, and the container's end.
    let wake: (() => void) | undefined;
    let watcher: FSWatcher | undefined;
    try {
      watcher = watch(dirname(path), (_event, name) => {
        if (!name || name.toString().startsWith(basename(path))) wake?.();
      });
      watcher.on('error', () => {});
    } catch {
      watcher = undefined;
    }
    const onAbort = () => wake?.();
    options.signal?.addEventListener('abort', onAbort);
    try {
      for (;;) {
        if (options.signal?.aborted) return;
        const { size: now } = await file.stat();
        if (now > offset) {
          const chunk = (await file.read(Buffer.alloc(now - offset), 0, now - offset, offset)).buffer;
          offset = now;
          const text = rest + chunk.toString();
          const parts = text.split('\n');
          rest = parts.pop() ?? '';
          for (const line of parts) {
            const entry = parseLogLine(line);
            if (entry && !(await emit(formatter.format(entry)))) return;
          }
          continue;
        }
        // Drained: a new file at the path means the log was rotated.
        const current = await stat(path).catch(() => undefined);
        const mine = await file.stat();
        if (current && (current.ino !== mine.ino || current.dev !== mine.dev)) {
          await file.close();
          file = await open(path, 'r');
          offset = 0;
          rest = '';
          continue;
        }
        if (current && current.size < offset) {
          // Truncated in place (copy-truncate rotation).
          offset = 0;
          rest = '';
          continue;
        }
        if (!(await options.running())) {
          // One more look: the last lines may have landed after the size check.
          if ((await file.stat()).size > offset) continue;
          return;
        }
        await new Promise<void>((resolve) => {
          const timer = setTimeout(done, options.pollMs ?? 1000);
          function done() {
            clearTimeout(timer);
            wake = undefined;
            resolve();
          }
          wake = done;
        });
      }
    } finally {
      watcher?.close();
      options.signal?.removeEventListener('abort', onAbort);
    }
  } finally {
    await file.close().catch(() => {});
  }
}

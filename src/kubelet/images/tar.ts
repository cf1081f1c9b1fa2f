/**
 * A streaming tar reader (ustar, pax extended headers with xattrs, GNU long names, base-256
 * numbers) and a small tar writer (ustar plus pax records for long names), enough for image
 * layers and image archives.
 */
import { LayerUnpackError } from './errors.ts';

/** Entry types the reader reports (hard links are `link`). */
export type TarEntryType = 'file' | 'directory' | 'symlink' | 'link' | 'char' | 'block' | 'fifo';

/** One entry's header. */
export interface TarHeader {
  /** Path as stored (may start with `./`). */
  name: string;
  type: TarEntryType;
  /** Permission and special bits (`0o7777` part). */
  mode: number;
  uid: number;
  gid: number;
  size: number;
  /** Modification time in seconds since the epoch (fractional with pax). */
  mtime: number;
  /** Target of a symlink or hard link. */
  linkname: string;
  devmajor: number;
  devminor: number;
  /** Extended attributes from pax `SCHILY.xattr.*` records. */
  xattrs: Record<string, Buffer>;
}

/** A header and its body; the body must be consumed (or left alone: the reader skips it) before the next entry. */
export interface TarEntry {
  header: TarHeader;
  body: AsyncIterable<Buffer>;
}

const BLOCK = 512;

/** Reads exact byte counts from an async stream of chunks without concatenating large bodies. */
class ByteReader {
  readonly #it: AsyncIterator<Buffer | Uint8Array>;
  #chunk: Buffer = Buffer.alloc(0);
  #done = false;

  constructor(source: AsyncIterable<Buffer | Uint8Array>) {
    this.#it = source[Symbol.asyncIterator]();
  }

  async #more(): Promise<boolean> {
    if (this.#done) return false;
    const next = await this.#it.next();
    if (next.done) {
      this.#done = true;
      return false;
    }
    const value = Buffer.isBuffer(next.value) ? next.value : Buffer.from(next.value.buffer, next.value.byteOffset, next.value.byteLength);
    this.#chunk = this.#chunk.length === 0 ? value : Buffer.concat([this.#chunk, value]);
    return true;
  }

  /** Exactly n bytes, or null at a clean end of stream (before any of them). */
  async read(n: number): Promise<Buffer | null> {
    while (this.#chunk.length < n) {
      if (!(await this.#more())) {
        if (this.#chunk.length === 0) return null;
        throw new LayerUnpackError('tar archive is truncated');
      }
    }
    const out = this.#chunk.subarray(0, n);
    this.#chunk = this.#chunk.subarray(n);
    return out;
  }

  /** Yields the next n bytes in pieces. */
  async *stream(n: number): AsyncGenerator<Buffer> {
    let remaining = n;
    while (remaining > 0) {
      if (this.#chunk.length === 0 && !(await this.#more())) throw new LayerUnpackError('tar archive is truncated');
      const take = Math.min(remaining, this.#chunk.length);
      const piece = this.#chunk.subarray(0, take);
      this.#chunk = this.#chunk.subarray(take);
      remaining -= take;
      yield piece;
    }
  }

  async skip(n: number): Promise<void> {
    for await (const _ of this.stream(n));
  }

  /** Reads what is left so the source (and whatever hashes it) sees the whole stream. */
  async drain(): Promise<void> {
    this.#chunk = Buffer.alloc(0);
    while (await this.#more()) this.#chunk = Buffer.alloc(0);
  }
}

function cString(buf: Buffer, start: number, length: number): string {
  const slice = buf.subarray(start, start + length);
  const nul = slice.indexOf(0);
  return (nul === -1 ? slice : slice.subarray(0, nul)).toString('utf8');
}

function parseNumber(buf: Buffer, start: number, length: number): number {
  const field = buf.subarray(start, start + length);
  if (field[0]! & 0x80) {
    // GNU base-256: big-endian two's complement with the top bit as marker.
    let value = 0;
    for (let i = 1; i < field.length; i++) value = value * 256 + field[i]!;
    return value;
  }
  const text = cString(field, 0, length).trim();
  return text === '' ? 0 : parseInt(text, 8);
}

function checksumOk(block: Buffer): boolean {
  const stored = parseNumber(block, 148, 8);
  let sum = 0;
  for (let i = 0; i < BLOCK; i++) sum += i >= 148 && i < 156 ? 32 : block[i]!;
  return sum === stored;
}

function parsePax(data: Buffer): Map<string, Buffer> {
  const records = new Map<string, Buffer>();
  let pos = 0;
  while (pos < data.length) {
    const space = data.indexOf(0x20, pos);
    if (space === -1) break;
    const length = parseInt(data.subarray(pos, space).toString('ascii'), 10);
    if (!Number.isFinite(length) || length <= 0) throw new LayerUnpackError('tar archive has a malformed pax record');
    const record = data.subarray(space + 1, pos + length - 1);
    const eq = record.indexOf(0x3d);
    if (eq !== -1) records.set(record.subarray(0, eq).toString('utf8'), record.subarray(eq + 1));
    pos += length;
  }
  return records;
}

const TYPES: Record<string, TarEntryType> = {
  '0': 'file',
  '\0': 'file',
  '7': 'file',
  '1': 'link',
  '2': 'symlink',
  '3': 'char',
  '4': 'block',
  '5': 'directory',
  '6': 'fifo',
};

/**
 * Iterates a tar stream. Unknown entry types are skipped. After the end-of-archive marker the
 * rest of the source is read (and discarded), so a hash computed over the source covers it all.
 * @throws LayerUnpackError on a truncated or corrupt archive.
 */
export async function* readTar(source: AsyncIterable<Buffer | Uint8Array>): AsyncGenerator<TarEntry> {
  const reader = new ByteReader(source);
  let pax = new Map<string, Buffer>();
  let globalPax = new Map<string, Buffer>();
  let longName: string | undefined;
  let longLink: string | undefined;
  for (;;) {
    const block = await reader.read(BLOCK);
    if (block === null) return;
    if (block.every((b) => b === 0)) {
      await reader.drain();
      return;
    }
    if (!checksumOk(block)) throw new LayerUnpackError('tar archive is corrupt: header checksum mismatch');
    const typeflag = String.fromCharCode(block[156]!);
    let size = parseNumber(block, 124, 12);
    const padded = Math.ceil(size / BLOCK) * BLOCK;
    if (typeflag === 'x' || typeflag === 'g' || typeflag === 'L' || typeflag === 'K') {
      const data = (await reader.read(padded)) ?? Buffer.alloc(0);
      const content = data.subarray(0, size);
      if (typeflag === 'x') pax = parsePax(content);
      else if (typeflag === 'g') globalPax = new Map([...globalPax, ...parsePax(content)]);
      else if (typeflag === 'L') longName = cString(content, 0, content.length);
      else longLink = cString(content, 0, content.length);
      continue;
    }
    const records = new Map([...globalPax, ...pax]);
    // Only POSIX ustar has a name prefix there; old GNU tar ('ustar  ') keeps times in that field.
    const prefix = block.subarray(257, 263).toString('latin1') === 'ustar\0' ? cString(block, 345, 155) : '';
    let name = longName ?? (prefix ? `${prefix}/${cString(block, 0, 100)}` : cString(block, 0, 100));
    let linkname = longLink ?? cString(block, 157, 100);
    const xattrs: Record<string, Buffer> = {};
    let mtime = parseNumber(block, 136, 12);
    let uid = parseNumber(block, 108, 8);
    let gid = parseNumber(block, 116, 8);
    for (const [key, value] of records) {
      if (key === 'path') name = value.toString('utf8');
      else if (key === 'linkpath') linkname = value.toString('utf8');
      else if (key === 'size') size = parseInt(value.toString('ascii'), 10);
      else if (key === 'uid') uid = parseInt(value.toString('ascii'), 10);
      else if (key === 'gid') gid = parseInt(value.toString('ascii'), 10);
      else if (key === 'mtime') mtime = parseFloat(value.toString('ascii'));
      else if (key.startsWith('SCHILY.xattr.')) xattrs[key.slice(13)] = value;
    }
    pax = new Map();
    longName = undefined;
    longLink = undefined;
    let type = TYPES[typeflag];
    // Old tars mark directories only by a trailing slash.
    if (type === 'file' && name.endsWith('/') && typeflag === '\0') type = 'directory';
    const bodySize = type === 'file' ? size : type === undefined ? size : 0;
    const bodyPadded = Math.ceil(bodySize / BLOCK) * BLOCK;
    if (type === undefined) {
      await reader.skip(bodyPadded);
      continue;
    }
    const header: TarHeader = {
      name,
      type,
      mode: parseNumber(block, 100, 8) & 0o7777,
      uid,
      gid,
      size: bodySize,
      mtime,
      linkname,
      devmajor: parseNumber(block, 329, 8),
      devminor: parseNumber(block, 337, 8),
      xattrs,
    };
    let read = 0;
    const body = (async function* () {
      for await (const piece of reader.stream(bodySize)) {
        read += piece.length;
        yield piece;
      }
    })();
    yield { header, body };
    // Whatever the consumer left unread (all of it, or a tail) is skipped here.
    await body.return(undefined);
    await reader.skip(bodyPadded - read);
  }
}

/** One entry to write. */
export interface TarWriteEntry {
  name: string;
  type: TarEntryType;
  /** Default 0o644 for files, 0o755 for directories, 0o777 for symlinks. */
  mode?: number;
  uid?: number;
  gid?: number;
  /** Seconds since the epoch (default 0, for reproducible archives). */
  mtime?: number;
  linkname?: string;
  data?: Buffer;
  devmajor?: number;
  devminor?: number;
}

const TYPEFLAG: Record<TarEntryType, string> = { file: '0', link: '1', symlink: '2', char: '3', block: '4', directory: '5', fifo: '6' };

function octal(value: number, length: number): string {
  return value.toString(8).padStart(length - 1, '0') + '\0';
}

function headerBlock(fields: { name: string; mode: number; uid: number; gid: number; size: number; mtime: number; typeflag: string; linkname: string; devmajor: number; devminor: number }): Buffer {
  const block = Buffer.alloc(BLOCK);
  block.write(fields.name, 0, 100, 'utf8');
  block.write(octal(fields.mode, 8), 100, 'ascii');
  block.write(octal(fields.uid, 8), 108, 'ascii');
  block.write(octal(fields.gid, 8), 116, 'ascii');
  block.write(octal(fields.size, 12), 124, 'ascii');
  block.write(octal(Math.floor(fields.mtime), 12), 136, 'ascii');
  block.write('        ', 148, 'ascii');
  block.write(fields.typeflag, 156, 'ascii');
  block.write(fields.linkname, 157, 100, 'utf8');
  block.write('ustar\u000000', 257, 'latin1');
  block.write(octal(fields.devmajor, 8), 329, 'ascii');
  block.write(octal(fields.devminor, 8), 337, 'ascii');
  let sum = 0;
  for (const b of block) sum += b;
  block.write(sum.toString(8).padStart(6, '0') + '\0 ', 148, 'ascii');
  return block;
}

function padding(size: number): Buffer {
  return Buffer.alloc((BLOCK - (size % BLOCK)) % BLOCK);
}

function paxRecord(key: string, value: string): string {
  const body = ` ${key}=${value}\n`;
  let length = Buffer.byteLength(body) + 1;
  while (String(length).length + Buffer.byteLength(body) !== length) length = String(length).length + Buffer.byteLength(body);
  return `${length}${body}`;
}

/** Writes entries as one tar archive (with the two-block end marker). */
export function writeTar(entries: TarWriteEntry[]): Buffer {
  const parts: Buffer[] = [];
  for (const entry of entries) {
    const data = entry.type === 'file' ? (entry.data ?? Buffer.alloc(0)) : Buffer.alloc(0);
    const name = entry.type === 'directory' && !entry.name.endsWith('/') ? `${entry.name}/` : entry.name;
    const linkname = entry.linkname ?? '';
    const records: string[] = [];
    if (Buffer.byteLength(name) > 100) records.push(paxRecord('path', name));
    if (Buffer.byteLength(linkname) > 100) records.push(paxRecord('linkpath', linkname));
    if (records.length > 0) {
      const pax = Buffer.from(records.join(''), 'utf8');
      parts.push(headerBlock({ name: 'PaxHeader', mode: 0o644, uid: 0, gid: 0, size: pax.length, mtime: entry.mtime ?? 0, typeflag: 'x', linkname: '', devmajor: 0, devminor: 0 }), pax, padding(pax.length));
    }
    const defaultMode = entry.type === 'directory' ? 0o755 : entry.type === 'symlink' ? 0o777 : 0o644;
    parts.push(
      headerBlock({
        name: Buffer.from(name).subarray(0, 100).toString('utf8'),
        mode: entry.mode ?? defaultMode,
        uid: entry.uid ?? 0,
        gid: entry.gid ?? 0,
        size: data.length,
        mtime: entry.mtime ?? 0,
        typeflag: TYPEFLAG[entry.type],
        linkname: Buffer.from(linkname).subarray(0, 100).toString('utf8'),
        devmajor: entry.devmajor ?? 0,
        devminor: entry.devminor ?? 0,
      }),
      data,
      padding(data.length),
    );
  }
  parts.push(Buffer.alloc(BLOCK * 2));
  return Buffer.concat(parts);
}

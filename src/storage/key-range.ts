/**
 * Key-range arithmetic shared by the drivers. Keys compare byte-wise as UTF-8, which is the
 * same order as comparing Unicode code points, so string-typed drivers (SQLite, whose BINARY
 * collation is memcmp over UTF-8) and byte-typed drivers (etcd) agree on every range.
 */

const MAX_CODE_POINT = 0x10ffff;

/**
 * The smallest string greater than every string that starts with `prefix`, in code-point order,
 * or `undefined` when there is none (empty prefix): the range is then unbounded above.
 */
export function prefixEnd(prefix: string): string | undefined {
  const codePoints = Array.from(prefix);
  while (codePoints.length > 0) {
    const last = codePoints.pop()!.codePointAt(0)!;
    // A trailing U+10FFFF cannot be incremented; the prefix without it bounds the same range.
    if (last === MAX_CODE_POINT) continue;
    let next = last + 1;
    // Surrogate code points never occur in UTF-8 text, and a lone one would be re-encoded as
    // U+FFFD on its way into SQLite; the next real code point after U+D7FF is U+E000.
    if (next >= 0xd800 && next <= 0xdfff) next = 0xe000;
    return codePoints.join('') + String.fromCodePoint(next);
  }
  return undefined;
}

/**
 * etcd's `range_end` for a prefix: the prefix with its last byte below 0xff incremented and the
 * rest dropped; `\0` (etcd's "to the end of the keyspace") when there is no such byte.
 */
export function prefixEndBytes(prefix: Uint8Array): Buffer {
  for (let i = prefix.length - 1; i >= 0; i--) {
    if (prefix[i]! < 0xff) {
      const end = Buffer.from(prefix.subarray(0, i + 1));
      end[i]!++;
      return end;
    }
  }
  return Buffer.from([0]);
}

/** Whether `key` has a UTF-16 code unit at or above U+D800, where `<` and UTF-8 order differ. */
export function hasHighCodeUnit(key: string): boolean {
  return /[\uD800-\uFFFF]/.test(key);
}

/**
 * Where a UTF-16 code unit sorts in code-point (= UTF-8 byte) order: surrogates stand for code
 * points above U+FFFF, so they must sort after U+E000–U+FFFF, not before as raw units do.
 */
function codePointRank(unit: number): number {
  if (unit < 0xd800) return unit;
  return unit >= 0xe000 ? unit - 0x800 : unit + 0x2000;
}

/**
 * Compares two keys in UTF-8 byte order, without encoding them (JavaScript's `<` compares
 * UTF-16 code units, which disagrees for characters beyond U+FFFF).
 */
export function compareKeys(a: string, b: string): number {
  if (a === b) return 0;
  const length = Math.min(a.length, b.length);
  for (let i = 0; i < length; i++) {
    const x = a.charCodeAt(i);
    const y = b.charCodeAt(i);
    if (x !== y) return codePointRank(x) - codePointRank(y);
  }
  return a.length - b.length;
}

/**
 * Where a list of `prefix` starts: at `startKey` when it lies after the prefix itself (it may
 * lie past the whole range, which then yields nothing), otherwise at the prefix.
 */
export function listStart(prefix: string, startKey: string | undefined): string {
  if (startKey === undefined || compareKeys(startKey, prefix) <= 0) return prefix;
  return startKey;
}

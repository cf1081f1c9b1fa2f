/**
 * The protobuf wire format, read side: varints, fixed-size values, length-delimited fields and
 * skipping of fields a message table does not name. Every read checks bounds and throws a
 * {@link ProtobufError} (`TRUNCATED` or `MALFORMED`) instead of reading past its slice.
 */
import { ProtobufError } from './errors.ts';

/** Wire type of int32, int64, uint*, bool and enums. */
export const WIRE_VARINT = 0;
/** Wire type of fixed64, sfixed64 and double. */
export const WIRE_FIXED64 = 1;
/** Wire type of strings, bytes, embedded messages and packed repeated scalars. */
export const WIRE_BYTES = 2;
/** Wire type that opens a proto2 group (deprecated; groups are only skipped). */
export const WIRE_START_GROUP = 3;
/** Wire type that closes a proto2 group. */
export const WIRE_END_GROUP = 4;
/** Wire type of fixed32, sfixed32 and float. */
export const WIRE_FIXED32 = 5;

/** Groups nest; a hostile body must not recurse without bound. */
const MAX_GROUP_DEPTH = 32;

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A cursor over one message's bytes. */
export class WireReader {
  readonly #bytes: Uint8Array;
  #pos = 0;
  // The last varint, as two 32-bit halves, so that 64-bit values need no allocation.
  #lo = 0;
  #hi = 0;

  constructor(bytes: Uint8Array) {
    this.#bytes = bytes;
  }

  /** Whether every byte has been read. */
  get done(): boolean {
    return this.#pos >= this.#bytes.length;
  }

  /** Reads a field key; returns it whole (`field << 3 | wireType`). Field 0 is rejected. */
  key(): number {
    const key = this.uint32();
    if (key >>> 3 === 0) throw new ProtobufError('MALFORMED', `invalid field number 0 (key ${key})`);
    return key;
  }

  /** A varint that must fit in 32 bits unsigned (keys, lengths). */
  uint32(): number {
    this.#varint();
    if (this.#hi !== 0) throw new ProtobufError('MALFORMED', 'varint does not fit in 32 bits');
    return this.#lo >>> 0;
  }

  /** An `int32`: the varint's low 32 bits, signed (negative values take 10 bytes on the wire). */
  int32(): number {
    this.#varint();
    return this.#lo | 0;
  }

  /** An `int64` as a number; exact up to 2^53, like `JSON.parse` of the same value. */
  int64(): number {
    this.#varint();
    return (this.#hi | 0) * 4294967296 + (this.#lo >>> 0);
  }

  /** A `bool`: any non-zero varint is true. */
  bool(): boolean {
    this.#varint();
    return this.#lo !== 0 || this.#hi !== 0;
  }

  /** A length-delimited field's bytes (a view, not a copy). */
  bytes(): Uint8Array {
    const length = this.uint32();
    const left = this.#bytes.length - this.#pos;
    if (length > left) {
      throw new ProtobufError('TRUNCATED', `length-delimited field of ${length} bytes, but only ${left} bytes are left`);
    }
    const start = this.#pos;
    this.#pos += length;
    return this.#bytes.subarray(start, this.#pos);
  }

  /** A length-delimited field as UTF-8 text. */
  string(): string {
    return decodeUtf8(this.bytes());
  }

  /** Skips the value of a field with this key (unknown field numbers are ignored, as upstream does). */
  skip(key: number, depth = 0): void {
    switch (key & 7) {
      case WIRE_VARINT:
        this.#varint();
        return;
      case WIRE_FIXED64:
        this.#advance(8);
        return;
      case WIRE_BYTES:
        this.bytes();
        return;
      case WIRE_FIXED32:
        this.#advance(4);
        return;
      case WIRE_START_GROUP: {
        if (depth >= MAX_GROUP_DEPTH) throw new ProtobufError('MALFORMED', 'groups nested too deeply');
        for (;;) {
          if (this.done) throw new ProtobufError('TRUNCATED', `group ${key >>> 3} has no end`);
          const inner = this.key();
          if ((inner & 7) === WIRE_END_GROUP) {
            if (inner >>> 3 !== key >>> 3) throw new ProtobufError('MALFORMED', `group ${key >>> 3} ended by field ${inner >>> 3}`);
            return;
          }
          this.skip(inner, depth + 1);
        }
      }
      default:
        throw new ProtobufError('MALFORMED', `invalid wire type ${key & 7} for field ${key >>> 3}`);
    }
  }

  #advance(count: number): void {
    const left = this.#bytes.length - this.#pos;
    if (count > left) throw new ProtobufError('TRUNCATED', `fixed-size value of ${count} bytes, but only ${left} bytes are left`);
    this.#pos += count;
  }

  #byte(): number {
    if (this.#pos >= this.#bytes.length) throw new ProtobufError('TRUNCATED', 'varint runs past the end of the data');
    return this.#bytes[this.#pos++]!;
  }

  /** Reads a varint of up to 10 bytes into #lo (bits 0–31) and #hi (bits 32–63). */
  #varint(): void {
    let lo = 0;
    let b = 0;
    for (let shift = 0; shift < 28; shift += 7) {
      b = this.#byte();
      lo |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.#lo = lo;
        this.#hi = 0;
        return;
      }
    }
    // The fifth byte straddles the halves: 4 bits for #lo, 3 for #hi.
    b = this.#byte();
    lo |= (b & 0x0f) << 28;
    let hi = (b & 0x7f) >> 4;
    if (b < 0x80) {
      this.#lo = lo;
      this.#hi = hi;
      return;
    }
    for (let shift = 3; shift < 32; shift += 7) {
      b = this.#byte();
      hi |= (b & 0x7f) << shift;
      if (b < 0x80) {
        this.#lo = lo;
        this.#hi = hi;
        return;
      }
    }
    throw new ProtobufError('MALFORMED', 'varint longer than 10 bytes');
  }
}

/** Below this length, ASCII text is decoded by hand: TextDecoder's call overhead dominates. */
const SHORT_STRING = 64;

/** UTF-8 text; invalid sequences are an error, as they are for a JSON body. */
export function decodeUtf8(bytes: Uint8Array): string {
  if (bytes.length <= SHORT_STRING) {
    let ascii = '';
    let i = 0;
    for (; i < bytes.length && bytes[i]! < 0x80; i++) ascii += String.fromCharCode(bytes[i]!);
    if (i === bytes.length) return ascii;
  }
  try {
    return utf8.decode(bytes);
  } catch {
    throw new ProtobufError('MALFORMED', 'string field is not valid UTF-8');
  }
}

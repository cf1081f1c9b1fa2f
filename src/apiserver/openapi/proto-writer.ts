/**
 * A minimal protocol buffers writer: enough of the wire format to encode gnostic's OpenAPI v2
 * messages (varints, 64-bit doubles, length-delimited strings and messages). Fields are written
 * in the order they are called; proto3 default values are the caller's to skip.
 */

const encoder = new TextEncoder();

/** Accumulates one message's fields. */
export class ProtoWriter {
  #buffer = new Uint8Array(256);
  #length = 0;

  /** A string field (wire type 2); empty strings are skipped, as proto3 does. */
  string(field: number, value: string | undefined): this {
    if (value === undefined || value === '') return this;
    return this.bytes(field, encoder.encode(value));
  }

  /** A length-delimited field (wire type 2): bytes or an encoded message. */
  bytes(field: number, value: Uint8Array): this {
    this.#tag(field, 2);
    this.#varint(value.length);
    this.#append(value);
    return this;
  }

  /** An embedded message field, written even when empty (presence matters for messages). */
  message(field: number, message: ProtoWriter): this {
    return this.bytes(field, message.finish());
  }

  /** A bool field (wire type 0); false is skipped. */
  bool(field: number, value: boolean | undefined): this {
    if (!value) return this;
    this.#tag(field, 0);
    this.#varint(1);
    return this;
  }

  /** A bool member of a `oneof`, written even when false (its presence picks the member). */
  oneofBool(field: number, value: boolean): this {
    this.#tag(field, 0);
    this.#varint(value ? 1 : 0);
    return this;
  }

  /** An int64 field (wire type 0) holding a non-negative safe integer; 0 is skipped. */
  int64(field: number, value: number | undefined): this {
    if (value === undefined || value === 0) return this;
    if (!Number.isSafeInteger(value) || value < 0) throw new RangeError(`cannot encode ${value} as a non-negative int64`);
    this.#tag(field, 0);
    this.#varint(value);
    return this;
  }

  /** A double field (wire type 1); 0 is skipped. */
  double(field: number, value: number | undefined): this {
    if (value === undefined || value === 0) return this;
    this.#tag(field, 1);
    const bytes = new Uint8Array(8);
    new DataView(bytes.buffer).setFloat64(0, value, true);
    this.#append(bytes);
    return this;
  }

  /** The encoded message. */
  finish(): Uint8Array {
    return this.#buffer.slice(0, this.#length);
  }

  #tag(field: number, wireType: number): void {
    this.#varint(field * 8 + wireType);
  }

  #varint(value: number): void {
    this.#reserve(10);
    let n = value;
    while (n > 0x7f) {
      this.#buffer[this.#length++] = (n % 0x80) | 0x80;
      n = Math.floor(n / 0x80);
    }
    this.#buffer[this.#length++] = n;
  }

  #append(bytes: Uint8Array): void {
    this.#reserve(bytes.length);
    this.#buffer.set(bytes, this.#length);
    this.#length += bytes.length;
  }

  #reserve(extra: number): void {
    if (this.#length + extra <= this.#buffer.length) return;
    const grown = new Uint8Array(Math.max(this.#buffer.length * 2, this.#length + extra));
    grown.set(this.#buffer.subarray(0, this.#length));
    this.#buffer = grown;
  }
}

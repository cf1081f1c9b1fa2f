/** The wire reader: varint limits, 64-bit values and bounds. */
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { ProtobufError } from './errors.ts';
import { WireReader } from './wire.ts';

const reader = (...bytes: number[]) => new WireReader(Uint8Array.from(bytes));
const isCode = (code: string) => (error: unknown) => error instanceof ProtobufError && error.code === code;

describe('WireReader', () => {
  it('reads varints of one to ten bytes', () => {
    assert.equal(reader(0x00).int32(), 0);
    assert.equal(reader(0xac, 0x02).int32(), 300);
    assert.equal(reader(0xff, 0xff, 0xff, 0xff, 0x07).int32(), 2 ** 31 - 1);
    // int32 -1 is sign-extended to 64 bits on the wire: ten bytes.
    assert.equal(reader(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01).int32(), -1);
    assert.equal(reader(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01).int64(), -1);
    assert.equal(reader(0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x80, 0x08).int64(), 2 ** 52);
    assert.equal(reader(0x80, 0x80, 0x80, 0x80, 0x10).int64(), 2 ** 32);
    assert.equal(reader(0x02).bool(), true);
    assert.equal(reader(0x80, 0x80, 0x80, 0x80, 0x10).bool(), true);
  });

  it('rejects varints that are too long or run past the end', () => {
    assert.throws(() => reader(0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01).int64(), isCode('MALFORMED'));
    assert.throws(() => reader(0x80).int32(), isCode('TRUNCATED'));
    assert.throws(() => reader(0x80, 0x80, 0x80, 0x80, 0x10).uint32(), isCode('MALFORMED'));
  });

  it('bounds length-delimited and fixed-size fields by the message', () => {
    assert.deepEqual([...reader(0x02, 0x61, 0x62).bytes()], [0x61, 0x62]);
    assert.throws(() => reader(0x03, 0x61, 0x62).bytes(), isCode('TRUNCATED'));
    assert.throws(() => reader(0x09 /* field 1, fixed64 */, 1, 2, 3).skip(0x09), isCode('TRUNCATED'));
    assert.throws(() => reader(1, 2, 3).skip(0x0d /* field 1, fixed32 */), isCode('TRUNCATED'));
  });

  it('skips groups, and rejects unterminated or mismatched ones', () => {
    const group = reader(0x08, 0x01, 0x0c /* end group 1 */, 0x10, 0x05);
    group.skip(0x0b /* start group 1 */);
    assert.equal(group.key(), 0x10);
    assert.throws(() => reader(0x08, 0x01).skip(0x0b), isCode('TRUNCATED'));
    assert.throws(() => reader(0x14 /* end group 2 */).skip(0x0b), isCode('MALFORMED'));
  });
});

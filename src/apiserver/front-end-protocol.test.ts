import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { MAX_BATCH_BYTES, Outbox, type ToFrontEnd } from './front-end-protocol.ts';

/** A port that records what was posted. */
function recorder(): { posted: ToFrontEnd[][]; postMessage(value: unknown): void } {
  const posted: ToFrontEnd[][] = [];
  return { posted, postMessage: (value) => posted.push(value as ToFrontEnd[]) };
}

const answer = (id: number, bytes: number): ToFrontEnd => ({
  t: 'response',
  id,
  status: 200,
  contentType: 'application/json',
  body: 'x'.repeat(bytes),
  warnings: undefined,
});

describe('Outbox', () => {
  it('sends what one turn queued as one batch', async () => {
    const port = recorder();
    const outbox = new Outbox<ToFrontEnd>(port);
    for (let id = 0; id < 50; id++) outbox.push({ t: 'end', id });
    assert.equal(port.posted.length, 0);
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(port.posted.map((b) => b.length), [50]);
  });

  it('keeps each batch under the bytes V8 would decode into its old generation', async () => {
    const port = recorder();
    const outbox = new Outbox<ToFrontEnd>(port);
    // A hundred answers of ~1.4 KB, as a commit of a hundred creates makes.
    for (let id = 0; id < 100; id++) outbox.push(answer(id, 1400));
    await new Promise((resolve) => setImmediate(resolve));
    assert.ok(port.posted.length >= 3, `${port.posted.length} batches`);
    assert.deepEqual(port.posted.flat().map((m) => (m as { id: number }).id), [...Array(100).keys()]);
    for (const batch of port.posted) {
      const bytes = batch.reduce((sum, m) => sum + (m as { body: string }).body.length, 0);
      assert.ok(bytes <= MAX_BATCH_BYTES, `a batch of ${bytes} bytes`);
    }
    // One answer bigger than the cap still goes, alone.
    outbox.push(answer(100, 10));
    outbox.push(answer(101, MAX_BATCH_BYTES * 2));
    outbox.push(answer(102, 10));
    await new Promise((resolve) => setImmediate(resolve));
    assert.deepEqual(port.posted.slice(-3).map((b) => b.map((m) => (m as { id: number }).id)), [[100], [101], [102]]);
  });
});

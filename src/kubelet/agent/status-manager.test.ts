import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod, PodStatus } from 'kubernetes-types/core/v1.js';
import type { Client } from '../../client/index.ts';
import { StatusManager } from './status-manager.ts';

/** A client whose status patches wait until the test lets them finish. */
function pausedClient() {
  const writes: { status: PodStatus; finish: () => void }[] = [];
  const client = {
    resource: () => ({
      patch: (_ns: string, _name: string, body: { status: PodStatus }) => new Promise<void>((resolve) => writes.push({ status: body.status, finish: resolve })),
    }),
  } as unknown as Client;
  return { client, writes };
}

const pod: Pod = { metadata: { namespace: 'default', name: 'p', uid: 'u1' }, status: {} };
const tick = () => new Promise((r) => setImmediate(r));

test('a status set while a write is in flight is written when that write ends (also after several sets)', async () => {
  const { client, writes } = pausedClient();
  const sm = new StatusManager({ client });
  sm.set(pod, { phase: 'Pending' });
  await tick();
  assert.equal(writes.length, 1);
  sm.set(pod, { phase: 'Running' });
  sm.set(pod, { phase: 'Failed' });
  await tick();
  assert.equal(writes.length, 1, 'one write per pod at a time');
  writes[0]!.finish();
  await tick();
  await tick();
  assert.equal(writes.length, 2, 'the newer status is written after the first write');
  assert.equal(writes[1]!.status.phase, 'Failed', 'only the latest status');
  writes[1]!.finish();
  await sm.flush();
  sm.set(pod, { phase: 'Failed' });
  await tick();
  assert.equal(writes.length, 2, 'an unchanged status is not written again');
});

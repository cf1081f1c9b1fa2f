import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { ResourceClient } from './client.ts';
import { Informer } from './informer.ts';
import { pods } from './kinds.ts';
import type { ClientRequest, Transport, WatchEventMessage } from './transport.ts';

test('an informer caches and hands out what its transform keeps', async () => {
  let send: ((event: WatchEventMessage<Pod>) => void) | undefined;
  const transport: Transport = {
    async request<T>(request: ClientRequest) {
      assert.equal(request.method, 'GET');
      const item: Pod = { metadata: { name: 'a', namespace: 'ns', resourceVersion: '5', managedFields: [{ manager: 'x' }] }, spec: { containers: [] } };
      return { status: 200, body: { metadata: { resourceVersion: '5' }, items: [item] } as T };
    },
    async watch<T>(_request: Omit<ClientRequest, 'method' | 'body'>, onEvent: (event: WatchEventMessage<T>) => void) {
      send = onEvent as unknown as (event: WatchEventMessage<Pod>) => void;
      return () => undefined;
    },
  };
  const seen: Pod[] = [];
  const informer = new Informer(new ResourceClient(transport, pods), {
    transform: (pod) => ({ metadata: { name: pod.metadata?.name, namespace: pod.metadata?.namespace, resourceVersion: pod.metadata?.resourceVersion } }),
  });
  informer.addHandler({ add: (pod) => seen.push(pod), update: (_, pod) => seen.push(pod) });
  await informer.start();
  await new Promise((r) => setImmediate(r));
  send!({ type: 'MODIFIED', object: { metadata: { name: 'a', namespace: 'ns', resourceVersion: '6', managedFields: [{ manager: 'y' }] } } });
  informer.stop();
  assert.deepEqual(seen.map((p) => p.metadata), [
    { name: 'a', namespace: 'ns', resourceVersion: '5' },
    { name: 'a', namespace: 'ns', resourceVersion: '6' },
  ]);
  assert.equal(informer.get('ns', 'a')?.metadata?.managedFields, undefined);
  assert.equal(informer.resourceVersion, '6');
});

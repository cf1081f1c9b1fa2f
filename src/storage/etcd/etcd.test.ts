import { after, before } from 'node:test';
import { runBackendSuite } from '../conformance.ts';
import { openEtcdBackend } from './index.ts';
import { etcdUnavailableReason, startEtcd, type TestEtcd } from './test-etcd.ts';

// One etcd for the file; each test gets its own client and key prefix.
const skip = etcdUnavailableReason();
let etcd: TestEtcd | undefined;
before(async () => {
  if (skip === undefined) etcd = await startEtcd();
});
after(async () => {
  await etcd?.stop();
});

runBackendSuite({
  name: 'etcd',
  skip,
  async newBackend() {
    const backend = await openEtcdBackend([etcd!.endpoint]);
    return {
      backend,
      reopen: () => openEtcdBackend([etcd!.endpoint]),
      cleanup: () => backend.close(),
    };
  },
});

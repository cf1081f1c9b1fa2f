import assert from 'node:assert/strict';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { it } from 'node:test';
import { CompactedError, openBackend } from '../storage/index.ts';
import { Compactor } from './compactor.ts';

it('compacts to the revision seen one run earlier, keeping live keys', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-compactor-'));
  const backend = await openBackend('', { dataDir: dir });
  try {
    for (let i = 0; i < 10; i++) await backend.create(`/registry/core/configmaps/a/c${i}`, '{}');
    const seen = await backend.currentRevision();
    const compactor = new Compactor(backend);
    await compactor.run(); // remembers `seen`, compacts nothing yet
    assert.equal(await backend.compactedRevision(), 0);
    await backend.create('/registry/core/configmaps/a/late', '{}');
    await compactor.run(); // compacts to `seen`
    assert.equal(await backend.compactedRevision(), seen);
    await assert.rejects(backend.get('/registry/core/configmaps/a/c0', { revision: 1 }), CompactedError);
    assert.equal(await backend.count('/registry/core/configmaps/'), 11);
  } finally {
    await backend.close();
    await rm(dir, { recursive: true, force: true });
  }
});

import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { openBackend } from './index.ts';

describe('openBackend', () => {
  let dataDir: string;
  before(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'skiff-open-'));
  });
  after(async () => {
    await rm(dataDir, { recursive: true, force: true });
  });

  for (const endpoint of ['', 'sqlite://']) {
    it(`opens SQLite under the data dir for ${JSON.stringify(endpoint)}`, async () => {
      const backend = await openBackend(endpoint, { dataDir });
      await backend.create('/k', 'v');
      await backend.close();
      assert.ok(existsSync(join(dataDir, 'server', 'db', 'state.db')));
      await rm(join(dataDir, 'server'), { recursive: true });
    });
  }

  it('opens the SQLite file a sqlite:/// URL names', async () => {
    const path = join(dataDir, 'elsewhere', 'my store.db');
    const backend = await openBackend(`sqlite://${encodeURI(path)}`, { dataDir });
    await backend.close();
    assert.ok(existsSync(path));
  });

  it('rejects unknown schemes, relative SQLite paths and non-URLs with a TypeError', async () => {
    await assert.rejects(openBackend('mysql://db:3306/k3s', { dataDir }), {
      name: 'TypeError',
      message: /scheme "mysql:" is not one of sqlite:\/\/, http:\/\/, https:\/\//,
    });
    await assert.rejects(openBackend('sqlite://state.db', { dataDir }), {
      name: 'TypeError',
      message: /must be absolute/,
    });
    await assert.rejects(openBackend('localhost:2379', { dataDir }), TypeError);
  });
});

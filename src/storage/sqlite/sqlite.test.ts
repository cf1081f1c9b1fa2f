import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { runBackendSuite } from '../conformance.ts';
import { openSqliteBackend } from './index.ts';

runBackendSuite({
  name: 'sqlite',
  async newBackend() {
    const dir = await mkdtemp(join(tmpdir(), 'skiff-sqlite-'));
    const path = join(dir, 'state.db');
    const backend = await openSqliteBackend(path);
    return {
      backend,
      reopen: () => openSqliteBackend(path),
      async cleanup() {
        await backend.close();
        await rm(dir, { recursive: true, force: true });
      },
    };
  },
});

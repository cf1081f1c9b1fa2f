/**
 * Child process of the durability test: opens the SQLite backend at argv[2] and creates keys
 * from 64 concurrent writers, printing `<key> <revision>` for each write as soon as it is
 * acknowledged. Writes to a pipe are synchronous on Linux, so a printed line means the parent
 * may hold us to that write. Runs until killed.
 */

import { openSqliteBackend } from '../index.ts';

const path = process.argv[2];
if (path === undefined) throw new TypeError('usage: burst-writer.ts <database path>');
const backend = await openSqliteBackend(path);
const value = 'x'.repeat(1024);
let next = 0;

async function writer(): Promise<void> {
  for (;;) {
    const key = `/burst/${next++}`;
    const revision = await backend.create(key, value);
    process.stdout.write(`${key} ${revision}\n`);
  }
}

await Promise.all(Array.from({ length: 64 }, writer));

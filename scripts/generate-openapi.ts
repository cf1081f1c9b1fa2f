/**
 * Regenerates the OpenAPI schemas served at `/openapi/v2` and `/openapi/v3` from the
 * `kubernetes-types` declaration files (see `src/apiserver/openapi/generate.ts`).
 *
 *   node_modules/.bin/node scripts/generate-openapi.ts [--out DIR]
 *
 * DIR defaults to `src/apiserver/openapi/generated/`, whose files are committed; files there
 * that the generator no longer writes are removed.
 */
import { mkdirSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { generateSchemas } from '../src/apiserver/openapi/generate.ts';

const { values } = parseArgs({ options: { out: { type: 'string' } } });
const out = resolve(values.out ?? join(import.meta.dirname, '..', 'src', 'apiserver', 'openapi', 'generated'));
const files = generateSchemas();
mkdirSync(out, { recursive: true });
for (const name of readdirSync(out)) {
  if (name.endsWith('.json') && !files.has(name)) rmSync(join(out, name));
}
let bytes = 0;
for (const [name, text] of files) {
  writeFileSync(join(out, name), text);
  bytes += Buffer.byteLength(text);
}
console.log(`wrote ${files.size} files, ${(bytes / 1024).toFixed(0)} KiB, to ${out}`);

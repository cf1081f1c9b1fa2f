/**
 * Bodies captured from the real kubectl 1.32 and 1.33 `create` generators (see
 * `test/protobuf.test.ts`, which records them), decoded without kubectl: each must give the
 * object the same command printed with `--dry-run=client -o json`, its null members removed.
 */
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { decodeProtobufBody } from './index.ts';

interface Fixture {
  kubectl: string;
  command: string[];
  /** The request body, base64. */
  protobuf: string;
  /** kubectl's `-o json` output for the same command, without null members. */
  json: Record<string, unknown>;
}

const dir = join(import.meta.dirname, 'fixtures');
const files = readdirSync(dir).filter((name) => name.endsWith('.json')).sort();

describe('kubectl create bodies (fixtures)', () => {
  it('has captures of both kubectl versions', () => {
    assert.ok(files.some((name) => name.startsWith('kubectl-1.32-')));
    assert.ok(files.some((name) => name.startsWith('kubectl-1.33-')));
  });

  for (const file of files) {
    const fixture = JSON.parse(readFileSync(join(dir, file), 'utf8')) as Fixture;
    it(`${fixture.command.join(' ')} (kubectl ${fixture.kubectl})`, () => {
      const decoded = decodeProtobufBody(Buffer.from(fixture.protobuf, 'base64'));
      assert.equal(decoded.apiVersion, fixture.json.apiVersion);
      assert.equal(decoded.kind, fixture.json.kind);
      assert.deepStrictEqual(decoded.object, fixture.json);
    });
  }
});

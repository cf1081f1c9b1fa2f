/**
 * `kubectl explain` against Skiff with kubectl 1.27, 1.30, 1.32 and 1.33: fields of built-in
 * kinds with their types and upstream's descriptions (from the OpenAPI v3 documents; 1.27 also
 * from v2 with `--output plaintext-openapiv2`), `--recursive`, and a CustomResourceDefinition's
 * schema, published as soon as the CRD is served and withdrawn with it.
 */
import assert from 'node:assert/strict';
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';

const VERSIONS = ['1.27', '1.30', '1.32', '1.33'];
const CRD_FILE = join(import.meta.dirname, '..', 'src', 'apiserver', 'crd', 'testdata', 'crontab-crd.yaml');

describe('kubectl explain', () => {
  let server: TestServer;

  before(async () => {
    server = await startServer();
  });
  after(async () => cleanup(server));

  for (const version of VERSIONS) {
    describe(`kubectl ${version}`, () => {
      const explain = async (...args: string[]) => {
        const r = await kubectl(server, ['explain', ...args], { version });
        assert.equal(r.code, 0, `kubectl ${version} explain ${args.join(' ')}:\n${r.stderr}`);
        return r.stdout;
      };

      it('explains a nested field: its type, description and fields', async () => {
        const out = await explain('deployment.spec.strategy');
        assert.match(out, /^GROUP:\s+apps$/m);
        assert.match(out, /^KIND:\s+Deployment$/m);
        assert.match(out, /^FIELD: strategy <DeploymentStrategy>$/m);
        assert.match(out, /^ {4}The deployment strategy to use to replace existing pods with new ones\.$/m);
        assert.match(out, /^ {4}DeploymentStrategy describes how to replace existing pods with new ones\.$/m);
        assert.match(out, /^ {2}rollingUpdate\t<RollingUpdateDeployment>$/m);
        assert.match(out, /^ {4}Rolling update config params\. Present only if DeploymentStrategyType =$/m);
        assert.match(out, /^ {2}type\t<string>$/m);
      });

      it('explains a field of a list element', async () => {
        const out = await explain('pod.spec.containers.image');
        assert.match(out, /^KIND:\s+Pod$/m);
        assert.match(out, /^VERSION:\s+v1$/m);
        assert.match(out, /^FIELD: image <string>$/m);
        assert.match(out, /^ {4}Container image name\. More info:$/m);
      });

      it('explains a kind', async () => {
        const out = await explain('configmap');
        assert.match(out, /^KIND:\s+ConfigMap$/m);
        assert.match(out, /^ {4}ConfigMap holds configuration data for pods to consume\.$/m);
        assert.match(out, /^ {2}data\t<map\[string\]string>$/m);
        assert.match(out, /^ {2}metadata\t<ObjectMeta>$/m);
        assert.match(out, /^ {2}immutable\t<boolean>$/m);
      });

      it('explains recursively, with int-or-string and required fields', async () => {
        const strategy = await explain('deployment.spec.strategy', '--recursive');
        assert.match(strategy, /^ {2}rollingUpdate\t<RollingUpdateDeployment>\n {4}maxSurge\t<IntOrString>\n {4}maxUnavailable\t<IntOrString>\n {2}type\t<string>$/m);
        const lease = await explain('lease', '--recursive');
        assert.match(lease, /^ {4}ownerReferences\t<\[\]OwnerReference>\n {6}apiVersion\t<string> -required-$/m);
        assert.match(lease, /^ {4}leaseDurationSeconds\t<integer>$/m);
        assert.match(lease, /^ {4}renewTime\t<string>$/m);
      });

      it('says when a field does not exist', async () => {
        const r = await kubectl(server, ['explain', 'deployment.spec.nope'], { version });
        assert.notEqual(r.code, 0);
        assert.match(r.stderr, /field "nope" does not exist/);
      });
    });
  }

  it('kubectl 1.27 explains from OpenAPI v2 too', async () => {
    const r = await kubectl(server, ['explain', 'deployment.spec.strategy', '--output', 'plaintext-openapiv2'], { version: '1.27' });
    assert.equal(r.code, 0, r.stderr);
    assert.match(r.stdout, /^RESOURCE: strategy <Object>$/m);
    assert.match(r.stdout, /^ {5}The deployment strategy to use to replace existing pods with new ones\.$/m);
    assert.match(r.stdout, /^ {3}rollingUpdate\t<Object>$/m);
  });

  describe('a custom resource', () => {
    before(async () => {
      const applied = await kubectl(server, ['apply', '-f', '-'], { input: await readFile(CRD_FILE, 'utf8') });
      assert.equal(applied.code, 0, applied.stderr);
      const ready = await kubectl(server, ['wait', '--for=condition=Established', 'crd/crontabs.stable.example.com', '--timeout=10s']);
      assert.equal(ready.code, 0, ready.stderr);
    });

    for (const version of VERSIONS) {
      it(`is explained from its CRD's schema by kubectl ${version}`, async () => {
        const r = await kubectl(server, ['explain', 'crontab.spec'], { version });
        assert.equal(r.code, 0, r.stderr);
        assert.match(r.stdout, /^GROUP:\s+stable\.example\.com$/m);
        assert.match(r.stdout, /^KIND:\s+CronTab$/m);
        assert.match(r.stdout, /^ {2}cronSpec\t<string>$/m);
        assert.match(r.stdout, /^ {2}replicas\t<integer>$/m);
        assert.match(r.stdout, /^ {2}ports\t<\[\]Object>$/m);
        const size = await kubectl(server, ['explain', 'crontab.spec.size'], { version });
        // kubectl prints a field's enum values from 1.28 on.
        assert.match(size.stdout, version === '1.27' ? /^FIELD: size <string>$/m : /^FIELD: size <string>\nENUM:\n {4}S\n {4}M$/m);
        const top = await kubectl(server, ['explain', 'crontab', '--recursive'], { version });
        assert.match(top.stdout, /^ {2}metadata\t<ObjectMeta>$/m, 'metadata is ObjectMeta, as for every kind');
        assert.match(top.stdout, /^ {6}timeZone\t<string> -required-$/m);
      });
    }

    it('is no longer explained once the CRD is deleted', async () => {
      const deleted = await kubectl(server, ['delete', 'crd', 'crontabs.stable.example.com', '--timeout=30s']);
      assert.equal(deleted.code, 0, deleted.stderr);
      const r = await kubectl(server, ['explain', 'crontab']);
      assert.notEqual(r.code, 0);
    });
  });
});

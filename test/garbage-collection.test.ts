/**
 * ownerReferences drive deletion, seen through kubectl: `delete --cascade=background`,
 * `--cascade=foreground` (the owner waits for blocking dependents) and `--cascade=orphan`
 * (dependents stay, without the reference), and dependents of an owner that never existed.
 */
import assert from 'node:assert/strict';
import { after, before, describe, it } from 'node:test';
import { cleanup, kubectl, startServer, type TestServer } from './helpers/cluster.ts';

const NS = 'gc';

describe('garbage collection', () => {
  let server: TestServer;
  const ok = async (args: string[], input?: string) => {
    const r = await kubectl(server, ['-n', NS, ...args], input === undefined ? {} : { input });
    assert.equal(r.code, 0, `kubectl ${args.join(' ')}: ${r.stderr}`);
    return r.stdout;
  };
  const exists = async (name: string) => (await kubectl(server, ['-n', NS, 'get', 'cm', name])).code === 0;
  const eventually = async (check: () => Promise<boolean>, what: string) => {
    const deadline = Date.now() + 15_000;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
      await new Promise((r) => setTimeout(r, 100));
    }
  };
  /** Creates an owner ConfigMap and dependents pointing at it; returns the owner's uid. */
  const family = async (owner: string, dependents: { name: string; block?: boolean; finalizers?: string[] }[]) => {
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: owner } }));
    const uid = await ok(['get', 'cm', owner, '-o', 'jsonpath={.metadata.uid}']);
    for (const d of dependents) {
      const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: owner, uid, ...(d.block ? { blockOwnerDeletion: true } : {}) };
      await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: d.name, ownerReferences: [ref], ...(d.finalizers ? { finalizers: d.finalizers } : {}) } }));
    }
    return uid;
  };

  before(async () => {
    server = await startServer();
    const r = await kubectl(server, ['create', '-f', '-'], { input: `apiVersion: v1\nkind: Namespace\nmetadata:\n  name: ${NS}\n` });
    assert.equal(r.code, 0, r.stderr);
  });
  after(async () => cleanup(server));

  it('deletes dependents after their owner (background)', async () => {
    await family('bg-owner', [{ name: 'bg-a' }, { name: 'bg-b' }]);
    await ok(['delete', 'cm', 'bg-owner', '--cascade=background']);
    await eventually(async () => !(await exists('bg-a')) && !(await exists('bg-b')), 'dependents to be collected');
  });

  it('holds the owner until blocking dependents are gone (foreground)', async () => {
    await family('fg-owner', [{ name: 'fg-held', block: true, finalizers: ['example.com/hold'] }, { name: 'fg-free', block: true }]);
    await ok(['delete', 'cm', 'fg-owner', '--cascade=foreground', '--wait=false']);
    await eventually(async () => !(await exists('fg-free')), 'the free dependent to go');
    // The held dependent is being deleted but its own finalizer keeps it; the owner waits.
    assert.ok(await exists('fg-held'));
    assert.equal(await ok(['get', 'cm', 'fg-owner', '-o', 'jsonpath={.metadata.finalizers}']), '["foregroundDeletion"]');
    assert.notEqual(await ok(['get', 'cm', 'fg-held', '-o', 'jsonpath={.metadata.deletionTimestamp}']), '');
    await ok(['patch', 'cm', 'fg-held', '--type', 'merge', '-p', '{"metadata":{"finalizers":null}}']);
    await eventually(async () => !(await exists('fg-held')) && !(await exists('fg-owner')), 'the owner to follow its dependents');
  });

  it('keeps dependents without the reference (orphan)', async () => {
    await family('or-owner', [{ name: 'or-a' }]);
    await ok(['delete', 'cm', 'or-owner', '--cascade=orphan']);
    await eventually(async () => !(await exists('or-owner')), 'the owner to go');
    await eventually(async () => (await ok(['get', 'cm', 'or-a', '-o', 'jsonpath={.metadata.ownerReferences}'])) === '', 'the reference to be dropped');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(await exists('or-a'), 'the orphan stays');
  });

  it('follows owners given and taken away by updates, among updates that touch neither', async () => {
    await family('up-owner', []);
    const uid = await ok(['get', 'cm', 'up-owner', '-o', 'jsonpath={.metadata.uid}']);
    const ref = JSON.stringify([{ apiVersion: 'v1', kind: 'ConfigMap', name: 'up-owner', uid }]);
    for (const name of ['up-adopted', 'up-released']) {
      await ok(['create', 'cm', name, '--from-literal=n=0']);
      await ok(['patch', 'cm', name, '--type', 'merge', '-p', '{"data":{"n":"1"}}']);
      await ok(['patch', 'cm', name, '--type', 'merge', '-p', `{"metadata":{"ownerReferences":${ref}}}`]);
      await ok(['patch', 'cm', name, '--type', 'merge', '-p', '{"data":{"n":"2"}}']);
    }
    await ok(['patch', 'cm', 'up-released', '--type', 'merge', '-p', '{"metadata":{"ownerReferences":null}}']);
    await ok(['patch', 'cm', 'up-released', '--type', 'merge', '-p', '{"data":{"n":"3"}}']);
    await ok(['delete', 'cm', 'up-owner', '--cascade=background']);
    await eventually(async () => !(await exists('up-adopted')), 'the dependent adopted by an update to be collected');
    await new Promise((r) => setTimeout(r, 500));
    assert.ok(await exists('up-released'), 'the object released by an update stays');
    // An update naming an owner that does not exist gets the object collected.
    await ok(['patch', 'cm', 'up-released', '--type', 'merge', '-p', `{"metadata":{"ownerReferences":${ref}}}`]);
    await eventually(async () => !(await exists('up-released')), 'the dependent of a missing owner to be collected');
  });

  it('collects objects whose owner never existed', async () => {
    const ref = { apiVersion: 'v1', kind: 'ConfigMap', name: 'ghost', uid: '00000000-0000-0000-0000-000000000000' };
    await ok(['create', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: 'haunted', ownerReferences: [ref] } }));
    await eventually(async () => !(await exists('haunted')), 'the dependent of a missing owner to be collected');
  });
});

import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, readlinkSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { createSandboxNamespaces, mountOverlay, unmountAll } from './kernel.ts';

const skip = process.getuid?.() === 0 ? false : 'needs root: mounts and namespaces';
const dir = mkdtempSync(join(tmpdir(), 'skiff-test-kernel-'));
const mountsUnder = () => readFileSync('/proc/self/mountinfo', 'utf8').split('\n').filter((l) => l.includes(dir));
after(async () => {
  await unmountAll(mountsUnder().map((l) => l.split(' ')[4]!).reverse()).catch(() => {});
  rmSync(dir, { recursive: true, force: true });
});

test('createSandboxNamespaces: network, IPC and UTS namespaces bound to files, the hostname set, /dev/shm a tmpfs; unmountAll undoes it', { skip }, async () => {
  const files = { net: join(dir, 'net'), ipc: join(dir, 'ipc'), uts: join(dir, 'uts'), shm: join(dir, 'shm') };
  for (const f of [files.net, files.ipc, files.uts]) writeFileSync(f, '');
  mkdirSync(files.shm);
  await createSandboxNamespaces(files, 'pod-name-here');
  assert.equal(execFileSync('nsenter', [`--uts=${files.uts}`, 'hostname'], { encoding: 'utf8' }).trim(), 'pod-name-here');
  const links = execFileSync('nsenter', [`--net=${files.net}`, 'ip', '-o', 'link'], { encoding: 'utf8' }).trim().split('\n');
  assert.deepEqual(links.map((l) => l.split(': ')[1]), ['lo'], 'a new, empty network namespace');
  assert.notEqual(execFileSync('nsenter', [`--ipc=${files.ipc}`, 'readlink', '/proc/self/ns/ipc'], { encoding: 'utf8' }).trim(), readlinkSync('/proc/self/ns/ipc'), 'a new IPC namespace');
  const shm = mountsUnder().find((l) => l.split(' ')[4] === files.shm)!;
  assert.match(shm, / - tmpfs shm rw,.*size=65536k/);
  assert.equal((statSync(files.shm).mode & 0o7777).toString(8), '1777');
  assert.match(shm.split(' ')[5]!, /nosuid,nodev,noexec/);
  assert.equal(execFileSync('hostname', { encoding: 'utf8' }).trim() === 'pod-name-here', false, 'the host keeps its name');
  const undone = await unmountAll([files.net, files.ipc, files.uts, files.shm]);
  assert.deepEqual(undone, [files.net, files.ipc, files.uts, files.shm]);
  assert.deepEqual(mountsUnder(), []);
  assert.deepEqual(await unmountAll([files.net]), [], 'nothing mounted is fine');
});

test('a host-network sandbox gets only a new IPC namespace', { skip }, async () => {
  const files = { ipc: join(dir, 'ipc2'), shm: join(dir, 'shm2') };
  writeFileSync(files.ipc, '');
  mkdirSync(files.shm);
  await createSandboxNamespaces(files, 'ignored');
  assert.equal(mountsUnder().length, 2);
  assert.deepEqual(await unmountAll([files.ipc, files.shm]), [files.ipc, files.shm]);
});

test('mountOverlay stacks layers top first; errors carry the kernel\'s reason', { skip }, async () => {
  const [low, high, upper, work, target] = ['low', 'high', 'upper', 'work', 'root'].map((d) => join(dir, d));
  for (const d of [low, high, upper, work, target]) mkdirSync(d);
  writeFileSync(join(low, 'a'), 'low');
  writeFileSync(join(low, 'b'), 'low');
  writeFileSync(join(high, 'a'), 'high');
  await mountOverlay([high, low], upper, work, target);
  assert.equal(readFileSync(join(target, 'a'), 'utf8'), 'high');
  assert.equal(readFileSync(join(target, 'b'), 'utf8'), 'low');
  writeFileSync(join(target, 'c'), 'new');
  assert.equal(readFileSync(join(upper, 'c'), 'utf8'), 'new', 'writes go to the upper dir');
  assert.deepEqual(await unmountAll([target]), [target]);
  await assert.rejects(mountOverlay([join(dir, 'missing')], upper, work, target), /mount -t overlay .*No such file or directory/);
});

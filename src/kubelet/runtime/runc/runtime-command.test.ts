import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { hybridUnifiedMount, runtimeCommand } from './runtime-command.ts';

const v1 = '30 25 0:26 / /sys/fs/cgroup/memory rw,relatime shared:9 - cgroup cgroup rw,memory\n';
const v2 = '35 25 0:31 / /sys/fs/cgroup/unified rw,relatime shared:14 - cgroup2 cgroup2 rw\n';
const v2only = '35 25 0:31 / /sys/fs/cgroup rw,relatime shared:14 - cgroup2 cgroup2 rw\n';

test('a hybrid layout is v1 controllers plus a v2 hierarchy; pure v1 or pure v2 is not', () => {
  assert.equal(hybridUnifiedMount(v1 + v2), '/sys/fs/cgroup/unified');
  assert.equal(hybridUnifiedMount(v1), undefined);
  assert.equal(hybridUnifiedMount(v2only), undefined);
});

test('runc, and crun off a hybrid host, run as they are; crun on a hybrid host runs through a wrapper', async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-runtime-command-'));
  try {
    assert.equal(await runtimeCommand('runc', dir, v1 + v2), 'runc');
    assert.equal(await runtimeCommand('/usr/bin/crun', dir, v2only), '/usr/bin/crun');
    const wrapper = await runtimeCommand('/usr/bin/crun', dir, v1 + v2);
    assert.equal(wrapper, join(dir, 'bin', 'crun'));
    assert.equal(statSync(wrapper).mode & 0o777, 0o755);
    const text = readFileSync(wrapper, 'utf8');
    assert.match(text, /umount -l \/sys\/fs\/cgroup\/unified/);
    assert.match(text, /\/usr\/bin\/crun "\$@"$/m);
    assert.equal(await runtimeCommand('/bin/echo', dir, v1 + v2), '/bin/echo', 'only crun is wrapped');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('on this host, crun through the runtime command reports its version', { skip: process.getuid?.() !== 0 ? 'needs root (unshare --mount)' : false }, async () => {
  const dir = mkdtempSync(join(tmpdir(), 'skiff-runtime-command-'));
  try {
    let crun: string;
    try {
      crun = execFileSync('sh', ['-c', 'command -v crun'], { encoding: 'utf8' }).trim();
    } catch {
      return assert.fail('crun is not installed (scripts/test.sh installs it)');
    }
    const command = await runtimeCommand(crun, dir);
    assert.match(execFileSync(command, ['--version'], { encoding: 'utf8' }), /crun version/);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { favorDynamicModifications, parseCgroupMounts } from './cgroups.ts';

test('parseCgroupMounts: v1 controllers by name, flags such as favordynmods are no controllers, the first cgroup2 mount', () => {
  const mountinfo = [
    '25 20 0:22 / /sys/fs/cgroup rw,relatime - tmpfs tmpfs rw,mode=755',
    '26 25 0:23 / /sys/fs/cgroup/cpu,cpuacct rw,relatime - cgroup cgroup rw,cpu,cpuacct,favordynmods',
    '27 25 0:24 / /sys/fs/cgroup/memory rw,relatime - cgroup cgroup rw,memory,clone_children',
    '28 25 0:25 / /sys/fs/cgroup/systemd rw,relatime - cgroup cgroup rw,xattr,release_agent=/x,name=systemd',
    '29 25 0:26 / /sys/fs/cgroup/cpuset rw,relatime - cgroup cgroup rw,cpuset,noprefix,cpuset_v2_mode',
    '30 25 0:27 / /sys/fs/cgroup/unified rw,relatime - cgroup2 cgroup2 rw,nsdelegate,favordynmods',
    '',
  ].join('\n');
  const mounts = parseCgroupMounts(mountinfo);
  assert.deepEqual(Object.fromEntries(mounts.v1), {
    cpu: '/sys/fs/cgroup/cpu,cpuacct',
    cpuacct: '/sys/fs/cgroup/cpu,cpuacct',
    memory: '/sys/fs/cgroup/memory',
    'name=systemd': '/sys/fs/cgroup/systemd',
    cpuset: '/sys/fs/cgroup/cpuset',
  });
  assert.equal(mounts.v2, '/sys/fs/cgroup/unified');
  assert.equal(parseCgroupMounts('25 20 0:22 / /sys/fs/cgroup rw - cgroup2 cgroup2 rw\n').v2, '/sys/fs/cgroup');
});

const v2Options = () => {
  const line = readFileSync('/proc/self/mountinfo', 'utf8').split('\n').find((l) => l.split(' - ')[1]?.startsWith('cgroup2 '));
  return line ? line.split(' - ')[1]!.split(' ')[2]!.split(',') : undefined;
};

// The node tuning the agent applies at start: a real remount of this machine's cgroup2 mount.
// Recent kernels (6.18 here) cannot turn the per-thread-group locking it brings back off, so the test
// leaves it on, as every agent start on this machine does.
test('favorDynamicModifications: the cgroup2 mount gains favordynmods and keeps its other options', {
  skip: process.getuid?.() !== 0 ? 'needs root: remounts the cgroup2 hierarchy' : v2Options() === undefined ? 'this host has no cgroup2 mount' : false,
}, async () => {
  const before = v2Options()!;
  const outcome = await favorDynamicModifications();
  if (outcome.state === 'unavailable') assert.fail(outcome.reason);
  assert.equal(outcome.state === 'already', before.includes('favordynmods'));
  const after = v2Options()!;
  assert.ok(after.includes('favordynmods'), after.join(','));
  for (const option of before) assert.ok(after.includes(option), `${option} kept`);
  assert.deepEqual(await favorDynamicModifications(), { state: 'already', mountPoint: outcome.mountPoint });
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ContainerConfig } from '../container-runtime.ts';
import { ALL_CAPABILITIES, buildSpec, currentCapabilities, DEFAULT_CAPABILITIES, effectiveCapabilities } from './oci-spec.ts';

const ns = { net: '/ns/net', ipc: '/ns/ipc', uts: '/ns/uts', shm: '/sb/shm', hosts: '/sb/hosts', resolvConf: '/sb/resolv.conf', hostname: '/sb/hostname' };
const spec = (extra: Partial<ContainerConfig> = {}) =>
  buildSpec({ name: 'c', argv: ['sh'], layers: ['/l'], logPath: '/log', ...extra }, { rootfs: '/rootfs', cgroupsPath: '/kubepods/pod1/c', namespaces: ns });

test('defaults: containerd capability set, masked /proc paths, pod namespaces joined, no seccomp (Unconfined)', () => {
  const s = spec();
  assert.deepEqual([...s.process.capabilities.bounding].sort(), [...DEFAULT_CAPABILITIES].sort());
  assert.ok(s.linux.maskedPaths?.includes('/proc/kcore'));
  assert.ok(s.linux.readonlyPaths?.includes('/proc/sys'));
  assert.deepEqual(s.linux.namespaces.find((n) => n.type === 'network'), { type: 'network', path: '/ns/net' });
  assert.equal(s.linux.seccomp, undefined);
  assert.ok(s.mounts.some((m) => m.destination === '/etc/resolv.conf' && m.source === '/sb/resolv.conf'));
});

test('drop ALL then add; RuntimeDefault blocks mount and unshare without CAP_SYS_ADMIN', () => {
  const s = spec({ security: { capabilities: { drop: ['ALL'], add: ['NET_BIND_SERVICE', 'SYS_ADMIN'] }, seccomp: { type: 'RuntimeDefault' } } });
  assert.deepEqual(s.process.capabilities.bounding, ['CAP_NET_BIND_SERVICE', 'CAP_SYS_ADMIN']);
  const allowed = new Set(s.linux.seccomp!.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
  assert.ok(allowed.has('mount'), 'SYS_ADMIN allows mount');
  const plain = spec({ security: { seccomp: { type: 'RuntimeDefault' } } });
  const plainAllowed = new Set(plain.linux.seccomp!.syscalls.filter((r) => r.action === 'SCMP_ACT_ALLOW' && !r.args).flatMap((r) => r.names));
  for (const blocked of ['mount', 'unshare', 'reboot', 'kexec_load', 'setns', 'ptrace']) assert.ok(!plainAllowed.has(blocked), blocked);
  assert.equal(plain.linux.seccomp!.defaultAction, 'SCMP_ACT_ERRNO');
});

test('privileged: every capability, every device, host /dev, writable sysfs, no seccomp or masking', () => {
  const s = spec({ security: { privileged: true, seccomp: { type: 'RuntimeDefault' } } });
  assert.ok(s.process.capabilities.bounding.includes('CAP_SYS_ADMIN'));
  assert.deepEqual(s.linux.resources.devices, [{ allow: true, access: 'rwm' }]);
  assert.equal(s.linux.seccomp, undefined);
  assert.equal(s.linux.maskedPaths, undefined);
  assert.ok(s.mounts.find((m) => m.destination === '/sys')!.options.includes('rw'));
});

test('privileged and add ALL get the capabilities this process holds, as containerd (a root without CAP_SYS_RESOURCE cannot hand it on)', () => {
  const withoutSysResource = currentCapabilities('Name:\tnode\nCapEff:\t000001fffeffffff\n');
  assert.equal(withoutSysResource.length, ALL_CAPABILITIES.length - 1);
  assert.ok(!withoutSysResource.includes('CAP_SYS_RESOURCE'));
  assert.ok(withoutSysResource.includes('CAP_SYS_ADMIN') && withoutSysResource.includes('CAP_CHECKPOINT_RESTORE'));
  assert.deepEqual(currentCapabilities('CapEff:\t0000000000000401\n'), ['CAP_CHOWN', 'CAP_NET_BIND_SERVICE']);
  const current = () => ['CAP_CHOWN', 'CAP_SYS_ADMIN'];
  const config = (security: ContainerConfig['security']) => ({ name: 'c', argv: ['sh'], layers: ['/l'], logPath: '/x', security }) as ContainerConfig;
  assert.deepEqual(effectiveCapabilities(config({ privileged: true }), current), ['CAP_CHOWN', 'CAP_SYS_ADMIN']);
  assert.deepEqual(effectiveCapabilities(config({ capabilities: { drop: ['ALL'], add: ['ALL'] } }), current), ['CAP_CHOWN', 'CAP_SYS_ADMIN']);
});

test('resources and user map into the spec', () => {
  const s = spec({ resources: { cpuShares: 512, cpuQuota: 50_000, memoryLimitBytes: 1 << 26, pidsLimit: 100, oomScoreAdj: 500 }, security: { runAsUser: 1000, runAsGroup: 2000, supplementalGroups: [3000], readonlyRootfs: true, noNewPrivileges: true } });
  assert.deepEqual(s.linux.resources.cpu, { shares: 512, quota: 50_000, period: 100_000 });
  assert.deepEqual(s.linux.resources.pids, { limit: 100 });
  assert.equal(s.process.oomScoreAdj, 500);
  assert.deepEqual(s.process.user, { uid: 1000, gid: 2000, additionalGids: [3000] });
  assert.equal(s.root.readonly, true);
  assert.equal(s.process.noNewPrivileges, true);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { Pod } from 'kubernetes-types/core/v1.js';
import { forbiddenSysctl } from './sysctls.ts';

const pod = (sysctls: { name: string; value: string }[], spec: Partial<NonNullable<Pod['spec']>> = {}): Pod => ({ spec: { containers: [], securityContext: { sysctls }, ...spec } });

test('safe sysctls pass, unsafe ones need the operator\'s allowlist (exact names or prefix*)', () => {
  assert.equal(forbiddenSysctl(pod([{ name: 'net.ipv4.ip_unprivileged_port_start', value: '0' }, { name: 'kernel.shm_rmid_forced', value: '1' }])), undefined);
  assert.equal(forbiddenSysctl(pod([{ name: 'net/ipv4/tcp_syncookies', value: '1' }])), undefined, 'slash-separated names as upstream');
  assert.equal(forbiddenSysctl(pod([{ name: 'kernel.msgmax', value: '65536' }])), '"kernel.msgmax" not allowlisted');
  assert.equal(forbiddenSysctl(pod([{ name: 'kernel.msgmax', value: '65536' }]), ['kernel.msg*']), undefined);
  assert.equal(forbiddenSysctl(pod([{ name: 'net.core.somaxconn', value: '1024' }]), ['net.core.somaxconn']), undefined);
  assert.equal(forbiddenSysctl(pod([{ name: 'net.core.somaxconn', value: '1024' }]), ['net.core.rmem_max']), '"net.core.somaxconn" not allowlisted');
});

test('network sysctls are refused on the host network, IPC ones in the host IPC namespace', () => {
  assert.equal(forbiddenSysctl(pod([{ name: 'net.ipv4.tcp_syncookies', value: '1' }], { hostNetwork: true })), '"net.ipv4.tcp_syncookies" not allowed with host net enabled');
  assert.equal(forbiddenSysctl(pod([{ name: 'kernel.shm_rmid_forced', value: '1' }], { hostIPC: true })), '"kernel.shm_rmid_forced" not allowed with host ipc enabled');
  assert.equal(forbiddenSysctl(pod([{ name: 'kernel.shm_rmid_forced', value: '1' }], { hostNetwork: true })), undefined);
});

import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatIp, NodeIpam, nodeMaskSize, nodeSubnet, parseCidr } from './ip-allocator.ts';

test('per-node subnets: /24 while the cluster CIDR holds them, longer prefixes when it does not', () => {
  const cluster = parseCidr('10.42.0.0/16');
  assert.equal(nodeMaskSize(cluster, 3), 24);
  assert.equal(nodeMaskSize(cluster, 256), 24);
  assert.equal(nodeMaskSize(cluster, 1000), 26);
  assert.throws(() => nodeMaskSize(parseCidr('10.42.0.0/24'), 100), /cannot hold 100 node subnets/);
  const subnet = nodeSubnet(cluster, 24, 3);
  assert.equal(`${formatIp(subnet.base)}/${subnet.prefix}`, '10.42.3.0/24');
  assert.throws(() => parseCidr('10.42.0.0'), RangeError);
});

test('a node hands out .2 onward, never the gateway or broadcast, and reuses freed addresses later', () => {
  const ipam = new NodeIpam(parseCidr('10.42.7.0/29'));
  assert.equal(ipam.capacity, 5);
  const ips = Array.from({ length: 5 }, () => ipam.allocate());
  assert.deepEqual(ips, ['10.42.7.2', '10.42.7.3', '10.42.7.4', '10.42.7.5', '10.42.7.6']);
  assert.equal(ipam.allocate(), undefined);
  ipam.release('10.42.7.3');
  assert.equal(ipam.allocate(), '10.42.7.3');
  assert.equal(ipam.claim('10.42.8.2'), false);
});

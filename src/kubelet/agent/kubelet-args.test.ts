import assert from 'node:assert/strict';
import { test } from 'node:test';
import { parseKubeletArgs } from './kubelet-args.ts';

test('--kubelet-arg settings: known keys parsed, the rest reported', () => {
  const unsupported: string[] = [];
  const settings = parseKubeletArgs([
    ['port', '10251'], ['image-pull-backoff', '1s'], ['image-pull-backoff-max', '1m30s'], ['container-log-max-size', '8Ki'],
    ['container-log-max-files', '3'], ['container-log-monitor-interval', '300ms'], ['allowed-unsafe-sysctls', 'kernel.msg*, net.core.somaxconn'],
    ['eviction-hard', 'memory.available<200Mi,nodefs.available<5%'], ['eviction-pressure-transition-period', '30s'],
    ['protect-kernel-defaults', 'true'],
    ['max-pods', '50'], ['port', 'x'], ['image-pull-backoff', 'soon'], ['eviction-hard', 'memory.free<1'], ['protect-kernel-defaults', 'yes'],
  ], (key, value) => unsupported.push(`${key}=${value}`));
  assert.deepEqual(settings, {
    kubeletPort: 10251,
    imagePullBackoff: { initialMs: 1000, maxMs: 90_000 },
    containerLogs: { maxSizeBytes: 8192, maxFiles: 3, monitorIntervalMs: 300 },
    allowedUnsafeSysctls: ['kernel.msg*', 'net.core.somaxconn'],
    evictionHard: 'memory.available<200Mi,nodefs.available<5%',
    pressureTransitionPeriodMs: 30_000,
    protectKernelDefaults: true,
  });
  assert.deepEqual(unsupported, ['max-pods=50', 'port=x', 'image-pull-backoff=soon', 'eviction-hard=memory.free<1', 'protect-kernel-defaults=yes']);
  assert.deepEqual(parseKubeletArgs([['protect-kernel-defaults', 'false']], () => assert.fail()), { protectKernelDefaults: false });
});

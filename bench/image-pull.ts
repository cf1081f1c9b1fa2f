/**
 * Image pull throughput from a local registry (Debian's `docker-registry` on 127.0.0.1):
 * a ~50 MB image of five incompressible 10 MB gzip layers, pulled into a new store each run
 * (download, sha256 verification, gunzip, diffID verification, unpacking), median of 5; and a
 * pull of the same image again with everything present (manifest check only).
 *
 *   node_modules/.bin/node bench/image-pull.ts
 */
import { randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildImage, pushImage } from '../scripts/build-images.ts';
import { ImageService, RegistryClient, writeTar, type Manifest } from '../src/kubelet/index.ts';
import { startRegistry } from '../test/helpers/registry.ts';

const runs = 5;
const registry = await startRegistry();
const root = mkdtempSync(join(tmpdir(), 'skiff-bench-images-'));
try {
  const layers = Array.from({ length: 5 }, (_, i) => writeTar([{ name: `data${i}.bin`, type: 'file', data: randomBytes(10_000_000) }]));
  const image = buildImage({ layers, config: { Cmd: ['sh'] } });
  await pushImage(new RegistryClient(), registry.host, 'bench', '1', image);
  const bytes = (JSON.parse(image.top.bytes.toString()) as Manifest).layers.reduce((sum, l) => sum + l.size, 0);
  const cold: number[] = [];
  const warm: number[] = [];
  for (let i = 0; i < runs; i++) {
    const service = await ImageService.open({ root: join(root, `run-${i}`) });
    let start = performance.now();
    await service.pull(`${registry.host}/bench:1`);
    cold.push((performance.now() - start) / 1000);
    start = performance.now();
    await service.pull(`${registry.host}/bench:1`);
    warm.push(performance.now() - start);
    rmSync(join(root, `run-${i}`), { recursive: true, force: true });
  }
  const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;
  console.log(`| image | cold pull (median of ${runs}) | throughput | pull again (present) |`);
  console.log('|---|---|---|---|');
  console.log(`| ${(bytes / 1e6).toFixed(1)} MB, 5 layers | ${median(cold).toFixed(2)} s | ${(bytes / 1e6 / median(cold)).toFixed(1)} MB/s | ${median(warm).toFixed(1)} ms |`);
} finally {
  await registry.stop();
  rmSync(root, { recursive: true, force: true });
}

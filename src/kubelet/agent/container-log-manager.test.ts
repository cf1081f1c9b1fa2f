/**
 * Container log rotation against a stand-in runtime whose "shim" recreates the log file on
 * reopen: rotation at the size limit, names, compression of older files, the file budget,
 * leftovers of interrupted rotations, a failed reopen, same-second rotations and `clean`.
 */
import assert from 'node:assert/strict';
import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { after, before, test } from 'node:test';
import type { ContainerRuntime, ContainerStatus } from '../runtime/container-runtime.ts';
import { ContainerLogManager, containerLogSetting, parseLogMaxSize, rotationTimestamp } from './container-log-manager.ts';

let dir: string;
before(async () => { dir = await mkdtemp(join(tmpdir(), 'skiff-test-logrot-')); });
after(async () => { await rm(dir, { recursive: true, force: true }); });

function fakeRuntime(logPath: string, options: { failReopen?: () => boolean; state?: ContainerStatus['state'] } = {}) {
  const reopened: string[] = [];
  const runtime = {
    async listContainers(filter?: { state?: string }) {
      const c = { id: 'c1', logPath, state: options.state ?? 'running' } as ContainerStatus;
      return filter?.state && filter.state !== c.state ? [] : [c];
    },
    async reopenContainerLog(id: string) {
      if (options.failReopen?.()) throw new Error('shim gone');
      reopened.push(id);
      await writeFile(logPath, '', { flag: 'a' });
    },
  } as unknown as ContainerRuntime;
  return { runtime, reopened };
}

/** A clock that moves one second per call. */
function ticking(start = new Date(2024, 0, 2, 3, 4, 5)) {
  let t = start.getTime();
  return () => new Date((t += 1000));
}

test('rotation names, compression and the file budget (maxFiles counts the current file)', async () => {
  const sub = await mkdtemp(join(dir, 'a-'));
  const log = join(sub, '0.log');
  await writeFile(log, '');
  const { runtime, reopened } = fakeRuntime(log);
  const m = new ContainerLogManager({ runtime, maxSizeBytes: 100, maxFiles: 3, now: ticking(), log: () => {} });
  // Below the limit: nothing happens.
  await writeFile(log, 'x'.repeat(99));
  await m.rotateLogs();
  assert.deepEqual(await readdir(sub), ['0.log']);
  const contents: string[] = [];
  for (let i = 0; i < 5; i++) {
    contents.push(`round ${i} `.padEnd(120, String(i)));
    await writeFile(log, contents[i]!);
    await m.rotateLogs();
  }
  assert.equal(reopened.length, 5);
  const all = (await readdir(sub)).sort();
  // Current + latest rotated (plain) + one older (gzipped) = maxFiles.
  assert.equal(all.length, 3, all.join(' '));
  assert.equal(all[0], '0.log');
  const compressed = all.filter((f) => /^0\.log\.\d{8}-\d{6}\.gz$/.test(f));
  const uncompressed = all.filter((f) => /\.\d{8}-\d{6}$/.test(f));
  assert.equal(compressed.length, 1);
  assert.equal(uncompressed.length, 1);
  // The newest rotated file is plain and holds the last round; the older one is gzip of the round before.
  assert.equal(await readFile(join(sub, uncompressed[0]!), 'utf8'), contents[4]);
  assert.equal(gunzipSync(await readFile(join(sub, compressed[0]!))).toString(), contents[3]);
  assert.ok(compressed[0]! < uncompressed[0]!, 'the compressed file is the older one');
  assert.equal(await readFile(log, 'utf8'), '', 'the current file was reopened empty');
});

test('leftovers of an interrupted rotation are removed; a failed reopen puts the file back', async () => {
  const sub = await mkdtemp(join(dir, 'b-'));
  const log = join(sub, '0.log');
  await writeFile(log, 'y'.repeat(200));
  await writeFile(`${log}.20200101-000000.gz.tmp`, 'partial');
  await writeFile(`${log}.20200101-000001`, 'already compressed');
  await writeFile(`${log}.20200101-000001.gz`, 'gz');
  let fail = true;
  const { runtime } = fakeRuntime(log, { failReopen: () => fail });
  const lines: string[] = [];
  const m = new ContainerLogManager({ runtime, maxSizeBytes: 100, maxFiles: 5, now: ticking(), log: (l) => lines.push(l) });
  await m.rotateLogs();
  assert.deepEqual((await readdir(sub)).sort(), ['0.log', '0.log.20200101-000001.gz']);
  assert.equal(await readFile(log, 'utf8'), 'y'.repeat(200), 'the log is back under its name');
  assert.match(lines.join('\n'), /shim gone/);
  fail = false;
  await m.rotateLogs();
  assert.equal((await readdir(sub)).length, 3);
});

test('rotations within one second are put off; exited containers are not rotated; clean removes all', async () => {
  const sub = await mkdtemp(join(dir, 'c-'));
  const log = join(sub, '0.log');
  const fixed = new Date(2024, 5, 6, 7, 8, 9);
  const { runtime, reopened } = fakeRuntime(log);
  const m = new ContainerLogManager({ runtime, maxSizeBytes: 10, maxFiles: 5, now: () => fixed, log: () => {} });
  await writeFile(log, 'first rotation');
  await m.rotateLogs();
  await writeFile(log, 'second, same second');
  await m.rotateLogs();
  assert.equal(reopened.length, 1);
  assert.equal(await readFile(`${log}.${rotationTimestamp(fixed)}`, 'utf8'), 'first rotation');
  assert.equal(await readFile(log, 'utf8'), 'second, same second');

  const exited = fakeRuntime(log, { state: 'exited' });
  const m2 = new ContainerLogManager({ runtime: exited.runtime, maxSizeBytes: 10, now: ticking(), log: () => {} });
  await m2.rotateLogs();
  assert.equal(exited.reopened.length, 0);

  await writeFile(join(sub, '1.log'), 'another attempt');
  await m.clean(log);
  assert.deepEqual(await readdir(sub), ['1.log']);
});

test('settings: quantities, and maxFiles must exceed 1', () => {
  assert.equal(parseLogMaxSize('10Mi'), 10 * 2 ** 20);
  assert.equal(parseLogMaxSize('1Ki'), 1024);
  assert.equal(parseLogMaxSize('2k'), 2000);
  assert.throws(() => parseLogMaxSize('ten'), /invalid container log max size/);
  const { runtime } = fakeRuntime('/nonexistent/0.log');
  assert.throws(() => new ContainerLogManager({ runtime, maxFiles: 1 }), /must be > 1/);
  assert.equal(rotationTimestamp(new Date(2024, 0, 2, 3, 4, 5)), '20240102-030405');
  assert.deepEqual(containerLogSetting('container-log-max-size', '8Ki'), { maxSizeBytes: 8192 });
  assert.deepEqual(containerLogSetting('container-log-max-files', '3'), { maxFiles: 3 });
  assert.equal(containerLogSetting('container-log-max-files', '1'), undefined);
  assert.deepEqual(containerLogSetting('container-log-monitor-interval', '300ms'), { monitorIntervalMs: 300 });
  assert.deepEqual(containerLogSetting('container-log-monitor-interval', '1m30s'), { monitorIntervalMs: 90_000 });
  assert.equal(containerLogSetting('container-log-monitor-interval', 'soon'), undefined);
  assert.equal(containerLogSetting('port', '10250'), undefined);
});

import assert from 'node:assert/strict';
import { appendFile, mkdtemp, rename, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, it } from 'node:test';
import { parseLogLine, readLogs, type LogOptions } from './log-reader.ts';

let dir: string;
before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'skiff-test-logs-'));
});
after(async () => {
  await rm(dir, { recursive: true, force: true });
});

const LOG = [
  '2024-05-01T10:00:00.000000001Z stdout F one',
  '2024-05-01T10:00:01.500000000Z stderr F two',
  '2024-05-01T10:00:02.000000000Z stdout P thr',
  '2024-05-01T10:00:02.000000100Z stdout F ee',
  'not a log line',
  '2024-05-01T10:00:03.000000000Z stdout F ',
  '',
].join('\n');

async function read(file: string, options: LogOptions & { running?: () => Promise<boolean>; signal?: AbortSignal } = {}): Promise<string> {
  let out = '';
  await readLogs(file, { running: async () => false, ...options, write: (chunk) => void (out += chunk.toString()) });
  return out;
}

it('parses CRI log lines', () => {
  assert.deepEqual(parseLogLine('2024-05-01T10:00:00Z stderr P abc def'), { timestamp: '2024-05-01T10:00:00Z', stream: 'stderr', full: false, text: 'abc def' });
  assert.equal(parseLogLine('garbage'), undefined);
});

it('reads a log as kubectl logs shows it: partial lines joined, tail, since, timestamps, limit', async () => {
  const file = join(dir, 'a.log');
  await writeFile(file, LOG);
  assert.equal(await read(file), 'one\ntwo\nthree\n\n');
  assert.equal(await read(file, { tailLines: 1 }), '\n');
  assert.equal(await read(file, { tailLines: 0 }), '');
  assert.equal(await read(file, { sinceTime: new Date('2024-05-01T10:00:01.400Z') }), 'two\nthree\n\n');
  assert.equal(await read(file, { timestamps: true, tailLines: 4 }), '2024-05-01T10:00:01.500000000Z two\n2024-05-01T10:00:02.000000000Z three\n2024-05-01T10:00:03.000000000Z \n');
  assert.equal(await read(file, { limitBytes: 6 }), 'one\ntw');
  assert.equal(await read(join(dir, 'missing.log')), '');
});

it('follows a growing log across a rotation, and ends when the container has stopped', async () => {
  const file = join(dir, 'b.log');
  await writeFile(file, '2024-05-01T10:00:00Z stdout F first\n');
  let running = true;
  let out = '';
  let wrote!: () => void;
  let waiting = '';
  const seen = (text: string) => new Promise<void>((resolve) => { waiting = text; wrote = resolve; if (out.includes(text)) resolve(); });
  const done = readLogs(file, {
    follow: true,
    running: async () => running,
    pollMs: 50,
    write: (chunk) => {
      out += chunk.toString();
      if (waiting && out.includes(waiting)) wrote();
    },
  });
  await seen('first\n');
  await appendFile(file, '2024-05-01T10:00:01Z stdout F second\n2024-05-01T10:00:01Z stdout F half-');
  await seen('second\n');
  // Rotation: the rest of the old file, then the new file from its start.
  await appendFile(file, 'line\n');
  await rename(file, `${file}.20240501-100002`);
  await writeFile(file, '2024-05-01T10:00:03Z stdout F after rotation\n');
  await seen('after rotation\n');
  running = false;
  await done;
  assert.equal(out, 'first\nsecond\nhalf-line\nafter rotation\n');
});

it('stops following when aborted', async () => {
  const file = join(dir, 'c.log');
  await writeFile(file, '2024-05-01T10:00:00Z stdout F x\n');
  const abort = new AbortController();
  const done = read(file, { follow: true, running: async () => true, signal: abort.signal });
  setTimeout(() => abort.abort(), 50);
  assert.equal(await done, 'x\n');
});

import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { readTar, writeTar } from './tar.ts';

describe('tar', () => {
  it('round-trips entries, long names and big bodies in small chunks', async () => {
    const long = `${'d'.repeat(80)}/${'f'.repeat(80)}`;
    const big = Buffer.alloc(70_000, 7);
    const archive = writeTar([
      { name: 'dir', type: 'directory', mode: 0o750, uid: 1, gid: 2, mtime: 1234 },
      { name: long, type: 'file', data: big },
      { name: 'link', type: 'symlink', linkname: long },
      { name: 'hard', type: 'link', linkname: long },
      { name: 'null', type: 'char', devmajor: 1, devminor: 3 },
    ]);
    const chunks = (async function* () {
      for (let i = 0; i < archive.length; i += 1000) yield archive.subarray(i, i + 1000);
    })();
    const seen: string[] = [];
    for await (const { header, body } of readTar(chunks)) {
      let size = 0;
      if (header.name === long) for await (const piece of body) size += piece.length;
      seen.push(`${header.type} ${header.name} ${header.mode.toString(8)} ${header.uid}:${header.gid} ${header.mtime} ${header.linkname} ${header.devmajor},${header.devminor} ${size}`);
    }
    assert.deepEqual(seen, [
      'directory dir/ 750 1:2 1234  0,0 0',
      `file ${long} 644 0:0 0  0,0 70000`,
      `symlink link 777 0:0 0 ${long} 0,0 0`,
      `link hard 644 0:0 0 ${long} 0,0 0`,
      'char null 644 0:0 0  1,3 0',
    ]);
  });

  it('refuses a corrupt header', async () => {
    const archive = writeTar([{ name: 'a', type: 'file', data: Buffer.from('x') }]);
    archive[0] = 0x62;
    await assert.rejects(async () => {
      for await (const _ of readTar((async function* () {
        yield archive;
      })()));
    }, /checksum/);
  });
});

import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { ProcessSpawner } from './spawner.ts';

const spawner = new ProcessSpawner();
const dir = mkdtempSync(join(tmpdir(), 'skiff-spawner-'));
after(() => {
  spawner.close();
  rmSync(dir, { recursive: true, force: true });
});

test('run collects exit code, stdout and stderr, and passes stdin and env', async () => {
  assert.deepEqual(await spawner.run('sh', ['-c', 'echo out; echo err >&2; exit 3']), { code: 3, signal: null, stdout: 'out\n', stderr: 'err\n' });
  assert.equal((await spawner.run('cat', [], { stdin: 'from stdin' })).stdout, 'from stdin');
  assert.equal((await spawner.run('sh', ['-c', 'echo $ONLY; echo ${HOME:-unset}'], { env: { ONLY: 'this', PATH: '/usr/bin:/bin' } })).stdout, 'this\nunset\n');
  assert.equal((await spawner.run('sh', ['-c', 'printf "[%s]" "$@"', 'sh', '', 'a b', 'line\nbreak', 'é=ü'])).stdout, '[][a b][line\nbreak][é=ü]', 'arguments arrive exactly');
  assert.equal((await spawner.run('sh', ['-c', 'echo "$X"'], { env: { X: 'a=b c', PATH: '/usr/bin:/bin' } })).stdout, 'a=b c\n');
  const big = 'x'.repeat(50_000);
  assert.equal((await spawner.run('wc', ['-c'], { stdin: big })).stdout.trim(), '50000');
  assert.equal((await spawner.runBytes('head', ['-c', '300000', '/dev/urandom'])).stdout.length, 300_000);
});

test('a program that cannot be executed rejects as spawn does; a signal gives a null code', async () => {
  await assert.rejects(spawner.run('/nonexistent/program', []), (e: Error & { code?: string }) => e.code === 'ENOENT');
  const killed = await spawner.run('sh', ['-c', 'kill -9 $$']);
  assert.equal(killed.code, null);
  assert.equal(killed.signal, '9');
});

test('programs run concurrently, and a timeout kills only its own program', async () => {
  const started = Date.now();
  const [slow, quick, killed] = await Promise.all([
    spawner.run('sleep', ['0.5']),
    spawner.run('echo', ['quick']),
    spawner.run('sleep', ['30'], { timeoutMs: 200 }),
  ]);
  assert.equal(slow.code, 0);
  assert.equal(quick.stdout, 'quick\n');
  assert.equal(killed.timedOut, true);
  assert.equal(killed.signal, '9');
  assert.ok(Date.now() - started < 5_000);
  const many = await Promise.all(Array.from({ length: 100 }, (_, i) => spawner.run('echo', [String(i)])));
  assert.deepEqual(many.map((r) => r.stdout), Array.from({ length: 100 }, (_, i) => `${i}\n`));
});

test('startDetached returns the first stdout line while the program keeps running in its own session', async () => {
  const stderrFile = join(dir, 'err.log');
  const started = await spawner.startDetached('sh', ['-c', 'echo ok $$; echo to-stderr >&2; echo $(ps -o sid= -p $$) >&2; sleep 0.3'], { stderrFile });
  assert.equal(started.line, `ok ${started.pid}`);
  process.kill(started.pid, 0);
  // Meanwhile the spawner keeps serving (the detached program does not block it).
  assert.equal((await spawner.run('echo', ['meanwhile'])).stdout, 'meanwhile\n');
  await new Promise((r) => setTimeout(r, 600));
  const lines = readFileSync(stderrFile, 'utf8').trim().split('\n');
  assert.equal(lines[0], 'to-stderr');
  assert.equal(Number(lines[1]), started.pid, 'the program leads its own session');
  const silent = await spawner.startDetached('sh', ['-c', 'exit 0'], { stderrFile });
  assert.equal(silent.line, '');
});

test('startPerlDetached runs Perl source in a fork that holds none of the spawner\'s descriptors', async () => {
  const stderrFile = join(dir, 'perl.log');
  const source = String.raw`
    use POSIX ();
    opendir(my $d, '/proc/self/fd'); my @fds = sort grep { /^\d+$/ } readdir($d); closedir($d);
    print STDOUT "ok $$ @ARGV\n"; close STDOUT;
    print STDERR "fds: @fds\n";
    sleep 1;`;
  const started = await spawner.startPerlDetached(source, ['a', 'b c'], { stderrFile, name: 'skiff-test-perl' });
  assert.equal(started.line, `ok ${started.pid} a b c`);
  assert.match(readFileSync(`/proc/${started.pid}/cmdline`, 'utf8'), /^skiff-test-perl/);
  await new Promise((r) => setTimeout(r, 200));
  // 0, 1, 2 and the directory handle itself while listing; nothing of the spawner's pipes.
  // (Descriptors the test process itself inherited reach every child alike; they are left out.)
  const inherited = new Set((await spawner.run('ls', ['/proc/self/fd'])).stdout.split('\n').filter((fd) => Number(fd) > 3));
  const fds = /^fds: (.*)\n$/.exec(readFileSync(stderrFile, 'utf8'))![1]!.split(' ').filter((fd) => !inherited.has(fd));
  assert.deepEqual(fds, ['0', '1', '2', '3']);
  const broken = await spawner.startPerlDetached('die "broken shim\\n";', [], { stderrFile, name: 'skiff-test-perl' });
  assert.equal(broken.line, '');
  await new Promise((r) => setTimeout(r, 100));
  assert.match(readFileSync(stderrFile, 'utf8'), /broken shim/);
});

test('runPerl runs Perl source to completion in a fork: output, exit code, die', async () => {
  assert.deepEqual(await spawner.runPerl('print "sum ", $ARGV[0] + $ARGV[1], "\\n"; print STDERR "note\\n";', ['2', '3']), { code: 0, signal: null, stdout: 'sum 5\n', stderr: 'note\n' });
  const died = await spawner.runPerl('die "no such thing\\n";', []);
  assert.equal(died.code, 1);
  assert.equal(died.stderr, 'no such thing\n');
  const results = await Promise.all(Array.from({ length: 50 }, (_, i) => spawner.runPerl('print $$, " ", $ARGV[0];', [String(i)])));
  assert.equal(new Set(results.map((r) => r.stdout.split(' ')[0])).size, 50, 'each runs in its own process');
  assert.deepEqual(results.map((r) => r.stdout.split(' ')[1]), Array.from({ length: 50 }, (_, i) => String(i)));
});

test('runPerlInline runs Perl source in the spawner itself: output, exit code, die; the spawner goes on serving', async () => {
  const forked = Number((await spawner.runPerl('print $$;', [])).stdout);
  const own = await spawner.runPerlInline('print "pid $$ ", $ARGV[0] * 2;', ['21']);
  assert.equal(own.code, 0);
  const [pid, answer] = own.stdout.split(' ').slice(1);
  assert.notEqual(Number(pid), forked, 'not in a fork');
  assert.equal(Number((await spawner.runPerlInline('print $$;', [])).stdout), Number(pid), 'always the same process');
  assert.equal(answer, '42');
  const died = await spawner.runPerlInline('die "no mount here\\n";', []);
  assert.deepEqual([died.code, died.stderr, died.stdout], [1, 'no mount here\n', '']);
  const after = await Promise.all([spawner.run('echo', ['still']), spawner.runPerlInline('print "ok";', []), spawner.runPerl('print "forked";', [])]);
  assert.deepEqual(after.map((r) => r.stdout), ['still\n', 'ok', 'forked']);
});

test('runPerl compiles each program once, apart from the others: its named subs are its own, its lexicals fresh in every run', async () => {
  const counter = 'my $n = 0; my sub bump { $n++ } bump() for 1 .. $ARGV[0]; sub name { "first" } print "$n ", name(), "\n";';
  const other = 'sub name { "second" } print name(), "\n";';
  assert.equal((await spawner.runPerl(counter, ['2'])).stdout, '2 first\n');
  assert.equal((await spawner.runPerl(other, [])).stdout, 'second\n');
  assert.equal((await spawner.runPerl(counter, ['3'])).stdout, '3 first\n', 'a second run starts from nothing');
  const broken = await spawner.runPerl('this is { not perl', []);
  assert.equal(broken.code, 1);
  assert.match(broken.stderr, /syntax error/);
  assert.equal((await spawner.runPerl('print "still serving\n";', [])).stdout, 'still serving\n');
});

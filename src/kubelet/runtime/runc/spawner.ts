/**
 * A small long-lived helper process that starts programs for the runtime.
 *
 * Why: Node starts a child by forking itself. The agent is a ~150 MB process, so every fork
 * copies a large page table on the agent's main thread; a burst of pods starts hundreds of
 * short programs (mount, unshare, CNI plugins, the per-container shim), and a CPU profile of a
 * burst of 50 pods showed 44% of the agent's main thread inside `spawn`. The spawner is a Perl
 * process of a few MB: it forks cheaply, and the agent only writes one line to a pipe per
 * program.
 *
 * Contract: requests and replies are lines over the spawner's stdin/stdout, matched by id; each
 * line is `key=<base64 value>` fields separated by spaces (lists are NUL-terminated items), cheap
 * to read for Perl without a JSON module (JSON::PP, in pure Perl, cost ~2 ms a request).
 * `run` behaves as `child_process.spawn` + collect: the exit code (null when a signal ended the
 * program), stdout and stderr in full; a program that cannot be executed rejects with an error
 * carrying `code` (`ENOENT`, `EACCES`, …) as spawn's 'error' event does. `startDetached` starts
 * a program in a new session with stdin from /dev/null and stderr appended to a file, and
 * resolves with its pid and the first line it writes to stdout (or everything up to EOF); the
 * program then outlives the spawner and the agent. Children inherit the spawner's environment
 * unless a request carries one. If the spawner dies, pending requests reject and the next
 * request starts a new one. The spawner exits when the agent closes its stdin (or dies).
 */
import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';

/** What a finished program left behind. */
export interface RunResult {
  code: number | null;
  signal: string | null;
  stdout: string;
  stderr: string;
  /** The program was killed because it ran past `timeoutMs`. */
  timedOut?: boolean;
}

/** Options of {@link ProcessSpawner.run}. */
export interface SpawnRunOptions {
  env?: NodeJS.ProcessEnv;
  /** Written to the program's stdin, which is then closed (at most {@link MAX_STDIN} bytes). */
  stdin?: string | Buffer;
  /** SIGKILL the program after this long; the result then has `timedOut` set. */
  timeoutMs?: number;
  /** Called when the timeout fires, before the program is killed. */
  onTimeout?: () => void;
}

/** Largest stdin the spawner passes (it writes it in one go into a pipe, whose buffer is 64 KiB). */
export const MAX_STDIN = 60 * 1024;

interface Reply {
  id: number;
  code?: number;
  signal?: string;
  stdout?: Buffer;
  stderr?: Buffer;
  pid?: number;
  line?: string;
  errno?: string;
  error?: string;
}

/** A request field: text, bytes, a list (NUL-terminated items), an environment, or a flag. */
type Field = string | number | boolean | Buffer | string[] | NodeJS.ProcessEnv | undefined;

/** One request line (see the module comment). */
function encodeRequest(fields: Record<string, Field>): string {
  const parts: string[] = [];
  for (const [key, value] of Object.entries(fields)) {
    if (value === undefined || value === false) continue;
    let bytes: Buffer;
    if (Buffer.isBuffer(value)) bytes = value;
    else if (Array.isArray(value)) bytes = Buffer.from(value.map((v) => `${v}\0`).join(''));
    else if (typeof value === 'object') bytes = Buffer.from(Object.entries(value).filter(([, v]) => v !== undefined).map(([k, v]) => `${k}=${v}\0`).join(''));
    else bytes = Buffer.from(value === true ? '1' : String(value));
    parts.push(`${key}=${bytes.toString('base64')}`);
  }
  return `${parts.join(' ')}\n`;
}

function decodeReply(line: string): Reply {
  const raw = new Map<string, Buffer>();
  for (const part of line.split(' ')) {
    const eq = part.indexOf('=');
    if (eq > 0) raw.set(part.slice(0, eq), Buffer.from(part.slice(eq + 1), 'base64'));
  }
  const text = (k: string) => raw.get(k)?.toString();
  const num = (k: string) => (raw.has(k) ? Number(raw.get(k)!.toString()) : undefined);
  const reply: Reply = { id: num('id')! };
  for (const [k, v] of [['code', num('code')], ['signal', text('signal')], ['stdout', raw.get('stdout')], ['stderr', raw.get('stderr')], ['pid', num('pid')], ['line', text('line')], ['errno', text('errno')], ['error', text('error')]] as const) {
    if (v !== undefined) (reply as unknown as Record<string, unknown>)[k] = v;
  }
  return reply;
}

// The spawner's source. One select loop over its stdin, a SIGCHLD self-pipe and the children's
// pipes; exec failures come back through a close-on-exec status pipe, as libuv does.
const SPAWNER_SOURCE = String.raw`
use strict; use warnings;
use POSIX qw(setsid WNOHANG _exit);
use IO::Select; use MIME::Base64 qw(encode_base64 decode_base64); use Time::HiRes ();
use Fcntl qw(F_GETFL F_SETFL O_NONBLOCK);
$SIG{PIPE} = 'IGNORE';
my %sources;
sub list { my @l = split(/\0/, $_[0] // '', -1); pop @l; @l }
sub decode { my %r; for (split(/ /, $_[0])) { my ($k, $v) = split(/=/, $_, 2); $r{$k} = decode_base64($v) } $r{args} = [list($r{args})]; $r{env} = { map { split(/=/, $_, 2) } list($r{env}) } if defined $r{env}; \%r }
sub nb { my $f = fcntl($_[0], F_GETFL, 0); fcntl($_[0], F_SETFL, $f | O_NONBLOCK) }
pipe(my $sigr, my $sigw) or die "pipe: $!"; nb($sigr); nb($sigw);
$SIG{CHLD} = sub { syswrite($sigw, 'x') };
my $sel = IO::Select->new(\*STDIN, $sigr);
my (%byfd, %bypid);
my $inbuf = '';
sub reply {
  my $h = $_[0]; my $m = join(' ', map { "$_=" . encode_base64($h->{$_}, '') } grep { defined $h->{$_} } keys %$h) . "\n"; my $off = 0;
  while ($off < length $m) { my $n = syswrite(STDOUT, $m, length($m) - $off, $off); if (!defined $n) { next if $!{EINTR} || $!{EAGAIN}; exit 0 } $off += $n }
}
sub line_of {
  my ($j, $h) = @_;
  return if $j->{replied} || (index($j->{out}, "\n") < 0 && $j->{open} > 0);
  $j->{replied} = 1;
  if ($j->{open} > 0) { $sel->remove($h); delete $byfd{fileno $h}; close($h); $j->{open} = 0 }
  reply({ id => $j->{id}, pid => $j->{pid}, line => (split(/\n/, $j->{out}, 2))[0] // '' });
}
sub done {
  my $j = shift;
  return if $j->{open} > 0 || !defined $j->{status};
  delete $bypid{$j->{pid}};
  my $st = $j->{status};
  reply({ id => $j->{id}, code => (($st & 127) ? undef : ($st >> 8)), signal => (($st & 127) ? $st & 127 : undef),
          stdout => $j->{out}, stderr => $j->{err} });
}
# A program is compiled once, when it first comes, into a sub of its own package (so named subs
# of two programs never meet); each fork that runs it calls the sub. A program that does not
# compile dies with the compiler's message in every fork.
sub compile {
  my ($key, $source) = @_;
  my $code = eval "package Skiff::Program$key; sub { $source
;1 }";
  my $error = $@;
  return $code // sub { die $error };
}
sub start {
  my $r = shift;
  if (defined $r->{killId}) { for my $pid (keys %bypid) { kill($r->{signal}, $pid) if ($bypid{$pid}{id} // -1) == $r->{killId} } return }
  if (defined $r->{perlKey}) { $sources{$r->{perlKey}} = compile($r->{perlKey}, $r->{perl}) if defined $r->{perl}; $r->{perl} = $sources{$r->{perlKey}} // return reply({ id => $r->{id}, error => "unknown source $r->{perlKey}" }) }
  if ($r->{inline}) {
    # In the spawner itself: what it prints is collected, a die is its stderr and exit code 1.
    local @ARGV = @{$r->{args}};
    my $out = ''; open(my $o, '>', \$out) or die; my $old = select($o);
    my $ok = eval { $r->{perl}->(); 1 }; my $err = $ok ? '' : "$@";
    select($old); close($o);
    return reply({ id => $r->{id}, code => $ok ? 0 : 1, stdout => $out, stderr => $err });
  }
  my ($outr, $outw, $errr, $errw, $inr, $inw, $str, $stw);
  pipe($outr, $outw) or return reply({ id => $r->{id}, error => "pipe: $!" });
  pipe($str, $stw) or return reply({ id => $r->{id}, error => "pipe: $!" });
  if (!$r->{detached}) { pipe($errr, $errw) or die; pipe($inr, $inw) or die }
  my $pid = fork();
  if (!defined $pid) { return reply({ id => $r->{id}, error => "fork: $!", errno => 'EAGAIN' }) }
  if ($pid == 0) {
    $SIG{PIPE} = 'DEFAULT'; $SIG{CHLD} = 'DEFAULT';
    if ($r->{detached}) {
      setsid();
      open(STDIN, '<', '/dev/null');
      open(STDERR, '>>', $r->{stderrFile}) or open(STDERR, '>', '/dev/null');
    } else {
      open(STDIN, '<&', $inr); open(STDERR, '>&', $errw);
    }
    open(STDOUT, '>&', $outw);
    if ($r->{env}) { %ENV = %{$r->{env}} }
    if (defined $r->{perl}) {
      # A Perl program run in this fork, with the modules the spawner has loaded already and
      # compiled already: no exec, no interpreter start-up, no parsing. It must not hold the spawner's other descriptors. Why
      # close(), not POSIX::close: PerlIO counts references per descriptor, and a number closed
      # behind its back would stay counted, so the program's own close() of a new handle on
      # that number would leave it open.
      close($_->[0]) for values %byfd;
      close($sigr); close($sigw); close($str); close($stw);
      close($_) for grep { defined } ($outw, $outr, $errw, $errr, $inr, $inw);
      $0 = $r->{name} // 'perl';
      @ARGV = @{$r->{args}};
      my $ok = eval { $r->{perl}->(); 1 };
      print STDERR $@ if !$ok;
      close(STDOUT); close(STDERR);
      _exit($ok ? 0 : 1);
    }
    my @args = @{$r->{args}};
    { no warnings 'exec'; exec { $r->{file} } $r->{file}, @args; }
    syswrite($stw, ($!{ENOENT} ? 'ENOENT' : $!{EACCES} ? 'EACCES' : 'EEXEC') . " $!");
    _exit(127);
  }
  close($outw); close($stw);
  my $status = ''; while (1) { my $n = sysread($str, $status, 512, length $status); if (!defined $n) { next if $!{EINTR}; last } last if $n == 0 }
  close($str);
  if (!$r->{detached}) { close($errw); close($inr) }
  if ($status ne '') {
    my ($errno, $msg) = split(/ /, $status, 2);
    waitpid($pid, 0); close($outr);
    if (!$r->{detached}) { close($errr); close($inw) }
    return reply({ id => $r->{id}, errno => $errno, error => $msg });
  }
  my $j = { id => $r->{id}, pid => $pid, out => '', err => '', open => 0, detached => $r->{detached} };
  if ($r->{detached}) {
    nb($outr); $byfd{fileno $outr} = [$outr, 'out', $j]; $sel->add($outr); $j->{open} = 1;
    $bypid{$pid} = $j;
    return;
  }
  if (defined $r->{stdin} && length $r->{stdin}) { my $d = $r->{stdin}; my $off = 0; while ($off < length $d) { my $n = syswrite($inw, $d, length($d) - $off, $off); last if !defined $n && !$!{EINTR}; $off += $n // 0 } }
  close($inw);
  for my $fh ([$outr, 'out'], [$errr, 'err']) { nb($fh->[0]); $byfd{fileno $fh->[0]} = [$fh->[0], $fh->[1], $j]; $sel->add($fh->[0]); $j->{open}++ }
  $bypid{$pid} = $j;
}
while (1) {
  # Exits are noticed through SIGCHLD, whose handler writes to a pipe select() watches. But Perl
  # runs handlers only between its own ops: a SIGCHLD that lands after the last check and before
  # select() blocks is handled only when select() returns, and select() waits for it. (A CI run
  # hung on such a zombie, a CNI plugin nobody reaped.) So while a program someone waits for
  # runs, select() also returns every 100 ms.
  my $waiting = grep { !$_->{detached} } values %bypid;
  for my $fh ($sel->can_read($waiting ? 0.1 : undef)) {
    if ($fh == \*STDIN || (fileno($fh) // -1) == 0) {
      my $n = sysread(STDIN, $inbuf, 65536, length $inbuf);
      next if !defined $n && ($!{EINTR} || $!{EAGAIN});
      exit 0 if !$n;
      while ((my $i = index($inbuf, "\n")) >= 0) { my $l = substr($inbuf, 0, $i + 1, ''); chop $l; start(decode($l)) }
    } elsif ($fh == $sigr) {
      my $x; 1 while sysread($sigr, $x, 256);
      while ((my $pid = waitpid(-1, WNOHANG)) > 0) { my $j = $bypid{$pid} or next; if ($j->{detached}) { delete $bypid{$pid}; next } $j->{status} = $?; done($j) }
    } else {
      my $e = $byfd{fileno $fh} or next; my ($h, $which, $j) = @$e;
      my $n = sysread($h, $j->{$which}, 65536, length $j->{$which});
      next if !defined $n && ($!{EINTR} || $!{EAGAIN});
      if ($j->{detached}) { if (!$n) { $sel->remove($h); delete $byfd{fileno $h}; close($h); $j->{open} = 0 } line_of($j, $h); next }
      if (!$n) { $sel->remove($h); delete $byfd{fileno $h}; close($h); $j->{open}--; done($j) }
    }
  }
  # A SIGCHLD can arrive between waitpid and select; reap here too so no exit waits for the next one.
  while ((my $pid = waitpid(-1, WNOHANG)) > 0) { my $j = $bypid{$pid} or next; if ($j->{detached}) { delete $bypid{$pid}; next } $j->{status} = $?; done($j) }
}
`;

/** Error of a program that could not be started; `code` as Node's spawn errors. */
class SpawnError extends Error {
  readonly code: string;
  constructor(code: string, message: string) {
    super(message);
    this.name = 'SpawnError';
    this.code = code;
  }
}

/** One spawner process and its pending requests. See the module comment for the contract. */
export class ProcessSpawner {
  #child: ChildProcessWithoutNullStreams | undefined;
  #pending = new Map<number, { resolve: (r: Reply) => void; reject: (e: Error) => void }>();
  #nextId = 1;
  #buffer = '';
  readonly #sourceKeys = new Map<string, string>();
  /** Source keys the current spawner process has been sent. */
  #sent = new Set<string>();

  /** Runs a program to completion and collects its output as text. */
  async run(file: string, args: string[], options: SpawnRunOptions = {}): Promise<RunResult> {
    const r = await this.runBytes(file, args, options);
    return { ...r, stdout: r.stdout.toString(), stderr: r.stderr.toString() };
  }

  /** {@link run}, with the output as bytes. */
  async runBytes(file: string, args: string[], options: SpawnRunOptions = {}): Promise<Omit<RunResult, 'stdout' | 'stderr'> & { stdout: Buffer; stderr: Buffer }> {
    const stdin = options.stdin === undefined ? undefined : Buffer.from(options.stdin);
    if (stdin && stdin.length > MAX_STDIN) throw new RangeError(`stdin of ${stdin.length} bytes is over the spawner's ${MAX_STDIN}`);
    let timedOut = false;
    let timer: NodeJS.Timeout | undefined;
    const reply = await this.#request({ file, args, env: options.env, stdin }, (id) => {
      if (options.timeoutMs === undefined) return;
      timer = setTimeout(() => {
        timedOut = true;
        options.onTimeout?.();
        this.#child?.stdin.write(encodeRequest({ id: 0, killId: id, signal: 9 }));
      }, options.timeoutMs);
    }).finally(() => clearTimeout(timer));
    return {
      ...(timedOut ? { timedOut } : {}),
      code: reply.code ?? null,
      signal: reply.signal ?? null,
      stdout: reply.stdout ?? Buffer.alloc(0),
      stderr: reply.stderr ?? Buffer.alloc(0),
    };
  }

  /** Starts a program in its own session that outlives the agent; resolves with its pid and first stdout line. */
  async startDetached(file: string, args: string[], options: { stderrFile: string; env?: NodeJS.ProcessEnv }): Promise<{ pid: number; line: string }> {
    const reply = await this.#request({ file, args, env: options.env, detached: true, stderrFile: options.stderrFile });
    return { pid: reply.pid!, line: reply.line ?? '' };
  }

  /**
   * Runs Perl source to completion in a fork of the spawner (no exec; see
   * {@link startPerlDetached}), with `@ARGV` = `args`. A `die` gives exit code 1 with its message
   * on stderr. For system calls Node has no binding for (mount, unshare, sethostname).
   */
  async runPerl(source: string, args: string[]): Promise<RunResult> {
    const reply = await this.#request({ file: 'perl', args, ...this.#source(source) });
    return { code: reply.code ?? null, signal: reply.signal ?? null, stdout: reply.stdout?.toString() ?? '', stderr: reply.stderr?.toString() ?? '' };
  }

  /**
   * {@link runPerl} inside the spawner itself, without a fork (a fork, its exit and its reaping
   * cost ~1 ms here, more than a mount): only for a program that changes nothing of the process
   * (a mount or unmount system call) and finishes at once, since the spawner serves no other
   * request meanwhile. Its output to the selected handle (`print`) is its stdout.
   */
  async runPerlInline(source: string, args: string[]): Promise<RunResult> {
    const reply = await this.#request({ file: 'perl', args, inline: true, ...this.#source(source) });
    return { code: reply.code ?? null, signal: reply.signal ?? null, stdout: reply.stdout?.toString() ?? '', stderr: reply.stderr?.toString() ?? '' };
  }

  /**
   * {@link startDetached} for a Perl program, run in a fork of the spawner itself: the modules the
   * spawner has loaded (POSIX, Fcntl, IO::Select, Time::HiRes) cost nothing, where a new `perl`
   * spends ~10 ms loading them. `name` is what `ps` shows for it.
   */
  async startPerlDetached(source: string, args: string[], options: { stderrFile: string; name: string }): Promise<{ pid: number; line: string }> {
    const reply = await this.#request({ file: 'perl', args, ...this.#source(source), name: options.name, detached: true, stderrFile: options.stderrFile });
    return { pid: reply.pid!, line: reply.line ?? '' };
  }

  /** Ends the spawner (programs already started keep running). */
  close(): void {
    this.#child?.stdin.end();
    this.#child = undefined;
  }

  // A Perl source goes to the spawner once; later requests name it by its key.
  #source(source: string): { perlKey: string; perl?: string } {
    this.#ensure();
    let key = this.#sourceKeys.get(source);
    if (key !== undefined && this.#sent.has(key)) return { perlKey: key };
    if (key === undefined) this.#sourceKeys.set(source, (key = String(this.#sourceKeys.size + 1)));
    this.#sent.add(key);
    return { perlKey: key, perl: source };
  }

  #request(body: Record<string, Field>, sent?: (id: number) => void): Promise<Reply> {
    const child = this.#ensure();
    const id = this.#nextId++;
    return new Promise<Reply>((resolve, reject) => {
      this.#pending.set(id, {
        resolve: (reply) => (reply.error !== undefined ? reject(new SpawnError(reply.errno ?? 'ESPAWN', `spawn ${String(body.file)}: ${reply.error}`)) : resolve(reply)),
        reject,
      });
      if (this.#pending.size === 1) this.#ref(child, true);
      child.stdin.write(encodeRequest({ id, ...body }));
      sent?.(id);
    });
  }

  #ensure(): ChildProcessWithoutNullStreams {
    if (this.#child) return this.#child;
    const child = spawn('perl', ['-e', SPAWNER_SOURCE], { stdio: ['pipe', 'pipe', 'inherit'] }) as unknown as ChildProcessWithoutNullStreams;
    this.#child = child;
    this.#sent = new Set();
    child.stdout.setEncoding('utf8');
    child.stdout.on('data', (chunk: string) => this.#receive(chunk));
    child.stdin.on('error', () => {});
    const gone = (why: string) => {
      if (this.#child === child) this.#child = undefined;
      const pending = [...this.#pending.values()];
      this.#pending.clear();
      for (const p of pending) p.reject(new SpawnError('ESPAWNER', `the process spawner ended (${why})`));
    };
    child.on('error', (err) => gone(err.message));
    child.on('exit', (code, signal) => gone(signal ?? `exit ${code}`));
    this.#ref(child, false);
    return child;
  }

  // Why: an idle spawner must not keep the agent's event loop alive; a pending request must.
  #ref(child: ChildProcessWithoutNullStreams, on: boolean): void {
    const streams = [child.stdout, child.stdin] as unknown as { ref?(): void; unref?(): void }[];
    if (on) {
      child.ref();
      for (const s of streams) s.ref?.();
    } else {
      child.unref();
      for (const s of streams) s.unref?.();
    }
  }

  #receive(chunk: string): void {
    this.#buffer += chunk;
    let i: number;
    while ((i = this.#buffer.indexOf('\n')) >= 0) {
      const line = this.#buffer.slice(0, i);
      this.#buffer = this.#buffer.slice(i + 1);
      const reply = decodeReply(line);
      const p = this.#pending.get(reply.id);
      if (!p) continue;
      this.#pending.delete(reply.id);
      if (this.#pending.size === 0 && this.#child) this.#ref(this.#child, false);
      p.resolve(reply);
    }
  }
}

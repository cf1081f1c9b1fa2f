/**
 * The per-container shim (what containerd-shim and conmon do), as a small Perl program: Perl is
 * part of every Debian system (`perl-base` is Essential) and costs ~4 MB per container where a
 * Node process would cost ~40 MB.
 *
 * The shim is started detached (own session) by the runtime, so it outlives the agent:
 * 1. it becomes a child subreaper, so the container's init — orphaned when `runc create`
 *    returns, the process made and waiting for `start` — is re-parented to it and its exit
 *    status can be reaped;
 * 2. it hands the container pipes for stdout and stderr (tty containers: `runc run` runs in the
 *    foreground under the shim, owns the pty and copies it to the shim's pipe);
 * 3. it reports `ok <pid>` or `error <message>` on its stdout to the agent, then detaches from it;
 * 4. it writes every output line to the log file in the CRI format (`<RFC3339Nano> stdout F text`;
 *    `P` for 16 KiB pieces of a longer line) and reopens the file on SIGUSR1 (log rotation);
 * 5. after the container exits it reads the cgroup's `oom_kill` counter and writes
 *    `<exitCode> <oomKilled 0|1> <finishedAt ms>` atomically to the exit file, whose appearance
 *    is the exit notification the runtime watches (inotify).
 */

/** The shim program (run as `perl -e SHIM_SOURCE -- args…`). */
export const SHIM_SOURCE = String.raw`
use strict; use warnings;
use POSIX ();
use Fcntl qw(O_RDWR O_WRONLY O_CREAT O_APPEND);
use IO::Select;
use Time::HiRes ();
my ($prctl, $runtime, $root, $id, $bundle, $logPath, $exitFile, $pidFile, $oomFile, $tty, $stdinFifo, $runtimeLog) = @ARGV;
# PR_SET_CHILD_SUBREAPER = 36
syscall($prctl + 0, 36, 1, 0, 0, 0) == 0 or die "prctl: $!";
$SIG{PIPE} = 'IGNORE';
my $reopen = 0;
$SIG{USR1} = sub { $reopen = 1 };
my $log;
my sub openlog { sysopen($log, $logPath, O_WRONLY | O_CREAT | O_APPEND, 0640) or die "open $logPath: $!" }
openlog();
my sub ts {
  my ($s, $us) = Time::HiRes::gettimeofday();
  return POSIX::strftime('%Y-%m-%dT%H:%M:%S', gmtime($s)) . sprintf('.%06d000Z', $us);
}
my sub emit { my ($stream, $tag, $text) = @_; syswrite($log, ts() . " $stream $tag $text\n"); }
my sub writeexit {
  my ($code, $oom) = @_;
  my $ms = int(Time::HiRes::time() * 1000);
  open(my $f, '>', "$exitFile.tmp") or return; print $f "$code $oom $ms\n"; close $f;
  rename("$exitFile.tmp", $exitFile);
}
pipe(my $or, my $ow) or die; pipe(my $er, my $ew) or die;
my $in;
if ($stdinFifo ne '-') { sysopen($in, $stdinFifo, O_RDWR) or die "open $stdinFifo: $!"; }
my $child = fork();
die "fork: $!" unless defined $child;
if ($child == 0) {
  if ($in) { open(STDIN, '<&', $in) } else { open(STDIN, '<', '/dev/null') }
  open(STDOUT, '>&', $ow); open(STDERR, '>&', $ew);
  my @args = ($runtime, '--root', $root, '--log', $runtimeLog, '--log-format', 'json', $tty ? 'run' : 'create', '--pid-file', $pidFile, '--bundle', $bundle, $id);
  # A foreground runc with a terminal needs a controlling tty of its own: script(1) provides it.
  if ($tty) { my $cmd = join(' ', map { my $a = $_; $a =~ s/'/'\\''/g; "'$a'" } @args); @args = ('script', '-qefE', 'never', '-c', $cmd, '/dev/null'); }
  exec(@args) or POSIX::_exit(127);
}
close $ow; close $ew; close $in if $in;
my sub lasterror {
  open(my $f, '<', $runtimeLog) or return 'runtime failed';
  my $msg = 'runtime failed';
  while (my $l = <$f>) { $msg = $1 if $l =~ /"msg":"((?:[^"\\]|\\.)*)"/; }
  return $msg;
}
my $cpid = 0; my $status;
if ($tty) {
  # runc stays in the foreground (it owns the pty): wait for its pid file or its exit.
  while (1) {
    if (-s $pidFile) { last }
    my $w = waitpid($child, POSIX::WNOHANG());
    if ($w == $child) { $status = $?; last }
    Time::HiRes::sleep(0.002);
  }
} else {
  waitpid($child, 0); $status = $?;
  undef $status if $status == 0;
}
if (defined $status && !-s $pidFile) {
  my $msg = lasterror(); $msg =~ s/\n/ /g;
  print STDOUT "error $msg\n"; close STDOUT;
  emit('stderr', 'F', $msg);
  writeexit(128, 0);
  exit 0;
}
open(my $pf, '<', $pidFile) or die; $cpid = <$pf>; close $pf; $cpid =~ s/\D//g;
print STDOUT "ok $cpid\n"; close STDOUT; open(STDOUT, '>', '/dev/null');
my %name = (fileno($or) => 'stdout', fileno($er) => 'stderr');
my %buf = (stdout => '', stderr => '');
my $sel = IO::Select->new($or, $er);
while ($sel->count) {
  if ($reopen) { close $log; openlog(); $reopen = 0; }
  for my $fh ($sel->can_read) {
    my $s = $name{fileno $fh};
    my $n = sysread($fh, my $chunk, 65536);
    next if !defined $n && $!{EINTR};
    if (!$n) { emit($s, 'F', $buf{$s}) if length $buf{$s}; $buf{$s} = ''; $sel->remove($fh); close $fh; next; }
    $buf{$s} .= $chunk;
    while ((my $i = index($buf{$s}, "\n")) >= 0) { my $line = substr($buf{$s}, 0, $i + 1, ''); chop $line; $line =~ s/\r$//; emit($s, 'F', $line); }
    while (length($buf{$s}) >= 16384) { emit($s, 'P', substr($buf{$s}, 0, 16384, '')); }
  }
}
my $waitFor = $tty ? $child : $cpid;
if (!($tty && defined $status)) {
  while (1) {
    my $w = waitpid(-1, 0);
    if ($w == $waitFor) { $status = $?; last }
    if ($w < 0) { $status = 255 << 8; last }
  }
}
my $code = ($status & 127) ? 128 + ($status & 127) : ($status >> 8);
my $oom = 0;
if (open(my $of, '<', $oomFile)) { while (my $l = <$of>) { $oom = 1 if $l =~ /^oom_kill (\d+)/ && $1 > 0 } close $of; }
writeexit($code, $oom);
`;

/** prctl(2)'s syscall number per architecture (the shim calls it through Perl's `syscall`). */
export const PRCTL_SYSCALL: Record<string, number> = { x64: 157, arm64: 167, s390x: 172, ppc64: 171, riscv64: 167 };

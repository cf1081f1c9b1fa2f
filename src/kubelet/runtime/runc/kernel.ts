/**
 * Namespaces and mounts made with system calls, in a fork of the process spawner (spawner.ts),
 * instead of by running `unshare`, `hostname`, `mount` and `umount`: each of those programs
 * costs 2–6 ms to start, and a pod needs several of them on its way up and down. The calls and
 * their effects are the same as the programs': unshare(2), sethostname(2), a bind mount of
 * `/proc/self/ns/<type>` onto a file (as `ip netns add` does), mount(2) and umount2(2).
 *
 * A new network namespace also gets its loopback interface up there and then, with the
 * SIOCSIFFLAGS ioctl — what the CNI `loopback` plugin does, and what containerd's
 * `use_internal_loopback` does instead of running it — which saves starting a plugin per pod.
 */
import { CommandError } from '../errors.ts';
import { spawner } from './command.ts';

/** System call numbers per Node architecture. */
const SYSCALLS: Record<string, { unshare: number; sethostname: number; mount: number; umount2: number }> = {
  x64: { unshare: 272, sethostname: 170, mount: 165, umount2: 166 },
  arm64: { unshare: 97, sethostname: 161, mount: 40, umount2: 39 },
  riscv64: { unshare: 97, sethostname: 161, mount: 40, umount2: 39 },
  s390x: { unshare: 303, sethostname: 74, mount: 21, umount2: 52 },
  ppc64: { unshare: 282, sethostname: 74, mount: 21, umount2: 52 },
};

function numbers() {
  const n = SYSCALLS[process.arch];
  if (!n) throw new TypeError(`no system call numbers for architecture ${process.arch}`);
  return n;
}

const CLONE_NEWNET = 0x40000000;
const CLONE_NEWIPC = 0x08000000;
const CLONE_NEWUTS = 0x04000000;
const MS_NOSUID = 0x2;
const MS_NODEV = 0x4;
const MS_NOEXEC = 0x8;
const MS_BIND = 0x1000;
// <linux/sockios.h> and <net/if.h>, the same on every architecture.
const SIOCGIFFLAGS = 0x8913;
const SIOCSIFFLAGS = 0x8914;
const IFF_UP = 0x1;
const AF_INET = 2;
const SOCK_DGRAM = 2;

// @ARGV: unshare sethostname mount flags hostname shm-target shm-options then type=file pairs.
const NAMESPACES = String.raw`
my ($unshare, $sethostname, $mount, $flags, $hostname, $shm, $shmopts, @binds) = @ARGV;
syscall($unshare + 0, $flags + 0) == 0 or die "unshare: $!\n";
if ($flags & ${CLONE_NEWNET}) {
  # struct ifreq: the name in 16 bytes, then the flags (a short) in a 24-byte union.
  socket(my $s, ${AF_INET}, ${SOCK_DGRAM}, 0) or die "socket: $!\n";
  my $req = pack('a16 s x22', 'lo', 0);
  ioctl($s, ${SIOCGIFFLAGS}, $req) or die "ioctl SIOCGIFFLAGS lo: $!\n";
  $req = pack('a16 s x22', 'lo', unpack('x16 s', $req) | ${IFF_UP});
  ioctl($s, ${SIOCSIFFLAGS}, $req) or die "ioctl SIOCSIFFLAGS lo: $!\n";
  close($s);
}
if ($flags & ${CLONE_NEWUTS}) { syscall($sethostname + 0, $hostname, length $hostname) == 0 or die "sethostname $hostname: $!\n" }
for my $b (@binds) {
  my ($type, $file) = split(/=/, $b, 2);
  my $src = "/proc/self/ns/$type"; my $none = 'none';
  syscall($mount + 0, $src, $file, $none, ${MS_BIND}, 0) == 0 or die "mount --bind $src $file: $!\n";
}
if ($shm ne '-') {
  my ($fs, $what) = ('tmpfs', 'shm');
  syscall($mount + 0, $what, $shm, $fs, ${MS_NOSUID | MS_NODEV | MS_NOEXEC}, $shmopts) == 0 or die "mount tmpfs on $shm: $!\n";
}
`;

// @ARGV: mount source target fstype flags data
const MOUNT = String.raw`
my ($mount, $source, $target, $fstype, $flags, $data) = @ARGV;
syscall($mount + 0, $source, $target, $fstype, $flags + 0, $data) == 0 or die "mount -t $fstype $source $target: $!\n";
`;

// @ARGV: umount2 then paths. Each path is unmounted until nothing is mounted there (a path can
// carry more than one mount after a crash half-way through a retry); prints what it unmounted.
const UNMOUNT = String.raw`
my ($umount2, @paths) = @ARGV;
for my $p (@paths) {
  for (1 .. 8) {
    last if syscall($umount2 + 0, $p, 0) != 0;
    print "$p\n";
  }
}
`;

async function runOrThrow(what: string, source: string, args: string[], inline = false): Promise<string> {
  const r = inline ? await spawner.runPerlInline(source, args) : await spawner.runPerl(source, args);
  if (r.code !== 0) throw new CommandError(what, r.code, r.stderr.trim());
  return r.stdout;
}

/** What {@link createSandboxNamespaces} makes: files the namespaces are bound to, and the shm mount. */
export interface NamespaceFiles {
  /** Omitted for a pod on the host's network, or one whose network namespace exists already. */
  net?: string;
  ipc: string;
  /** Omitted for a pod on the host's network (it has the host's name, as in containerd). */
  uts?: string;
  shm: string;
}

/**
 * New IPC, network (with `files.net`, its loopback interface up) and UTS (with `files.uts`)
 * namespaces kept alive by bind mounts onto the given (existing, empty) files, the hostname set
 * in a new UTS namespace, and a tmpfs for the pod's /dev/shm.
 */
export async function createSandboxNamespaces(files: NamespaceFiles, hostname: string, shmOptions = 'mode=1777,size=65536k'): Promise<void> {
  const n = numbers();
  const flags = (files.net ? CLONE_NEWNET : 0) | CLONE_NEWIPC | (files.uts ? CLONE_NEWUTS : 0);
  const binds = [...(files.net ? [`net=${files.net}`] : []), `ipc=${files.ipc}`, ...(files.uts ? [`uts=${files.uts}`] : [])];
  await runOrThrow('create namespaces', NAMESPACES, [String(n.unshare), String(n.sethostname), String(n.mount), String(flags), hostname, files.shm, shmOptions, ...binds]);
}

/** A new network namespace, its loopback up, kept alive by a bind mount onto `file` (existing, empty). */
export async function createNetworkNamespace(file: string): Promise<void> {
  const n = numbers();
  await runOrThrow('create a network namespace', NAMESPACES, [String(n.unshare), String(n.sethostname), String(n.mount), String(CLONE_NEWNET), '', '-', '', `net=${file}`]);
}

/** mount(2) of an overlay filesystem (`lower` top layer first, as overlayfs lists them). */
export async function mountOverlay(lower: string[], upper: string, work: string, target: string): Promise<void> {
  const data = `lowerdir=${lower.join(':')},upperdir=${upper},workdir=${work}`;
  // The kernel takes at most one page of mount options.
  if (Buffer.byteLength(data) >= 4096) throw new RangeError(`overlay mount options of ${Buffer.byteLength(data)} bytes exceed a page`);
  // In the spawner itself (a mount changes nothing of the process that makes it): no fork.
  await runOrThrow(`mount -t overlay overlay ${target}`, MOUNT, [String(numbers().mount), 'overlay', target, 'overlay', '0', data], true);
}

/** Unmounts every mount at each path (none is fine); returns the paths that had one. */
export async function unmountAll(paths: string[]): Promise<string[]> {
  if (paths.length === 0) return [];
  const out = await runOrThrow('umount', UNMOUNT, [String(numbers().umount2), ...paths], true);
  return out.split('\n').filter(Boolean);
}

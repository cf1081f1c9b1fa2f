/**
 * `ContainerRuntime` over an OCI runtime binary (runc; crun takes the same command line), CNI
 * plugins and overlayfs. State lives in files under `stateDir`, so a new instance (the agent
 * after `kill -9`) takes over running containers; each running container has a detached Perl
 * shim (see shim.ts) that holds its pipes, writes its log and records its exit.
 */
import { spawn } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import {
  type FSWatcher, closeSync, constants, createReadStream, existsSync, linkSync, mkdirSync, openSync, readFileSync, renameSync, statSync, unlinkSync, watch,
  writeFileSync,
} from 'node:fs';
import { mkdir, open, readFile, readdir, readlink, rm, stat, unlink } from 'node:fs/promises';
import { connect } from 'node:net';
import { dirname, join } from 'node:path';
import { Duplex, PassThrough, type Writable } from 'node:stream';
import type {
  AttachOptions, ContainerConfig, ContainerExitEvent, ContainerFilter, ContainerRuntime, ContainerStats,
  ContainerStatus, ExecOptions, ExecSyncResult, PodSandboxStats, RuntimeVersion, SandboxConfig, SandboxStatus, StreamHandle,
} from '../container-runtime.ts';
import { ExecTimeoutError, InvalidStateError, NotFoundError, StartError } from '../errors.ts';
import { type CgroupMounts, createPodCgroup, oomCounterFile, podCgroupPath, readCgroupMounts, removeCgroup } from './cgroups.ts';
import { type CniConfList, CniNetwork } from './cni.ts';
import { run, runOk, spawner } from './command.ts';
import { reopenShimLog } from './log-reopen.ts';
import { buildSpec } from './oci-spec.ts';
import { createNetworkNamespace, mountOverlay, unmountAll } from './kernel.ts';
import { runtimeCommand } from './runtime-command.ts';
import { createNamespaces, destroyNamespaces, sandboxPaths, type SandboxPaths, writeHostsFile, writeNameFiles } from './sandbox.ts';
import { PRCTL_SYSCALL, SHIM_SOURCE } from './shim.ts';
import { containerUsage, sandboxUsage } from './stats.ts';

/** Options of `RuncRuntime`. */
export interface RuncRuntimeOptions {
  /** Directory for sandbox and container records, bundles and rootfs mounts. */
  stateDir: string;
  /** The OCI runtime binary: `runc` (default) or `crun` (same command line). */
  runtimePath?: string;
  /** The OCI runtime's `--root`; default `/run/skiff/<runtime name>`. */
  runtimeRoot?: string;
  /**
   * Where what lives only as long as the machine runs goes (what containerd keeps under
   * /run/containerd): each sandbox's namespace files, /dev/shm, hostname, resolv.conf and hosts
   * files; each container's bundle (spec, root file system mount point, pid and logs of its
   * runtime and shim); exit files; network namespaces made ahead. A tmpfs, where making a file
   * costs little: on a disk file system each of a pod start's ~25 new files and directories
   * took ~0.2 ms of the agent's CPU in a burst (ext4 without a journal searches past recently
   * freed inodes). Records and writable layers stay in `stateDir`. Default: `stateDir`.
   */
  runDir?: string;
  /** The pod network (see `bridgeConfList`). Required unless every pod uses hostNetwork. */
  network?: CniConfList;
  /** CNI plugin directory; default `/usr/lib/cni`. */
  cniBinDir?: string;
  /** Where the conflist is written for operators; default `<stateDir>/cni/net.d`. */
  cniConfDir?: string;
  /** Root of the pod cgroups in every hierarchy; default `/kubepods`. */
  cgroupRoot?: string;
  /** Clock (ms since the epoch); default `Date.now`. */
  now?: () => number;
}

interface SandboxRecord {
  id: string;
  config: SandboxConfig;
  createdAt: number;
  state: 'ready' | 'notready';
  ips: string[];
  cgroupPath: string;
  /** The network namespace's file when it was made ahead (see `#takeNetns`); absent, the
   * sandbox directory's own `ns/net` (or none, on the host's network). */
  netns?: string;
  /** The directory of its files (under `runDir`); absent in records from before `runDir`: the record's own directory. */
  files?: string;
}

/**
 * The second half of a sandbox's set-up, under way: `local` once what a container's process
 * needs is there (the namespaces, the pod cgroup, the hostname, resolv.conf and hosts files),
 * `done` once the network is up too; `failed` once it could not be done.
 */
interface PendingSetUp {
  local: Promise<void>;
  done: Promise<void>;
  failed?: Error;
}

interface ContainerRecord {
  id: string;
  sandboxId: string;
  config: ContainerConfig;
  createdAt: number;
  cgroupsPath: string;
  startedAt?: number;
  pid?: number;
  /** /proc/<pid>/stat start time, to tell the container from a recycled pid. */
  pidStart?: string;
  shimPid?: number;
  /** Its bundle directory (under `runDir`); absent in records from before `runDir`: the record's own directory. */
  bundle?: string;
  exit?: { exitCode: number; reason: string; message: string; finishedAt: number };
}

const newId = () => randomBytes(16).toString('hex');

function procStartTime(pid: number): string | undefined {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ')[19];
  } catch {
    return undefined;
  }
}

function alive(pid: number | undefined, start?: string): boolean {
  if (!pid) return false;
  const s = procStartTime(pid);
  return s !== undefined && (start === undefined || s === start);
}

/** The runc (or crun) implementation of `ContainerRuntime`. */
export class RuncRuntime implements ContainerRuntime {
  readonly #stateDir: string;
  readonly #runDir: string;
  #runtime: string;
  /** `runc` or `crun` (`#runtime` may become a wrapper: see runtime-command.ts). */
  readonly #runtimeName: string;
  readonly #root: string;
  readonly #cni: CniNetwork | null;
  readonly #cniConfDir: string;
  readonly #cgroupRoot: string;
  readonly #now: () => number;
  readonly #cgroups: CgroupMounts;
  readonly #listeners = new Set<(e: ContainerExitEvent) => void>();
  readonly #exitWaiters = new Map<string, Set<() => void>>();
  readonly #locks = new Map<string, Promise<unknown>>();
  /** Record files' texts while unchanged on disk (see #readRecord). */
  readonly #records = new Map<string, { ino: number; mtimeMs: number; text: string; parsed?: unknown }>();
  /** Containers whose exit this instance's listeners have heard of. */
  readonly #exitsHeard = new Set<string>();
  #watcher: FSWatcher | null = null;
  #legacyWatcher: FSWatcher | null = null;
  #ready: Promise<void>;
  /** Sandboxes whose cgroup and network are being set up, or failed to be (see {@link createPodSandbox}). */
  readonly #settingUp = new Map<string, PendingSetUp>();
  /** The network namespace made ahead for the next sandbox (see `#takeNetns`), and its making. */
  #spareNetns: string | undefined;
  #makingNetns: Promise<void> | undefined;
  #closed = false;

  constructor(options: RuncRuntimeOptions) {
    this.#stateDir = options.stateDir;
    this.#runDir = options.runDir ?? options.stateDir;
    this.#runtime = options.runtimePath ?? 'runc';
    this.#runtimeName = this.#runtime.split('/').pop()!;
    this.#root = options.runtimeRoot ?? `/run/skiff/${this.#runtimeName}`;
    this.#cni = options.network ? new CniNetwork(options.network, { binDir: options.cniBinDir, cacheDir: join(this.#stateDir, 'cni', 'results') }) : null;
    this.#cniConfDir = options.cniConfDir ?? join(this.#stateDir, 'cni', 'net.d');
    this.#cgroupRoot = options.cgroupRoot ?? '/kubepods';
    this.#now = options.now ?? Date.now;
    this.#cgroups = readCgroupMounts();
    this.#ready = this.#init();
  }

  async #init(): Promise<void> {
    for (const d of ['sandboxes', 'containers']) await mkdir(join(this.#stateDir, d), { recursive: true });
    for (const d of ['sandboxes', 'containers', 'exits', 'netns']) await mkdir(join(this.#runDir, d), { recursive: true });
    await this.#removeStaleNetns();
    this.#runtime = await runtimeCommand(this.#runtime, this.#stateDir);
    await mkdir(this.#root, { recursive: true });
    if (this.#cni) await this.#cni.writeConfList(this.#cniConfDir);
    // Why inotify on one directory: every shim writes its exit file there, so exits cost no polling.
    this.#watcher = watch(join(this.#runDir, 'exits'), (_event, name) => {
      if (name && !name.endsWith('.tmp')) void this.#onExitFile(name.toString());
    });
    // Shims started before `runDir` (by an earlier version) write their exit files to the state
    // directory: each is moved over as it comes, where the watch above hears of it.
    const legacy = join(this.#stateDir, 'exits');
    if (this.#runDir !== this.#stateDir && existsSync(legacy)) {
      const move = (name: string) => {
        if (name.endsWith('.tmp')) return;
        try {
          writeFileSync(this.#exitFile(name), readFileSync(join(legacy, name)));
          unlinkSync(join(legacy, name));
        } catch {
          // moved already (or being written: its rename comes next)
        }
      };
      this.#legacyWatcher = watch(legacy, (_event, name) => name && move(name.toString()));
      for (const name of await readdir(legacy)) move(name);
    }
    // Exits that happened while no instance was running.
    for (const name of await readdir(join(this.#runDir, 'exits'))) if (!name.endsWith('.tmp')) await this.#onExitFile(name);
  }

  // ---- records -------------------------------------------------------------------------------

  // A sandbox's and a container's record (and a container's writable layer) are in its
  // directory under `stateDir`; the rest of their files are in its directory under `runDir`.
  #sandboxDir(id: string) { return join(this.#stateDir, 'sandboxes', id); }
  #containerDir(id: string) { return join(this.#stateDir, 'containers', id); }
  #sandboxRunDir(id: string) { return join(this.#runDir, 'sandboxes', id); }
  #containerRunDir(id: string) { return join(this.#runDir, 'containers', id); }
  #exitFile(id: string) { return join(this.#runDir, 'exits', id); }
  #sandboxFiles(rec: SandboxRecord) { return sandboxPaths(rec.files ?? this.#sandboxDir(rec.id)); }
  #bundle(rec: ContainerRecord) { return rec.bundle ?? this.#containerDir(rec.id); }

  // Why records are read synchronously and cached: they are small files read on every pod
  // sync; a stat costs microseconds, where a read through fs/promises spends four thread-pool
  // round trips (open, stat, read, close) — in a burst of pods that was most of the agent's CPU.
  // Writes are synchronous too, but for the unlink that frees blocks (below): measured here, the
  // open, write, close, link and rename of a record take ~90 µs together, even while another
  // process syncs the same file system; through fs/promises each is a hand-off to the thread
  // pool, ~2.5× the CPU, and during a pod start (runc and CNI busy on both cores) a wait for a
  // thread to be scheduled.
  async #writeJson(file: string, value: unknown): Promise<void> {
    // Why a unique temporary name: two instances (old and restarted agent) may write at once.
    const tmp = `${file}.${newId()}.tmp`;
    const text = JSON.stringify(value);
    writeFileSync(tmp, text);
    // The inode and mtime of what this write puts in place (a rename keeps both): if another
    // write lands after it, the file no longer matches this entry and is read again.
    const st = statSync(tmp);
    // Why the old version keeps a second name until the rename is done: a rename over a file
    // frees its blocks at once, which costs ~1 ms on a file system that discards freed blocks
    // (ext4 mounted with `discard`, as here), on every record update of a pod start. Unlinked
    // afterwards, it is freed off the caller's path; a crash leaves it in the record's directory,
    // which goes with the sandbox or container.
    const retired = `${file}.${newId()}.old`;
    let kept = true;
    try {
      linkSync(file, retired);
    } catch {
      kept = false; // the first version
    }
    renameSync(tmp, file);
    this.#records.set(file, { ino: st.ino, mtimeMs: st.mtimeMs, text });
    if (kept) void unlink(retired).catch(() => {});
  }

  /**
   * A record file's text, cached while the file is unchanged (same inode and mtime: every write
   * renames a new file into place, so another instance's write is seen too).
   */
  #readRecord(file: string): { ino: number; mtimeMs: number; text: string; parsed?: unknown } | undefined {
    const st = statSync(file, { throwIfNoEntry: false });
    if (!st) {
      this.#records.delete(file);
      return undefined;
    }
    const cached = this.#records.get(file);
    if (cached && cached.ino === st.ino && cached.mtimeMs === st.mtimeMs) return cached;
    try {
      const entry = { ino: st.ino, mtimeMs: st.mtimeMs, text: readFileSync(file, 'utf8') };
      this.#records.set(file, entry);
      return entry;
    } catch {
      return undefined;
    }
  }

  /** A container record shared with the cache: read it, never change it. */
  #containerView(id: string): ContainerRecord {
    const entry = this.#readRecord(join(this.#containerDir(id), 'container.json'));
    if (entry === undefined) throw new NotFoundError('container', id);
    return (entry.parsed ??= JSON.parse(entry.text)) as ContainerRecord;
  }

  async #sandbox(id: string): Promise<SandboxRecord> {
    const entry = this.#readRecord(join(this.#sandboxDir(id), 'sandbox.json'));
    if (entry === undefined) throw new NotFoundError('sandbox', id);
    return JSON.parse(entry.text) as SandboxRecord;
  }

  async #container(id: string): Promise<ContainerRecord> {
    const entry = this.#readRecord(join(this.#containerDir(id), 'container.json'));
    if (entry === undefined) throw new NotFoundError('container', id);
    return JSON.parse(entry.text) as ContainerRecord;
  }

  #saveContainer(rec: ContainerRecord) { return this.#writeJson(join(this.#containerDir(rec.id), 'container.json'), rec); }
  #saveSandbox(rec: SandboxRecord) { return this.#writeJson(join(this.#sandboxDir(rec.id), 'sandbox.json'), rec); }

  /** Serializes operations on one id. */
  #locked<T>(id: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.#locks.get(id) ?? Promise.resolve();
    const next = prev.then(fn, fn);
    const tail = next.catch(() => {});
    this.#locks.set(id, tail);
    void tail.then(() => { if (this.#locks.get(id) === tail) this.#locks.delete(id); });
    return next;
  }

  // ---- exits -------------------------------------------------------------------------------

  async #onExitFile(id: string): Promise<void> {
    let text: string;
    try {
      text = await readFile(this.#exitFile(id), 'utf8');
    } catch {
      return;
    }
    try {
      await this.#onExit(id, text);
    } finally {
      for (const w of this.#exitWaiters.get(id) ?? []) w();
      this.#exitWaiters.delete(id);
    }
  }

  #onExit(id: string, text: string): Promise<void> {
    return this.#locked(id, async () => {
      let rec: ContainerRecord;
      try {
        rec = await this.#container(id);
      } catch {
        return;
      }
      if (rec.exit) {
        // Another instance over the same state (an agent being replaced) recorded it first;
        // this instance's listeners still hear of it, once.
        if (!this.#exitsHeard.has(id)) this.#emitExit(id, rec);
        return;
      }
      const [code, oom, finished] = text.trim().split(' ').map(Number) as [number, number, number];
      const startError = rec.pid === undefined;
      rec.exit = {
        exitCode: code,
        reason: startError ? 'StartError' : oom ? 'OOMKilled' : code === 0 ? 'Completed' : 'Error',
        message: startError ? await this.#lastLogLine(rec) : '',
        finishedAt: finished,
      };
      await this.#saveContainer(rec);
      this.#emitExit(id, rec);
    });
  }

  #emitExit(id: string, rec: ContainerRecord): void {
    this.#exitsHeard.add(id);
    const event: ContainerExitEvent = { id, sandboxId: rec.sandboxId, exitCode: rec.exit!.exitCode, reason: rec.exit!.reason, finishedAt: rec.exit!.finishedAt };
    for (const l of this.#listeners) l(event);
  }

  async #lastLogLine(rec: ContainerRecord): Promise<string> {
    try {
      const lines = (await readFile(join(this.#bundle(rec), 'runtime.log'), 'utf8')).trim().split('\n');
      const last = JSON.parse(lines.at(-1) ?? '{}') as { msg?: string };
      return last.msg ?? '';
    } catch {
      return '';
    }
  }

  /** Resolves when the container's exit has been recorded (or at once if it has). */
  #waitExit(id: string, timeoutMs: number): Promise<boolean> {
    return new Promise((resolve) => {
      const done = (v: boolean) => { clearTimeout(timer); set.delete(waiter); resolve(v); };
      const waiter = () => done(true);
      const set = this.#exitWaiters.get(id) ?? new Set();
      set.add(waiter);
      this.#exitWaiters.set(id, set);
      const timer = setTimeout(() => done(false), timeoutMs);
      // A watch for as long as the container runs (attach) must not keep the process alive.
      if (timeoutMs > 86_400_000) timer.unref();
      // The exit may have been recorded before the waiter was registered.
      void this.#container(id).then((r) => { if (r.exit) done(true); }, () => done(true));
      void (async () => { if (existsSync(this.#exitFile(id))) await this.#onExitFile(id); })();
    });
  }

  // ---- version -----------------------------------------------------------------------------

  async version(): Promise<RuntimeVersion> {
    await this.#ready;
    const out = await runOk(this.#runtime, ['--version']);
    const m = /version\s+(\S+)/.exec(out);
    return { runtimeName: this.#runtime.split('/').pop()!, runtimeVersion: m?.[1] ?? 'unknown', runtimeApiVersion: 'v1' };
  }

  // ---- sandboxes ---------------------------------------------------------------------------

  async runPodSandbox(config: SandboxConfig): Promise<string> {
    const id = await this.createPodSandbox(config);
    try {
      await this.podSandboxReady(id);
    } catch (error) {
      await this.removePodSandbox(id).catch(() => {});
      throw error;
    }
    return id;
  }

  /**
   * The first half of {@link runPodSandbox}: returns once the sandbox is recorded, while its
   * namespaces, pod cgroup, hostname, resolv.conf and hosts files and network (CNI ADD) are being
   * set up; {@link podSandboxReady} tells when they are. Containers may be created meanwhile —
   * their root file system and spec are made at once, their processes once the namespaces and
   * cgroup are there — and start after.
   */
  async createPodSandbox(config: SandboxConfig): Promise<string> {
    await this.#ready;
    if (!config.hostNetwork && !this.#cni) throw new TypeError('runPodSandbox: no pod network configured (options.network) for a pod without hostNetwork');
    const id = newId();
    const rec: SandboxRecord = { id, config, createdAt: this.#now(), state: 'notready', ips: [], cgroupPath: podCgroupPath(this.#cgroupRoot, config), files: this.#sandboxRunDir(id) };
    const paths = this.#sandboxFiles(rec);
    // The network namespace comes with its loopback interface up (kernel.ts). One made ahead
    // lets CNI ADD start at once, while the other namespaces are being made; without one ready
    // (the first pod, or a burst), it is made with the others, and CNI ADD follows.
    if (!config.hostNetwork) rec.netns = this.#takeNetns();
    mkdirSync(paths.dir, { recursive: true });
    mkdirSync(this.#sandboxDir(id), { recursive: true });
    try {
      await this.#saveSandbox(rec);
    } catch (err) {
      if (rec.netns) await removeNetns(rec.netns).catch(() => {});
      await rm(paths.dir, { recursive: true, force: true });
      await rm(this.#sandboxDir(id), { recursive: true, force: true });
      throw err;
    }
    const namespaces = createNamespaces(paths, config, rec.netns !== undefined);
    const network = config.hostNetwork ? undefined : rec.netns ? this.#podNetwork(rec) : namespaces.then(() => this.#podNetwork(rec));
    const setUp: PendingSetUp = this.#finishSetUp(rec, paths, namespaces, network);
    setUp.done.then(
      () => {
        this.#settingUp.delete(id);
        this.#makeSpareNetns();
      },
      (error: Error) => (setUp.failed = error),
    );
    this.#settingUp.set(id, setUp);
    return id;
  }

  /**
   * Resolves once the sandbox's cgroup and network are up (it then reports its IPs); rejects with
   * the error of either, after which the sandbox is not ready and only stop and remove are left.
   */
  async podSandboxReady(id: string): Promise<void> {
    const pending = this.#settingUp.get(id);
    if (pending) return pending.done;
    const rec = await this.#sandbox(id);
    if (rec.state !== 'ready') throw new InvalidStateError(`sandbox "${id}" is not ready`);
  }

  /** Ready, or still being set up (see {@link createPodSandbox}): containers may be created in it. */
  #takesContainers(rec: SandboxRecord): boolean {
    const setUp = this.#settingUp.get(rec.id);
    return rec.state === 'ready' || (setUp !== undefined && setUp.failed === undefined);
  }

  /**
   * The sandbox's namespaces, pod cgroup (with its limits), hostname, resolv.conf and hosts files
   * and, at once, its network: CNI ADD (none on the host's network), then the pod IP into hosts. Then the
   * record says ready. The hosts file is made empty at first, so that containers can be created
   * (their bind mounts need it) while the network comes up; its content is written in place,
   * which the containers see, before any of them starts.
   */
  #finishSetUp(rec: SandboxRecord, paths: SandboxPaths, namespaces: Promise<void>, network: Promise<void> | undefined): PendingSetUp {
    const { id, config } = rec;
    const local = allDone([
      namespaces,
      writeNameFiles(paths, config),
      createPodCgroup(this.#cgroups, rec.cgroupPath, config.resources, config.qosClass),
      writeHostsFile(paths, config, undefined),
    ]);
    const done = (async () => {
      try {
        await allDone([local, network]);
        if (!config.hostNetwork) await writeHostsFile(paths, config, rec.ips);
        rec.state = 'ready';
        await this.#saveSandbox(rec);
      } catch (error) {
        // What CNI made of the network goes; the namespaces stay until the sandbox is removed.
        if (!config.hostNetwork) await this.#cni!.del(id, this.#netnsOf(rec)).catch(() => {});
        throw error;
      }
    })();
    local.catch(() => {}); // its failure is `done`'s
    return { local, done };
  }

  /** CNI ADD into the sandbox's network namespace; the pod's IPs go into its record. */
  async #podNetwork(rec: SandboxRecord): Promise<void> {
    const result = await this.#cni!.add(rec.id, this.#netnsOf(rec), rec.config.portMappings);
    rec.ips = (result.ips ?? []).map((ip) => ip.address.split('/')[0]!);
  }

  /** The file of a sandbox's network namespace. */
  #netnsOf(rec: SandboxRecord): string {
    return rec.netns ?? this.#sandboxFiles(rec).netns;
  }

  /**
   * The network namespace made ahead for a sandbox, if one is ready (undefined otherwise), and
   * another is made ahead for the next one. Making one takes a few milliseconds, most of them in
   * starting the process that makes it; made ahead, a pod's network (CNI ADD) starts as soon as
   * its sandbox is asked for. The spare is this instance's: `close()` removes it, and an instance
   * that starts removes those of instances no longer running (`#removeStaleNetns`).
   */
  #takeNetns(): string | undefined {
    const taken = this.#spareNetns;
    this.#spareNetns = undefined;
    this.#makeSpareNetns();
    return taken;
  }

  /**
   * Starts making a spare network namespace, unless there is one or one is being made — or other
   * sandboxes are being set up: in a burst of pods a spare would only add work, so each of them
   * makes its own, and the spare comes once the burst is done.
   */
  #makeSpareNetns(): void {
    if (this.#spareNetns || this.#makingNetns || this.#closed || !this.#cni) return;
    for (const setUp of this.#settingUp.values()) if (setUp.failed === undefined) return;
    this.#makingNetns = this.#makeNetns().then(
      (file) => {
        this.#makingNetns = undefined;
        if (this.#closed) return removeNetns(file);
        this.#spareNetns = file;
      },
      // No spare this time: the next sandbox makes its own namespace, and another try follows.
      () => (this.#makingNetns = undefined),
    );
  }

  async #makeNetns(): Promise<string> {
    const file = join(this.#runDir, 'netns', `${process.pid}-${newId()}`);
    writeFileSync(file, '');
    try {
      await createNetworkNamespace(file);
    } catch (error) {
      await rm(file, { force: true });
      throw error;
    }
    return file;
  }

  /**
   * Removes the network namespaces of `netns/` that no sandbox record names and whose maker is
   * no longer running: spares left by an instance that was killed (also in the state directory,
   * where versions before `runDir` made them).
   */
  async #removeStaleNetns(): Promise<void> {
    const files: string[] = [];
    for (const dir of new Set([join(this.#runDir, 'netns'), join(this.#stateDir, 'netns')])) {
      if (existsSync(dir)) for (const name of await readdir(dir)) files.push(join(dir, name));
    }
    if (files.length === 0) return;
    const used = new Set<string>();
    for (const id of await readdir(join(this.#stateDir, 'sandboxes'))) {
      const netns = (await this.#sandbox(id).catch(() => undefined))?.netns;
      if (netns) used.add(netns);
    }
    for (const file of files) {
      const maker = Number(file.split('/').pop()!.split('-')[0]);
      if (used.has(file) || maker === process.pid || existsSync(`/proc/${maker}`)) continue;
      await removeNetns(file);
    }
  }

  async #teardownSandbox(rec: SandboxRecord): Promise<void> {
    const paths = this.#sandboxFiles(rec);
    if (!rec.config.hostNetwork && this.#cni) await this.#cni.del(rec.id, this.#netnsOf(rec));
    await destroyNamespaces(paths);
    if (rec.netns) await removeNetns(rec.netns);
  }

  async podSandboxStatus(id: string): Promise<SandboxStatus> {
    await this.#ready;
    const rec = await this.#sandbox(id);
    const paths = this.#sandboxFiles(rec);
    return {
      id,
      config: rec.config,
      state: this.#takesContainers(rec) ? 'ready' : 'notready',
      createdAt: rec.createdAt,
      ips: rec.state === 'ready' ? rec.ips : [],
      netnsPath: rec.config.hostNetwork ? '/proc/1/ns/net' : this.#netnsOf(rec),
      hostsPath: paths.hosts,
      resolvConfPath: paths.resolvConf,
      hostnamePath: paths.hostname,
    };
  }

  async stopPodSandbox(id: string): Promise<void> {
    await this.#ready;
    let rec: SandboxRecord;
    await this.#settingUp.get(id)?.done.catch(() => {});
    try {
      rec = await this.#sandbox(id);
    } catch {
      return;
    }
    for (const c of await this.listContainers({ sandboxId: id })) {
      if (c.state === 'running' || c.state === 'created') await this.stopContainer(c.id, 0);
    }
    await this.#locked(`sandbox:${id}`, async () => {
      if (rec.state === 'notready') return;
      await this.#teardownSandbox(rec);
      rec.state = 'notready';
      await this.#saveSandbox(rec);
    });
  }

  async removePodSandbox(id: string): Promise<void> {
    await this.#ready;
    let rec: SandboxRecord;
    await this.#settingUp.get(id)?.done.catch(() => {});
    this.#settingUp.delete(id);
    try {
      rec = await this.#sandbox(id);
    } catch {
      return;
    }
    for (const c of await this.listContainers({ sandboxId: id })) await this.removeContainer(c.id);
    await this.#locked(`sandbox:${id}`, async () => {
      if (rec.state === 'ready') {
        await this.#teardownSandbox(rec);
      } else {
        // Never ready: whatever CNI made was undone when its ADD failed.
        await destroyNamespaces(this.#sandboxFiles(rec));
        if (rec.netns) await removeNetns(rec.netns);
      }
      await removeCgroup(this.#cgroups, rec.cgroupPath);
      await rm(this.#sandboxFiles(rec).dir, { recursive: true, force: true });
      await rm(this.#sandboxDir(id), { recursive: true, force: true });
      this.#records.delete(join(this.#sandboxDir(id), 'sandbox.json'));
    });
  }

  async listPodSandboxes(): Promise<SandboxStatus[]> {
    await this.#ready;
    const out: SandboxStatus[] = [];
    for (const id of await readdir(join(this.#stateDir, 'sandboxes'))) {
      try {
        out.push(await this.podSandboxStatus(id));
      } catch {
        // removed meanwhile
      }
    }
    return out;
  }

  // ---- containers --------------------------------------------------------------------------

  async createContainer(sandboxId: string, config: ContainerConfig): Promise<string> {
    await this.#ready;
    const sandbox = await this.#sandbox(sandboxId);
    if (!this.#takesContainers(sandbox)) throw new InvalidStateError(`Cannot create container "${config.name}": sandbox "${sandboxId}" is not ready`);
    if (config.layers.length === 0) throw new TypeError(`container "${config.name}": no image layers`);
    const id = newId();
    const dir = this.#containerDir(id);
    const bundle = this.#containerRunDir(id);
    const rootfs = join(bundle, 'rootfs');
    const paths = this.#sandboxFiles(sandbox);
    const cgroupsPath = `${sandbox.cgroupPath}/${id}`;
    const rec: ContainerRecord = { id, sandboxId, config, createdAt: this.#now(), cgroupsPath, bundle };
    for (const d of [join(dir, 'upper'), join(dir, 'work'), rootfs]) mkdirSync(d, { recursive: true });
    try {
      // overlayfs lists lowerdirs top first; the caller gives them bottom first.
      const lower = [...config.layers].reverse();
      const spec = buildSpec(config, {
        rootfs,
        cgroupsPath,
        ...(OWN_MIN_OOM_SCORE_ADJ !== undefined ? { minOomScoreAdj: OWN_MIN_OOM_SCORE_ADJ } : {}),
        sandboxSysctls: sandbox.config.sysctls,
        namespaces: {
          net: sandbox.config.hostNetwork ? null : this.#netnsOf(sandbox),
          ipc: paths.ipc,
          uts: sandbox.config.hostNetwork ? null : paths.uts,
          shm: paths.shm,
          hosts: paths.hosts,
          resolvConf: paths.resolvConf,
          hostname: paths.hostname,
        },
      });
      // The overlay is mounted by another process (spawner.ts): the files are written meanwhile.
      const mounted = mountOverlay(lower, join(dir, 'upper'), join(dir, 'work'), rootfs);
      const fifo = config.stdin ? runOk('mkfifo', ['-m', '0600', join(bundle, 'stdin')]) : undefined;
      await allDone([
        mounted,
        fifo,
        (async () => {
          writeFileSync(join(bundle, 'config.json'), JSON.stringify(spec));
          mkdirSync(dirname(config.logPath), { recursive: true });
          // The record too: if another step fails, it goes with the directory.
          await this.#saveContainer(rec);
        })(),
      ]);
      if (!config.tty) {
        // The process is made now, up to the program it will run (see `#launch`), while the
        // sandbox's network may still be coming up; a failure is the start's (a StartError).
        await this.#settingUp.get(sandboxId)?.local;
        await this.#launch(rec);
      }
      return id;
    } catch (err) {
      await unmountAll([rootfs]);
      await rm(bundle, { recursive: true, force: true });
      await rm(dir, { recursive: true, force: true });
      throw err;
    }
  }

  async startContainer(id: string): Promise<void> {
    await this.#ready;
    await this.#locked(id, async () => {
      const rec = await this.#container(id);
      if (rec.startedAt !== undefined) throw new InvalidStateError(`Cannot start container "${id}": already started`);
      // Its process could not be made (createContainer), or died before it was let run.
      if (rec.exit) throw new StartError(id, rec.exit.message || `the container's process exited before it started (exit code ${rec.exit.exitCode})`);
      // A container created while its sandbox was being set up starts once it is.
      await this.#settingUp.get(rec.sandboxId)?.done;
      rec.startedAt = this.#now();
      if (rec.pid === undefined) {
        // A terminal container: its runtime runs in the foreground under the shim from now on.
        const failure = await this.#launch(rec);
        if (failure !== undefined) throw new StartError(id, failure);
      } else {
        try {
          await this.#release(rec);
        } catch (error) {
          rec.startedAt = undefined;
          rec.exit = { exitCode: 128, reason: 'StartError', message: (error as Error).message, finishedAt: this.#now() };
          await this.#saveContainer(rec);
          throw new StartError(id, rec.exit.message);
        }
      }
      await this.#saveContainer(rec);
    });
  }

  /**
   * Starts the container's shim (shim.ts), which has the OCI runtime make the process: `create`,
   * which leaves it waiting just before the container's program (see `#release`), or for a
   * terminal container `run` in the foreground, which starts it. The shim answers with the
   * process's pid, which goes into the record; if the runtime failed, the record says how
   * (an exit with reason `StartError`, exit code 128) and so does the result.
   */
  async #launch(rec: ContainerRecord): Promise<string | undefined> {
    const dir = this.#bundle(rec);
    const args = [
      String(PRCTL_SYSCALL[process.arch] ?? 157), this.#runtime, this.#root, rec.id, dir, rec.config.logPath, this.#exitFile(rec.id),
      join(dir, 'pid'), oomCounterFile(this.#cgroups, rec.cgroupsPath), rec.config.tty ? '1' : '0',
      rec.config.stdin ? join(dir, 'stdin') : '-', join(dir, 'runtime.log'),
    ];
    // The shim runs in its own session, so it (and the container) outlive the agent.
    const shim = await spawner.startPerlDetached(SHIM_SOURCE, args, { stderrFile: join(dir, 'shim.log'), name: `skiff-shim ${rec.id}` })
      .catch((e: Error) => ({ pid: undefined, line: `error ${e.message}` }));
    const line = shim.line;
    rec.shimPid = shim.pid;
    if (line.startsWith('ok ')) {
      rec.pid = Number(line.slice(3));
      rec.pidStart = procStartTime(rec.pid);
    } else {
      const message = line.startsWith('error ') ? line.slice(6) : `shim failed: ${readFileSync(join(dir, 'shim.log'), 'utf8').slice(-500)}`;
      rec.exit = { exitCode: 128, reason: 'StartError', message, finishedAt: this.#now() };
    }
    await this.#saveContainer(rec);
    return rec.exit?.message;
  }

  /**
   * Lets a created container's process run its program. runc's process waits until the FIFO
   * `exec.fifo` in its state directory is opened for reading; reading it to the end lets it go
   * on, and removing it tells runc the container runs. That is all `runc start` does, and doing
   * it here saves starting that Go program (~8 ms, a fifth of a pod's start). crun's FIFO works
   * the other way round, so other runtimes get their own `start`.
   */
  async #release(rec: ContainerRecord): Promise<void> {
    const fifo = join(this.#root, rec.id, 'exec.fifo');
    if (this.#runtimeName !== 'runc' || !existsSync(fifo)) {
      await runOk(this.#runtime, ['--root', this.#root, 'start', rec.id]);
      return;
    }
    // Opening blocks until the process opens the other end; if it died first, nobody would:
    // then this end is freed by an open of the other end here, and reads nothing.
    const watchdog = setInterval(() => {
      if (alive(rec.pid, rec.pidStart)) return;
      try {
        closeSync(openSync(fifo, constants.O_WRONLY | constants.O_NONBLOCK));
      } catch {
        // the reader is not waiting yet: next time
      }
    }, 100);
    try {
      const handle = await open(fifo, 'r');
      let data: Buffer;
      try {
        data = await handle.readFile();
      } finally {
        await handle.close();
      }
      if (data.length === 0) throw new Error('the container\'s process exited before it started');
      await unlink(fifo);
    } finally {
      clearInterval(watchdog);
    }
  }

  async stopContainer(id: string, timeoutSeconds: number): Promise<void> {
    await this.#ready;
    let rec: ContainerRecord;
    try {
      rec = await this.#container(id);
    } catch {
      return;
    }
    // Nothing runs; or a process that was never let run its program, which needs no grace.
    if (rec.exit || rec.pid === undefined) return;
    const signal = (rec.config.stopSignal ?? 'SIGTERM').replace(/^SIG/, '');
    if (timeoutSeconds > 0 && rec.startedAt !== undefined) {
      await run(this.#runtime, ['--root', this.#root, 'kill', id, signal]);
      if (await this.#waitExit(id, timeoutSeconds * 1000)) return;
    }
    await run(this.#runtime, ['--root', this.#root, 'kill', '--all', id, 'KILL']);
    if (!(await this.#waitExit(id, 10_000))) {
      // The shim is gone (it was killed): nobody will report the exit; record it ourselves.
      const current = await this.#container(id);
      if (!current.exit && !alive(current.pid, current.pidStart)) {
        current.exit = { exitCode: 137, reason: 'Error', message: 'exit status lost: the container shim is gone', finishedAt: this.#now() };
        await this.#saveContainer(current);
      }
    }
  }

  async removeContainer(id: string): Promise<void> {
    await this.#ready;
    let rec: ContainerRecord;
    try {
      rec = await this.#container(id);
    } catch {
      return;
    }
    const status = await this.containerStatus(id);
    if (status.state === 'running' || status.state === 'created') await this.stopContainer(id, 0);
    await this.#locked(id, async () => {
      await run(this.#runtime, ['--root', this.#root, 'delete', '--force', id]);
      await removeCgroup(this.#cgroups, rec.cgroupsPath);
      await unmountAll([join(this.#bundle(rec), 'rootfs')]);
      await rm(this.#bundle(rec), { recursive: true, force: true });
      await rm(this.#containerDir(id), { recursive: true, force: true });
      await rm(this.#exitFile(id), { force: true });
      this.#records.delete(join(this.#containerDir(id), 'container.json'));
      this.#exitsHeard.delete(id);
    });
  }

  async containerStatus(id: string): Promise<ContainerStatus> {
    await this.#ready;
    const rec = this.#containerView(id);
    let state: ContainerStatus['state'] = 'created';
    let exit = rec.exit;
    if (!exit && rec.startedAt !== undefined) {
      if (existsSync(this.#exitFile(id))) {
        await this.#onExitFile(id);
        exit = this.#containerView(id).exit;
      } else if (!alive(rec.pid, rec.pidStart) && !alive(rec.shimPid)) {
        state = 'unknown';
      } else {
        state = 'running';
      }
    }
    if (exit) state = 'exited';
    const c = rec.config;
    return {
      id,
      sandboxId: rec.sandboxId,
      name: c.name,
      attempt: c.attempt ?? 0,
      state,
      pid: state === 'running' ? rec.pid ?? 0 : 0,
      createdAt: rec.createdAt,
      startedAt: rec.pid !== undefined ? rec.startedAt ?? 0 : 0,
      finishedAt: exit?.finishedAt ?? 0,
      exitCode: exit?.exitCode ?? 0,
      reason: exit?.reason ?? '',
      message: exit?.message ?? '',
      image: c.image,
      imageId: c.imageId,
      logPath: c.logPath,
      labels: { ...c.labels },
      annotations: { ...c.annotations },
    };
  }

  async listContainers(filter: ContainerFilter = {}): Promise<ContainerStatus[]> {
    await this.#ready;
    const out: ContainerStatus[] = [];
    for (const id of await readdir(join(this.#stateDir, 'containers'))) {
      let s: ContainerStatus;
      try {
        s = await this.containerStatus(id);
      } catch {
        continue;
      }
      if (filter.sandboxId && s.sandboxId !== filter.sandboxId) continue;
      if (filter.state && s.state !== filter.state) continue;
      out.push(s);
    }
    return out;
  }

  async containerStats(id: string): Promise<ContainerStats> {
    await this.#ready;
    const rec = await this.#container(id);
    return containerUsage(this.#cgroups, rec.cgroupsPath, join(this.#containerDir(id), 'upper'), this.#now());
  }

  async podSandboxStats(id: string): Promise<PodSandboxStats> {
    await this.#ready;
    const sandbox = await this.#sandbox(id);
    return this.#sandboxStats(sandbox, await this.listContainers({ sandboxId: id, state: 'running' }));
  }

  async listPodSandboxStats(): Promise<PodSandboxStats[]> {
    await this.#ready;
    // One pass over the containers for every sandbox (podSandboxStats per sandbox would read them all each time).
    const running = await this.listContainers({ state: 'running' });
    const out: PodSandboxStats[] = [];
    for (const id of await readdir(join(this.#stateDir, 'sandboxes'))) {
      try {
        const sandbox = await this.#sandbox(id);
        if (sandbox.state === 'ready') out.push(await this.#sandboxStats(sandbox, running.filter((c) => c.sandboxId === id)));
      } catch {
        // removed meanwhile
      }
    }
    return out;
  }

  async #sandboxStats(sandbox: SandboxRecord, running: ContainerStatus[]): Promise<PodSandboxStats> {
    const containers: (ContainerStats & { id: string })[] = [];
    for (const c of running) {
      try {
        containers.push({ id: c.id, ...(await this.containerStats(c.id)) });
      } catch {
        // removed meanwhile
      }
    }
    // Any running container's /proc/<pid>/net/dev shows the pod's network namespace.
    const netPid = sandbox.config.hostNetwork ? undefined : running.find((c) => c.pid > 0)?.pid;
    return sandboxUsage(this.#cgroups, { sandboxId: sandbox.id, cgroupPath: sandbox.cgroupPath, netPid, containers, timestamp: this.#now() });
  }

  async reopenContainerLog(id: string): Promise<void> {
    await this.#ready;
    const rec = await this.#running(id);
    await reopenShimLog(id, rec.shimPid, rec.config.logPath);
  }

  // ---- exec, attach, port-forward ----------------------------------------------------------

  async #running(id: string): Promise<ContainerRecord> {
    const s = await this.containerStatus(id);
    if (s.state !== 'running') throw new InvalidStateError(`container "${id}" is not running (${s.state})`);
    return this.#container(id);
  }

  /** The command line of an exec: runc directly, or under `script` when a tty is wanted. */
  #execCommand(id: string, options: ExecOptions, pidFile: string): [string, string[]] {
    const args = ['--root', this.#root, 'exec', '--pid-file', pidFile];
    if (options.tty) args.push('--tty');
    for (const e of options.env ?? []) args.push('--env', e);
    args.push(id, ...options.cmd);
    if (!options.tty) return [this.#runtime, args];
    // Why script(1): a foreground `runc exec --tty` needs a controlling terminal of its own
    // (it opens /dev/tty) and Node cannot allocate a pty; script gives it one and relays it.
    const quoted = [this.#runtime, ...args].map((a) => `'${a.replace(/'/g, `'\\''`)}'`).join(' ');
    return ['script', ['-qefE', 'never', '-c', quoted, '/dev/null']];
  }

  async execSync(id: string, cmd: string[], timeoutMs: number): Promise<ExecSyncResult> {
    await this.#ready;
    const rec = await this.#running(id);
    const pidFile = join(this.#bundle(rec), `exec-${newId()}.pid`);
    const [file, args] = this.#execCommand(id, { cmd }, pidFile);
    const result = await spawner.runBytes(file, args, {
      timeoutMs,
      // Kill the process inside the container (runc exec cannot forward SIGKILL); the spawner then kills runc.
      onTimeout: () => void readFile(pidFile, 'utf8').then((p) => { try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ } }, () => {}),
    });
    await rm(pidFile, { force: true });
    if (result.timedOut) throw new ExecTimeoutError(id, timeoutMs);
    return { exitCode: result.code ?? (result.signal ? 128 : 255), stdout: result.stdout, stderr: result.stderr };
  }

  async exec(id: string, options: ExecOptions): Promise<StreamHandle> {
    await this.#ready;
    const rec = await this.#running(id);
    const pidFile = join(this.#bundle(rec), `exec-${newId()}.pid`);
    const [file, args] = this.#execCommand(id, options, pidFile);
    // With a tty script needs a stdin that stays open while the process runs.
    const child = spawn(file, args, { stdio: [options.stdin || options.tty ? 'pipe' : 'ignore', 'pipe', 'pipe'] });
    if (options.tty && !options.stdin) child.stdin!.on('error', () => {});
    const stdout = new PassThrough();
    const stderr = options.tty ? null : new PassThrough();
    child.stdout!.pipe(stdout);
    // With a tty runc merges both streams into its stdout; its own stderr carries only runc's errors.
    if (stderr) child.stderr!.pipe(stderr);
    else child.stderr!.resume();
    const exit = new Promise<{ exitCode: number }>((resolve) => child.on('close', (c) => { void rm(pidFile, { force: true }); resolve({ exitCode: c ?? 137 }); }));
    return {
      stdin: options.stdin ? child.stdin : null,
      stdout,
      stderr,
      resize: async (cols, rows) => {
        if (!options.tty) return;
        // The pid file appears once runc has started the process; a resize right after exec waits for it.
        for (let i = 0; i < 200; i++) {
          const pid = Number(await readFile(pidFile, 'utf8').catch(() => '0'));
          if (pid) return resizePty(pid, cols, rows);
          if (child.exitCode !== null) return;
          await new Promise((r) => setTimeout(r, 10));
        }
      },
      exit,
      close: () => {
        void readFile(pidFile, 'utf8').then((p) => { try { process.kill(Number(p), 'SIGKILL'); } catch { /* gone */ } }, () => {});
      },
    };
  }

  async attach(id: string, options: AttachOptions): Promise<StreamHandle> {
    await this.#ready;
    const rec = await this.#running(id);
    // The shim owns the container's output: attach follows the log file from its current end
    // (parsing the CRI lines back into streams) and writes to the container's stdin FIFO.
    const stdout = new PassThrough();
    const stderr = rec.config.tty ? null : new PassThrough();
    let offset = (await stat(rec.config.logPath).catch(() => ({ size: 0 }))).size;
    let partial = '';
    let closed = false;
    let reading = false;
    const pump = async () => {
      if (reading || closed) return;
      reading = true;
      try {
        const size = (await stat(rec.config.logPath)).size;
        if (size < offset) offset = 0; // rotated
        if (size > offset) {
          const chunk = await new Promise<Buffer>((resolve, reject) => {
            const parts: Buffer[] = [];
            createReadStream(rec.config.logPath, { start: offset, end: size - 1 }).on('data', (d) => parts.push(d as Buffer)).on('end', () => resolve(Buffer.concat(parts))).on('error', reject);
          });
          offset = size;
          const lines = (partial + chunk.toString()).split('\n');
          partial = lines.pop() ?? '';
          for (const line of lines) {
            const m = /^\S+ (stdout|stderr) ([FP]) (.*)$/.exec(line);
            if (!m) continue;
            const text = m[3]! + (m[2] === 'F' ? '\n' : '');
            (m[1] === 'stderr' && stderr ? stderr : stdout).write(text);
          }
        }
      } catch {
        // the log is gone: the container was removed
      } finally {
        reading = false;
      }
    };
    const watcher = watch(rec.config.logPath, () => void pump());
    let stdinStream: Writable | null = null;
    if (options.stdin && rec.config.stdin) {
      const fifo = join(this.#bundle(rec), 'stdin');
      const fh = await open(fifo, 'w');
      stdinStream = fh.createWriteStream();
    }
    let finish!: (v: { exitCode: number }) => void;
    const exit = new Promise<{ exitCode: number }>((resolve) => { finish = resolve; });
    const end = async () => {
      if (closed) return;
      await pump();
      closed = true;
      watcher.close();
      stdinStream?.end();
      stdout.end();
      stderr?.end();
      const s = await this.containerStatus(id).catch(() => null);
      finish({ exitCode: s?.exitCode ?? 0 });
    };
    void this.#waitExit(id, 2 ** 31 - 1).then(() => end());
    return {
      stdin: stdinStream,
      stdout,
      stderr,
      resize: async (cols, rows) => { if (rec.config.tty && rec.pid) await resizePty(rec.pid, cols, rows); },
      exit,
      close: () => void end(),
    };
  }

  async portForward(sandboxId: string, port: number): Promise<Duplex> {
    await this.#ready;
    if (!Number.isInteger(port) || port < 1 || port > 65535) throw new RangeError(`port-forward: invalid port ${port}`);
    const rec = await this.#sandbox(sandboxId);
    if (rec.state !== 'ready') throw new InvalidStateError(`sandbox "${sandboxId}" is not ready`);
    if (rec.config.hostNetwork) return connect({ host: '127.0.0.1', port });
    // Why nsenter + socat: the agent's own sockets live in the host namespace; a tiny relay
    // process entered into the pod's network namespace is what the kubelet's dockershim did,
    // needs no long-lived helper per pod and dies with the connection.
    const child = spawn('nsenter', [`--net=${this.#netnsOf(rec)}`, 'socat', '-', `TCP4:127.0.0.1:${port}`], { stdio: ['pipe', 'pipe', 'pipe'] });
    child.stderr.resume();
    const duplex = Duplex.from({ readable: child.stdout, writable: child.stdin });
    duplex.on('close', () => child.kill());
    child.on('exit', () => { if (!duplex.destroyed) duplex.push(null); });
    return duplex;
  }

  // ---- events ------------------------------------------------------------------------------

  onContainerExit(listener: (event: ContainerExitEvent) => void): () => void {
    this.#listeners.add(listener);
    return () => this.#listeners.delete(listener);
  }

  async close(): Promise<void> {
    await this.#ready.catch(() => {});
    this.#closed = true;
    await this.#makingNetns;
    if (this.#spareNetns) await removeNetns(this.#spareNetns);
    this.#spareNetns = undefined;
    this.#watcher?.close();
    this.#watcher = null;
    this.#legacyWatcher?.close();
    this.#legacyWatcher = null;
    for (const [, set] of this.#exitWaiters) for (const w of set) w();
  }
}

/**
 * Waits for every step, then throws the first failure if any: steps that run at once are all
 * finished before the caller cleans up after a failed one.
 */
async function allDone(steps: (Promise<unknown> | undefined)[]): Promise<void> {
  const failed = (await Promise.allSettled(steps)).find((step) => step.status === 'rejected');
  if (failed) throw failed.reason;
}

/** Unmounts a network namespace's file and removes it. */
async function removeNetns(file: string): Promise<void> {
  await unmountAll([file]);
  await rm(file, { force: true });
}

/** Sets the window size of the tty a process has on fd 0 (the pty slave inside its container). */
async function resizePty(pid: number, cols: number, rows: number): Promise<void> {
  const tty = await readlink(`/proc/${pid}/fd/0`).catch(() => '');
  if (!tty.startsWith('/dev/pts/')) return;
  await run('stty', ['-F', `/proc/${pid}/root${tty}`, 'cols', String(cols), 'rows', String(rows)]);
}

/**
 * Whether this process may lower `oom_score_adj` (CAP_SYS_RESOURCE, bit 24 of CapEff): some
 * sandboxes and containers run as root without it. Without it, no container can get a score
 * below this process's own, so requests are raised to it (as containerd's
 * `restrict_oom_score_adj`); undefined when there is no such limit.
 */
const OWN_MIN_OOM_SCORE_ADJ: number | undefined = (() => {
  try {
    const status = readFileSync('/proc/self/status', 'utf8');
    const capEff = BigInt(`0x${/^CapEff:\s*([0-9a-f]+)/m.exec(status)?.[1] ?? '0'}`);
    if ((capEff >> 24n) & 1n) return undefined;
    return Number(readFileSync('/proc/self/oom_score_adj', 'utf8').trim());
  } catch {
    return undefined;
  }
})();

/**
 * The command line the runtime runs for its OCI runtime binary.
 *
 * runc works on every cgroup layout. crun refuses a hybrid layout — cgroup v1 controllers under
 * /sys/fs/cgroup with a cgroup v2 hierarchy at /sys/fs/cgroup/unified ("cgroups in hybrid mode
 * not supported") — yet works with the v1 controllers alone. On such a host crun is run through
 * a small wrapper that gives it a private mount namespace without the unified hierarchy, so crun
 * sees a plain cgroup v1 host and places containers in the same v1 cgroups runc uses. The
 * namespace belongs to that one crun call; containers get mount namespaces of their own.
 */
import { chmod, mkdir, writeFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { basename, join } from 'node:path';

/** Where the cgroup v2 hierarchy of a hybrid host is mounted, or undefined when the host is not hybrid. */
export function hybridUnifiedMount(mountinfo = readFileSync('/proc/self/mountinfo', 'utf8')): string | undefined {
  const lines = mountinfo.split('\n');
  const v1 = lines.some((l) => / - cgroup /.test(l));
  const v2 = lines.find((l) => / - cgroup2 /.test(l));
  return v1 && v2 ? v2.split(' ')[4] : undefined;
}

/**
 * The program to run for `runtimePath`: the path itself, or — for crun on a hybrid host — a
 * wrapper script written under `stateDir/bin`, named after the runtime (so versions and logs
 * still say crun).
 */
export async function runtimeCommand(runtimePath: string, stateDir: string, mountinfo?: string): Promise<string> {
  const unified = basename(runtimePath) === 'crun' ? hybridUnifiedMount(mountinfo) : undefined;
  if (!unified) return runtimePath;
  const safe = /^[\w/.+-]+$/;
  if (!safe.test(unified) || !safe.test(runtimePath)) throw new TypeError(`cannot wrap ${runtimePath} for the cgroup hierarchy at ${unified}`);
  const dir = join(stateDir, 'bin');
  await mkdir(dir, { recursive: true });
  const wrapper = join(dir, basename(runtimePath));
  await writeFile(wrapper, [
    '#!/bin/sh',
    '# Written by Skiff: crun refuses hybrid cgroup layouts, so it runs in a private mount',
    '# namespace without the cgroup v2 hierarchy and uses the v1 controllers, as runc does.',
    `exec unshare --mount --propagation private /bin/sh -c 'umount -l ${unified} 2>/dev/null; exec "$0" "$@"' ${runtimePath} "$@"`,
    '',
  ].join('\n'));
  await chmod(wrapper, 0o755);
  return wrapper;
}

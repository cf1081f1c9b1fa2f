/**
 * A container's securityContext merged over the pod's as upstream's
 * `DetermineEffectiveSecurityContext`, turned into the runtime's SecurityConfig: user and groups
 * (the image's `User` when the pod names none, resolved through the image's /etc/passwd and
 * /etc/group), `runAsNonRoot` verified with upstream's messages, capabilities, privileged,
 * read-only root, no_new_privs, seccomp.
 */
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Container, Pod, SecurityContext } from 'kubernetes-types/core/v1.js';
import type { SecurityConfig } from '../runtime/container-runtime.ts';
import { ContainerConfigError } from './errors.ts';

async function lookupFile(layers: string[], path: string): Promise<string | undefined> {
  for (const layer of [...layers].reverse()) {
    try {
      return await readFile(join(layer, path), 'utf8');
    } catch {
      // not in this layer
    }
  }
  return undefined;
}

/** Resolves the image's `User` (`uid`, `uid:gid`, `name`, `name:group`) against the image's files. */
export async function resolveImageUser(user: string, layers: string[]): Promise<{ uid?: number; gid?: number; name?: string }> {
  if (!user) return {};
  const [u, g] = user.split(':') as [string, string | undefined];
  const out: { uid?: number; gid?: number; name?: string } = {};
  const passwd = (await lookupFile(layers, 'etc/passwd')) ?? '';
  const entries = passwd.split('\n').map((l) => l.split(':')).filter((f) => f.length >= 4);
  if (/^\d+$/.test(u)) {
    out.uid = Number(u);
    const e = entries.find((f) => f[2] === u);
    if (e) out.gid = Number(e[3]);
  } else {
    out.name = u;
    const e = entries.find((f) => f[0] === u);
    if (e) {
      out.uid = Number(e[2]);
      out.gid = Number(e[3]);
    }
  }
  if (g !== undefined) {
    if (/^\d+$/.test(g)) out.gid = Number(g);
    else {
      const group = ((await lookupFile(layers, 'etc/group')) ?? '').split('\n').map((l) => l.split(':')).find((f) => f[0] === g);
      if (group) out.gid = Number(group[2]);
    }
  }
  return out;
}

function formatPod(pod: Pod): string {
  return `${pod.metadata?.name}_${pod.metadata?.namespace}(${pod.metadata?.uid})`;
}

/** The effective securityContext (container fields over the pod's). */
export function effectiveSecurityContext(pod: Pod, c: Container): SecurityContext {
  const p = pod.spec?.securityContext ?? {};
  const s = c.securityContext ?? {};
  return {
    ...s,
    runAsUser: s.runAsUser ?? p.runAsUser,
    runAsGroup: s.runAsGroup ?? p.runAsGroup,
    runAsNonRoot: s.runAsNonRoot ?? p.runAsNonRoot,
    seccompProfile: s.seccompProfile ?? p.seccompProfile,
    seLinuxOptions: s.seLinuxOptions ?? p.seLinuxOptions,
  };
}

/**
 * The runtime's security settings for a container.
 * @throws ContainerConfigError when `runAsNonRoot` cannot hold (upstream's messages).
 */
export async function securityConfig(pod: Pod, c: Container, imageUser: string, layers: string[], seccompDir: string): Promise<SecurityConfig> {
  const sc = effectiveSecurityContext(pod, c);
  const img = await resolveImageUser(imageUser, layers);
  if (sc.runAsUser === undefined && img.name !== undefined && img.uid === undefined) {
    if (!sc.runAsNonRoot) throw new ContainerConfigError(`unable to find user ${img.name}: no matching entries in passwd file`);
  }
  if (sc.runAsNonRoot) {
    if (sc.runAsUser === 0) throw new ContainerConfigError(`container's runAsUser breaks non-root policy (pod: "${formatPod(pod)}", container: ${c.name})`);
    if (sc.runAsUser === undefined) {
      if (img.name !== undefined) throw new ContainerConfigError(`container has runAsNonRoot and image has non-numeric user (${img.name}), cannot verify user is non-root (pod: "${formatPod(pod)}", container: ${c.name})`);
      if ((img.uid ?? 0) === 0) throw new ContainerConfigError(`container has runAsNonRoot and image will run as root (pod: "${formatPod(pod)}", container: ${c.name})`);
    }
  }
  const uid = sc.runAsUser ?? img.uid ?? 0;
  const gid = sc.runAsGroup ?? (sc.runAsUser === undefined ? img.gid : undefined) ?? 0;
  const groups = [...(pod.spec?.securityContext?.supplementalGroups ?? [])];
  const fsGroup = pod.spec?.securityContext?.fsGroup;
  if (fsGroup !== undefined && !groups.includes(fsGroup)) groups.push(fsGroup);
  const privileged = sc.privileged === true;
  const caps = sc.capabilities;
  const canEscalate = privileged || (caps?.add ?? []).some((x) => /^(CAP_)?SYS_ADMIN$/i.test(x));
  const out: SecurityConfig = {
    runAsUser: uid,
    runAsGroup: gid,
    supplementalGroups: groups,
    privileged,
    readonlyRootfs: sc.readOnlyRootFilesystem === true,
    capabilities: { add: caps?.add ?? [], drop: caps?.drop ?? [] },
    noNewPrivileges: sc.allowPrivilegeEscalation === false && !canEscalate,
    unmaskedProc: sc.procMount === 'Unmasked',
  };
  const seccomp = sc.seccompProfile;
  if (seccomp?.type === 'RuntimeDefault') out.seccomp = { type: 'RuntimeDefault' };
  else if (seccomp?.type === 'Localhost' && seccomp.localhostProfile) out.seccomp = { type: 'Localhost', profilePath: join(seccompDir, seccomp.localhostProfile) };
  else out.seccomp = { type: 'Unconfined' };
  return out;
}

/**
 * A container's environment as upstream's `makeEnvironmentVariables`: `envFrom` sources first
 * (ConfigMaps and Secrets, with prefix), then `env` in order, where `value` may use `$(VAR)`
 * references to earlier variables and `valueFrom` reads a ConfigMap or Secret key, a field of the
 * pod (`fieldRef`) or a resource of the container (`resourceFieldRef`). `$(VAR)` expansion in
 * command and args follows the same rules ({@link expand}).
 */
import type { ConfigMap, Container, Pod, Secret } from 'kubernetes-types/core/v1.js';
import { ContainerConfigError } from './errors.ts';
import { resourceFieldValue } from './resources.ts';

/** Where ConfigMaps and Secrets come from (the agent's watch-based object cache). */
export interface ObjectSource {
  configMap(namespace: string, name: string): Promise<ConfigMap | undefined>;
  secret(namespace: string, name: string): Promise<Secret | undefined>;
}

/** What `fieldRef` and `resourceFieldRef` read besides the pod. */
export interface EnvContext {
  podIps: string[];
  hostIps: string[];
  allocatable: { cpu: number; memory: number; ephemeralStorage: number };
}

const ENV_NAME = /^[-._a-zA-Z][-._a-zA-Z0-9]*$/;

/**
 * Expands `$(VAR)` from `lookup` as upstream's `expansion.Expand`: `$$` is an escaped `$`;
 * an unknown or malformed reference stays as written.
 */
export function expand(input: string, lookup: (name: string) => string | undefined): string {
  let out = '';
  for (let i = 0; i < input.length; i++) {
    const ch = input[i];
    if (ch !== '$' || i + 1 >= input.length) {
      out += ch;
      continue;
    }
    const next = input[i + 1];
    if (next === '$') {
      out += '$';
      i++;
    } else if (next === '(') {
      const close = input.indexOf(')', i + 2);
      if (close === -1) {
        out += input.slice(i);
        break;
      }
      const name = input.slice(i + 2, close);
      const value = lookup(name);
      out += value ?? `$(${name})`;
      i = close;
    } else {
      out += ch;
    }
  }
  return out;
}

/** A pod field as `fieldRef` reads it. */
export function podFieldValue(pod: Pod, path: string, ctx: Pick<EnvContext, 'podIps' | 'hostIps'>): string {
  const meta = pod.metadata ?? {};
  const sub = /^metadata\.(labels|annotations)\['(.*)'\]$/.exec(path);
  if (sub) return (sub[1] === 'labels' ? meta.labels : meta.annotations)?.[sub[2]!] ?? '';
  switch (path) {
    case 'metadata.name': return meta.name ?? '';
    case 'metadata.namespace': return meta.namespace ?? '';
    case 'metadata.uid': return meta.uid ?? '';
    case 'metadata.labels': return formatMap(meta.labels);
    case 'metadata.annotations': return formatMap(meta.annotations);
    case 'spec.nodeName': return pod.spec?.nodeName ?? '';
    case 'spec.serviceAccountName': return pod.spec?.serviceAccountName ?? '';
    case 'status.hostIP': return ctx.hostIps[0] ?? '';
    case 'status.hostIPs': return ctx.hostIps.join(',');
    case 'status.podIP': return ctx.podIps[0] ?? '';
    case 'status.podIPs': return ctx.podIps.join(',');
    default: throw new ContainerConfigError(`unsupported fieldRef path "${path}"`);
  }
}

/** `key="value"` lines, sorted, as the downward API writes labels and annotations. */
export function formatMap(map: Record<string, string> | undefined): string {
  return Object.keys(map ?? {}).sort().map((k) => `${k}=${JSON.stringify(map![k])}`).join('\n');
}

function decode(secret: Secret, key: string): string | undefined {
  const v = secret.data?.[key];
  return v === undefined ? secret.stringData?.[key] : Buffer.from(v, 'base64').toString('utf8');
}

/** The container's variables in order (`KEY=value`), without the image's. */
export async function containerEnv(pod: Pod, container: Container, objects: ObjectSource, ctx: EnvContext): Promise<string[]> {
  const ns = pod.metadata?.namespace ?? 'default';
  const values = new Map<string, string>();
  for (const from of container.envFrom ?? []) {
    const prefix = from.prefix ?? '';
    if (from.configMapRef) {
      const cm = await objects.configMap(ns, from.configMapRef.name ?? '');
      if (!cm) {
        if (from.configMapRef.optional) continue;
        throw new ContainerConfigError(`configmap "${from.configMapRef.name}" not found`);
      }
      for (const [k, v] of Object.entries(cm.data ?? {})) if (ENV_NAME.test(prefix + k)) values.set(prefix + k, v);
    } else if (from.secretRef) {
      const secret = await objects.secret(ns, from.secretRef.name ?? '');
      if (!secret) {
        if (from.secretRef.optional) continue;
        throw new ContainerConfigError(`secret "${from.secretRef.name}" not found`);
      }
      for (const k of Object.keys(secret.data ?? {})) if (ENV_NAME.test(prefix + k)) values.set(prefix + k, decode(secret, k)!);
    }
  }
  for (const e of container.env ?? []) {
    const name = e.name;
    if (e.valueFrom === undefined) {
      values.set(name, expand(e.value ?? '', (n) => values.get(n)));
      continue;
    }
    const vf = e.valueFrom;
    if (vf.fieldRef) {
      values.set(name, podFieldValue(pod, vf.fieldRef.fieldPath, ctx));
    } else if (vf.resourceFieldRef) {
      const target = vf.resourceFieldRef.containerName ? [...(pod.spec?.containers ?? []), ...(pod.spec?.initContainers ?? [])].find((c) => c.name === vf.resourceFieldRef!.containerName) : container;
      values.set(name, resourceFieldValue(target, vf.resourceFieldRef.resource, vf.resourceFieldRef.divisor, ctx.allocatable));
    } else if (vf.configMapKeyRef) {
      const ref = vf.configMapKeyRef;
      const cm = await objects.configMap(ns, ref.name ?? '');
      if (!cm) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`configmap "${ref.name}" not found`);
      }
      const v = cm.data?.[ref.key] ?? (cm.binaryData?.[ref.key] !== undefined ? Buffer.from(cm.binaryData[ref.key]!, 'base64').toString('utf8') : undefined);
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in ConfigMap ${ns}/${ref.name}`);
      }
      values.set(name, v);
    } else if (vf.secretKeyRef) {
      const ref = vf.secretKeyRef;
      const secret = await objects.secret(ns, ref.name ?? '');
      if (!secret) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`secret "${ref.name}" not found`);
      }
      const v = decode(secret, ref.key);
      if (v === undefined) {
        if (ref.optional) continue;
        throw new ContainerConfigError(`couldn't find key ${ref.key} in Secret ${ns}/${ref.name}`);
      }
      values.set(name, v);
    }
  }
  return [...values].map(([k, v]) => `${k}=${v}`);
}

/**
 * The argv of a container: `command` replaces the image's Entrypoint (and drops its Cmd), `args`
 * replace Cmd; `$(VAR)` in both expands from the container's environment.
 */
export function containerArgv(container: Container, image: { Entrypoint: string[]; Cmd: string[] }, env: string[]): string[] {
  const map = new Map(env.map((e) => [e.slice(0, e.indexOf('=')), e.slice(e.indexOf('=') + 1)] as const));
  const lookup = (n: string) => map.get(n);
  const command = container.command?.length ? container.command.map((s) => expand(s, lookup)) : image.Entrypoint;
  const args = container.args?.length ? container.args.map((s) => expand(s, lookup)) : container.command?.length ? [] : image.Cmd;
  return [...command, ...args];
}

/** The image's variables overridden by the container's (same order otherwise). */
export function mergeEnv(imageEnv: string[], containerEnvList: string[]): string[] {
  const out = new Map<string, string>();
  for (const e of [...imageEnv, ...containerEnvList]) {
    const eq = e.indexOf('=');
    out.set(eq === -1 ? e : e.slice(0, eq), e);
  }
  return [...out.values()];
}

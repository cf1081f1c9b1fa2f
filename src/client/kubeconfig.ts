/**
 * Reading a kubeconfig: the current context's server, CA and client credentials, as kubectl
 * takes them (inline `-data` fields or file paths, a bearer token).
 */
import { readFileSync } from 'node:fs';
import { dirname, isAbsolute, join } from 'node:path';
import { yaml } from './yaml.ts';

/** What a client needs to reach and trust one API server. */
export interface Credentials {
  /** `https://host:port`. */
  server: string;
  /** PEM CA certificate(s); when absent the system's CAs are trusted. */
  ca?: string;
  cert?: string;
  key?: string;
  token?: string;
  insecureSkipTlsVerify?: boolean;
}

interface KubeconfigDoc {
  'current-context'?: string;
  contexts?: { name: string; context: { cluster: string; user: string } }[];
  clusters?: { name: string; cluster: Record<string, unknown> }[];
  users?: { name: string; user: Record<string, unknown> }[];
}

/** Reads the current context of a kubeconfig file (or the context named `context`). */
export function readKubeconfig(file: string, context?: string): Credentials {
  const doc = yaml().parse(readFileSync(file, 'utf8')) as KubeconfigDoc;
  const contextName = context ?? doc['current-context'];
  const ctx = doc.contexts?.find((c) => c.name === contextName)?.context;
  if (!ctx) throw new Error(`kubeconfig ${file}: context "${contextName ?? ''}" not found`);
  const cluster = doc.clusters?.find((c) => c.name === ctx.cluster)?.cluster;
  if (!cluster) throw new Error(`kubeconfig ${file}: cluster "${ctx.cluster}" not found`);
  const user = doc.users?.find((u) => u.name === ctx.user)?.user ?? {};
  const base = dirname(file);
  // kubectl accepts each credential inline (base64 `-data`) or as a path relative to the file.
  const read = (entry: Record<string, unknown>, field: string): string | undefined => {
    const inline = entry[`${field}-data`];
    if (typeof inline === 'string') return Buffer.from(inline, 'base64').toString('utf8');
    const path = entry[field];
    if (typeof path === 'string') return readFileSync(isAbsolute(path) ? path : join(base, path), 'utf8');
    return undefined;
  };
  const server = cluster.server;
  if (typeof server !== 'string') throw new Error(`kubeconfig ${file}: cluster "${ctx.cluster}" has no server`);
  const credentials: Credentials = { server };
  const ca = read(cluster, 'certificate-authority');
  if (ca) credentials.ca = ca;
  if (cluster['insecure-skip-tls-verify'] === true) credentials.insecureSkipTlsVerify = true;
  const cert = read(user, 'client-certificate');
  const key = read(user, 'client-key');
  if (cert && key) Object.assign(credentials, { cert, key });
  if (typeof user.token === 'string') credentials.token = user.token;
  return credentials;
}

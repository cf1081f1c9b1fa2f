/**
 * The admin kubeconfig `skiff server` writes once the API answers `/readyz`.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { stringify } from 'yaml';

/** What goes into the kubeconfig. */
export interface KubeconfigInput {
  server: string;
  caCert?: string;
  clientCert?: string;
  clientKey?: string;
}

/** The kubeconfig document (context, cluster and user all named `default`, as k3s). */
export function kubeconfig(input: KubeconfigInput): string {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  const cluster: Record<string, string> = { server: input.server };
  if (input.caCert) cluster['certificate-authority-data'] = b64(input.caCert);
  const user: Record<string, string> = {};
  if (input.clientCert && input.clientKey) {
    user['client-certificate-data'] = b64(input.clientCert);
    user['client-key-data'] = b64(input.clientKey);
  }
  return stringify({
    apiVersion: 'v1',
    kind: 'Config',
    clusters: [{ name: 'default', cluster }],
    contexts: [{ name: 'default', context: { cluster: 'default', user: 'default' } }],
    'current-context': 'default',
    preferences: {},
    users: [{ name: 'default', user }],
  });
}

/** Writes the kubeconfig atomically with mode 0600. */
export async function writeKubeconfig(file: string, input: KubeconfigInput): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, kubeconfig(input), { mode: 0o600 });
  await rename(temp, file);
}

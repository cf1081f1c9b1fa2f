/**
 * The admin kubeconfig `skiff server` writes once the API answers `/readyz`.
 */
import { mkdir, rename, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/** What goes into the kubeconfig. */
export interface KubeconfigInput {
  server: string;
  caCert?: string;
  clientCert?: string;
  clientKey?: string;
}

/**
 * The kubeconfig document (context, cluster and user all named `default`, as k3s), as YAML. Its
 * shape is fixed, so it is written out directly, with each value as a double-quoted (JSON)
 * scalar; a server writes it at every start and need not load a YAML library for it.
 */
export function kubeconfig(input: KubeconfigInput): string {
  const b64 = (pem: string) => Buffer.from(pem).toString('base64');
  const q = (value: string) => JSON.stringify(value);
  const lines = ['apiVersion: v1', 'kind: Config', 'clusters:', '  - name: default', '    cluster:', `      server: ${q(input.server)}`];
  if (input.caCert) lines.push(`      certificate-authority-data: ${q(b64(input.caCert))}`);
  lines.push('contexts:', '  - name: default', '    context:', '      cluster: default', '      user: default');
  lines.push('current-context: default', 'preferences: {}', 'users:', '  - name: default');
  if (input.clientCert && input.clientKey) {
    lines.push('    user:', `      client-certificate-data: ${q(b64(input.clientCert))}`, `      client-key-data: ${q(b64(input.clientKey))}`);
  } else {
    lines.push('    user: {}');
  }
  return `${lines.join('\n')}\n`;
}

/** Writes the kubeconfig atomically with mode 0600. */
export async function writeKubeconfig(file: string, input: KubeconfigInput): Promise<void> {
  await mkdir(dirname(file), { recursive: true });
  const temp = `${file}.${process.pid}.tmp`;
  await writeFile(temp, kubeconfig(input), { mode: 0o600 });
  await rename(temp, file);
}

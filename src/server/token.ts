/**
 * The cluster join token, in k3s's format `K10<CA hash>::server:<password>` (see
 * `src/pki/join-token.ts`): a joining node checks it is talking to the right server before it
 * trusts it, and the server checks the password before it signs the node a client certificate.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { caBundleMatches, formatJoinToken, parseJoinToken } from '../pki/index.ts';

/**
 * Returns the token stored at `file`, creating it (mode 0600) on first start. A token given on
 * the command line (`--token`) is stored instead when there is none yet: a bare password becomes
 * the full `K10<hash of caCert>::server:<password>`, as k3s writes it; a full token must name this
 * cluster's CA. A stored token that does not name `caCert` (an older Skiff hashed the CA's DER) is
 * rewritten with the same password.
 */
export async function ensureToken(file: string, caCert: string, given: string): Promise<string> {
  let stored: string | undefined;
  try {
    stored = (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  let password: string;
  if (stored) {
    const parsed = parseJoinToken(stored);
    if (parsed.caHash !== undefined && stored === formatJoinToken(caCert, parsed.username, parsed.password)) return stored;
    password = parsed.password;
  } else if (given) {
    const parsed = parseJoinToken(given);
    if (parsed.caHash !== undefined && !caBundleMatches(caCert, parsed.caHash)) {
      throw new Error(`--token: the token's CA hash ${parsed.caHash} does not name this cluster's CA (in ${dirname(file)}/tls/server-ca.crt)`);
    }
    password = parsed.password;
  } else {
    password = randomBytes(16).toString('hex');
  }
  const token = formatJoinToken(caCert, 'server', password);
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}

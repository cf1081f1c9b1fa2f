/**
 * The cluster join token, in k3s's format `K10<sha256 of the CA certificate>::server:<secret>`:
 * a joining node can check it is talking to the right server before it trusts it.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, readFile, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';

/**
 * Returns the token stored at `file`, creating it (mode 0600) on first start. A token given on
 * the command line is stored instead when there is none yet.
 */
export async function ensureToken(file: string, caFingerprint: string, given: string): Promise<string> {
  try {
    return (await readFile(file, 'utf8')).trim();
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code !== 'ENOENT') throw error;
  }
  const token = given || `K10${caFingerprint}::server:${randomBytes(16).toString('hex')}`;
  await mkdir(dirname(file), { recursive: true, mode: 0o700 });
  await writeFile(file, `${token}\n`, { mode: 0o600 });
  return token;
}

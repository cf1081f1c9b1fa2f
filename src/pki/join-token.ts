/**
 * The cluster join token in k3s's format, `K10<CA hash>::<username>:<password>`. The CA hash
 * lets a joining node check, before it trusts anything, that the CA the server hands out at
 * `/cacerts` is the cluster's; the password is what the server checks. As in k3s, the hash is the
 * SHA-256 of the CA file's bytes when it holds one certificate, and of the root certificate's DER
 * when it holds a chain.
 */
import { createHash, X509Certificate } from 'node:crypto';

const PREFIX = 'K10';

/** A parsed join token. */
export interface JoinToken {
  /** Lowercase hex SHA-256 naming the cluster CA; undefined for a bare password. */
  caHash: string | undefined;
  /** `server` in tokens the server writes; not checked. */
  username: string;
  /** The shared secret the server checks. */
  password: string;
}

/**
 * Parses `K10<hash>::<user>:<password>`, `K10::<user>:<password>` or a bare password (as k3s does:
 * a bare password is user `server` without a CA hash). Throws `TypeError` for an empty token, a
 * hash that is not 64 hex digits, or credentials without a password.
 */
export function parseJoinToken(token: string): JoinToken {
  const text = token.trim();
  if (text === '') throw new TypeError('the join token is empty');
  if (!text.startsWith(PREFIX)) return { caHash: undefined, username: 'server', password: text };
  const rest = text.slice(PREFIX.length);
  const split = rest.indexOf('::');
  if (split === -1) return { caHash: undefined, username: 'server', password: text };
  const hash = rest.slice(0, split);
  if (hash !== '' && !/^[0-9a-fA-F]{64}$/.test(hash)) throw new TypeError('the join token\'s CA hash is not a SHA-256 (64 hex digits)');
  const creds = rest.slice(split + 2);
  const colon = creds.indexOf(':');
  if (colon === -1 || colon === creds.length - 1) throw new TypeError('the join token has no <username>:<password> after its CA hash');
  return { caHash: hash === '' ? undefined : hash.toLowerCase(), username: creds.slice(0, colon), password: creds.slice(colon + 1) };
}

/** `K10<hash of caBundle>::<username>:<password>`. */
export function formatJoinToken(caBundle: string, username: string, password: string): string {
  return `${PREFIX}${caBundleHash(caBundle)}::${username}:${password}`;
}

/**
 * The CA hash of a PEM bundle, as k3s computes it: SHA-256 of the bytes for a single certificate,
 * of the last certificate's DER (the root, in the order bundles are written) for a chain.
 */
export function caBundleHash(caBundle: string): string {
  const certs = pemCertificates(caBundle);
  const bytes = certs.length > 1 ? new X509Certificate(certs[certs.length - 1]!).raw : Buffer.from(caBundle);
  return createHash('sha256').update(bytes).digest('hex');
}

/**
 * Whether `caBundle` is the CA `caHash` names: its {@link caBundleHash}, or (tokens written before
 * Skiff followed k3s's rule) the SHA-256 of the DER of one of its certificates.
 */
export function caBundleMatches(caBundle: string, caHash: string): boolean {
  const want = caHash.toLowerCase();
  if (caBundleHash(caBundle) === want) return true;
  return pemCertificates(caBundle).some((pem) => createHash('sha256').update(new X509Certificate(pem).raw).digest('hex') === want);
}

/** The PEM certificates of a bundle, in order. */
export function pemCertificates(bundle: string): string[] {
  return bundle.match(/-----BEGIN CERTIFICATE-----[\s\S]*?-----END CERTIFICATE-----/g) ?? [];
}

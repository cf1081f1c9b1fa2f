/**
 * The cluster's certificates, made at first start as k3s makes them: one CA that lives as long as
 * the cluster, and leaf certificates that are re-issued whenever they no longer fit.
 */
import {
  createHash,
  createPrivateKey,
  KeyObject,
  randomBytes,
  X509Certificate as NodeCertificate,
  type webcrypto,
} from 'node:crypto';
import { mkdir, open, readFile, rename, rm } from 'node:fs/promises';
import { isIP } from 'node:net';
import { join } from 'node:path';
import type * as X509 from '@peculiar/x509';
import { InvalidCaError } from './errors.ts';
import { x509 } from './x509.ts';

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' };
/** Extended key usages (RFC 5280): TLS server and client authentication. */
const SERVER_AUTH = '1.3.6.1.5.5.7.3.1';
const CLIENT_AUTH = '1.3.6.1.5.5.7.3.2';
const DAY = 24 * 60 * 60 * 1000;
const CA_LIFETIME = 3650 * DAY;
const LEAF_LIFETIME = 365 * DAY;
const RENEW_BEFORE = 30 * DAY;
// Certificates start a little in the past so that a peer whose clock runs slightly behind ours
// does not reject a certificate issued a moment ago.
const BACKDATE = 5 * 60 * 1000;

/** Names every serving certificate covers, whatever hosts the caller asks for. */
const DEFAULT_HOSTS = [
  ...['localhost', '127.0.0.1', 'kubernetes', 'kubernetes.default', 'kubernetes.default.svc'],
  'kubernetes.default.svc.cluster.local',
];

/** The cluster's certificates and keys, as PEM. */
export interface ServerCertificates {
  /** The cluster CA (`server-ca.crt`); clients trust it to reach the API server. */
  caCert: string;
  /** The API server's serving certificate (`serving-kube-apiserver.crt`). */
  serverCert: string;
  /** The serving certificate's PKCS#8 private key. */
  serverKey: string;
  /** The admin's client certificate (`client-admin.crt`): `system:admin` in `system:masters`. */
  clientCert: string;
  /** The admin client certificate's PKCS#8 private key. */
  clientKey: string;
  /**
   * The API server's client certificate towards kubelets (`client-kube-apiserver-kubelet.crt`,
   * `kube-apiserver-kubelet-client` in `system:masters`): kubelets accept exec, attach,
   * port-forward and log requests only with a certificate signed by the cluster CA.
   */
  kubeletClientCert: string;
  /** Its PKCS#8 private key. */
  kubeletClientKey: string;
}

/** Options of {@link ensureServerCertificates}. */
export interface EnsureServerCertificatesOptions {
  /** Names and IP addresses the API server is reached at, beyond the built-in `localhost` ones. */
  hosts: string[];
  /** The clock; defaults to `() => new Date()`. */
  now?: () => Date;
}

interface Authority {
  pem: string;
  cert: NodeCertificate;
  key: KeyObject;
}

interface Pair {
  cert: string;
  key: string;
}

interface LeafSpec {
  file: string;
  subject: X509.JsonName;
  /** An extended key usage OID. */
  usage: string;
  hosts: string[];
}

/**
 * Makes sure `dir` holds the cluster CA, the API server's serving certificate and the admin's
 * client certificate, and returns them.
 *
 * The CA is created once and then reused for the life of the cluster; if its certificate exists
 * but its key does not fit, this throws {@link InvalidCaError} instead of replacing it. A leaf
 * certificate is reused while it is signed by the current CA, matches its key, covers every
 * requested host and has more than 30 days left; otherwise it gets a new key and certificate.
 * Every file is written to a temporary name and renamed, key before certificate, so a crash leaves
 * either the old pair or a mismatch that the next call repairs. `dir` is created with mode 0700 and
 * private keys are written with mode 0600.
 */
export async function ensureServerCertificates(
  dir: string,
  options: EnsureServerCertificatesOptions,
): Promise<ServerCertificates> {
  const requested = normalizeHosts(options.hosts);
  const now = (options.now ?? (() => new Date()))();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const ca = await ensureAuthority(dir, now);
  const server = await ensureLeaf(dir, ca, now, {
    file: 'serving-kube-apiserver',
    subject: [{ CN: ['kube-apiserver'] }],
    usage: SERVER_AUTH,
    hosts: [...new Set([...requested, ...DEFAULT_HOSTS])],
  });
  const client = await ensureLeaf(dir, ca, now, {
    file: 'client-admin',
    subject: [{ O: ['system:masters'] }, { CN: ['system:admin'] }],
    usage: CLIENT_AUTH,
    hosts: [],
  });
  const kubeletClient = await ensureLeaf(dir, ca, now, {
    file: 'client-kube-apiserver-kubelet',
    subject: [{ O: ['system:masters'] }, { CN: ['kube-apiserver-kubelet-client'] }],
    usage: CLIENT_AUTH,
    hosts: [],
  });
  return {
    caCert: ca.pem,
    serverCert: server.cert,
    serverKey: server.key,
    clientCert: client.cert,
    clientKey: client.key,
    kubeletClientCert: kubeletClient.cert,
    kubeletClientKey: kubeletClient.key,
  };
}

/** Options of {@link ensureSelfSignedCertificate}. */
export interface SelfSignedOptions {
  /** File name without extension: `<dir>/<name>.crt` and `.key`. */
  name: string;
  /** Subject common name. */
  commonName: string;
  /** DNS names and IP addresses the certificate covers. */
  hosts: string[];
  now?: () => Date;
}

/**
 * Makes sure `dir` holds a self-signed serving certificate for `hosts` (as a kubelet makes its
 * own when no serving certificate is given), and returns it. Reused while it matches its key,
 * covers every host and has more than 30 days left; otherwise replaced. Written as
 * {@link ensureServerCertificates} writes, key (mode 0600) before certificate.
 */
export async function ensureSelfSignedCertificate(dir: string, options: SelfSignedOptions): Promise<{ cert: string; key: string }> {
  const hosts = [...new Set(normalizeHosts(options.hosts))];
  const now = (options.now ?? (() => new Date()))();
  await mkdir(dir, { recursive: true, mode: 0o700 });
  const [cert, key] = await Promise.all([readIfExists(join(dir, `${options.name}.crt`)), readIfExists(join(dir, `${options.name}.key`))]);
  if (cert !== undefined && key !== undefined) {
    try {
      const parsed = new NodeCertificate(cert);
      if (parsed.checkPrivateKey(createPrivateKey(key)) && parsed.validToDate.getTime() - now.getTime() > RENEW_BEFORE &&
        hosts.every((h) => (isIP(h) ? parsed.checkIP(h) !== undefined : parsed.checkHost(h, { subject: 'never', wildcards: false }) !== undefined))) {
        return { cert, key };
      }
    } catch {
      // replaced below
    }
  }
  return issue(dir, options.name, (lib, keys, ski) =>
    lib.X509CertificateGenerator.createSelfSigned({
      name: [{ CN: [options.commonName] }],
      keys,
      ...validity(now, LEAF_LIFETIME),
      extensions: [
        ski,
        new lib.BasicConstraintsExtension(false, undefined, true),
        new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature | lib.KeyUsageFlags.keyEncipherment, true),
        new lib.ExtendedKeyUsageExtension([SERVER_AUTH]),
        new lib.SubjectAlternativeNameExtension(hosts.map((h) => ({ type: isIP(h) ? 'ip' : 'dns', value: h }) as const)),
      ],
    }),
  );
}

/**
 * The SHA-256 of a PEM certificate's DER encoding, as lowercase hex: the CA hash in a join token.
 * Only the first certificate of a bundle counts.
 */
export function fingerprint(pem: string): string {
  return createHash('sha256').update(new NodeCertificate(pem).raw).digest('hex');
}

function normalizeHosts(hosts: unknown): string[] {
  if (!Array.isArray(hosts)) throw new TypeError(`hosts must be an array, got ${typeof hosts}`);
  return hosts.map((host) => {
    if (typeof host !== 'string' || !/^[^\s/]+$/.test(host)) {
      const shown = JSON.stringify(host);
      throw new TypeError(`Invalid host ${shown}: expected a DNS name or an IP address`);
    }
    return isIP(host) ? host : host.toLowerCase();
  });
}

async function ensureAuthority(dir: string, now: Date): Promise<Authority> {
  const keyPath = join(dir, 'server-ca.key');
  // The certificate is written after the key, so a key without a certificate is a creation that
  // never finished, and nothing can trust it yet.
  const pem =
    (await readIfExists(join(dir, 'server-ca.crt'))) ??
    (await issue(dir, 'server-ca', (lib, keys, ski) =>
      lib.X509CertificateGenerator.createSelfSigned({
        name: [{ CN: [`skiff-server-ca@${Math.floor(now.getTime() / 1000)}`] }],
        keys,
        ...validity(now, CA_LIFETIME),
        extensions: [
          new lib.BasicConstraintsExtension(true, undefined, true),
          new lib.KeyUsagesExtension(lib.KeyUsageFlags.keyCertSign | lib.KeyUsageFlags.cRLSign, true),
          ski,
        ],
      }),
    )).cert;
  const keyPem = await readIfExists(keyPath);
  if (keyPem === undefined) throw new InvalidCaError(dir, `"${keyPath}" is missing`);
  try {
    const cert = new NodeCertificate(pem);
    const key = createPrivateKey(keyPem);
    if (!cert.checkPrivateKey(key)) {
      throw new InvalidCaError(dir, 'the key does not match the certificate');
    }
    return { pem, cert, key };
  } catch (error) {
    if (error instanceof InvalidCaError) throw error;
    throw new InvalidCaError(dir, `cannot load it (${(error as Error).message})`, { cause: error });
  }
}

async function ensureLeaf(dir: string, ca: Authority, now: Date, spec: LeafSpec): Promise<Pair> {
  const [cert, key] = await Promise.all([
    readIfExists(join(dir, `${spec.file}.crt`)),
    readIfExists(join(dir, `${spec.file}.key`)),
  ]);
  if (cert !== undefined && key !== undefined && fits(cert, key, ca, now, spec.hosts)) {
    return { cert, key };
  }
  return issue(dir, spec.file, async (lib, keys, ski) => {
    const parsedCa = new lib.X509Certificate(ca.pem);
    const caKeyId = parsedCa.getExtension(lib.SubjectKeyIdentifierExtension)?.keyId;
    const extensions: X509.Extension[] = [
      ski,
      new lib.BasicConstraintsExtension(false, undefined, true),
      new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
      new lib.ExtendedKeyUsageExtension([spec.usage]),
    ];
    if (caKeyId !== undefined) extensions.push(new lib.AuthorityKeyIdentifierExtension(caKeyId));
    if (spec.hosts.length > 0) {
      const type = (host: string) => (isIP(host) ? 'ip' : 'dns');
      const names = spec.hosts.map((host) => ({ type: type(host), value: host }) as const);
      extensions.push(new lib.SubjectAlternativeNameExtension(names));
    }
    return lib.X509CertificateGenerator.create({
      subject: spec.subject,
      issuer: parsedCa.subjectName,
      publicKey: keys.publicKey,
      signingKey: await ca.key.toCryptoKey(KEY_ALGORITHM, false, ['sign']),
      ...validity(now, LEAF_LIFETIME),
      extensions,
    });
  });
}

/** Makes a new key and a certificate for it, and writes both, key first. */
async function issue(
  dir: string,
  file: string,
  build: (lib: typeof X509, keys: webcrypto.CryptoKeyPair, ski: X509.Extension) => Promise<X509.X509Certificate>,
): Promise<Pair> {
  const lib = await x509();
  const keys = (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as
    webcrypto.CryptoKeyPair;
  const cert = await build(lib, keys, await lib.SubjectKeyIdentifierExtension.create(keys.publicKey));
  const pair = {
    cert: `${cert.toString('pem')}\n`,
    key: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string,
  };
  await writeAtomic(join(dir, `${file}.key`), pair.key, 0o600);
  await writeAtomic(join(dir, `${file}.crt`), pair.cert, 0o644);
  return pair;
}

/** A validity window from a little before `now`, and the signature algorithm that goes with it. */
function validity(now: Date, lifetime: number) {
  return {
    notBefore: new Date(now.getTime() - BACKDATE),
    notAfter: new Date(now.getTime() + lifetime),
    signingAlgorithm: SIGNING_ALGORITHM,
  };
}

function fits(certPem: string, keyPem: string, ca: Authority, now: Date, hosts: string[]): boolean {
  try {
    const cert = new NodeCertificate(certPem);
    return (
      cert.checkIssued(ca.cert) &&
      cert.verify(ca.cert.publicKey) &&
      cert.checkPrivateKey(createPrivateKey(keyPem)) &&
      cert.validToDate.getTime() - now.getTime() > RENEW_BEFORE &&
      hosts.every((host) =>
        isIP(host)
          ? cert.checkIP(host) !== undefined
          : cert.checkHost(host, { subject: 'never', wildcards: false }) !== undefined,
      )
    );
  } catch {
    // An unreadable leaf file is replaced, like a stale one: nothing else depends on its bytes.
    return false;
  }
}

async function readIfExists(path: string): Promise<string | undefined> {
  try {
    return await readFile(path, 'utf8');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
    throw error;
  }
}

async function writeAtomic(path: string, data: string, mode: number): Promise<void> {
  const temp = `${path}.${randomBytes(6).toString('hex')}.tmp`;
  try {
    const file = await open(temp, 'wx', mode);
    try {
      await file.writeFile(data);
      await file.sync();
    } finally {
      await file.close();
    }
    await rename(temp, path);
  } catch (error) {
    await rm(temp, { force: true });
    throw error;
  }
}

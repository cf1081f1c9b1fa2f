/**
 * Client certificates for nodes that join with a token: the joining side makes a key and a
 * certificate signing request (PKCS#10), the server checks the request's signature and signs a
 * client certificate with the cluster CA for the identity it decided on — never the one the
 * request asks for. The private key never leaves the node (k3s's agents send a CSR the same way).
 */
import { createPrivateKey, KeyObject, type webcrypto } from 'node:crypto';
import type * as X509 from '@peculiar/x509';
import { PkiError } from './errors.ts';
import { x509 } from './x509.ts';

const KEY_ALGORITHM = { name: 'ECDSA', namedCurve: 'P-256' };
const SIGNING_ALGORITHM = { name: 'ECDSA', hash: 'SHA-256' };
const LIFETIME = 365 * 24 * 60 * 60 * 1000;
const BACKDATE = 5 * 60 * 1000;

/** A certificate signing request that cannot be used: unparsable, or its signature is wrong. */
export class InvalidCsrError extends PkiError {
  override name = 'InvalidCsrError';
  override readonly code = 'INVALID_CSR';
}

/** A new private key and a signing request for it, as PEM. */
export interface KeyAndCsr {
  /** PKCS#8 private key (ECDSA P-256). */
  key: string;
  /** PKCS#10 certificate signing request, signed with `key`. */
  csr: string;
}

/** Makes an ECDSA P-256 key and a CSR for it, with `commonName` as the requested subject. */
export async function createKeyAndCsr(commonName: string): Promise<KeyAndCsr> {
  const keys = (await crypto.subtle.generateKey(KEY_ALGORITHM, true, ['sign', 'verify'])) as webcrypto.CryptoKeyPair;
  const lib = await x509();
  const csr = await lib.Pkcs10CertificateRequestGenerator.create({ name: [{ CN: [commonName] }], keys, signingAlgorithm: SIGNING_ALGORITHM });
  return {
    key: KeyObject.from(keys.privateKey).export({ type: 'pkcs8', format: 'pem' }) as string,
    csr: `${csr.toString('pem')}\n`,
  };
}

/** Options of {@link signClientCertificate}. */
export interface SignClientCertificateOptions {
  /** The CA certificate (PEM; the first certificate of a bundle signs). */
  caCert: string;
  /** The CA's private key (PEM, ECDSA P-256 as Skiff makes it). */
  caKey: string;
  /** The requester's CSR (PEM or DER): only its public key is used, after its signature is checked. */
  csr: string | Uint8Array;
  /** Subject common name: the user name authentication will see (`system:node:<name>`). */
  commonName: string;
  /** Subject organizations: the groups (`system:nodes`). */
  organizations?: string[];
  /** The clock; defaults to `() => new Date()`. */
  now?: () => Date;
}

/**
 * Signs a client certificate (extended key usage clientAuth, one year) for the CSR's public key.
 * Throws {@link InvalidCsrError} when the CSR does not parse or is not signed by its own key.
 */
export async function signClientCertificate(options: SignClientCertificateOptions): Promise<string> {
  const lib = await x509();
  let request: X509.Pkcs10CertificateRequest;
  try {
    request = new lib.Pkcs10CertificateRequest(typeof options.csr === 'string' ? options.csr : Buffer.from(options.csr));
  } catch (error) {
    throw new InvalidCsrError(`the certificate signing request does not parse (${(error as Error).message})`, { cause: error });
  }
  if (!(await request.verify().catch(() => false))) throw new InvalidCsrError('the certificate signing request is not signed by its own key');
  const ca = new lib.X509Certificate(options.caCert);
  const signingKey = await createPrivateKey(options.caKey).toCryptoKey(KEY_ALGORITHM, false, ['sign']);
  const now = (options.now ?? (() => new Date()))();
  const keyId = ca.getExtension(lib.SubjectKeyIdentifierExtension)?.keyId;
  const extensions: X509.Extension[] = [
    new lib.BasicConstraintsExtension(false, undefined, true),
    new lib.KeyUsagesExtension(lib.KeyUsageFlags.digitalSignature, true),
    new lib.ExtendedKeyUsageExtension([lib.ExtendedKeyUsage.clientAuth]),
    await lib.SubjectKeyIdentifierExtension.create(request.publicKey),
  ];
  if (keyId !== undefined) extensions.push(new lib.AuthorityKeyIdentifierExtension(keyId));
  const cert = await lib.X509CertificateGenerator.create({
    subject: [...(options.organizations ?? []).map((o) => ({ O: [o] })), { CN: [options.commonName] }],
    issuer: ca.subjectName,
    publicKey: request.publicKey,
    signingKey,
    notBefore: new Date(now.getTime() - BACKDATE),
    notAfter: new Date(now.getTime() + LIFETIME),
    signingAlgorithm: SIGNING_ALGORITHM,
    extensions,
  });
  return `${cert.toString('pem')}\n`;
}

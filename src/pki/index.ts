/**
 * PKI: the cluster's CA and the certificates signed by it, kept in `<data-dir>/server/tls` and
 * created or renewed at start-up by {@link ensureServerCertificates}.
 */
export {
  ensureSelfSignedCertificate,
  ensureServerCertificates,
  fingerprint,
  type SelfSignedOptions,
  type EnsureServerCertificatesOptions,
  type ServerCertificates,
} from './certificates.ts';
export {
  createKeyAndCsr,
  InvalidCsrError,
  signClientCertificate,
  type KeyAndCsr,
  type SignClientCertificateOptions,
} from './client-certificates.ts';
export { caBundleHash, caBundleMatches, formatJoinToken, parseJoinToken, pemCertificates, type JoinToken } from './join-token.ts';
export * from './errors.ts';

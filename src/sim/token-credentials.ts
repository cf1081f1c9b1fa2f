/**
 * Joining with `--server URL --token TOKEN`, as k3s agents do: the token
 * `K10<sha256 of the CA certificate>::<user>:<secret>` names the cluster CA by its fingerprint,
 * so the CA the server presents can be trusted once its fingerprint matches.
 */
import { createHash, X509Certificate } from 'node:crypto';
import { connect, type DetailedPeerCertificate } from 'node:tls';
import type { Credentials } from '../client/index.ts';
import { SimError } from './errors.ts';

/**
 * Fetches the server's certificate chain and returns credentials that trust the CA named by the
 * token and send the token as a bearer token. Throws {@link SimError} when the token has no
 * fingerprint or no certificate the server presents matches it.
 */
export async function credentialsFromToken(server: string, token: string): Promise<Credentials> {
  const match = /^K10([0-9a-f]{64})::/.exec(token);
  if (!match) throw new SimError('ERR_SIM_TOKEN', 'the token carries no CA fingerprint (K10<sha256>::…): pass --kubeconfig instead');
  const url = new URL(server);
  const chain = await new Promise<DetailedPeerCertificate>((resolve, reject) => {
    const socket = connect({ host: url.hostname.replace(/^\[|\]$/g, ''), port: Number(url.port || 443), rejectUnauthorized: false, servername: undefined }, () => {
      const peer = socket.getPeerCertificate(true);
      socket.end();
      resolve(peer);
    });
    socket.on('error', reject);
  });
  const seen = new Set<string>();
  for (let cert: DetailedPeerCertificate | undefined = chain; cert?.raw && !seen.has(cert.fingerprint256); cert = cert.issuerCertificate) {
    seen.add(cert.fingerprint256);
    if (createHash('sha256').update(cert.raw).digest('hex') === match[1]) {
      return { server, ca: new X509Certificate(cert.raw).toString(), token };
    }
  }
  // Skiff's server presents only its serving certificate (no CA, no k3s-style /cacerts yet), so
  // the fingerprint cannot be checked, and without authentication there is no client
  // certificate to get either.
  throw new SimError(
    'ERR_SIM_TOKEN',
    `${server} presents no certificate matching the token's CA fingerprint (the server does not send its CA yet): pass --kubeconfig until authentication lands`,
  );
}

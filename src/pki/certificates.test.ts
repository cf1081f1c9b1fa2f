import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { mkdtemp, readFile, rm, stat, unlink } from 'node:fs/promises';
import { createServer, request } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { TLSSocket } from 'node:tls';
import { test, type TestContext } from 'node:test';
import { ensureServerCertificates, fingerprint, InvalidCaError } from './index.ts';

const FILES = [
  'server-ca.crt',
  'server-ca.key',
  'serving-kube-apiserver.crt',
  'serving-kube-apiserver.key',
  'client-admin.crt',
  'client-admin.key',
];

async function tempDir(t: TestContext): Promise<string> {
  const root = await mkdtemp(join(tmpdir(), 'skiff-pki-'));
  t.after(() => rm(root, { recursive: true, force: true }));
  return join(root, 'server', 'tls');
}

async function snapshot(dir: string): Promise<Record<string, string>> {
  const read = async (file: string) => [file, await readFile(join(dir, file), 'utf8')] as const;
  return Object.fromEntries(await Promise.all(FILES.map(read)));
}

function openssl(...args: string[]): string {
  return execFileSync('/usr/bin/openssl', args, { encoding: 'utf8' });
}

/** GETs `url`; `family: 4` because the test server listens on 127.0.0.1 only. */
function get(url: string, options: { ca?: string; cert?: string; key?: string }): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = request(url, { ...options, family: 4, agent: false }, (res) => {
      let body = '';
      res.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      res.on('end', () => resolve(body)).on('error', reject);
    });
    req.on('error', reject).end();
  });
}

test('a real HTTPS server serves the certificates to clients that trust the CA', async (t) => {
  const certs = await ensureServerCertificates(await tempDir(t), { hosts: [] });
  const tls = { key: certs.serverKey, cert: certs.serverCert, ca: certs.caCert, requestCert: true };
  const server = createServer({ ...tls, rejectUnauthorized: false }, (req, res) => {
    const socket = req.socket as TLSSocket;
    const who = socket.authorized ? socket.getPeerCertificate().subject.CN : 'anonymous';
    res.end(`hello ${who}`);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  t.after(() => server.close());
  const { port } = server.address() as AddressInfo;

  assert.equal(await get(`https://127.0.0.1:${port}/`, { ca: certs.caCert }), 'hello anonymous');
  assert.equal(await get(`https://localhost:${port}/`, { ca: certs.caCert }), 'hello anonymous');
  // The server sends its CA along (it has one for client certificates), hence the second code.
  await assert.rejects(get(`https://127.0.0.1:${port}/`, {}), {
    code: /^(UNABLE_TO_VERIFY_LEAF_SIGNATURE|SELF_SIGNED_CERT_IN_CHAIN)$/,
  });
  const admin = { ca: certs.caCert, cert: certs.clientCert, key: certs.clientKey };
  assert.equal(await get(`https://localhost:${port}/`, admin), 'hello system:admin');
});

test('files are private and written where k3s writes them', async (t) => {
  const dir = await tempDir(t);
  const certs = await ensureServerCertificates(dir, { hosts: [] });
  assert.equal((await stat(dir)).mode & 0o777, 0o700);
  for (const key of ['server-ca.key', 'serving-kube-apiserver.key', 'client-admin.key']) {
    assert.equal((await stat(join(dir, key))).mode & 0o777, 0o600, key);
  }
  const files = await snapshot(dir);
  assert.equal(files['server-ca.crt'], certs.caCert);
  assert.equal(files['serving-kube-apiserver.key'], certs.serverKey);
  assert.match(certs.serverKey, /^-----BEGIN PRIVATE KEY-----\n/);
});

test('restarts reuse the files; a new host re-issues only the serving certificate', async (t) => {
  const dir = await tempDir(t);
  await ensureServerCertificates(dir, { hosts: ['10.0.0.5'] });
  const first = await snapshot(dir);

  await ensureServerCertificates(dir, { hosts: ['10.0.0.5'] });
  assert.deepEqual(await snapshot(dir), first);

  const certs = await ensureServerCertificates(dir, { hosts: ['10.0.0.5', 'Skiff.Example'] });
  const second = await snapshot(dir);
  assert.equal(second['server-ca.crt'], first['server-ca.crt']);
  assert.equal(second['server-ca.key'], first['server-ca.key']);
  assert.equal(second['client-admin.crt'], first['client-admin.crt']);
  assert.notEqual(second['serving-kube-apiserver.crt'], first['serving-kube-apiserver.crt']);
  assert.notEqual(second['serving-kube-apiserver.key'], first['serving-kube-apiserver.key']);
  const sans = openssl('x509', '-noout', '-ext', 'subjectAltName', '-in', join(dir, FILES[2]!));
  assert.match(sans, /DNS:skiff\.example/);
  assert.equal(certs.serverCert, second['serving-kube-apiserver.crt']);

  // A subset of the hosts is still covered.
  await ensureServerCertificates(dir, { hosts: [] });
  assert.deepEqual(await snapshot(dir), second);
});

test('leaf certificates are renewed within 30 days of expiry; the CA is kept', async (t) => {
  const dir = await tempDir(t);
  const start = Date.now();
  await ensureServerCertificates(dir, { hosts: [], now: () => new Date(start) });
  const first = await snapshot(dir);

  await ensureServerCertificates(dir, { hosts: [], now: () => new Date(start + 300 * 86_400_000) });
  assert.deepEqual(await snapshot(dir), first);

  await ensureServerCertificates(dir, { hosts: [], now: () => new Date(start + 340 * 86_400_000) });
  const renewed = await snapshot(dir);
  assert.equal(renewed['server-ca.crt'], first['server-ca.crt']);
  assert.notEqual(renewed['serving-kube-apiserver.crt'], first['serving-kube-apiserver.crt']);
  assert.notEqual(renewed['client-admin.crt'], first['client-admin.crt']);
});

test('a new CA re-issues every leaf; a CA without its key is refused', async (t) => {
  const dir = await tempDir(t);
  const first = await ensureServerCertificates(dir, { hosts: [] });
  await unlink(join(dir, 'server-ca.crt'));
  const second = await ensureServerCertificates(dir, { hosts: [] });
  assert.notEqual(second.caCert, first.caCert);
  assert.notEqual(second.serverCert, first.serverCert);
  assert.notEqual(second.clientCert, first.clientCert);

  await unlink(join(dir, 'server-ca.key'));
  await assert.rejects(ensureServerCertificates(dir, { hosts: [] }), (error) => {
    assert.ok(error instanceof InvalidCaError);
    assert.equal(error.code, 'INVALID_CA');
    assert.match(error.message, /server-ca\.key" is missing/);
    return true;
  });
});

test('openssl sees the SANs, key usages and chain of the serving certificate', async (t) => {
  const dir = await tempDir(t);
  await ensureServerCertificates(dir, { hosts: ['192.168.1.10', 'fd00::10', 'node-1.lan'] });
  const ca = join(dir, 'server-ca.crt');
  const serving = join(dir, 'serving-kube-apiserver.crt');
  const text = openssl('x509', '-noout', '-text', '-in', serving);
  for (const san of [
    'IP Address:192.168.1.10',
    'IP Address:FD00:0:0:0:0:0:0:10',
    'DNS:node-1.lan',
    'DNS:localhost',
    'IP Address:127.0.0.1',
    'DNS:kubernetes,',
    'DNS:kubernetes.default,',
    'DNS:kubernetes.default.svc,',
    'DNS:kubernetes.default.svc.cluster.local',
  ]) {
    assert.ok(text.toUpperCase().includes(san.toUpperCase()), `missing ${san} in\n${text}`);
  }
  assert.match(text, /Subject: CN = kube-apiserver/);
  assert.match(text, /Extended Key Usage: *\n *TLS Web Server Authentication\n/);
  assert.match(text, /Key Usage: critical\n *Digital Signature\n/);
  assert.equal(openssl('verify', '-CAfile', ca, serving).trim(), `${serving}: OK`);

  const caText = openssl('x509', '-noout', '-text', '-in', ca);
  assert.match(caText, /Subject: CN = skiff-server-ca@\d+\n/);
  assert.match(caText, /CA:TRUE/);
  assert.match(caText, /Certificate Sign, CRL Sign/);
  assert.match(caText, /ASN1 OID: prime256v1/);
});

test('the admin certificate is system:admin in system:masters, signed by the CA', async (t) => {
  const dir = await tempDir(t);
  await ensureServerCertificates(dir, { hosts: [] });
  const client = join(dir, 'client-admin.crt');
  const ca = join(dir, 'server-ca.crt');
  assert.equal(openssl('verify', '-CAfile', ca, client).trim(), `${client}: OK`);
  const subject = openssl('x509', '-noout', '-subject', '-in', client).trim();
  assert.equal(subject, 'subject=O = system:masters, CN = system:admin');
  assert.match(openssl('x509', '-noout', '-text', '-in', client), /TLS Web Client Authentication/);
});

test('fingerprint is the SHA-256 of the DER certificate', async (t) => {
  const dir = await tempDir(t);
  const { caCert } = await ensureServerCertificates(dir, { hosts: [] });
  const expected = openssl('x509', '-noout', '-fingerprint', '-sha256', '-in', join(dir, FILES[0]!))
    .trim()
    .replace(/^.*=/, '')
    .replaceAll(':', '')
    .toLowerCase();
  assert.equal(fingerprint(caCert), expected);
  assert.match(fingerprint(caCert), /^[0-9a-f]{64}$/);
});

test('hosts must be names or addresses', async (t) => {
  const dir = await tempDir(t);
  await assert.rejects(ensureServerCertificates(dir, { hosts: [''] }), TypeError);
  await assert.rejects(ensureServerCertificates(dir, { hosts: ['a b'] }), /Invalid host "a b"/);
});

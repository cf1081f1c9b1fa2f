import assert from 'node:assert/strict';
import { createHash, X509Certificate } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { ensureServerCertificates } from './certificates.ts';
import { createKeyAndCsr, InvalidCsrError, signClientCertificate } from './client-certificates.ts';
import { caBundleHash, caBundleMatches, formatJoinToken, parseJoinToken } from './join-token.ts';

test('join tokens parse as k3s parses them', () => {
  const hash = 'ab'.repeat(32);
  assert.deepEqual(parseJoinToken(`K10${hash}::server:secret`), { caHash: hash, username: 'server', password: 'secret' });
  assert.deepEqual(parseJoinToken('K10::node:pw:with:colons'), { caHash: undefined, username: 'node', password: 'pw:with:colons' });
  assert.deepEqual(parseJoinToken('just-a-password'), { caHash: undefined, username: 'server', password: 'just-a-password' });
  assert.throws(() => parseJoinToken(''), /empty/);
  assert.throws(() => parseJoinToken('K10abc::server:x'), /64 hex digits/);
  assert.throws(() => parseJoinToken(`K10${hash}::server:`), /no <username>:<password>/);
});

test('the CA hash is the SHA-256 of the CA file for one certificate; DER hashes of older tokens still match', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-test-pki-'));
  try {
    const { caCert } = await ensureServerCertificates(dir, { hosts: [] });
    const hash = createHash('sha256').update(caCert).digest('hex');
    assert.equal(caBundleHash(caCert), hash);
    assert.equal(formatJoinToken(caCert, 'server', 'pw'), `K10${hash}::server:pw`);
    assert.ok(caBundleMatches(caCert, hash));
    assert.ok(caBundleMatches(caCert, createHash('sha256').update(new X509Certificate(caCert).raw).digest('hex')));
    assert.ok(!caBundleMatches(caCert, '0'.repeat(64)));
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

test('client certificates are signed for the identity the server chooses, with the CSR\'s key', async () => {
  const dir = await mkdtemp(join(tmpdir(), 'skiff-test-pki-'));
  try {
    const { caCert } = await ensureServerCertificates(dir, { hosts: [] });
    const { readFile } = await import('node:fs/promises');
    const caKey = await readFile(join(dir, 'server-ca.key'), 'utf8');
    const { key, csr } = await createKeyAndCsr('system:node:asked-for');
    const pem = await signClientCertificate({ caCert, caKey, csr, commonName: 'system:node:n1', organizations: ['system:nodes'] });
    const cert = new X509Certificate(pem);
    assert.equal(cert.subject, 'O=system:nodes\nCN=system:node:n1');
    assert.ok(cert.verify(new X509Certificate(caCert).publicKey));
    const { createPrivateKey } = await import('node:crypto');
    assert.ok(cert.checkPrivateKey(createPrivateKey(key)));
    assert.equal(cert.keyUsage?.includes('1.3.6.1.5.5.7.3.2'), true, 'clientAuth');
    await assert.rejects(signClientCertificate({ caCert, caKey, csr: 'garbage', commonName: 'x' }), InvalidCsrError);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
});

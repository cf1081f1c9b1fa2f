import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { parseChallenges } from './auth.ts';
import { DockerKeyring } from './docker-config.ts';
import { selectManifest } from './platform.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const secret = (auths: Record<string, { username: string; password: string }>) => ({
  type: 'kubernetes.io/dockerconfigjson',
  data: { '.dockerconfigjson': b64(JSON.stringify({ auths: Object.fromEntries(Object.entries(auths).map(([k, v]) => [k, { auth: b64(`${v.username}:${v.password}`) }])) })) },
});

describe('pull secrets keyring', () => {
  it('matches hosts, ports, globs and path prefixes as upstream', () => {
    const keyring = DockerKeyring.fromSecrets([
      secret({ 'registry.example.com': { username: 'host', password: 'p' } }),
      secret({ 'registry.example.com/team': { username: 'team', password: 'p' } }),
      secret({ '*.glob.example.com': { username: 'glob', password: 'p' } }),
      secret({ 'http://127.0.0.1:5000/v2/': { username: 'local', password: 'p' } }),
    ]);
    const users = (image: string) => keyring.lookup(image).map((c) => c.username);
    assert.deepEqual(users('registry.example.com/team/app:1'), ['team', 'host']);
    assert.deepEqual(users('registry.example.com/other/app'), ['host']);
    assert.deepEqual(users('a.glob.example.com/x'), ['glob']);
    assert.deepEqual(users('a.b.glob.example.com/x'), []);
    assert.deepEqual(users('127.0.0.1:5000/app'), ['local']);
    assert.deepEqual(users('127.0.0.1:5001/app'), []);
  });

  it('uses index.docker.io credentials for Docker Hub images, and reads .dockercfg', () => {
    const keyring = DockerKeyring.fromSecrets([
      { type: 'kubernetes.io/dockercfg', data: { '.dockercfg': b64(JSON.stringify({ 'https://index.docker.io/v1/': { username: 'hub', password: 'p' } })) } },
    ]);
    assert.deepEqual(keyring.lookup('docker.io/library/busybox').map((c) => c.username), ['hub']);
    assert.deepEqual(keyring.lookup('quay.io/x/y'), []);
  });

  it('parses WWW-Authenticate challenges', () => {
    assert.deepEqual(parseChallenges('Bearer realm="https://auth.example.com/token",service="registry",scope="repository:a/b:pull"'), [
      { scheme: 'bearer', params: { realm: 'https://auth.example.com/token', service: 'registry', scope: 'repository:a/b:pull' } },
    ]);
    assert.deepEqual(parseChallenges('Basic realm="x y"'), [{ scheme: 'basic', params: { realm: 'x y' } }]);
  });

  it('picks linux/amd64 from an index as containerd', () => {
    const d = (architecture: string, variant?: string, os = 'linux') => ({ mediaType: 'm', digest: `${os}/${architecture}/${variant ?? ''}`, size: 1, platform: { os, architecture, ...(variant ? { variant } : {}) } });
    assert.equal(selectManifest([d('arm64', 'v8'), d('amd64', 'v3'), d('amd64'), d('amd64', undefined, 'windows')])?.digest, 'linux/amd64/');
    assert.equal(selectManifest([d('arm', 'v7'), d('x86_64', 'v2')])?.digest, 'linux/x86_64/v2');
    assert.equal(selectManifest([d('arm64'), d('s390x')]), undefined);
  });
});

import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { createServer, type Server, type IncomingMessage } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistryClient, RegistryError, credentialsFromDockerConfig, parseChallenge, parseImageRef } from './client.js';

describe('parseImageRef', () => {
  it('follows Docker reference rules', () => {
    expect(parseImageRef('nginx')).toEqual({ registry: 'registry-1.docker.io', repository: 'library/nginx' });
    expect(parseImageRef('team/api')).toEqual({ registry: 'registry-1.docker.io', repository: 'team/api' });
    expect(parseImageRef('docker.io/nginx')).toEqual({ registry: 'registry-1.docker.io', repository: 'library/nginx' });
    expect(parseImageRef('192.0.2.2:5000/dsa/api')).toEqual({ registry: '192.0.2.2:5000', repository: 'dsa/api' });
    expect(parseImageRef('localhost/x')).toEqual({ registry: 'localhost', repository: 'x' });
  });
});

describe('credentialsFromDockerConfig', () => {
  const cfg = JSON.stringify({
    auths: {
      'https://reg.example.com/v1/': { auth: Buffer.from('alice:s3:cret').toString('base64') },
      'other:5000': { username: 'bob', password: 'pw' },
      'https://index.docker.io/v1/': { auth: Buffer.from('hub:tok').toString('base64') },
    },
  });
  it('finds entries by host, decoding auth', () => {
    expect(credentialsFromDockerConfig(cfg, 'reg.example.com')).toEqual({ username: 'alice', password: 's3:cret' });
    expect(credentialsFromDockerConfig(cfg, 'other:5000')).toEqual({ username: 'bob', password: 'pw' });
    expect(credentialsFromDockerConfig(cfg, 'registry-1.docker.io')).toEqual({ username: 'hub', password: 'tok' });
    expect(credentialsFromDockerConfig(cfg, 'nope')).toBeUndefined();
    expect(credentialsFromDockerConfig('not json', 'x')).toBeUndefined();
  });
  it('parses auth challenges', () => {
    expect(parseChallenge('Bearer realm="https://auth/token",service="reg",scope="repository:a:pull"')).toEqual({
      scheme: 'bearer',
      params: { realm: 'https://auth/token', service: 'reg', scope: 'repository:a:pull' },
    });
  });
});

describe('RegistryClient against a local fake registry', () => {
  let server: Server;
  let host: string;
  const seen: IncomingMessage[] = [];
  const DIGEST = `sha256:${'c'.repeat(64)}`;
  beforeAll(async () => {
    server = createServer((req, res) => {
      seen.push(req);
      const url = req.url ?? '';
      if (url.startsWith('/token')) {
        if (req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) return res.writeHead(401).end();
        return res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ token: 'T0K' }));
      }
      if (url.startsWith('/v2/private/')) {
        if (req.headers.authorization !== 'Bearer T0K') {
          return res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/token",service="fake"` }).end();
        }
        return res.writeHead(200, { 'docker-content-digest': DIGEST }).end();
      }
      if (url === '/v2/team/api/manifests/dsa-present') return res.writeHead(200, { 'docker-content-digest': DIGEST }).end();
      if (url === '/v2/team/api/manifests/noheader') {
        // no digest header: the client must hash the manifest body it GETs
        return res.writeHead(200).end(req.method === 'GET' ? '{"schemaVersion":2}' : undefined);
      }
      if (url === '/v2/team/api/manifests/broken') return res.writeHead(503).end();
      if (url.startsWith('/v2/leaky/') || url.startsWith('/leaky-token')) {
        // A registry (or a proxy in front of it) that echoes secrets in its error bodies.
        if (url.startsWith('/v2/leaky/auth/')) return res.writeHead(401, { 'www-authenticate': `Bearer realm="http://${host}/leaky-token"` }).end();
        return res.writeHead(500, { 'content-type': 'application/json' }).end('{"errors":[{"code":"UNKNOWN","message":"SECRET-BODY token=hunter2"}]}');
      }
      res.writeHead(404).end();
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    host = `127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise((r) => server.close(r));
  });

  // The fake registry is on loopback, which the client refuses unless the install allows it.
const client = new RegistryClient({ timeoutMs: 2000, addressPolicy: { allow: ['127.0.0.1'] } });

  it('returns the digest of an existing tag and undefined for a missing one', async () => {
    expect(await client.manifestDigest({ image: `${host}/team/api`, tag: 'dsa-present', insecure: true })).toBe(DIGEST);
    expect(await client.manifestDigest({ image: `${host}/team/api`, tag: 'dsa-missing', insecure: true })).toBeUndefined();
    const head = seen.find((r) => r.url === '/v2/team/api/manifests/dsa-present')!;
    expect(head.method).toBe('HEAD');
    expect(head.headers.accept).toContain('application/vnd.oci.image.index.v1+json');
  });

  it('hashes the manifest when the registry omits Docker-Content-Digest', async () => {
    const { createHash } = await import('node:crypto');
    const want = `sha256:${createHash('sha256').update('{"schemaVersion":2}').digest('hex')}`;
    expect(await client.manifestDigest({ image: `${host}/team/api`, tag: 'noheader', insecure: true })).toBe(want);
  });

  it('does the bearer-token handshake with basic credentials', async () => {
    expect(await client.manifestDigest({ image: `${host}/private/x`, tag: 't', insecure: true, credentials: { username: 'u', password: 'p' } })).toBe(DIGEST);
    await expect(client.manifestDigest({ image: `${host}/private/x`, tag: 't', insecure: true })).rejects.toMatchObject({ status: 401, transient: false });
  });

  it('classifies 5xx and network errors as transient', async () => {
    await expect(client.manifestDigest({ image: `${host}/team/api`, tag: 'broken', insecure: true })).rejects.toMatchObject({ status: 503, transient: true });
    const err = await client.manifestDigest({ image: '127.0.0.1:1/x', tag: 't', insecure: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
    expect((err as RegistryError).transient).toBe(true);
  });

  it('puts the status in errors, never the response body', async () => {
    const errs = [
      await client.imageConfig({ image: `${host}/leaky/x`, reference: 't', insecure: true }).catch((e: unknown) => e),
      await client.manifestDigest({ image: `${host}/leaky/auth/x`, tag: 't', insecure: true }).catch((e: unknown) => e),
    ] as RegistryError[];
    for (const err of errs) {
      expect(err).toBeInstanceOf(RegistryError);
      expect(err.status).toBe(500);
      expect(err.message).toMatch(/answered 500/);
      expect(err.message).not.toMatch(/SECRET|hunter2/);
    }
  });

  it('refuses loopback, link-local and metadata registries by default, as configuration (not transient)', async () => {
    const strict = new RegistryClient({ timeoutMs: 2000 });
    for (const image of [`${host}/team/api`, '169.254.169.254/latest/x', 'metadata.google.internal/x']) {
      const err = (await strict.manifestDigest({ image, tag: 'dsa-present', insecure: true }).catch((e: unknown) => e)) as RegistryError;
      expect(err).toBeInstanceOf(RegistryError);
      expect(err.transient).toBe(false);
      expect(err.message).toMatch(/refused/);
    }
  });
});

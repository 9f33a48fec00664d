// Image configs from a fake registry on loopback (real HTTP), through the session-aware lookup.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createHash } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { RegistryClient, RegistryError, imageConfigFields } from '../registry/client.js';
import { ImageConfigCache, SessionImageConfigLookup } from './image-config.js';

const json = (v: unknown) => JSON.stringify(v);
const digestOf = (s: string) => `sha256:${createHash('sha256').update(s).digest('hex')}`;
const config = json({ architecture: 'amd64', config: { Entrypoint: ['/bin/app'], Cmd: ['--serve'], WorkingDir: '/srv', User: '1000', Env: ['PATH=/bin'] } });
const configDigest = digestOf(config);
const manifest = json({ schemaVersion: 2, mediaType: 'application/vnd.oci.image.manifest.v1+json', config: { digest: configDigest, size: config.length }, layers: [] });
const manifestDigest = digestOf(manifest);
const index = json({ schemaVersion: 2, manifests: [{ digest: 'sha256:' + 'e'.repeat(64), platform: { os: 'linux', architecture: 's390x' } }, { digest: manifestDigest, platform: { os: 'linux', architecture: 'amd64' } }] });

let server: Server;
let host: string;
const hits: string[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    hits.push(`${req.method} ${req.url}`);
    const url = req.url ?? '';
    if (url.startsWith('/v2/private/') && req.headers.authorization !== `Basic ${Buffer.from('u:p').toString('base64')}`) return res.writeHead(401).end();
    if (url.endsWith('/manifests/multi')) return res.writeHead(200).end(index);
    if (url.endsWith(`/manifests/${manifestDigest}`) || url.endsWith('/manifests/v1')) return res.writeHead(200).end(manifest);
    if (url.endsWith(`/blobs/${configDigest}`)) return res.writeHead(200).end(config);
    if (url.endsWith('/manifests/huge')) {
      res.writeHead(200);
      res.write('{"pad":"');
      for (let i = 0; i < 5000; i++) res.write('x'.repeat(1024));
      return res.end('"}');
    }
    if (url.endsWith('/manifests/down')) return res.writeHead(503).end();
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
const want = { entrypoint: ['/bin/app'], cmd: ['--serve'], workingDir: '/srv', user: '1000', env: ['PATH=/bin'] };

describe('RegistryClient.imageConfig', () => {
  it('reads manifest → config, following an index to the platform', async () => {
    expect(await client.imageConfig({ image: `${host}/team/app`, reference: 'v1', insecure: true })).toEqual(want);
    expect(await client.imageConfig({ image: `${host}/team/app`, reference: 'multi', insecure: true, platform: { os: 'linux', architecture: 'amd64' } })).toEqual(want);
    expect(await client.imageConfig({ image: `${host}/team/app`, reference: 'multi', insecure: true, platform: { os: 'linux', architecture: 'riscv64' } })).toBeUndefined();
    expect(await client.imageConfig({ image: `${host}/team/app`, reference: 'missing', insecure: true })).toBeUndefined();
  });

  it('caps what a registry may send, and classifies failures', async () => {
    await expect(client.imageConfig({ image: `${host}/team/app`, reference: 'huge', insecure: true })).rejects.toThrow(/more than 4194304 bytes/);
    await expect(client.imageConfig({ image: `${host}/team/app`, reference: 'down', insecure: true })).rejects.toMatchObject({ transient: true, status: 503 });
    const err = await client.imageConfig({ image: '127.0.0.1:1/x', reference: 't', insecure: true }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(RegistryError);
  });

  it('imageConfigFields keeps only well-typed fields', () => {
    expect(imageConfigFields({ config: { Entrypoint: 'sh', Cmd: [1], WorkingDir: '', User: 7 } })).toEqual({});
    expect(imageConfigFields(null)).toEqual({});
  });
});

describe('SessionImageConfigLookup', () => {
  it('uses the session image\'s registry options and Secret, and caches per reference', async () => {
    const secrets: string[] = [];
    const lookup = new SessionImageConfigLookup({
      source: client,
      cache: new ImageConfigCache(),
      images: [{ name: 'app', image: `${host}/private/app`, registry: { insecure: true, pullSecret: 'pull' } }],
      namespace: 'dev',
      readDockerConfig: async (ns, name) => {
        secrets.push(`${ns}/${name}`);
        return json({ auths: { [host]: { username: 'u', password: 'p' } } });
      },
    });
    hits.length = 0;
    expect(await lookup.config(`${host}/private/app:v1`)).toEqual(want);
    expect(await lookup.config(`${host}/private/app:v1`)).toEqual(want);
    expect(secrets).toEqual(['dev/pull']);
    expect(hits.filter((h) => h.includes('/manifests/'))).toHaveLength(1);
  });

  it('expires tags, never digests, and evicts the oldest beyond the bound', () => {
    let now = 0;
    const c = new ImageConfigCache(2, 1000, () => now);
    c.set('r:tag', { user: 'a' });
    c.set('r@sha256:x', { user: 'b' });
    now = 5000;
    expect(c.get('r:tag')).toBeUndefined();
    expect(c.get('r@sha256:x')?.value).toEqual({ user: 'b' });
    c.set('r:1', undefined);
    c.set('r:2', undefined);
    expect(c.get('r@sha256:x')).toBeUndefined();
    expect(c.get('r:2')).toEqual({ value: undefined });
  });
});

// client-node against a real HTTPS server on loopback (a self-signed certificate made with openssl): counts
// the TCP connections the server accepts for a series of API calls.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { execFileSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { loopbackKubeConfig } from './loopback-kubeconfig.test-util.js';
import { observeRequests, reuseConnections, tlsIdentity } from './connection-reuse.js';

let dir: string;
let server: Server;
let port: number;
let connections = 0;
const requests: string[] = [];

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'dsa-reuse-test-'));
  execFileSync('openssl', ['req', '-x509', '-newkey', 'ec', '-pkeyopt', 'ec_paramgen_curve:prime256v1', '-nodes', '-days', '1', '-subj', '/CN=127.0.0.1', '-addext', 'subjectAltName=IP:127.0.0.1', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stdio: 'ignore' });
  server = createServer({ key: readFileSync(join(dir, 'key.pem')), cert: readFileSync(join(dir, 'cert.pem')) }, (req, res) => {
    requests.push(`${req.method} ${req.url}`);
    req.resume();
    req.on('end', () => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } })));
  });
  server.on('connection', () => connections++);
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  port = (server.address() as AddressInfo).port;
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
  rmSync(dir, { recursive: true, force: true });
});

const kubeConfig = () => loopbackKubeConfig(`https://127.0.0.1:${port}`, { caData: readFileSync(join(dir, 'cert.pem')).toString('base64'), token: 't0ken' });

async function calls(kc: k8s.KubeConfig, n: number): Promise<number> {
  const before = connections;
  const core = kc.makeApiClient(k8s.CoreV1Api);
  for (let i = 0; i < n; i++) await core.readNamespace({ name: 'default' });
  return connections - before;
}

describe('reuseConnections', () => {
  it('client-node alone opens a new connection per call; with reuse, calls share one', async () => {
    expect(await calls(kubeConfig(), 5)).toBe(5);
    const kc = reuseConnections(kubeConfig());
    expect(reuseConnections(kc)).toBe(kc); // idempotent
    expect(await calls(kc, 5)).toBe(1);
    // Another API class made from the same config shares the pool too.
    const objects = k8s.KubernetesObjectApi.makeApiClient(kc);
    const before = connections;
    await objects.read({ apiVersion: 'v1', kind: 'Namespace', metadata: { name: 'default' } }).catch(() => undefined);
    expect(connections - before).toBe(0);
  });

  it('observeRequests sees every call with its verb', async () => {
    const kc = kubeConfig();
    const seen: string[] = [];
    const off = observeRequests(kc, (v) => seen.push(v));
    const core = kc.makeApiClient(k8s.CoreV1Api);
    await core.readNamespace({ name: 'default' });
    await core.patchNamespace({ name: 'default', body: [] }).catch(() => undefined);
    off();
    await core.readNamespace({ name: 'default' });
    expect(seen).toEqual(['GET', 'PATCH']);
  });

  it('agents are pooled by TLS identity', () => {
    expect(tlsIdentity({ ca: Buffer.from('a') })).toBe(tlsIdentity({ ca: Buffer.from('a') }));
    expect(tlsIdentity({ ca: Buffer.from('a') })).not.toBe(tlsIdentity({ ca: Buffer.from('b') }));
    expect(tlsIdentity({ ca: Buffer.from('a'), rejectUnauthorized: false })).not.toBe(tlsIdentity({ ca: Buffer.from('a') }));
  });
});

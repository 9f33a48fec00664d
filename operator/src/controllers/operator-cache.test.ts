// The namespace informer lists only namespaces that carry a scope label: the real client-node informer of
// createOperatorCache against a loopback HTTP "apiserver", recording the LIST and WATCH it sends.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { loopbackKubeConfig } from '../runtime/loopback-kubeconfig.test-util.js';
import { createOperatorCache } from './operator-cache.js';

let server: Server;
const seen: URL[] = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    seen.push(u);
    if (u.searchParams.get('watch') === 'true') {
      res.writeHead(200, { 'content-type': 'application/json' }).flushHeaders();
      return; // a watch that stays open with no news
    }
    res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'v1', kind: 'NamespaceList', metadata: { resourceVersion: '1' }, items: [] }));
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

describe('operator cache', () => {
  it('the namespaces informer lists and watches with the dsa.dev/operator-scope selector (labelled namespaces only)', async () => {
    const kc = loopbackKubeConfig(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);
    const { namespaces } = createOperatorCache(kc, { resyncPeriodMs: 0 });
    namespaces.start();
    try {
      expect(await namespaces.waitForSync(5_000)).toBe(true);
      for (let i = 0; i < 100 && !seen.some((u) => u.searchParams.get('watch') === 'true'); i++) await new Promise((r) => setTimeout(r, 20));
    } finally {
      await namespaces.stop();
    }
    const requests = seen.filter((u) => u.pathname === '/api/v1/namespaces');
    expect(requests.map((u) => u.searchParams.get('watch') === 'true')).toEqual([false, true]);
    for (const u of requests) expect(u.searchParams.get('labelSelector')).toBe('dsa.dev/operator-scope');
  });
});

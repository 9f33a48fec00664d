// The two status writers besides the reconciler each apply with their own field manager, so their fields do not
// fight the reconciler's status apply: the real client-node writers against a loopback HTTP "apiserver".
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { DevSession } from '@dsa/api';
import { ClientNodeAgentGoneWriter } from './agent-presence.js';
import { loopbackKubeConfig } from '../../runtime/loopback-kubeconfig.test-util.js';
import { ClientNodeDevPodsWriter } from './dev-pods-controller.js';

let server: Server;
const seen: Array<{ method: string; path: string; query: URLSearchParams; contentType: string | undefined; body: string }> = [];

beforeAll(async () => {
  server = createServer((req, res) => {
    let body = '';
    req.on('data', (c: Buffer) => (body += c.toString()));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      seen.push({ method: req.method ?? '', path: u.pathname, query: u.searchParams, contentType: req.headers['content-type'], body });
      res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify({ apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', metadata: { name: 's', namespace: 'dev' } }));
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise((r) => server.close(r));
});

const kubeConfig = () => loopbackKubeConfig(`http://127.0.0.1:${(server.address() as AddressInfo).port}`);

describe('status field managers', () => {
  it('status.pods is applied as dsa-operator-devpods, `agent gone` as dsa-operator-agent-presence (both forced SSA on /status)', async () => {
    const session = { apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', metadata: { name: 's', namespace: 'dev' }, spec: { project: 's' } } as DevSession;
    await new ClientNodeDevPodsWriter(kubeConfig()).applyPods(session, [{ devPod: 'api', pod: 'p', container: 'c', namespace: 'dev' }]);
    await new ClientNodeAgentGoneWriter(kubeConfig()).markGone({ namespace: 'dev', name: 's' });
    expect(seen.map((r) => [r.method, r.path, r.query.get('fieldManager'), r.query.get('force'), r.contentType])).toEqual([
      ['PATCH', '/apis/dsa.dev/v1alpha1/namespaces/dev/devsessions/s/status', 'dsa-operator-devpods', 'true', 'application/apply-patch+yaml'],
      ['PATCH', '/apis/dsa.dev/v1alpha1/namespaces/dev/devsessions/s/status', 'dsa-operator-agent-presence', 'true', 'application/apply-patch+yaml'],
    ]);
    expect(JSON.parse(seen[0]!.body).status).toEqual({ pods: [{ devPod: 'api', pod: 'p', container: 'c', namespace: 'dev' }] });
    expect(JSON.parse(seen[1]!.body).status).toEqual({ sync: 'agent gone' });
  });
});

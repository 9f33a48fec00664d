// `dsa analyze` reads are bounded (docs/cli.md): the real client of analyze/kube.ts against a loopback
// apiserver — 1000 objects per list, 50 lines / 64 KiB per log, and a deadline on every request.
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from '@jest/globals';
import { withLogs } from '../../src/analyze/collect.js';
import { createAnalyzeKube, READ_TIMEOUT_MS } from '../../src/analyze/kube.js';
import type { Problem } from '../../src/analyze/model.js';
import { createKubeAccess } from '../../src/kube/access.js';
import { startFakeApiserver, writeKubeconfig, type FakeApiserver, type Routes } from './fake-apiserver.js';

const tmp = mkdtempSync(join(tmpdir(), 'dsa-analyze-reads-'));
const servers: FakeApiserver[] = [];
afterAll(async () => {
  for (const s of servers) await s.close();
});

async function kubeFor(routes: Routes, name: string) {
  const server = await startFakeApiserver(routes);
  servers.push(server);
  const access = createKubeAccess({ env: { KUBECONFIG: writeKubeconfig(tmp, server.url, 'dev', `${name}.yaml`) }, homeDir: tmp, cwd: tmp, log: { debug: () => {}, warn: () => {} } });
  return { server, kc: await access.kubeConfig() };
}

const list = { status: 200, body: { items: [] } };

describe('analyze reads', () => {
  it('every list asks for at most 1000 objects; a log read for the last 50 lines and 64 KiB', async () => {
    const { server, kc } = await kubeFor(
      {
        '/api/v1/namespaces/dev/pods': list,
        '/api/v1/namespaces/dev/events': list,
        '/apis/apps/v1/namespaces/dev/replicasets': list,
        '/apis/dsa.dev/v1alpha1/namespaces/dev/devsessions': list,
        '/apis/dsa.dev/v1alpha1/namespaces/dev/imagebuilds': list,
        '/api/v1/namespaces/dev/pods/api-0/log': { status: 200, body: 'boom' },
      },
      'bounded',
    );
    const kube = await createAnalyzeKube(kc);
    await kube.listPods('dev', 'app=api');
    await kube.listWarningEvents('dev');
    await kube.listReplicaSets('dev');
    await kube.listSessions('dev');
    await kube.listImageBuilds('dev');
    const problem: Problem = { kind: 'CrashLoop', severity: 'error', object: { kind: 'Pod', namespace: 'dev', name: 'api-0' }, container: 'app', summary: 's', details: [], hint: 'h', logsFrom: 'current' };
    const [withLog] = await withLogs(kube, [problem]);
    expect(withLog!.logs).toHaveLength(1);
    const lists = server.requests.filter((r) => !r.includes('/log'));
    expect(lists).toHaveLength(5);
    for (const r of lists) expect(new URLSearchParams(r.split('?')[1]).get('limit')).toBe('1000');
    const log = new URLSearchParams(server.requests.find((r) => r.includes('/log'))!.split('?')[1]);
    expect({ tailLines: log.get('tailLines'), limitBytes: log.get('limitBytes'), container: log.get('container') }).toEqual({ tailLines: '50', limitBytes: '65536', container: 'app' });
  }, 30_000);

  it('a request the apiserver never answers fails after the deadline (20 s by default), naming the read', async () => {
    expect(READ_TIMEOUT_MS).toBe(20_000);
    const { kc } = await kubeFor({ '/api/v1/namespaces/dev/pods': { status: 200, hang: true } }, 'hang');
    const kube = await createAnalyzeKube(kc, 1000);
    const t0 = Date.now();
    await expect(kube.listPods('dev')).rejects.toThrow('listing pods in dev: no answer from the apiserver within 1s');
    expect(Date.now() - t0).toBeLessThan(5_000);
  }, 30_000);
});

import { describe, expect, it } from '@jest/globals';
import { OpsServer } from './http.js';
import { createMetrics } from './metrics.js';

describe('OpsServer', () => {
  it('serves /healthz, /readyz (503 with reasons) and /metrics', async () => {
    const metrics = createMetrics();
    let ready = false;
    const server = new OpsServer({
      port: 0,
      host: '127.0.0.1',
      registry: metrics.registry,
      readiness: () => (ready ? { ready: true, reasons: [] } : { ready: false, reasons: ['informer pods not synced'] }),
    });
    const port = await server.start();
    try {
      const base = `http://127.0.0.1:${port}`;
      expect((await fetch(`${base}/healthz`)).status).toBe(200);
      const notReady = await fetch(`${base}/readyz`);
      expect(notReady.status).toBe(503);
      expect(await notReady.json()).toMatchObject({ ready: false, reasons: ['informer pods not synced'] });
      ready = true;
      expect((await fetch(`${base}/readyz`)).status).toBe(200);
      metrics.reconcileTotal.inc({ controller: 'devsession', result: 'success' });
      metrics.leader.set(1);
      const text = await (await fetch(`${base}/metrics`)).text();
      expect(text).toContain('dsa_operator_reconcile_total{controller="devsession",result="success"} 1');
      expect(text).toContain('dsa_operator_leader 1');
      expect(text).toContain('dsa_operator_builds_total');
      expect(text).toContain('process_cpu_user_seconds_total');
    } finally {
      await server.stop();
    }
  });
});

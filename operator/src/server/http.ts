// Ops endpoints: /healthz (the event loop answers), /readyz (informers synced and leader — or standby allowed),
// /metrics (prom-client). Express 5 per the project's stack; three routes, no middleware beyond that.
import express from 'express';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import type { Registry } from 'prom-client';
import { silentLogger, type Logger } from '../log.js';

export interface ReadinessReport {
  ready: boolean;
  /** Why not ready (empty when ready). */
  reasons: string[];
  details?: Record<string, unknown>;
}

export interface OpsServerOptions {
  /** Default 8080; 0 picks a free port (tests). */
  port?: number;
  /** Bind address; default 0.0.0.0 (probes come from the kubelet over the pod IP). */
  host?: string;
  registry: Registry;
  readiness: () => ReadinessReport;
  logger?: Logger;
}

export function createOpsApp(opts: Pick<OpsServerOptions, 'registry' | 'readiness'>): express.Express {
  const app = express();
  app.disable('x-powered-by');
  app.get('/healthz', (_req, res) => {
    res.status(200).json({ status: 'ok' });
  });
  app.get('/readyz', (_req, res) => {
    const report = opts.readiness();
    res.status(report.ready ? 200 : 503).json({ status: report.ready ? 'ok' : 'not ready', ...report });
  });
  app.get('/metrics', async (_req, res) => {
    res.set('Content-Type', opts.registry.contentType);
    res.send(await opts.registry.metrics());
  });
  return app;
}

export class OpsServer {
  private server: Server | undefined;
  private readonly log: Logger;

  constructor(private readonly opts: OpsServerOptions) {
    this.log = (opts.logger ?? silentLogger()).child({ component: 'http' });
  }

  /** Listen; resolves with the bound port. */
  start(): Promise<number> {
    const app = createOpsApp(this.opts);
    const port = this.opts.port ?? 8080;
    const host = this.opts.host ?? '0.0.0.0';
    return new Promise((resolve, reject) => {
      const server = app.listen(port, host, (err?: Error) => {
        if (err) return reject(err);
        const bound = (server.address() as AddressInfo).port;
        this.log.info({ host, port: bound }, 'ops server listening');
        resolve(bound);
      });
      server.once('error', reject);
      this.server = server;
    });
  }

  async stop(): Promise<void> {
    const server = this.server;
    this.server = undefined;
    if (!server) return;
    await new Promise<void>((resolve) => {
      server.close(() => resolve());
      // Probe/scrape connections are keep-alive; don't let them hold shutdown.
      server.closeAllConnections?.();
    });
  }
}

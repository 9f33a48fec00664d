// A loopback server speaking the few Docker Engine API calls dsa makes (ping, build, push), recording each
// request: what the real dockerode client sends, checked without a daemon.
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';

export interface SeenDockerRequest {
  method: string;
  /** Without the /v1.xx prefix. */
  path: string;
  query: URLSearchParams;
  auth: string | undefined;
  bytes: number;
}

export async function fakeDockerDaemon(): Promise<{ port: number; seen: SeenDockerRequest[]; close: () => Promise<void> }> {
  const seen: SeenDockerRequest[] = [];
  const server = createServer((req, res) => {
    let bytes = 0;
    req.on('data', (c: Buffer) => (bytes += c.length));
    req.on('end', () => {
      const u = new URL(req.url ?? '/', 'http://x');
      const p = u.pathname.replace(/^\/v[\d.]+/, '');
      seen.push({ method: req.method ?? '', path: p, query: u.searchParams, auth: req.headers['x-registry-auth'] as string | undefined, bytes });
      res.writeHead(200, { 'content-type': 'application/json' });
      if (p === '/build') res.end('{"stream":"Step 1/1 : FROM scratch\\n"}\n{"aux":{"ID":"sha256:abc"}}\n');
      else if (p.endsWith('/push')) res.end(`{"status":"pushed"}\n{"aux":{"Tag":"${u.searchParams.get('tag')}","Digest":"sha256:${'d'.repeat(64)}","Size":1}}\n`);
      else res.end('OK');
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  return { port: (server.address() as AddressInfo).port, seen, close: () => new Promise<void>((r) => server.close(() => r())) };
}

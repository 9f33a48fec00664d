// A loopback HTTP server answering a few apiserver paths, and a kubeconfig pointing at it: the real
// client code (client-node's auth options, the bounded GETs) runs, without a cluster.
import { writeFileSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import YAML from 'yaml';

export interface FakeResponse {
  status: number;
  body?: unknown;
  /** Never answer (to test timeouts). */
  hang?: boolean;
}

export type Routes = Record<string, FakeResponse | ((req: IncomingMessage) => FakeResponse)>;

export interface FakeApiserver {
  url: string;
  /** Paths (with query) in the order they were requested. */
  requests: string[];
  /** Headers of the last request per path (without query). */
  headers: Map<string, IncomingMessage['headers']>;
  close(): Promise<void>;
}

export async function startFakeApiserver(routes: Routes): Promise<FakeApiserver> {
  const requests: string[] = [];
  const headers = new Map<string, IncomingMessage['headers']>();
  const hanging = new Set<import('node:http').ServerResponse>();
  const server: Server = createServer((req, res) => {
    requests.push(req.url ?? '');
    const path = (req.url ?? '').split('?')[0]!;
    headers.set(path, req.headers);
    const route = routes[path];
    const r: FakeResponse = typeof route === 'function' ? route(req) : (route ?? { status: 404, body: { kind: 'Status', code: 404, message: `${path} not found` } });
    if (r.hang) {
      hanging.add(res);
      return;
    }
    res.writeHead(r.status, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(r.body ?? {}));
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://127.0.0.1:${port}`,
    requests,
    headers,
    close: () =>
      new Promise<void>((resolve) => {
        for (const res of hanging) res.destroy();
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

/** A kubeconfig file in `dir` with one context `fake` (namespace `namespace`) at `url`. */
export function writeKubeconfig(dir: string, url: string, namespace = 'default', name = 'kubeconfig.yaml'): string {
  const file = join(dir, name);
  writeFileSync(
    file,
    YAML.stringify({
      apiVersion: 'v1',
      kind: 'Config',
      'current-context': 'fake',
      contexts: [
        { name: 'fake', context: { cluster: 'fake-cluster', user: 'dev', namespace } },
        { name: 'other', context: { cluster: 'fake-cluster', user: 'dev' } },
      ],
      // client-node refuses plain http unless TLS checks are off.
      clusters: [{ name: 'fake-cluster', cluster: { server: url, 'insecure-skip-tls-verify': true } }],
      users: [{ name: 'dev', user: { token: 'secret-token' } }],
    }),
  );
  return file;
}

/** A PartialObjectMetadataList-like answer. */
export function metadataList(items: Array<{ name: string; namespace?: string; labels?: Record<string, string> }>): unknown {
  return { kind: 'PartialObjectMetadataList', apiVersion: 'meta.k8s.io/v1', items: items.map((metadata) => ({ metadata })) };
}

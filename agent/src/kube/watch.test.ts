// The bounded watch against a real HTTP server on loopback standing in for the apiserver.
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { KubeConfig } from '@kubernetes/client-node';
import { LineSplitter, WatchError, parseWatchLine, watchCollection, type WatchEvent } from './watch.js';

type Handler = (req: http.IncomingMessage, res: http.ServerResponse) => void;
let handler: Handler = (_req, res) => res.end();
let server: http.Server;
let kc: KubeConfig;
const seen: string[] = [];

beforeAll(async () => {
  server = http.createServer((req, res) => {
    seen.push(`${req.url} auth=${req.headers.authorization ?? '-'}`);
    handler(req, res);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
  kc = new KubeConfig();
  kc.loadFromOptions({
    clusters: [{ name: 'c', server: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, skipTLSVerify: true }],
    users: [{ name: 'u', token: 'sekret' }],
    contexts: [{ name: 'x', cluster: 'c', user: 'u' }],
    currentContext: 'x',
  });
});

afterAll(async () => {
  server.closeAllConnections();
  await new Promise<void>((r) => server.close(() => r()));
});

const line = (type: string, name: string, rv: string) => `${JSON.stringify({ type, object: { metadata: { name, resourceVersion: rv } } })}\n`;

function watch(over: Partial<Parameters<typeof watchCollection>[1]> = {}) {
  const events: WatchEvent[] = [];
  const signal = over.signal ?? new AbortController().signal;
  const done = watchCollection(kc, { path: '/apis/dsa.dev/v1alpha1/namespaces/dev/devsessions', query: { fieldSelector: 'metadata.name=web', resourceVersion: '7' }, signal, onEvent: (e) => events.push(e), maxDurationMs: 5000, ...over });
  return { events, done };
}

describe('LineSplitter', () => {
  it('joins lines split across chunks and keeps the rest', () => {
    const s = new LineSplitter(100);
    expect(s.push(Buffer.from('ab'))).toEqual([]);
    expect(s.push(Buffer.from('c\nde\n\nf'))).toEqual(['abc', 'de', '']);
    expect(s.rest()).toBe('f');
  });

  it('refuses a line longer than the bound, even one that never ends', () => {
    const s = new LineSplitter(8);
    expect(() => s.push(Buffer.from('0123456789'))).toThrow(WatchError);
    const t = new LineSplitter(8);
    t.push(Buffer.from('0123'));
    expect(() => t.push(Buffer.from('45678'))).toThrow('larger than 8 bytes');
  });
});

describe('parseWatchLine', () => {
  it('parses events, skips blank lines, and turns ERROR into a WatchError with its code', () => {
    expect(parseWatchLine(' ')).toBeUndefined();
    expect(parseWatchLine(line('MODIFIED', 'web', '9'))).toEqual({ type: 'MODIFIED', object: { metadata: { name: 'web', resourceVersion: '9' } } });
    expect(() => parseWatchLine('{"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old resource version: 7 (12)"}}')).toThrow(
      expect.objectContaining({ statusCode: 410, message: 'watch error: too old resource version: 7 (12)' }),
    );
    expect(() => parseWatchLine('not json')).toThrow(WatchError);
    expect(() => parseWatchLine('{"type":"WHAT"}')).toThrow('unknown watch event type');
  });
});

describe('watchCollection', () => {
  it('sends the query and credentials, delivers events in order, and resolves when the server ends the watch', async () => {
    seen.length = 0;
    handler = (_req, res) => {
      res.writeHead(200, { 'Content-Type': 'application/json' });
      res.write(line('ADDED', 'web', '8'));
      // An event split across writes, then a bookmark, then the end of the response.
      const m = line('MODIFIED', 'web', '9');
      res.write(m.slice(0, 10));
      setTimeout(() => {
        res.write(m.slice(10) + line('BOOKMARK', 'web', '10'));
        res.end();
      }, 20);
    };
    const w = watch();
    await w.done;
    expect(w.events.map((e) => `${e.type} ${(e.object as { metadata: { resourceVersion: string } }).metadata.resourceVersion}`)).toEqual(['ADDED 8', 'MODIFIED 9', 'BOOKMARK 10']);
    expect(seen[0]).toBe('/apis/dsa.dev/v1alpha1/namespaces/dev/devsessions?watch=true&fieldSelector=metadata.name%3Dweb&resourceVersion=7 auth=Bearer sekret');
  });

  it('rejects with the HTTP status and the Status message when the server refuses', async () => {
    handler = (_req, res) => {
      res.writeHead(403, { 'Content-Type': 'application/json' });
      res.end(JSON.stringify({ kind: 'Status', code: 403, message: 'devsessions.dsa.dev is forbidden: User "bob" cannot watch resource' }));
    };
    await expect(watch().done).rejects.toMatchObject({ statusCode: 403, message: 'watch refused: HTTP 403: devsessions.dsa.dev is forbidden: User "bob" cannot watch resource' });
  });

  it('rejects on an ERROR event (410: resourceVersion too old)', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.end('{"type":"ERROR","object":{"kind":"Status","code":410,"message":"too old resource version"}}\n');
    };
    await expect(watch().done).rejects.toMatchObject({ statusCode: 410 });
  });

  it('ends a watch that stays open past maxDurationMs (a stalled connection)', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write(line('ADDED', 'web', '8'));
      // …and never another byte.
    };
    const t0 = Date.now();
    const w = watch({ maxDurationMs: 300 });
    await expect(w.done).rejects.toThrow('the watch stalled: still open after 300 ms');
    expect(Date.now() - t0).toBeLessThan(3000);
    expect(w.events).toHaveLength(1);
  });

  it('gives up when no response arrives within connectTimeoutMs', async () => {
    handler = () => undefined; // never answers
    await expect(watch({ connectTimeoutMs: 200 }).done).rejects.toThrow('no response to the watch within 200 ms');
  });

  it('refuses an event line longer than maxLineBytes without buffering it', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write('{"type":"ADDED","object":{"pad":"');
      res.write('x'.repeat(4096));
    };
    await expect(watch({ maxLineBytes: 1024 }).done).rejects.toThrow('watch event larger than 1024 bytes');
  });

  it('resolves quietly when the caller aborts', async () => {
    handler = (_req, res) => {
      res.writeHead(200);
      res.write(line('ADDED', 'web', '8'));
    };
    const ac = new AbortController();
    const w = watch({ signal: ac.signal });
    await new Promise((r) => setTimeout(r, 50));
    ac.abort();
    await expect(w.done).resolves.toBeUndefined();
  });

  it('rejects when the connection breaks mid-stream', async () => {
    handler = (req, res) => {
      res.writeHead(200);
      res.write(line('ADDED', 'web', '8'));
      setTimeout(() => req.socket.destroy(), 20);
    };
    await expect(watch().done).rejects.toBeInstanceOf(WatchError);
  });
});

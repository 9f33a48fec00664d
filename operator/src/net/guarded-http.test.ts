// guardedRequest against real loopback servers: redirects are checked again, cross-origin redirects lose the
// credentials, and the byte budget stops a server that sends too much. Only 127.0.0.1 is ever contacted: the
// "internal" target of the refused redirect is a second loopback port that the policy does not allow.
import { afterEach, describe, expect, it } from '@jest/globals';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { BlockedAddressError } from './address-guard.js';
import { ByteBudget, TooLargeError, guardedRequest } from './guarded-http.js';

const servers: Server[] = [];
afterEach(async () => {
  for (const s of servers.splice(0)) await new Promise<void>((r) => s.close(() => r()));
});

async function serve(handler: (req: IncomingMessage, res: ServerResponse) => void): Promise<{ port: number; hits: IncomingMessage[] }> {
  const hits: IncomingMessage[] = [];
  const s = createServer((req, res) => {
    hits.push(req);
    handler(req, res);
  });
  servers.push(s);
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return { port: (s.address() as AddressInfo).port, hits };
}

async function text(body: AsyncIterableIterator<Uint8Array>): Promise<string> {
  const parts: Uint8Array[] = [];
  for await (const p of body) parts.push(p);
  return Buffer.concat(parts).toString('utf8');
}

describe('guardedRequest', () => {
  it('checks every redirect again: one to an address the policy does not allow is refused and never reached', async () => {
    const internal = await serve((_req, res) => res.end('secret'));
    const front = await serve((_req, res) => res.writeHead(302, { location: `http://127.0.0.1:${internal.port}/latest/meta-data` }).end());
    const policy = { allow: [`127.0.0.1:${front.port}`] };
    await expect(guardedRequest({ url: `http://127.0.0.1:${front.port}/repo.git/info/refs` }, { policy })).rejects.toThrow(BlockedAddressError);
    expect(front.hits).toHaveLength(1);
    expect(internal.hits).toHaveLength(0);
  });

  it('follows an allowed redirect; a cross-origin one drops Authorization, a same-origin one keeps it', async () => {
    const other = await serve((req, res) => res.end(`auth=${req.headers.authorization ?? 'none'}`));
    const front = await serve((req, res) => {
      if (req.url === '/same') return void res.end(`auth=${req.headers.authorization ?? 'none'}`);
      if (req.url === '/to-same') return void res.writeHead(302, { location: '/same' }).end();
      res.writeHead(302, { location: `http://127.0.0.1:${other.port}/x` }).end();
    });
    const policy = { allow: [`127.0.0.1:${front.port}`, `127.0.0.1:${other.port}`] };
    const headers = { authorization: 'Bearer tenant-token' };
    const cross = await guardedRequest({ url: `http://127.0.0.1:${front.port}/to-other`, headers }, { policy });
    expect(cross.url).toBe(`http://127.0.0.1:${other.port}/x`);
    expect(await text(cross.body)).toBe('auth=none');
    const same = await guardedRequest({ url: `http://127.0.0.1:${front.port}/to-same`, headers }, { policy });
    expect(await text(same.body)).toBe('auth=Bearer tenant-token');
  });

  it('stops after maxRedirects and returns the 3xx as is', async () => {
    const loop = await serve((_req, res) => res.writeHead(302, { location: '/again' }).end());
    const res = await guardedRequest({ url: `http://127.0.0.1:${loop.port}/` }, { policy: { allow: [`127.0.0.1:${loop.port}`] }, maxRedirects: 3 });
    expect(res.statusCode).toBe(302);
    expect(loop.hits).toHaveLength(4);
  });

  it('a server that sends more than the budget is cut off with TooLargeError', async () => {
    const big = await serve((_req, res) => res.end(Buffer.alloc(3 << 20, 1)));
    const res = await guardedRequest({ url: `http://127.0.0.1:${big.port}/` }, { policy: { allow: [`127.0.0.1:${big.port}`] }, budget: new ByteBudget(1 << 20, 'a registry lookup') });
    await expect(text(res.body)).rejects.toThrow(TooLargeError);
  });
});

// The engine against a scripted sidecar (the real protocol over a real TCP connection), for what the
// real sidecar cannot be made to do on purpose: deliver remote news out of order.
import { afterEach, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import { createServer, connect as netConnect, type AddressInfo, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { Connection, RecordWriter, type Channel } from '@dsa/api/sync';
import { SyncSession } from './session.js';

const cleanups: Array<() => Promise<void> | void> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function waitFor(what: string, cond: () => boolean, timeoutMs = 10_000): Promise<void> {
  const t0 = Date.now();
  while (!cond()) {
    if (Date.now() - t0 > timeoutMs) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 5));
  }
}

/** A sidecar serving one empty sync path; the test pushes watch records itself. */
async function scriptedSidecar(): Promise<{ port: number; watch: Promise<Channel> }> {
  let gotWatch!: (ch: Channel) => void;
  const watch = new Promise<Channel>((r) => (gotWatch = r));
  const drain = async (ch: Channel) => {
    while ((await ch.read()) !== null) {
      /* requests are not needed here */
    }
  };
  const server = createServer((sock: Socket) => {
    void Connection.establish(sock, {
      role: 'sidecar',
      software: 'scripted sidecar',
      onChannel: async (ch) => {
        switch (ch.params.kind) {
          case 'path':
            await ch.send({ ok: true, replicaId: 'scripted-1' });
            await ch.end();
            return drain(ch);
          case 'watch':
            await ch.send({ ready: true });
            gotWatch(ch);
            return;
          case 'scan':
          case 'start':
            await drain(ch);
            if (ch.params.kind === 'start') await ch.send({ ok: true });
            await ch.end();
            return;
          default:
            throw new Error(`not scripted: ${ch.params.kind}`);
        }
      },
    }).then((c) => cleanups.push(() => c.close('test over')), () => undefined);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  cleanups.push(() => new Promise<void>((r) => server.close(() => r())));
  return { port: (server.address() as AddressInfo).port, watch };
}

describe('remote news', () => {
  it('older news of a path that arrives after newer news (lower sequence number) is dropped', async () => {
    const root = fs.mkdtempSync(path.join(tmpdir(), 'dsa-path-sync-'));
    cleanups.push(() => fs.rmSync(root, { recursive: true, force: true }));
    const local = path.join(root, 'local');
    fs.mkdirSync(local);
    const sidecar = await scriptedSidecar();
    const session = new SyncSession({
      connect: async () => {
        const s = netConnect(sidecar.port, '127.0.0.1');
        await new Promise((r) => s.once('connect', r));
        return s;
      },
      paths: [{ devPod: 'api', sync: 0, localPath: local, containerPath: '/app0' }],
      stateDir: path.join(root, 'state'),
      sessionKey: 'seq',
    });
    session.start();
    cleanups.push(() => session.stop());
    await session.initialSyncDone;
    const w = new RecordWriter(await sidecar.watch);
    const push = async (p: string, body: string, m: number, q: number) => {
      await w.head({ p, t: 'f', s: body.length, m, c: m, x: 0o644, q });
      await w.content(Buffer.from(body));
      await w.endFile(true);
      await w.flush();
    };
    const file = (p: string) => (fs.existsSync(path.join(local, p)) ? fs.readFileSync(path.join(local, p), 'utf8') : undefined);
    await push('a.txt', 'newer', 2_000_000, 10);
    await waitFor('the newer version', () => file('a.txt') === 'newer');
    await push('a.txt', 'older', 1_000_000, 5); // observed before the one above, arrived after it
    await push('b.txt', 'marker', 3_000_000, 11);
    await waitFor('the marker', () => file('b.txt') === 'marker');
    expect(file('a.txt')).toBe('newer');
    await push('a.txt', 'newest', 4_000_000, 12);
    await waitFor('the newest version', () => file('a.txt') === 'newest');
  });
});

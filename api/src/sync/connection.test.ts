import { describe, expect, it, afterEach } from '@jest/globals';
import { Duplex } from 'node:stream';
import { createHash, randomBytes } from 'node:crypto';
import { Connection, type Channel, type ConnectionOptions } from './connection.js';
import { duplexPair, type Link } from './duplex-pair.test-util.js';
import { FrameDecoder, FrameType, encodeFrame, encodePreamble } from './frames.js';
import {
  ChannelError,
  ConnectionLostError,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_WINDOW,
  MAX_FRAME_PAYLOAD,
  ProtocolError,
  SYNC_PROTOCOL_VERSION,
  VersionMismatchError,
} from './protocol.js';
import { RecordReader, RecordWriter } from './records.js';

const links: Link[] = [];
const conns: Connection[] = [];
afterEach(() => {
  for (const c of conns.splice(0)) c.close('test over');
  for (const l of links.splice(0)) l.close();
});

async function pair(agent: Partial<ConnectionOptions> = {}, sidecar: Partial<ConnectionOptions> = {}): Promise<{ a: Connection; s: Connection; link: Link }> {
  const link = duplexPair();
  links.push(link);
  const [a, s] = await Promise.all([
    Connection.establish(link.a, { role: 'agent', software: 'dsa test', ...agent }),
    Connection.establish(link.b, { role: 'sidecar', software: 'dsa-sidecar test', ...sidecar }),
  ]);
  conns.push(a, s);
  return { a, s, link };
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

describe('handshake', () => {
  it('exchanges hellos and opens channels both ways', async () => {
    const echo = async (ch: Channel) => {
      for await (const item of ch) {
        if (item.kind === 'msg') await ch.send({ echo: item.value });
        else await ch.write(item.data);
      }
      await ch.end();
    };
    const { a } = await pair({}, { onChannel: echo });
    expect(a.peer.software).toBe('dsa-sidecar test');
    const ch = a.open({ kind: 'restart' });
    await ch.send({ hello: 1 });
    await ch.write(Buffer.from('bytes'));
    await ch.end();
    const got = [];
    for await (const item of ch) got.push(item.kind === 'msg' ? item.value : item.data.toString());
    expect(got).toEqual([{ echo: { hello: 1 } }, 'bytes']);
    await ch.closed;
    expect(a.openChannels).toBe(0);
  });

  it('refuses a newer sidecar, naming both versions and what to do', async () => {
    const link = duplexPair();
    links.push(link);
    const [ra, rs] = await Promise.allSettled([
      Connection.establish(link.a, { role: 'agent', software: 'dsa' }),
      Connection.establish(link.b, { role: 'sidecar', software: 'dsa-sidecar', protocolVersion: SYNC_PROTOCOL_VERSION + 1 }),
    ]);
    expect(ra.status).toBe('rejected');
    const e = (ra as PromiseRejectedResult).reason as VersionMismatchError;
    expect(e).toBeInstanceOf(VersionMismatchError);
    expect(e.message).toContain(`speaks sync protocol ${SYNC_PROTOCOL_VERSION + 1}, this dsa speaks ${SYNC_PROTOCOL_VERSION}: update dsa`);
    expect(rs.status).toBe('rejected');
    expect(((rs as PromiseRejectedResult).reason as Error).message).toContain("the agent speaks sync protocol 1, this sidecar speaks 2: update dsa on the developer's machine");
  });

  it('refuses an older sidecar image, saying so', async () => {
    const link = duplexPair();
    links.push(link);
    const [ra] = await Promise.allSettled([
      Connection.establish(link.a, { role: 'agent', software: 'dsa', protocolVersion: SYNC_PROTOCOL_VERSION + 1 }),
      Connection.establish(link.b, { role: 'sidecar', software: 'dsa-sidecar' }),
    ]);
    const msg = ((ra as PromiseRejectedResult).reason as Error).message;
    expect(msg).toContain(`speaks sync protocol ${SYNC_PROTOCOL_VERSION}, this dsa speaks ${SYNC_PROTOCOL_VERSION + 1}: the operator's sidecar image is older`);
  });

  it('times out a silent peer during the handshake', async () => {
    const link = duplexPair();
    links.push(link);
    await expect(Connection.establish(link.a, { role: 'agent', software: 'dsa', handshakeTimeoutMs: 200 })).rejects.toThrow(/no answer from the other side/);
  });

  it('fails cleanly on garbage after the handshake and tells the peer', async () => {
    const link = duplexPair();
    links.push(link);
    const sP = Connection.establish(link.b, { role: 'sidecar', software: 's' });
    link.a.write(encodePreamble());
    link.a.write(encodeFrame(FrameType.Hello, 0, Buffer.from(JSON.stringify({ role: 'agent', software: 'x', window: DEFAULT_WINDOW }))));
    const s = await sP;
    conns.push(s);
    const told: Buffer[] = [];
    link.a.on('data', (c: Buffer) => told.push(c));
    link.a.write(Buffer.from([0, 0, 0, 1, 99, 0, 0, 0, 1, 0]));
    const reason = await s.closed;
    expect(reason).toBeInstanceOf(ProtocolError);
    expect(reason.message).toBe('unknown frame type 99');
    await sleep(20);
    expect(Buffer.concat(told).toString()).toContain('unknown frame type 99');
  });
});

describe('flow control', () => {
  it('a slow reader bounds what the writer queues and what the reader buffers', async () => {
    let receiverCh: Channel | undefined;
    let maxQueued = 0;
    let maxWriterQueue = 0;
    const digest = createHash('sha256');
    let received = 0;
    const done = new Promise<void>((resolve) => {
      void pair(
        {},
        {
          onChannel: async (ch) => {
            receiverCh = ch;
            for await (const item of ch) {
              if (item.kind !== 'data') continue;
              digest.update(item.data);
              received += item.data.length;
              maxQueued = Math.max(maxQueued, ch.queuedBytes);
              await sleep(1); // a slow consumer (a disk, a socket)
            }
            await ch.end();
            resolve();
          },
        },
      ).then(async ({ a }) => {
        const ch = a.open({ kind: 'write', path: 0 });
        const sent = createHash('sha256');
        const block = randomBytes(64 * 1024);
        for (let i = 0; i < 320; i++) {
          sent.update(block);
          await ch.write(block);
          maxWriterQueue = Math.max(maxWriterQueue, a.queuedBytes);
        }
        await ch.end();
        expectedDigest = sent.digest('hex');
      });
    });
    let expectedDigest = '';
    await done;
    expect(receiverCh).toBeDefined();
    expect(received).toBe(320 * 64 * 1024);
    expect(digest.digest('hex')).toBe(expectedDigest);
    // 20 MiB went through a 1 MiB window: neither side ever held more than a window (+ a frame).
    expect(maxQueued).toBeLessThanOrEqual(DEFAULT_WINDOW + MAX_FRAME_PAYLOAD);
    expect(maxWriterQueue).toBeLessThanOrEqual(DEFAULT_WINDOW + MAX_FRAME_PAYLOAD);
  }, 30_000);

  it('cuts off a peer that sends beyond its credit', async () => {
    const link = duplexPair();
    links.push(link);
    const sP = Connection.establish(link.b, { role: 'sidecar', software: 's', onChannel: () => new Promise(() => undefined) });
    link.a.write(encodePreamble());
    link.a.write(encodeFrame(FrameType.Hello, 0, Buffer.from(JSON.stringify({ role: 'agent', software: 'x', window: DEFAULT_WINDOW }))));
    const s = await sP;
    conns.push(s);
    link.a.write(encodeFrame(FrameType.Open, 1, Buffer.from(JSON.stringify({ kind: 'write', path: 0 }))));
    for (let i = 0; i < DEFAULT_WINDOW / MAX_FRAME_PAYLOAD + 1; i++) link.a.write(encodeFrame(FrameType.Data, 1, Buffer.alloc(MAX_FRAME_PAYLOAD)));
    const reason = await s.closed;
    expect(reason).toBeInstanceOf(ProtocolError);
    expect(reason.message).toMatch(/beyond its credit/);
  });

  it('bounds the channels a peer may open', async () => {
    const { a } = await pair({}, { maxChannels: 2, onChannel: () => new Promise(() => undefined) });
    a.open({ kind: 'start' });
    a.open({ kind: 'start' });
    const third = a.open({ kind: 'start' });
    await expect(third.read()).rejects.toThrow(/too many open channels \(limit 2\)/);
  });

  it('resets a channel whose handler fails, and the connection carries on', async () => {
    const { a } = await pair(
      {},
      {
        onChannel: async (ch) => {
          if (ch.kind === 'restart') throw new Error('nope');
          await ch.send({ ok: true });
          await ch.end();
        },
      },
    );
    await expect(a.open({ kind: 'restart' }).read()).rejects.toEqual(new ChannelError('nope'));
    expect(await a.open({ kind: 'start' }).readMsg()).toEqual({ ok: true });
    await expect(a.open({ kind: 'bogus' } as never).read()).rejects.toThrow(/unknown channel kind "bogus"/);
  });
});

describe('liveness', () => {
  it('the defaults notice a dead peer within about 5 s', () => {
    expect(DEFAULT_IDLE_TIMEOUT_MS + DEFAULT_PING_INTERVAL_MS).toBeLessThanOrEqual(6000);
  });

  it('notices a dead peer (silent link) within the idle timeout, on both sides', async () => {
    const { a, s, link } = await pair({ pingIntervalMs: 50, idleTimeoutMs: 300 }, { pingIntervalMs: 50, idleTimeoutMs: 300 });
    const ch = a.open({ kind: 'start' });
    const t0 = Date.now();
    link.cut();
    const [ra, rs] = await Promise.all([a.closed, s.closed]);
    expect(Date.now() - t0).toBeLessThan(1000);
    expect(ra).toBeInstanceOf(ConnectionLostError);
    expect(ra.message).toMatch(/no sign of life/);
    expect(rs.message).toMatch(/no sign of life/);
    await expect(ch.read()).rejects.toThrow(/connection lost/);
  });

  it('keeps a healthy idle connection', async () => {
    const { a, s } = await pair({ pingIntervalMs: 30, idleTimeoutMs: 150 }, { pingIntervalMs: 30, idleTimeoutMs: 150 });
    await sleep(800);
    expect(a.isClosed).toBe(false);
    expect(s.isClosed).toBe(false);
    expect(a.rttMs).toBeDefined();
  });

  it('control frames jump the write queue: a PONG goes out ahead of a data backlog', async () => {
    // A transport that completes each write only when the test releases it (a WebSocket that is behind).
    const written: Buffer[] = [];
    const held: Array<() => void> = [];
    const stream = new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        written.push(Buffer.from(chunk));
        held.push(cb);
      },
    });
    const release = async () => {
      for (let k = 0; k < 100 && held.length; k++) {
        held.shift()!();
        await sleep(1);
      }
    };
    const aP = Connection.establish(stream, { role: 'agent', software: 'dsa', pingIntervalMs: 60_000 });
    stream.push(Buffer.concat([encodePreamble(), encodeFrame(FrameType.Hello, 0, Buffer.from(JSON.stringify({ role: 'sidecar', software: 's', window: DEFAULT_WINDOW })))]));
    const a = await aP;
    conns.push(a);
    await release();
    const ch = a.open({ kind: 'write', path: 0 });
    await ch.write(Buffer.alloc(4 * MAX_FRAME_PAYLOAD)); // a window of data, queued behind the transport
    stream.push(encodeFrame(FrameType.Ping, 0, Buffer.alloc(8)));
    await sleep(5);
    await release();
    const types = new FrameDecoder().push(Buffer.concat(written)).map((f) => f.type);
    const { Hello, Open, Data, Pong } = FrameType;
    expect(types).toEqual([Hello, Open, Data, Pong, Data, Data, Data]);
  });

  it('a stall of our own event loop is not blamed on the peer', async () => {
    const { a, s } = await pair({ pingIntervalMs: 50, idleTimeoutMs: 300 }, { pingIntervalMs: 50, idleTimeoutMs: 300 });
    await sleep(100);
    const until = Date.now() + 700; // both ends live in this process: neither can read nor write meanwhile
    while (Date.now() < until) {
      /* busy */
    }
    await sleep(200);
    expect(a.isClosed).toBe(false);
    expect(s.isClosed).toBe(false);
  });

  it('the other side closing is reported, and pending reads fail', async () => {
    const { a, s } = await pair({}, { onChannel: () => new Promise(() => undefined) });
    const ch = a.open({ kind: 'scan', path: 0 });
    s.close('bye');
    expect((await a.closed).message).toMatch(/bye/);
    await expect(ch.read()).rejects.toThrow(ChannelError);
  });
});

describe('change records', () => {
  it('pack entries and content into frames and read back in order, checking sizes', async () => {
    const big = randomBytes(MAX_FRAME_PAYLOAD * 2 + 123);
    const { a } = await pair(
      {},
      {
        onChannel: async (ch) => {
          const w = new RecordWriter(ch);
          await w.head({ p: 'small.txt', t: 'f', s: 5, m: 1, c: 1, x: 0o644 });
          await w.content(Buffer.from('hello'));
          await w.endFile(true);
          await w.stat({ p: 'dir', t: 'd', s: 0, m: 0, c: 0, x: 0o755 });
          await w.head({ p: 'big.bin', t: 'f', s: big.length, m: 2, c: 2, x: 0o755 });
          let off = 0;
          await w.contentFrom(async (buf, o, len) => {
            const n = Math.min(len, big.length - off);
            big.copy(buf, o, off, off + n);
            off += n;
            return n;
          }, big.length);
          await w.endFile(true);
          await w.head({ p: '../escape', t: 'f', s: 3, m: 1, c: 1, x: 0o644 });
          await w.content(Buffer.from('bad'));
          await w.endFile(true);
          await w.head({ p: 'gone', t: '-' });
          await w.error('x', 'cannot read');
          await w.flush();
          await ch.end();
        },
      },
    );
    const ch = a.open({ kind: 'read', path: 0 });
    await ch.end();
    const r = new RecordReader(ch);
    const got: string[] = [];
    const bigParts: Buffer[] = [];
    let inBig = false;
    for (;;) {
      const rec = await r.next();
      if (!rec) break;
      if (rec.tag === 'H' || rec.tag === 'S') {
        inBig = rec.change?.p === 'big.bin';
        got.push(`${rec.tag}:${rec.change ? rec.change.p : `unsafe(${rec.message})`}`);
      } else if (rec.tag === 'C') {
        if (inBig) bigParts.push(Buffer.from(rec.data));
        else got.push(`C:${rec.data.toString()}`);
      } else if (rec.tag === 'E') got.push(`E:${rec.ok}`);
      else if (rec.tag === 'X') got.push(`X:${rec.p}:${rec.message}`);
    }
    expect(got).toEqual([
      'H:small.txt',
      'C:hello',
      'E:true',
      'S:dir',
      'H:big.bin',
      'E:true',
      'H:unsafe(refusing path "../escape": ".." component)',
      'C:bad',
      'E:true',
      'H:gone',
      'X:x:cannot read',
    ]);
    expect(Buffer.concat(bigParts).equals(big)).toBe(true);
  });

  it('a file announced complete but short is a protocol error', async () => {
    const { a } = await pair(
      {},
      {
        onChannel: async (ch) => {
          const w = new RecordWriter(ch);
          await w.head({ p: 'f', t: 'f', s: 10, m: 1, c: 1, x: 0o644 });
          await w.content(Buffer.from('short'));
          await w.endFile(true);
          await w.flush();
          await ch.end();
        },
      },
    );
    const ch = a.open({ kind: 'read', path: 0 });
    const r = new RecordReader(ch);
    await r.next();
    await r.next();
    await expect(r.next()).rejects.toThrow(/5 bytes short of 10/);
  });
});

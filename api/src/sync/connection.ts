// One sync connection over any byte duplex (the exec's stdin/stdout, a child's pipes): handshake,
// multiplexed channels, credit-based flow control, liveness.
//
// Why credit at this level: client-node's exec stdin ignores backpressure and its WebSocket receive
// side never pauses, so neither direction of the transport can be trusted to push back. Each channel
// therefore has a window (DEFAULT_WINDOW) of MSG/DATA payload the peer may send before the receiver
// grants more with a CREDIT frame, which it does only as its consumer takes items off the queue.
// A peer that exceeds its credit is cut off. Memory held for the peer is bounded by
// maxChannels × window + one frame; what we queue for writing is bounded by our credits.
//
// Liveness: each side pings every pingIntervalMs; any frame from the peer counts as a sign of life;
// idleTimeoutMs of silence means the peer is gone. Control frames (PING, PONG, CREDIT) jump the
// write queue so a long data backlog cannot starve them.
import type { Duplex } from 'node:stream';
import { encodeFrame, encodeFrameHeader, encodePreamble, FrameDecoder, FrameType, type Frame, type FrameTypeValue } from './frames.js';
import {
  ChannelError,
  ConnectionLostError,
  DEFAULT_HANDSHAKE_TIMEOUT_MS,
  DEFAULT_IDLE_TIMEOUT_MS,
  DEFAULT_MAX_CHANNELS,
  DEFAULT_PING_INTERVAL_MS,
  DEFAULT_WINDOW,
  MAX_FRAME_PAYLOAD,
  ProtocolError,
  SYNC_PROTOCOL_VERSION,
  VersionMismatchError,
  parseHello,
  parseOpenParams,
  versionMismatchMessage,
  type Hello,
  type OpenParams,
  type Role,
} from './protocol.js';

export interface ConnectionOptions {
  role: Role;
  software: string;
  /** Called for every channel the peer opens. Throwing (or returning a rejected promise) resets it. */
  onChannel?: (ch: Channel) => void | Promise<void>;
  pingIntervalMs?: number;
  idleTimeoutMs?: number;
  handshakeTimeoutMs?: number;
  /** Receive window granted per channel. */
  window?: number;
  /** Channels the peer may have open at once. */
  maxChannels?: number;
  /** Tests only: claim another protocol version. */
  protocolVersion?: number;
  /** Largest write handed to the stream at once (small frames are coalesced up to it). */
  writeCoalesceBytes?: number;
}

export type ChannelItem = { kind: 'msg'; value: unknown; size: number } | { kind: 'data'; data: Buffer; size: number };

const MAX_CHANNEL_ID = 0xffff_fff0;

/**
 * One multiplexed, flow-controlled, ordered stream of items each way. Read with `read()` or
 * `for await`; send with `send()` (JSON) and `write()` (bytes), which wait for credit.
 */
export class Channel {
  /** Credit we have for sending. */
  private credit: number;
  /** Bytes the peer may still send before we grant more (ours to enforce). */
  private allowance: number;
  /** Consumed but not yet granted back. */
  private unacked = 0;
  private readonly queue: ChannelItem[] = [];
  private readers: Array<{ resolve: (v: ChannelItem | null) => void; reject: (e: Error) => void }> = [];
  private creditWaiters: Array<() => void> = [];
  private sendChain: Promise<void> = Promise.resolve();
  private remoteEnded = false;
  private localEnded = false;
  private failure: Error | undefined;
  private settle!: () => void;
  /** Resolves when the channel is fully closed (both ENDs, a reset, or the connection ended). */
  readonly closed: Promise<void> = new Promise<void>((r) => (this.settle = r));

  constructor(
    private readonly conn: Connection,
    readonly id: number,
    readonly params: OpenParams,
    private readonly window: number,
    peerWindow: number,
  ) {
    this.credit = peerWindow;
    this.allowance = window;
  }

  get kind(): OpenParams['kind'] {
    return this.params.kind;
  }

  /** Bytes received and not yet read by the consumer (bounded by the window). */
  get queuedBytes(): number {
    let n = 0;
    for (const i of this.queue) n += i.size;
    return n;
  }

  /** The error that ended this channel, if any. */
  get error(): Error | undefined {
    return this.failure;
  }

  /** Send a JSON message (at most MAX_FRAME_PAYLOAD bytes once encoded). */
  send(value: unknown): Promise<void> {
    const payload = Buffer.from(JSON.stringify(value));
    if (payload.length > MAX_FRAME_PAYLOAD) return Promise.reject(new RangeError(`message of ${payload.length} bytes exceeds ${MAX_FRAME_PAYLOAD}`));
    return this.enqueue(FrameType.Msg, payload);
  }

  /** Send bytes (split into frames as needed). Resolves once queued within credit. */
  write(data: Buffer): Promise<void> {
    if (data.length <= MAX_FRAME_PAYLOAD) return this.enqueue(FrameType.Data, data);
    let p: Promise<void> = Promise.resolve();
    for (let off = 0; off < data.length; off += MAX_FRAME_PAYLOAD) p = this.enqueue(FrameType.Data, data.subarray(off, off + MAX_FRAME_PAYLOAD));
    return p;
  }

  /** Half close: we send nothing more. The channel closes when the peer has ended too. */
  end(): Promise<void> {
    const p = (this.sendChain = this.sendChain.then(() => {
      if (this.localEnded || this.failure) return;
      this.localEnded = true;
      this.conn.writeFrame(FrameType.End, this.id);
      this.maybeClosed();
    }));
    return p;
  }

  /** Abort both ways; the peer gets `message`. */
  reset(message: string): void {
    if (this.failure || (this.localEnded && this.remoteEnded)) return;
    this.conn.writeFrame(FrameType.Reset, this.id, Buffer.from(JSON.stringify({ message: message.slice(0, 2000) })));
    this.fail(new ChannelError(message), false);
  }

  /** Next item, or null once the peer ended. Rejects with ChannelError when reset or the connection ended. */
  read(): Promise<ChannelItem | null> {
    const item = this.queue.shift();
    if (item) {
      this.consumed(item.size);
      return Promise.resolve(item);
    }
    if (this.failure) return Promise.reject(this.failure);
    if (this.remoteEnded) return Promise.resolve(null);
    return new Promise((resolve, reject) => this.readers.push({ resolve, reject }));
  }

  /** Reads the next item and requires a JSON message (null at END). */
  async readMsg(): Promise<unknown> {
    const item = await this.read();
    if (item === null) return null;
    if (item.kind !== 'msg') throw new ProtocolError(`${this.kind} channel: expected a message, got data`);
    return item.value;
  }

  async *[Symbol.asyncIterator](): AsyncGenerator<ChannelItem> {
    for (;;) {
      const item = await this.read();
      if (item === null) return;
      yield item;
    }
  }

  // --- connection side ---

  /** @internal */
  receive(frame: Frame): void {
    switch (frame.type) {
      case FrameType.Msg:
      case FrameType.Data: {
        if (this.remoteEnded) throw new ProtocolError(`channel ${this.id}: data after end`);
        const size = frame.payload.length;
        this.allowance -= size;
        if (this.allowance < 0) throw new ProtocolError(`channel ${this.id}: the peer sent beyond its credit`);
        if (this.failure) return; // reset locally; drop what was in flight
        let item: ChannelItem;
        if (frame.type === FrameType.Msg) {
          let value: unknown;
          try {
            value = JSON.parse(frame.payload.toString('utf8'));
          } catch {
            throw new ProtocolError(`channel ${this.id}: malformed message`);
          }
          item = { kind: 'msg', value, size };
        } else {
          item = { kind: 'data', data: frame.payload, size };
        }
        const reader = this.readers.shift();
        if (reader) {
          this.consumed(size);
          reader.resolve(item);
        } else {
          this.queue.push(item);
        }
        return;
      }
      case FrameType.End:
        this.remoteEnded = true;
        if (this.queue.length === 0) for (const r of this.readers.splice(0)) r.resolve(null);
        this.maybeClosed();
        return;
      case FrameType.Reset: {
        let message = 'reset by peer';
        try {
          const v = JSON.parse(frame.payload.toString('utf8')) as { message?: unknown };
          if (typeof v.message === 'string') message = v.message.slice(0, 2000);
        } catch {
          /* keep the default */
        }
        this.fail(new ChannelError(message), false);
        return;
      }
      case FrameType.Credit: {
        if (frame.payload.length !== 4) throw new ProtocolError('bad credit frame');
        this.credit += frame.payload.readUInt32BE(0);
        if (this.credit > 2 ** 40) throw new ProtocolError('credit overflow');
        for (const w of this.creditWaiters.splice(0)) w();
        return;
      }
      default:
        throw new ProtocolError(`unexpected frame type ${frame.type} on channel ${this.id}`);
    }
  }

  /** @internal The connection ended (or the channel was reset): fail everything pending. */
  fail(err: Error, _fromConnection: boolean): void {
    if (this.failure || (this.localEnded && this.remoteEnded)) return;
    this.failure = err;
    this.queue.length = 0;
    for (const r of this.readers.splice(0)) r.reject(err);
    for (const w of this.creditWaiters.splice(0)) w();
    this.conn.forget(this.id);
    this.settle();
  }

  private enqueue(type: FrameTypeValue, payload: Buffer): Promise<void> {
    const p = (this.sendChain = this.sendChain.then(async () => {
      if (this.failure) throw this.failure;
      if (this.localEnded) throw new ChannelError(`${this.kind} channel: write after end`);
      while (this.credit < payload.length) {
        await new Promise<void>((r) => this.creditWaiters.push(r));
        if (this.failure) throw this.failure;
      }
      this.credit -= payload.length;
      this.conn.writeFrame(type, this.id, payload);
    }));
    // Keep the chain alive after a failure so later sends report it too.
    this.sendChain = p.catch(() => undefined);
    return p;
  }

  private consumed(size: number): void {
    this.unacked += size;
    // Half a window at a time: with frames at most half a window, a sender can only be waiting for
    // credit when at least half a window is consumed and unacknowledged (see the file comment).
    if (this.unacked >= this.window / 2 && !this.failure) {
      const b = Buffer.allocUnsafe(4);
      b.writeUInt32BE(this.unacked, 0);
      this.allowance += this.unacked;
      this.unacked = 0;
      this.conn.writeFrame(FrameType.Credit, this.id, b, true);
    }
  }

  private maybeClosed(): void {
    if (this.localEnded && this.remoteEnded && !this.failure) {
      this.conn.forget(this.id);
      this.settle();
    }
  }
}

/**
 * A sync connection. `Connection.establish` writes our preamble + hello, waits for the peer's,
 * refuses a version mismatch (VersionMismatchError), and then multiplexes channels.
 */
export class Connection {
  private readonly channels = new Map<number, Channel>();
  private readonly decoder = new FrameDecoder();
  private nextId: number;
  private readonly urgent: Buffer[] = [];
  private readonly out: Buffer[] = [];
  private writing = false;
  private lastHeard = Date.now();
  private pingTimer: NodeJS.Timeout | undefined;
  private failure: Error | undefined;
  private settle!: (e: Error) => void;
  private peerHello: Hello | undefined;
  private helloWaiter: { resolve: (h: Hello) => void; reject: (e: Error) => void } | undefined;
  private drainWaiter: (() => void) | undefined;
  private readonly window: number;
  private readonly maxChannels: number;
  private peerOpened = 0;
  /** Resolves with the reason when the connection has ended. */
  readonly closed: Promise<Error> = new Promise<Error>((r) => (this.settle = r));
  /** Last measured round-trip time (ms). */
  rttMs: number | undefined;

  private constructor(
    private readonly stream: Duplex,
    private readonly opts: ConnectionOptions,
  ) {
    this.nextId = opts.role === 'agent' ? 1 : 2;
    this.window = opts.window ?? DEFAULT_WINDOW;
    this.maxChannels = opts.maxChannels ?? DEFAULT_MAX_CHANNELS;
  }

  static async establish(stream: Duplex, opts: ConnectionOptions): Promise<Connection> {
    const c = new Connection(stream, opts);
    return c.start();
  }

  get peer(): Hello {
    if (!this.peerHello) throw new Error('handshake not done');
    return this.peerHello;
  }

  get isClosed(): boolean {
    return this.failure !== undefined;
  }

  get error(): Error | undefined {
    return this.failure;
  }

  /** Open a channel to the peer. Sending may start at once (within the peer's window). */
  open(params: OpenParams): Channel {
    if (this.failure) throw new ChannelError(`connection closed: ${this.failure.message}`);
    const id = this.nextId;
    this.nextId += 2;
    if (this.nextId > MAX_CHANNEL_ID) throw new ProtocolError('channel ids exhausted; reconnect');
    const ch = new Channel(this, id, params, this.window, this.peer.window);
    this.channels.set(id, ch);
    this.writeFrame(FrameType.Open, id, Buffer.from(JSON.stringify(params)));
    return ch;
  }

  /** Close the connection (peer gets GOAWAY with the reason, best effort). */
  close(reason = 'closed'): void {
    if (this.failure) return;
    try {
      this.stream.write(encodeFrame(FrameType.GoAway, 0, Buffer.from(JSON.stringify({ message: reason.slice(0, 2000) }))));
    } catch {
      /* the stream may be gone already */
    }
    this.terminate(new ConnectionLostError(reason));
  }

  /** Open channels (tests, status). */
  get openChannels(): number {
    return this.channels.size;
  }

  /** Bytes queued for writing (tests: bounded by credits). */
  get queuedBytes(): number {
    let n = 0;
    for (const b of this.out) n += b.length;
    for (const b of this.urgent) n += b.length;
    return n;
  }

  /** @internal */
  writeFrame(type: FrameTypeValue, channel: number, payload?: Buffer, urgent = false): void {
    if (this.failure) return;
    const q = urgent ? this.urgent : this.out;
    q.push(encodeFrameHeader(type, channel, payload?.length ?? 0));
    if (payload?.length) q.push(payload);
    void this.pump();
  }

  /** @internal */
  forget(id: number): void {
    const ch = this.channels.get(id);
    if (!ch) return;
    this.channels.delete(id);
    if (id % 2 !== this.nextId % 2) this.peerOpened--;
  }

  private async start(): Promise<Connection> {
    const { stream } = this;
    const helloP = new Promise<Hello>((resolve, reject) => (this.helloWaiter = { resolve, reject }));
    helloP.catch(() => undefined);
    stream.on('data', (chunk: Buffer) => this.onData(chunk));
    stream.on('end', () => this.terminate(new ConnectionLostError('the other side closed the connection')));
    stream.on('close', () => this.terminate(new ConnectionLostError('the connection closed')));
    stream.on('error', (e: Error) => this.terminate(new ConnectionLostError(`transport error: ${e.message}`)));
    stream.on('drain', () => {
      const w = this.drainWaiter;
      this.drainWaiter = undefined;
      w?.();
    });
    // The preamble is not a frame: written directly, ahead of everything.
    this.stream.write(encodePreamble(this.opts.protocolVersion ?? SYNC_PROTOCOL_VERSION));
    const hello: Hello = { role: this.opts.role, software: this.opts.software, window: this.window };
    this.writeFrame(FrameType.Hello, 0, Buffer.from(JSON.stringify(hello)));
    const timeout = this.opts.handshakeTimeoutMs ?? DEFAULT_HANDSHAKE_TIMEOUT_MS;
    const timer = setTimeout(() => this.terminate(new ConnectionLostError(`no answer from the other side within ${Math.round(timeout / 1000)} s (handshake)`)), timeout);
    try {
      await helloP;
    } finally {
      clearTimeout(timer);
    }
    if (this.failure) throw this.failure;
    this.lastHeard = Date.now();
    const interval = this.opts.pingIntervalMs ?? DEFAULT_PING_INTERVAL_MS;
    const idle = this.opts.idleTimeoutMs ?? DEFAULT_IDLE_TIMEOUT_MS;
    let lastTick = Date.now();
    this.pingTimer = setInterval(() => {
      const now = Date.now();
      // After a stall of our own event loop the peer's frames may be waiting unread: don't blame it.
      if (now - lastTick > 2 * interval) this.lastHeard = now;
      lastTick = now;
      const silent = now - this.lastHeard;
      if (silent > idle) {
        this.terminate(new ConnectionLostError(`no sign of life from the other side for ${(silent / 1000).toFixed(1)} s`));
        return;
      }
      const p = Buffer.allocUnsafe(8);
      p.writeDoubleBE(performance.now(), 0);
      this.writeFrame(FrameType.Ping, 0, p, true);
    }, interval);
    this.pingTimer.unref?.();
    return this;
  }

  private onData(chunk: Buffer): void {
    if (this.failure) return;
    this.lastHeard = Date.now();
    let frames: Frame[];
    try {
      frames = this.decoder.push(chunk);
      const v = this.decoder.peerVersion;
      const ours = this.opts.protocolVersion ?? SYNC_PROTOCOL_VERSION;
      if (v !== undefined && v !== ours) {
        throw new VersionMismatchError(versionMismatchMessage(this.opts.role, ours, v), ours, v);
      }
    } catch (e) {
      this.protocolFailure(e as Error);
      return;
    }
    for (const f of frames) {
      try {
        this.handleFrame(f);
      } catch (e) {
        this.protocolFailure(e as Error);
        return;
      }
      if (this.failure) return;
    }
  }

  private handleFrame(f: Frame): void {
    if (!this.peerHello) {
      if (f.type !== FrameType.Hello) {
        if (f.type === FrameType.GoAway) throw new ConnectionLostError(goAwayMessage(f.payload));
        throw new ProtocolError('the other side did not start with a hello');
      }
      const hello = parseHello(parseJson(f.payload, 'hello'));
      const expected: Role = this.opts.role === 'agent' ? 'sidecar' : 'agent';
      if (hello.role !== expected) throw new ProtocolError(`the other side says it is ${hello.role}; expected ${expected}`);
      // Set now, not when establish() resumes: the peer's next frames may be in this same chunk.
      this.peerHello = hello;
      this.helloWaiter?.resolve(hello);
      return;
    }
    switch (f.type) {
      case FrameType.Ping:
        this.writeFrame(FrameType.Pong, 0, f.payload.subarray(0, 8), true);
        return;
      case FrameType.Pong:
        if (f.payload.length === 8) this.rttMs = performance.now() - f.payload.readDoubleBE(0);
        return;
      case FrameType.GoAway:
        this.terminate(new ConnectionLostError(`the other side closed the connection: ${goAwayMessage(f.payload)}`));
        return;
      case FrameType.Hello:
        throw new ProtocolError('second hello');
      case FrameType.Open:
        this.handleOpen(f);
        return;
      default: {
        const ch = this.channels.get(f.channel);
        // Frames for a channel we closed or reset are still in flight: drop them.
        if (ch) ch.receive(f);
        else if (f.channel === 0) throw new ProtocolError(`unexpected frame type ${f.type} on the control channel`);
      }
    }
  }

  private handleOpen(f: Frame): void {
    const id = f.channel;
    if (id === 0 || id % 2 === this.nextId % 2 || this.channels.has(id)) throw new ProtocolError(`bad channel id ${id} in open`);
    let params: OpenParams;
    try {
      params = parseOpenParams(parseJson(f.payload, 'open'));
    } catch (e) {
      // A channel we cannot serve is refused; the connection stays up.
      this.writeFrame(FrameType.Reset, id, Buffer.from(JSON.stringify({ message: (e as Error).message })));
      return;
    }
    if (this.peerOpened >= this.maxChannels) {
      this.writeFrame(FrameType.Reset, id, Buffer.from(JSON.stringify({ message: `too many open channels (limit ${this.maxChannels})` })));
      return;
    }
    const ch = new Channel(this, id, params, this.window, this.peer.window);
    this.channels.set(id, ch);
    this.peerOpened++;
    const handler = this.opts.onChannel;
    if (!handler) {
      ch.reset(`no handler for ${params.kind} channels`);
      return;
    }
    Promise.resolve()
      .then(() => handler(ch))
      .catch((e: Error) => ch.reset(e?.message ?? String(e)));
  }

  private protocolFailure(e: Error): void {
    if (e instanceof ConnectionLostError) {
      this.terminate(e);
      return;
    }
    try {
      this.stream.write(encodeFrame(FrameType.GoAway, 0, Buffer.from(JSON.stringify({ message: e.message.slice(0, 2000) }))));
    } catch {
      /* ignore */
    }
    this.terminate(e);
  }

  private terminate(err: Error): void {
    if (this.failure) return;
    this.failure = err;
    if (this.pingTimer) clearInterval(this.pingTimer);
    this.helloWaiter?.reject(err);
    const chErr = err instanceof ChannelError ? err : new ChannelError(`connection lost: ${err.message}`);
    for (const ch of [...this.channels.values()]) ch.fail(chErr, true);
    this.channels.clear();
    this.out.length = 0;
    this.urgent.length = 0;
    this.drainWaiter?.();
    // Let a pending GOAWAY flush, then close our end.
    try {
      this.stream.end();
    } catch {
      /* ignore */
    }
    setTimeout(() => this.stream.destroy(), 200).unref?.();
    this.settle(err);
  }

  private async pump(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    const limit = this.opts.writeCoalesceBytes ?? MAX_FRAME_PAYLOAD;
    try {
      while (!this.failure && (this.urgent.length || this.out.length)) {
        // Coalesce queued frames into one write (one WebSocket message on exec), control first.
        // Headers and payloads are queued as separate parts; a frame's two parts always go together.
        // A frame that would take the write past `limit` waits for the next one (a lone frame goes as is).
        const parts: Buffer[] = [];
        let n = 0;
        while (this.urgent.length && (n === 0 || n + frameSize(this.urgent) <= limit)) n += takeFrame(parts, this.urgent);
        while (!this.urgent.length && this.out.length && (n === 0 || n + frameSize(this.out) <= limit)) n += takeFrame(parts, this.out);
        const buf = parts.length === 1 ? parts[0]! : Buffer.concat(parts, n);
        if (!this.stream.write(buf)) {
          await new Promise<void>((r) => (this.drainWaiter = r));
        }
      }
    } catch (e) {
      this.terminate(new ConnectionLostError(`write failed: ${(e as Error).message}`));
    } finally {
      this.writing = false;
    }
  }
}

/** Bytes of the first frame queued in `q` (header + payload). */
function frameSize(q: Buffer[]): number {
  const head = q[0]!;
  return head.length + head.readUInt32BE(0);
}

/** Move one frame (its header, and its payload when it has one) from `q` to `parts`. */
function takeFrame(parts: Buffer[], q: Buffer[]): number {
  const head = q.shift()!;
  parts.push(head);
  const len = head.readUInt32BE(0);
  if (len === 0) return head.length;
  const payload = q.shift()!;
  parts.push(payload);
  return head.length + payload.length;
}

function parseJson(payload: Buffer, what: string): unknown {
  try {
    return JSON.parse(payload.toString('utf8'));
  } catch {
    throw new ProtocolError(`malformed ${what}`);
  }
}

function goAwayMessage(payload: Buffer): string {
  try {
    const v = JSON.parse(payload.toString('utf8')) as { message?: unknown };
    return typeof v.message === 'string' ? v.message.slice(0, 2000) : 'no reason given';
  } catch {
    return 'no reason given';
  }
}

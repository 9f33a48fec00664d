// Binary framing of the sync protocol. After the preamble (magic + version), everything is a frame:
//
//   u32 BE payload length | u8 type | u32 BE channel | payload
//
// The length is checked against MAX_FRAME_PAYLOAD before anything is buffered, so garbage or a
// hostile peer can make the reader hold at most one frame. Pure: no IO here.
import { MAX_FRAME_PAYLOAD, PREAMBLE_LENGTH, PREAMBLE_MAGIC, ProtocolError, SYNC_PROTOCOL_VERSION } from './protocol.js';

export const FRAME_HEADER = 9;

export const FrameType = {
  /** channel 0: JSON Hello. */
  Hello: 1,
  /** JSON OpenParams; opens `channel` (agent-opened ids are odd, sidecar-opened even). */
  Open: 2,
  /** JSON message on a channel (counts against the channel's window). */
  Msg: 3,
  /** Bytes on a channel (counts against the channel's window). */
  Data: 4,
  /** The sender will send nothing more on this channel (half close). */
  End: 5,
  /** Abort the channel both ways; JSON `{ message }`. */
  Reset: 6,
  /** u32 BE: the receiver grants this many more bytes on the channel. */
  Credit: 7,
  /** channel 0: 8 bytes echoed in the Pong. */
  Ping: 8,
  Pong: 9,
  /** channel 0: JSON `{ message }`, the sender closes the connection after it. */
  GoAway: 10,
} as const;
export type FrameTypeValue = (typeof FrameType)[keyof typeof FrameType];

const MAX_TYPE = 10;

export interface Frame {
  type: FrameTypeValue;
  channel: number;
  payload: Buffer;
}

export function encodeFrame(type: FrameTypeValue, channel: number, payload: Buffer = EMPTY): Buffer {
  if (payload.length > MAX_FRAME_PAYLOAD) throw new RangeError(`frame payload of ${payload.length} bytes exceeds ${MAX_FRAME_PAYLOAD}`);
  const out = Buffer.allocUnsafe(FRAME_HEADER + payload.length);
  out.writeUInt32BE(payload.length, 0);
  out.writeUInt8(type, 4);
  out.writeUInt32BE(channel >>> 0, 5);
  payload.copy(out, FRAME_HEADER);
  return out;
}

/** The 9-byte header of a frame (the payload goes separately: one copy less on the write path). */
export function encodeFrameHeader(type: FrameTypeValue, channel: number, payloadLength: number): Buffer {
  if (payloadLength > MAX_FRAME_PAYLOAD) throw new RangeError(`frame payload of ${payloadLength} bytes exceeds ${MAX_FRAME_PAYLOAD}`);
  const out = Buffer.allocUnsafe(FRAME_HEADER);
  out.writeUInt32BE(payloadLength, 0);
  out.writeUInt8(type, 4);
  out.writeUInt32BE(channel >>> 0, 5);
  return out;
}

export function encodePreamble(version = SYNC_PROTOCOL_VERSION): Buffer {
  const out = Buffer.alloc(PREAMBLE_LENGTH);
  PREAMBLE_MAGIC.copy(out, 0);
  out.writeUInt16BE(version, PREAMBLE_MAGIC.length);
  return out;
}

const EMPTY = Buffer.alloc(0);

/** Printable prefix of unexpected bytes, for "the other side said …" messages. */
export function printable(buf: Buffer, max = 160): string {
  // eslint-disable-next-line no-control-regex
  return buf.subarray(0, max).toString('utf8').replace(/[\x00-\x08\x0b-\x1f\x7f]/g, '?').replace(/\s+/g, ' ').trim();
}

/**
 * Incremental decoder: push chunks as they arrive, get the peer's version once the preamble is in,
 * then whole frames. Keeps a list of chunks and copies only when a frame spans two of them.
 */
export class FrameDecoder {
  private chunks: Buffer[] = [];
  private length = 0;
  private version: number | undefined;

  constructor(private readonly maxPayload = MAX_FRAME_PAYLOAD) {}

  /** The peer's protocol version once its preamble was read. */
  get peerVersion(): number | undefined {
    return this.version;
  }

  /** Bytes buffered but not yet returned as frames (bounded by one header + one max frame + one chunk). */
  get buffered(): number {
    return this.length;
  }

  /**
   * Feed bytes; returns the frames completed by them. Throws ProtocolError on a bad preamble, an
   * unknown frame type or an oversized length. After the preamble the caller should check
   * `peerVersion` before trusting any frame (frames of another version may mean something else).
   */
  push(chunk: Buffer): Frame[] {
    if (chunk.length) {
      this.chunks.push(chunk);
      this.length += chunk.length;
    }
    const frames: Frame[] = [];
    if (this.version === undefined) {
      if (this.length < PREAMBLE_LENGTH) {
        // Fail early on something that cannot become our magic (e.g. a shell error on stdout).
        const head = this.peek(Math.min(this.length, PREAMBLE_MAGIC.length));
        if (!PREAMBLE_MAGIC.subarray(0, head.length).equals(head)) throw this.notOurs();
        return frames;
      }
      const pre = this.take(PREAMBLE_LENGTH);
      if (!pre.subarray(0, PREAMBLE_MAGIC.length).equals(PREAMBLE_MAGIC)) throw this.notOurs(Buffer.concat([pre, this.peek(Math.min(this.length, 400))]));
      this.version = pre.readUInt16BE(PREAMBLE_MAGIC.length);
      // A different version may frame differently: hand nothing more out; the caller refuses it.
      if (this.version !== SYNC_PROTOCOL_VERSION) return frames;
    }
    if (this.version !== SYNC_PROTOCOL_VERSION) return frames;
    while (this.length >= FRAME_HEADER) {
      const head = this.peek(FRAME_HEADER);
      const len = head.readUInt32BE(0);
      const type = head.readUInt8(4);
      if (type < 1 || type > MAX_TYPE) throw new ProtocolError(`unknown frame type ${type}`);
      if (len > this.maxPayload) throw new ProtocolError(`frame of ${len} bytes exceeds the limit of ${this.maxPayload}`);
      if (this.length < FRAME_HEADER + len) break;
      this.take(FRAME_HEADER);
      frames.push({ type: type as FrameTypeValue, channel: head.readUInt32BE(5), payload: len ? this.take(len) : EMPTY });
    }
    return frames;
  }

  private notOurs(extra?: Buffer): ProtocolError {
    const seen = extra ?? this.peek(Math.min(this.length, 400));
    return new ProtocolError(`the other side does not speak the dsa sync protocol (it said: "${printable(seen)}")`);
  }

  private peek(n: number): Buffer {
    const first = this.chunks[0];
    if (first && first.length >= n) return first.subarray(0, n);
    return Buffer.concat(this.chunks, Math.min(this.length, Math.max(n, 0))).subarray(0, n);
  }

  private take(n: number): Buffer {
    const first = this.chunks[0]!;
    if (first.length === n) {
      this.chunks.shift();
      this.length -= n;
      return first;
    }
    if (first.length > n) {
      this.chunks[0] = first.subarray(n);
      this.length -= n;
      return first.subarray(0, n);
    }
    const out = Buffer.allocUnsafe(n);
    let off = 0;
    while (off < n) {
      const c = this.chunks[0]!;
      const k = Math.min(c.length, n - off);
      c.copy(out, off, 0, k);
      off += k;
      if (k === c.length) this.chunks.shift();
      else this.chunks[0] = c.subarray(k);
    }
    this.length -= n;
    return out;
  }
}

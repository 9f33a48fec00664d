// How batches of changes travel on a channel: our own compact record framing inside DATA frames,
// not tar. Each record is `u8 tag | u32 BE length | payload` and never spans two frames, so many
// small files share one frame (one WebSocket message on exec) and a large file streams in
// frame-sized pieces read straight into the outgoing buffer.
//
//   S  JSON change, metadata only (scans; remote events of files too big to ride inline)
//   H  JSON change to apply; a file ('f') is followed by C records with exactly `s` bytes, then E
//   C  file content
//   E  end of file: 1 byte, 1 = complete, 0 = the file changed while being read (discard it)
//   X  JSON `{ p, message }`: this path could not be read
//
// Why not tar: a tar header needs the size before the content (a file being edited while we read it
// would corrupt the stream), it cannot say "delete" or carry the remote version an upload expects to
// replace (compare-and-swap), and it pads every entry to 512 bytes.
import type { Channel } from './connection.js';
import { parseChange, type WireChange } from './entry.js';
import { UnsafePathError, checkRelPath } from './paths.js';
import { MAX_FRAME_PAYLOAD, ProtocolError, asObject } from './protocol.js';

export const RecordTag = { Stat: 0x53, Head: 0x48, Content: 0x43, EndFile: 0x45, Error: 0x58 } as const;
const RECORD_HEADER = 5;

export type Rec =
  | { tag: 'S' | 'H'; change: WireChange }
  /** A change whose path is unsafe: skip it (and its content); `message` says why. */
  | { tag: 'S' | 'H'; change: null; message: string; isFile: boolean }
  | { tag: 'C'; data: Buffer }
  | { tag: 'E'; ok: boolean }
  | { tag: 'X'; p: string; message: string }
  | { tag: 'msg'; value: unknown };

/** Packs records into DATA frames on `ch`; `flush()` sends what is buffered. */
export class RecordWriter {
  private buf = Buffer.allocUnsafe(MAX_FRAME_PAYLOAD);
  private off = 0;
  /** Bytes handed to the channel (frames), for progress figures. */
  bytes = 0;

  /** `beforeFlush` runs before each frame leaves (the agent journals upload intents there). */
  constructor(
    private readonly ch: Channel,
    private readonly beforeFlush?: () => void,
  ) {}

  stat(change: WireChange): Promise<void> {
    return this.json(RecordTag.Stat, change);
  }

  head(change: WireChange): Promise<void> {
    return this.json(RecordTag.Head, change);
  }

  error(p: string, message: string): Promise<void> {
    return this.json(RecordTag.Error, { p, message: message.slice(0, 500) });
  }

  async endFile(ok: boolean): Promise<void> {
    await this.ensure(RECORD_HEADER + 1);
    this.header(RecordTag.EndFile, 1);
    this.buf[this.off++] = ok ? 1 : 0;
  }

  /** Content from a buffer (split over frames as needed). */
  async content(data: Buffer): Promise<void> {
    let off = 0;
    while (off < data.length) {
      const n = await this.reserve(data.length - off);
      this.header(RecordTag.Content, n);
      data.copy(this.buf, this.off, off, off + n);
      this.off += n;
      off += n;
    }
  }

  /**
   * Content read straight into the frame buffer: `read(buf, offset, length)` returns the bytes read
   * (0 at EOF). Reads at most `total` bytes; returns how many it got.
   */
  async contentFrom(read: (buf: Buffer, offset: number, length: number) => Promise<number>, total: number): Promise<number> {
    let got = 0;
    while (got < total) {
      const want = await this.reserve(total - got);
      const n = await read(this.buf, this.off + RECORD_HEADER, want);
      if (n <= 0) break;
      this.header(RecordTag.Content, n);
      this.off += n;
      got += n;
    }
    return got;
  }

  async flush(): Promise<void> {
    if (this.off === 0) return;
    this.beforeFlush?.();
    const frame = this.buf.subarray(0, this.off);
    this.buf = Buffer.allocUnsafe(MAX_FRAME_PAYLOAD);
    this.off = 0;
    this.bytes += frame.length;
    await this.ch.write(frame);
  }

  private async json(tag: number, value: unknown): Promise<void> {
    const payload = Buffer.from(JSON.stringify(value));
    if (payload.length + RECORD_HEADER > MAX_FRAME_PAYLOAD) throw new RangeError('record too large');
    await this.ensure(RECORD_HEADER + payload.length);
    this.header(tag, payload.length);
    payload.copy(this.buf, this.off);
    this.off += payload.length;
  }

  /** Room for a content record: how many content bytes fit (≥ 1), flushing first if little room is left. */
  private async reserve(wanted: number): Promise<number> {
    if (MAX_FRAME_PAYLOAD - this.off - RECORD_HEADER < Math.min(wanted, 4096)) await this.flush();
    return Math.min(wanted, MAX_FRAME_PAYLOAD - this.off - RECORD_HEADER);
  }

  private header(tag: number, len: number): void {
    this.buf[this.off] = tag;
    this.buf.writeUInt32BE(len, this.off + 1);
    this.off += RECORD_HEADER;
  }

  private async ensure(n: number): Promise<void> {
    if (MAX_FRAME_PAYLOAD - this.off < n) await this.flush();
  }
}

/**
 * Reads records from `ch`, checking their order: C only between an H of a file and its E, and a
 * complete file has exactly the announced size. JSON messages on the channel come out as `msg`.
 */
export class RecordReader {
  private frame: Buffer | undefined;
  private off = 0;
  /** Remaining bytes of the file whose content is being read, or undefined outside a file. */
  private fileLeft: number | undefined;
  private fileSize = 0;
  bytes = 0;

  constructor(private readonly ch: Channel) {}

  /**
   * Content records of the current file until its E record; false when the sender discarded it. A
   * failing sink does not stop the reading (the stream must stay in step): its error is thrown at E.
   */
  async content(sink: (d: Buffer) => void | Promise<void>): Promise<boolean> {
    let failure: unknown;
    for (;;) {
      const rec = await this.next();
      if (rec === null) throw new ProtocolError('channel ended inside a file');
      if (rec.tag === 'C') {
        if (failure === undefined) {
          try {
            await sink(rec.data);
          } catch (e) {
            failure = e;
          }
        }
      } else if (rec.tag === 'E') {
        if (failure !== undefined) throw failure;
        return rec.ok;
      } else {
        throw new ProtocolError(`unexpected ${rec.tag} record inside a file`);
      }
    }
  }

  async next(): Promise<Rec | null> {
    while (!this.frame || this.off >= this.frame.length) {
      const item = await this.ch.read();
      if (item === null) {
        if (this.fileLeft !== undefined) throw new ProtocolError('channel ended inside a file');
        return null;
      }
      if (item.kind === 'msg') return { tag: 'msg', value: item.value };
      this.frame = item.data;
      this.off = 0;
      this.bytes += item.data.length;
    }
    const f = this.frame;
    if (f.length - this.off < RECORD_HEADER) throw new ProtocolError('truncated record');
    const tag = f[this.off]!;
    const len = f.readUInt32BE(this.off + 1);
    const start = this.off + RECORD_HEADER;
    if (len > f.length - start) throw new ProtocolError('record spans frames');
    this.off = start + len;
    const payload = f.subarray(start, start + len);
    switch (tag) {
      case RecordTag.Content:
        if (this.fileLeft === undefined) throw new ProtocolError('content outside a file');
        this.fileLeft -= len;
        if (this.fileLeft < 0) throw new ProtocolError('more content than the file size');
        return { tag: 'C', data: payload };
      case RecordTag.EndFile: {
        if (this.fileLeft === undefined || len !== 1) throw new ProtocolError('misplaced end of file');
        const ok = payload[0] === 1;
        if (ok && this.fileLeft !== 0) throw new ProtocolError(`file ended ${this.fileLeft} bytes short of ${this.fileSize}`);
        this.fileLeft = undefined;
        return { tag: 'E', ok };
      }
      case RecordTag.Stat:
      case RecordTag.Head: {
        if (this.fileLeft !== undefined) throw new ProtocolError('entry inside a file');
        const t = tag === RecordTag.Stat ? 'S' : 'H';
        let raw: unknown;
        try {
          raw = JSON.parse(payload.toString('utf8'));
        } catch {
          throw new ProtocolError('malformed entry');
        }
        const isFile = t === 'H' && (raw as { t?: unknown })?.t === 'f';
        try {
          const change = parseChange(raw);
          if (isFile) {
            this.fileLeft = change.t === 'f' ? change.s : 0;
            this.fileSize = this.fileLeft;
          }
          return { tag: t, change };
        } catch (e) {
          if (!(e instanceof UnsafePathError)) throw e;
          if (isFile) {
            const s = (raw as { s?: unknown }).s;
            if (typeof s !== 'number' || !Number.isSafeInteger(s) || s < 0) throw new ProtocolError('bad size');
            this.fileLeft = s;
            this.fileSize = s;
          }
          return { tag: t, change: null, message: e.message, isFile };
        }
      }
      case RecordTag.Error: {
        let raw: unknown;
        try {
          raw = JSON.parse(payload.toString('utf8'));
        } catch {
          throw new ProtocolError('malformed error record');
        }
        const o = asObject(raw, 'error record');
        let p: string;
        try {
          p = checkRelPath(o.p);
        } catch {
          p = '?';
        }
        return { tag: 'X', p, message: typeof o.message === 'string' ? o.message.slice(0, 500) : 'unknown error' };
      }
      default:
        throw new ProtocolError(`unknown record tag ${tag}`);
    }
  }
}

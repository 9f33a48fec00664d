import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { FRAME_HEADER, FrameDecoder, FrameType, encodeFrame, encodePreamble, type Frame } from './frames.js';
import { MAX_FRAME_PAYLOAD, PREAMBLE_LENGTH, ProtocolError, SYNC_PROTOCOL_VERSION } from './protocol.js';

const frameArb = fc.record({
  type: fc.constantFrom(...Object.values(FrameType)),
  channel: fc.integer({ min: 0, max: 0xffffffff }),
  payload: fc.uint8Array({ maxLength: 3000 }).map((u) => Buffer.from(u)),
});

/** Split `buf` at the given cut points (any chunking must decode the same). */
function chunks(buf: Buffer, cuts: number[]): Buffer[] {
  const points = [...new Set(cuts.map((c) => c % (buf.length + 1)))].sort((x, y) => x - y);
  const out: Buffer[] = [];
  let prev = 0;
  for (const p of points) {
    out.push(buf.subarray(prev, p));
    prev = p;
  }
  out.push(buf.subarray(prev));
  return out;
}

describe('framing', () => {
  it('round-trips any frames through any chunking', () => {
    fc.assert(
      fc.property(fc.array(frameArb, { maxLength: 20 }), fc.array(fc.nat(), { maxLength: 30 }), (frames, cuts) => {
        const wire = Buffer.concat([encodePreamble(), ...frames.map((f) => encodeFrame(f.type, f.channel, f.payload))]);
        const dec = new FrameDecoder();
        const got: Frame[] = [];
        for (const c of chunks(wire, cuts)) got.push(...dec.push(c));
        expect(dec.peerVersion).toBe(SYNC_PROTOCOL_VERSION);
        expect(got.map((f) => ({ type: f.type, channel: f.channel, payload: Buffer.from(f.payload) }))).toEqual(frames);
        expect(dec.buffered).toBe(0);
      }),
      { numRuns: 500 },
    );
  });

  it('refuses oversized payloads when encoding', () => {
    expect(() => encodeFrame(FrameType.Data, 1, Buffer.alloc(MAX_FRAME_PAYLOAD + 1))).toThrow(RangeError);
  });

  it('rejects a length above the limit from its header alone (no allocation for it)', () => {
    const dec = new FrameDecoder();
    dec.push(encodePreamble());
    const head = Buffer.alloc(FRAME_HEADER);
    head.writeUInt32BE(0xffffffff, 0);
    head.writeUInt8(FrameType.Data, 4);
    expect(() => dec.push(head)).toThrow(/exceeds the limit/);
  });

  it('says what the other side printed when it is not our protocol', () => {
    const dec = new FrameDecoder();
    expect(() => dec.push(Buffer.from('sh: /usr/local/bin/dsa-sidecar: not found\n'))).toThrow(/does not speak the dsa sync protocol \(it said: "sh: \/usr\/local\/bin\/dsa-sidecar: not found"\)/);
  });

  it('stops decoding after a preamble of another version', () => {
    const dec = new FrameDecoder();
    const frames = dec.push(Buffer.concat([encodePreamble(SYNC_PROTOCOL_VERSION + 1), Buffer.from('whatever the new framing is')]));
    expect(frames).toEqual([]);
    expect(dec.peerVersion).toBe(SYNC_PROTOCOL_VERSION + 1);
  });

  it('garbage never crashes the decoder: a ProtocolError or frames, and bounded buffering', () => {
    fc.assert(
      fc.property(fc.boolean(), fc.array(fc.uint8Array({ maxLength: 600 }), { maxLength: 40 }), (withPreamble, parts) => {
        const dec = new FrameDecoder();
        try {
          if (withPreamble) dec.push(encodePreamble());
          for (const p of parts) {
            dec.push(Buffer.from(p));
            // Never more than a header plus the largest frame plus the chunk just pushed.
            expect(dec.buffered).toBeLessThanOrEqual(PREAMBLE_LENGTH + FRAME_HEADER + MAX_FRAME_PAYLOAD + 600);
          }
        } catch (e) {
          expect(e).toBeInstanceOf(ProtocolError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

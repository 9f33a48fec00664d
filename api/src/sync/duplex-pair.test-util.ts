// Two connected in-memory Duplex ends for protocol tests. Each write lands on the other end's
// readable side asynchronously; `cut()` makes the link silent in both directions (a dead peer
// whose TCP connection never closes), `close()` ends both sides.
import { Duplex } from 'node:stream';

export interface Link {
  a: Duplex;
  b: Duplex;
  /** Bytes written a→b and b→a so far. */
  bytes: { ab: number; ba: number };
  cut(): void;
  close(): void;
}

export function duplexPair(): Link {
  let silent = false;
  const bytes = { ab: 0, ba: 0 };
  const ends: { a?: Duplex; b?: Duplex } = {};
  const mk = (peer: () => Duplex, count: (n: number) => void) =>
    new Duplex({
      read() {},
      write(chunk: Buffer, _enc, cb) {
        if (!silent) {
          count(chunk.length);
          const copy = Buffer.from(chunk);
          setImmediate(() => peer().push(copy));
        }
        cb();
      },
      final(cb) {
        if (!silent) setImmediate(() => peer().push(null));
        cb();
      },
    });
  const a = (ends.a = mk(() => ends.b!, (n) => (bytes.ab += n)));
  const b = (ends.b = mk(() => ends.a!, (n) => (bytes.ba += n)));
  return {
    a,
    b,
    bytes,
    cut: () => {
      silent = true;
    },
    close: () => {
      a.destroy();
      b.destroy();
    },
  };
}

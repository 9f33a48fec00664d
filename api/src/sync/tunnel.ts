// A TCP connection carried by a channel (reverse port forwarding), used by both sides: bytes both
// ways as DATA, a half close as END, errors as RESET. Backpressure: the socket is paused while the
// channel waits for credit, and the channel is not read while the socket's buffer is full.
import type { Socket } from 'node:net';
import type { Channel } from './connection.js';

/** Pipe `socket` and `ch` both ways until both are done; never throws. */
export async function pipeSocket(socket: Socket, ch: Channel): Promise<void> {
  let failed = false;
  const fail = (why: string) => {
    if (failed) return;
    failed = true;
    ch.reset(why);
    socket.destroy();
  };
  socket.on('error', (e) => fail(`connection error: ${e.message}`));
  socket.on('data', (chunk: Buffer) => {
    socket.pause();
    ch.write(chunk).then(
      () => socket.resume(),
      () => socket.destroy(),
    );
  });
  socket.on('end', () => void ch.end().catch(() => undefined));
  const inbound = (async () => {
    try {
      for await (const item of ch) {
        if (item.kind !== 'data') continue;
        if (!socket.write(item.data)) {
          await new Promise<void>((r) => {
            const done = () => {
              socket.off('drain', done);
              socket.off('close', done);
              r();
            };
            socket.on('drain', done);
            socket.on('close', done);
          });
        }
      }
      socket.end();
    } catch {
      socket.destroy();
    }
  })();
  await Promise.all([inbound, new Promise<void>((r) => socket.once('close', () => r()))]);
  if (!ch.error) ch.reset('closed');
}

import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import type { KubeConfig, V1Status } from '@kubernetes/client-node';
import type { ExecLike, ExecSocket } from '@dsa/api/build-context';
import { Connection, DEFAULT_WINDOW, FrameDecoder, FrameType, MAX_FRAME_PAYLOAD, SIDECAR_CONTAINER, SIDECAR_SERVE_COMMAND, encodeFrame, encodePreamble } from '@dsa/api/sync';
import { describeExecEnd, execTransport } from './exec-transport.js';

class FakeSocket extends EventEmitter implements ExecSocket {
  frames: Buffer[] = [];
  pendingCallbacks: Array<() => void> = [];
  closed = false;
  constructor(readonly protocol: string) {
    super();
  }
  send(data: Buffer, cb?: (err?: Error) => void) {
    this.frames.push(Buffer.from(data));
    // The socket flushes only when the test says so: backpressure.
    this.pendingCallbacks.push(() => cb?.());
  }
  flush() {
    for (const cb of this.pendingCallbacks.splice(0)) cb();
  }
  close() {
    if (this.closed) return;
    this.closed = true;
    this.emit('close');
  }
}

function fakeExec(protocol = 'v5.channel.k8s.io') {
  const calls: Array<{ ns: string; pod: string; container: string; cmd: string[] }> = [];
  let socket!: FakeSocket;
  let stdout!: Writable;
  let stderr!: Writable;
  let status!: (s: V1Status) => void;
  const exec: ExecLike = {
    async exec(ns, pod, container, cmd, out, err, _in, _tty, cb) {
      calls.push({ ns, pod, container, cmd: cmd as string[] });
      socket = new FakeSocket(protocol);
      stdout = out!;
      stderr = err!;
      status = cb!;
      return socket;
    },
  };
  return { exec, calls, socket: () => socket, stdout: () => stdout, stderr: () => stderr, status: (s: V1Status) => status(s) };
}

describe('execTransport', () => {
  it('execs serve in the sidecar, frames stdin, completes writes only when flushed, and closes stdin (v5)', async () => {
    const f = fakeExec();
    const duplex = await execTransport({} as KubeConfig, { namespace: 'ns', pod: 'p' }, { exec: f.exec })(new AbortController().signal);
    expect(f.calls).toEqual([{ ns: 'ns', pod: 'p', container: SIDECAR_CONTAINER, cmd: [...SIDECAR_SERVE_COMMAND] }]);
    let written = false;
    duplex.write(Buffer.from('abc'), () => (written = true));
    await new Promise((r) => setImmediate(r));
    expect(written).toBe(false);
    f.socket().flush();
    await new Promise((r) => setImmediate(r));
    expect(written).toBe(true);
    expect(f.socket().frames[0]).toEqual(Buffer.from([0, 0x61, 0x62, 0x63]));
    const got: Buffer[] = [];
    duplex.on('data', (c: Buffer) => got.push(c));
    f.stdout().write(Buffer.from('from pod'));
    await new Promise((r) => setImmediate(r));
    expect(Buffer.concat(got).toString()).toBe('from pod');
    duplex.end();
    await new Promise((r) => setImmediate(r));
    f.socket().flush();
    await new Promise((r) => setImmediate(r));
    expect(f.socket().frames.at(-1)).toEqual(Buffer.from([255, 0]));
  });

  it('ends with the exit status and stderr when the exec ends', async () => {
    const f = fakeExec();
    const duplex = await execTransport({} as KubeConfig, { namespace: 'ns', pod: 'p' }, { exec: f.exec })(new AbortController().signal);
    const err = new Promise<Error>((resolve) => duplex.on('error', resolve));
    f.stderr().write('exec: "/usr/local/bin/dsa-sidecar": stat: no such file or directory\n');
    f.status({ status: 'Failure', message: 'command terminated with non-zero exit code: 127', reason: 'NonZeroExitCode' });
    f.socket().close();
    expect((await err).message).toBe(
      'dsa-sidecar serve ended: command terminated with non-zero exit code: 127 (exec: "/usr/local/bin/dsa-sidecar": stat: no such file or directory)',
    );
  });

  it('coalesces the frames queued while the WebSocket is behind into messages of at most 256 KiB (a lone full frame as is)', async () => {
    const f = fakeExec();
    const duplex = await execTransport({} as KubeConfig, { namespace: 'ns', pod: 'p' }, { exec: f.exec })(new AbortController().signal);
    const connP = Connection.establish(duplex, { role: 'agent', software: 'dsa test', pingIntervalMs: 60_000 });
    f.stdout().write(Buffer.concat([encodePreamble(), encodeFrame(FrameType.Hello, 0, Buffer.from(JSON.stringify({ role: 'sidecar', software: 's', window: DEFAULT_WINDOW })))]));
    const conn = await connP;
    const ch = conn.open({ kind: 'start' });
    // Nothing is flushed yet: 3000 small messages (~380 KB) and two full-size DATA frames pile up.
    const sends: Array<Promise<void>> = [];
    for (let i = 0; i < 3000; i++) sends.push(ch.send({ i, pad: 'x'.repeat(100) }));
    sends.push(ch.write(Buffer.alloc(MAX_FRAME_PAYLOAD, 1)), ch.write(Buffer.alloc(MAX_FRAME_PAYLOAD, 2)));
    await Promise.all(sends);
    for (let k = 0; k < 10_000 && f.socket().pendingCallbacks.length; k++) {
      f.socket().flush();
      await new Promise((r) => setImmediate(r));
    }
    const messages = f.socket().frames;
    const decoder = new FrameDecoder();
    const frames = messages.flatMap((m) => decoder.push(m.subarray(1))).filter((fr) => fr.channel === ch.id);
    expect(frames.map((fr) => (fr.type === FrameType.Data ? `data ${fr.payload[0]}` : 'msg')).slice(-3)).toEqual(['msg', 'data 1', 'data 2']);
    expect(frames.length).toBe(1 + 3000 + 2); // OPEN, the messages, the data, in order
    // Fewer WebSocket messages than frames, and none larger than 256 KiB (or one full frame + its header).
    expect(messages.length).toBeLessThan(frames.length - 500);
    const sizes = messages.map((m) => m.length - 1);
    expect(Math.max(...sizes)).toBe(9 + MAX_FRAME_PAYLOAD);
    expect(sizes.filter((n) => n > MAX_FRAME_PAYLOAD)).toEqual([9 + MAX_FRAME_PAYLOAD, 9 + MAX_FRAME_PAYLOAD]);
    conn.close('test over');
  });

  it('describes the end of an exec in one line', () => {
    expect(describeExecEnd(undefined, '', new Error('socket hang up'))).toBe('exec connection error: socket hang up');
    expect(describeExecEnd({ status: 'Success' }, '')).toBe('the exec connection closed');
  });
});

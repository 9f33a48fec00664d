import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import type { Writable } from 'node:stream';
import type { KubeConfig, V1Status } from '@kubernetes/client-node';
import type { ExecLike, ExecSocket } from '@dsa/api/build-context';
import { SIDECAR_CONTAINER, SIDECAR_SERVE_COMMAND } from '@dsa/api/sync';
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

  it('describes the end of an exec in one line', () => {
    expect(describeExecEnd(undefined, '', new Error('socket hang up'))).toBe('exec connection error: socket hang up');
    expect(describeExecEnd({ status: 'Success' }, '')).toBe('the exec connection closed');
  });
});

import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { Readable, type Writable } from 'node:stream';
import type { KubeConfig, V1Status } from '@kubernetes/client-node';
import { BuildFailedError, UploadError, exitCodeOf, slotFromImageBuild, uploadContext, type ExecLike, type ExecSocket } from './upload.js';
import * as slotModule from './slot.js';
import { SlotTimeoutError, pollUploadSlot } from './slot.js';

class FakeSocket extends EventEmitter implements ExecSocket {
  frames: Buffer[] = [];
  closed = false;
  constructor(readonly protocol: string) {
    super();
  }
  send(data: Buffer, cb?: (err?: Error) => void) {
    this.frames.push(Buffer.from(data));
    setImmediate(() => cb?.());
  }
  close() {
    if (!this.closed) {
      this.closed = true;
      this.emit('close');
    }
  }
}

/** A fake exec whose "remote" concatenates stdin and answers with `verdict(stdin)` after the CLOSE frame. */
function fakeExec(protocol: string, verdict: (stdin: Buffer) => V1Status | undefined): { exec: ExecLike; socket: () => FakeSocket } {
  let s!: FakeSocket;
  return {
    socket: () => s,
    exec: {
      async exec(_ns, _pod, _c, _cmd, _out: Writable | null, errOut: Writable | null, _in, _tty, status) {
        s = new FakeSocket(protocol);
        const origSend = s.send.bind(s);
        s.send = (data, cb) => {
          origSend(data, cb);
          if (data[0] === 255 && data[1] === 0) {
            const stdin = Buffer.concat(s.frames.filter((f) => f[0] === 0).map((f) => f.subarray(1)));
            setImmediate(() => {
              const v = verdict(stdin);
              if (v) {
                if (v.status !== 'Success') errOut?.write('dsa: digest mismatch\n');
                status?.(v);
              }
              s.close();
            });
          }
        };
        return s;
      },
    },
  };
}

const kc = {} as KubeConfig;
const target = { namespace: 'ns', pod: 'p', container: 'upload' };
const failure = (code: number): V1Status => ({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: String(code) }] } });

describe('uploadContext', () => {
  it('streams stdin in framed chunks, closes stdin (v5), and resolves on exit 0', async () => {
    let got: Buffer = Buffer.alloc(0);
    const f = fakeExec('v5.channel.k8s.io', (stdin) => ((got = stdin), { status: 'Success' }));
    const data = Buffer.from('x'.repeat(10_000));
    const res = await uploadContext(kc, target, Readable.from([data.subarray(0, 3000), data.subarray(3000)]), { exec: f.exec, chunkSize: 1024 });
    expect(got.equals(data)).toBe(true);
    expect(res.bytes).toBe(10_000);
    expect(f.socket().frames.every((fr) => fr.length <= 1025)).toBe(true);
    expect(f.socket().frames.at(-1)).toEqual(Buffer.from([255, 0]));
  });

  it('rejects with the receiver exit code', async () => {
    const f = fakeExec('v5.channel.k8s.io', () => failure(3));
    await expect(uploadContext(kc, target, Readable.from([Buffer.from('a')]), { exec: f.exec })).rejects.toMatchObject({ exitCode: 3, message: expect.stringMatching(/digest mismatch/) });
  });

  it('rejects when the connection closes without a status', async () => {
    const f = fakeExec('v5.channel.k8s.io', () => undefined);
    await expect(uploadContext(kc, target, Readable.from([Buffer.from('a')]), { exec: f.exec })).rejects.toThrow(/before the receiver reported/);
  });

  it('refuses protocols that cannot signal end of input', async () => {
    const f = fakeExec('v4.channel.k8s.io', () => ({ status: 'Success' }));
    await expect(uploadContext(kc, target, Readable.from([Buffer.from('a')]), { exec: f.exec })).rejects.toBeInstanceOf(UploadError);
  });
});

describe('exit codes and upload slots', () => {
  it('parses exec statuses', () => {
    expect(exitCodeOf({ status: 'Success' })).toBe(0);
    expect(exitCodeOf(failure(4))).toBe(4);
    expect(exitCodeOf({ status: 'Failure', message: 'boom' })).toBeUndefined();
  });

  it('waits for the current generation, returns the slot, done, or throws on failure', () => {
    const meta = { name: 'ib', namespace: 'dev', generation: 2 };
    expect(slotFromImageBuild({ metadata: meta, status: { observedGeneration: 1, phase: 'AwaitingUpload', podName: 'old' } })).toBeUndefined();
    expect(slotFromImageBuild({ metadata: meta, status: { observedGeneration: 2, phase: 'Pending' } })).toBeUndefined();
    expect(slotFromImageBuild({ metadata: meta, status: { observedGeneration: 2, phase: 'AwaitingUpload', podName: 'p', uploadContainer: 'upload' } })).toEqual({
      kind: 'upload',
      generation: 2,
      target: { namespace: 'dev', pod: 'p', container: 'upload' },
    });
    expect(slotFromImageBuild({ metadata: meta, status: { observedGeneration: 2, phase: 'Succeeded', image: 'r/x:t' } })).toEqual({ kind: 'done', image: 'r/x:t' });
    expect(() => slotFromImageBuild({ metadata: meta, status: { observedGeneration: 2, phase: 'Failed', message: 'no', logTail: 'l' } })).toThrow(BuildFailedError);
    expect(slotFromImageBuild(undefined)).toBeUndefined();
  });

  it('with a digest: waits while the spec carries another one (status of the previous deploy)', () => {
    const D1 = `sha256:${'1'.repeat(64)}`;
    const D2 = `sha256:${'2'.repeat(64)}`;
    const old = { metadata: { namespace: 'dev', generation: 1 }, spec: { context: { upload: { digest: D2 } } }, status: { observedGeneration: 1, phase: 'Succeeded', image: 'r/x:old' } };
    expect(slotFromImageBuild(old, { digest: D1 })).toBeUndefined();
    expect(slotFromImageBuild({ ...old, spec: { context: { upload: { digest: D1 } } } }, { digest: D1 })).toEqual({ kind: 'done', image: 'r/x:old' });
  });

  it('with a forced-build request: status for an older request (or none) says nothing, not even Failed', () => {
    const R = '2026-03-04T05:06:07.000Z';
    const meta = { namespace: 'dev', generation: 1 };
    expect(slotFromImageBuild({ metadata: meta, status: { observedGeneration: 1, phase: 'Succeeded', image: 'r/x:t' } }, { requestedAt: R })).toBeUndefined();
    expect(slotFromImageBuild({ metadata: meta, status: { observedGeneration: 1, phase: 'Succeeded', lastRequestedAt: '2026-03-04T05:00:00.000Z' } }, { requestedAt: R })).toBeUndefined();
    expect(slotFromImageBuild({ metadata: meta, status: { observedGeneration: 1, phase: 'AwaitingUpload', podName: 'old-pod' } }, { requestedAt: R })).toBeUndefined();
    expect(slotFromImageBuild({ metadata: meta, status: { observedGeneration: 1, phase: 'Failed', message: 'old failure' } }, { requestedAt: R })).toBeUndefined();
    expect(slotFromImageBuild({ metadata: meta, status: { observedGeneration: 1, phase: 'AwaitingUpload', podName: 'new-pod', lastRequestedAt: R } }, { requestedAt: R })).toEqual({
      kind: 'upload',
      generation: 1,
      target: { namespace: 'dev', pod: 'new-pod', container: 'upload' },
    });
    // a later request (another -b meanwhile) also covers ours
    expect(slotFromImageBuild({ metadata: meta, status: { observedGeneration: 1, phase: 'Succeeded', lastRequestedAt: '2026-03-04T06:00:00.000Z' } }, { requestedAt: R })).toEqual({ kind: 'done' });
  });
});

describe('pollUploadSlot', () => {
  const clock = () => {
    let t = 0;
    return { now: () => t, sleep: async (ms: number) => void (t += ms) };
  };

  it('polls until a slot, reporting every snapshot; untilDone waits through AwaitingUpload', async () => {
    const snaps = [
      undefined,
      { metadata: { generation: 1 }, status: { observedGeneration: 1, phase: 'AwaitingUpload', podName: 'p' } },
      { metadata: { generation: 1 }, status: { observedGeneration: 1, phase: 'Building' } },
      { metadata: { generation: 1 }, status: { observedGeneration: 1, phase: 'Succeeded', image: 'r/x:t' } },
    ];
    let i = 0;
    const seen: unknown[] = [];
    const slot = await pollUploadSlot(async () => snaps[Math.min(i++, snaps.length - 1)], { ...clock(), untilDone: true, onSnapshot: (s) => seen.push(s) });
    expect(slot).toEqual({ kind: 'done', image: 'r/x:t' });
    expect(seen).toEqual(snaps);
    i = 0;
    expect(await pollUploadSlot(async () => snaps[Math.min(i++, snaps.length - 1)], clock())).toMatchObject({ kind: 'upload' });
  });

  it('times out with SlotTimeoutError', async () => {
    await expect(pollUploadSlot(async () => undefined, { ...clock(), timeoutMs: 3_000 })).rejects.toBeInstanceOf(SlotTimeoutError);
  });
});

describe('single implementation', () => {
  it('upload.ts re-exports the slot decision of slot.ts (no second copy)', () => {
    expect(slotFromImageBuild).toBe(slotModule.slotFromImageBuild);
    expect(BuildFailedError).toBe(slotModule.BuildFailedError);
  });
});

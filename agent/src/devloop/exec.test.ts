import { describe, expect, it } from '@jest/globals';
import { EventEmitter } from 'node:events';
import { PassThrough } from 'node:stream';
import type { V1Status } from '@kubernetes/client-node';
import { RuntimeError } from '../errors.js';
import { execInContainer, exitCodeOf, withWorkdir, type ExecLike, type TerminalIO } from './exec.js';

const target = { namespace: 'dev', pod: 'api-1', container: 'api' };

function io(): TerminalIO & { out: () => string } {
  const stdout = new PassThrough();
  let text = '';
  stdout.on('data', (c: Buffer) => (text += c.toString()));
  return { stdin: Object.assign(new PassThrough(), { isTTY: false }), stdout, stderr: new PassThrough(), out: () => text };
}

/** A fake Exec: writes `output`, then reports `status` (or just closes when undefined). */
function fakeExec(output: string, status: V1Status | undefined, seen: { command?: string[]; tty?: boolean; stdin?: boolean } = {}): ExecLike {
  return {
    async exec(_ns, _pod, _c, command, stdout, _stderr, stdin, tty, cb) {
      Object.assign(seen, { command, tty, stdin: stdin !== null });
      const ws = Object.assign(new EventEmitter(), { close: () => ws.emit('close') });
      setTimeout(() => {
        stdout?.write(output);
        if (status) cb?.(status);
        ws.emit('close');
      }, 5);
      return ws;
    },
  };
}

describe('exitCodeOf', () => {
  it('reads Success and NonZeroExitCode', () => {
    expect(exitCodeOf({ status: 'Success' })).toBe(0);
    expect(exitCodeOf({ status: 'Failure', reason: 'NonZeroExitCode', details: { causes: [{ reason: 'ExitCode', message: '42' }] } })).toBe(42);
    expect(exitCodeOf({ status: 'Failure', message: 'executable file not found' })).toBeUndefined();
  });
});

describe('withWorkdir', () => {
  it('passes directory and command as argv, never through shell quoting', () => {
    expect(withWorkdir(['ls', '-la'], undefined)).toEqual(['ls', '-la']);
    expect(withWorkdir(['ls', 'a b'], '/my app')).toEqual(['sh', '-c', 'cd "$0" && exec "$@"', '/my app', 'ls', 'a b']);
  });
});

describe('execInContainer', () => {
  it('returns the remote exit code and passes output through', async () => {
    const t = io();
    const seen: { command?: string[]; tty?: boolean; stdin?: boolean } = {};
    const code = await execInContainer(fakeExec('hello\n', { status: 'Failure', details: { causes: [{ reason: 'ExitCode', message: '3' }] } }, seen), target, ['sh', '-c', 'exit 3'], t, { tty: false, stdin: true });
    expect(code).toBe(3);
    expect(t.out()).toBe('hello\n');
    expect(seen).toEqual({ command: ['sh', '-c', 'exit 3'], tty: false, stdin: true });
  });

  it('0 on success', async () => {
    expect(await execInContainer(fakeExec('', { status: 'Success' }), target, ['true'], io(), { tty: false, stdin: false })).toBe(0);
  });

  it('a command that could not start is an error with the server message', async () => {
    await expect(execInContainer(fakeExec('', { status: 'Failure', message: 'exec: "nope": executable file not found in $PATH' }), target, ['nope'], io(), { tty: false, stdin: false })).rejects.toThrow(
      'api-1/api: exec: "nope": executable file not found in $PATH',
    );
  });

  it('a connection closed without a status is an error, not exit 0', async () => {
    await expect(execInContainer(fakeExec('partial', undefined), target, ['cat'], io(), { tty: false, stdin: false })).rejects.toBeInstanceOf(RuntimeError);
  });

  it('a failed connect is a RuntimeError naming the container', async () => {
    const exec: ExecLike = { exec: async () => Promise.reject(new Error('pods "api-1" not found')) };
    await expect(execInContainer(exec, target, ['sh'], io(), { tty: false, stdin: false })).rejects.toThrow('cannot exec into api-1/api: pods "api-1" not found');
  });
});

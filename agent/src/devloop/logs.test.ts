import { describe, expect, it } from '@jest/globals';
import { PassThrough, type Writable } from 'node:stream';
import { StringWriter } from '../output/writer.js';
import { LinePrefixer, streamLogs, type LogLike } from './logs.js';

describe('LinePrefixer', () => {
  it('prefixes whole lines only, joining chunks split mid-line, and flushes the tail on end', async () => {
    const out = new StringWriter();
    const p = new LinePrefixer(out, '[p/c] ');
    p.write('hel');
    p.write('lo\r\nwor');
    expect(out.toString()).toBe('[p/c] hello\n');
    await new Promise<void>((resolve) => p.end('ld', resolve));
    expect(out.toString()).toBe('[p/c] hello\n[p/c] world\n');
  });

  it('survives an error on the piped source (node-fetch emits one when the request is aborted)', async () => {
    const out = new StringWriter();
    const p = new LinePrefixer(out, '');
    const src = new PassThrough();
    src.pipe(p);
    src.write('a\n');
    await new Promise((r) => setImmediate(r));
    src.emit('error', new Error('The user aborted a request.'));
    await new Promise((r) => p.on('finish', r));
    expect(out.toString()).toBe('a\n');
  });
});

describe('streamLogs', () => {
  it('asks for the container with follow/tail, prefixes lines, and ends when the abort signal fires', async () => {
    const seen: unknown[] = [];
    let aborted = false;
    const log: LogLike = {
      async log(ns, pod, container, stream: Writable, options) {
        seen.push([ns, pod, container, options]);
        const body = new PassThrough();
        body.pipe(stream);
        body.write('one\ntwo\n');
        const ac = new AbortController();
        ac.signal.addEventListener('abort', () => {
          aborted = true;
          body.emit('error', new Error('aborted'));
        });
        return ac;
      },
    };
    const out = new StringWriter();
    const stop = new AbortController();
    const done = streamLogs(log, { namespace: 'dev', pod: 'api-1', container: 'api' }, out, { follow: true, tailLines: 5, signal: stop.signal });
    await new Promise((r) => setTimeout(r, 20));
    stop.abort();
    await done;
    expect(seen).toEqual([['dev', 'api-1', 'api', { follow: true, tailLines: 5 }]]);
    expect(out.toString()).toBe('[api-1/api] one\n[api-1/api] two\n');
    expect(aborted).toBe(true);
  });

  it('resolves when the log ends by itself', async () => {
    const log: LogLike = {
      async log(_ns, _pod, _c, stream: Writable) {
        const body = new PassThrough();
        body.pipe(stream);
        body.end('last line');
        return new AbortController();
      },
    };
    const out = new StringWriter();
    await streamLogs(log, { namespace: 'dev', pod: 'p', container: 'c' }, out, { follow: false, prefix: '', signal: new AbortController().signal });
    expect(out.toString()).toBe('last line\n');
  });
});

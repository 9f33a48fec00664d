// Serves a real repository over git's smart HTTP protocol (git http-backend behind node:http on
// loopback) and resolves/checks out with isomorphic-git, as the operator does.
import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { mkdtemp, readFile, readlink, rm, stat } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitNotFoundError, checkoutSubPath, cleanSubPath, pickRef, resolveRef } from './git.js';

/** A git smart-HTTP server for `root` (a folder of bare repositories), via git http-backend (CGI). */
function gitHttpServer(root: string): Server {
  return createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const child = spawn('git', ['http-backend'], {
      env: {
        ...process.env,
        GIT_PROJECT_ROOT: root,
        GIT_HTTP_EXPORT_ALL: '1',
        PATH_INFO: decodeURIComponent(u.pathname),
        QUERY_STRING: u.search.slice(1),
        REQUEST_METHOD: req.method ?? 'GET',
        CONTENT_TYPE: req.headers['content-type'] ?? '',
        HTTP_GIT_PROTOCOL: String(req.headers['git-protocol'] ?? ''),
      },
    });
    req.pipe(child.stdin);
    let head = Buffer.alloc(0);
    let headerDone = false;
    child.stdout.on('data', (chunk: Buffer) => {
      if (headerDone) return void res.write(chunk);
      head = Buffer.concat([head, chunk]);
      const i = head.indexOf('\r\n\r\n');
      if (i < 0) return;
      headerDone = true;
      let status = 200;
      for (const line of head.subarray(0, i).toString().split('\r\n')) {
        const j = line.indexOf(':');
        const k = line.slice(0, j).trim();
        const v = line.slice(j + 1).trim();
        if (k.toLowerCase() === 'status') status = Number.parseInt(v, 10);
        else res.setHeader(k, v);
      }
      res.writeHead(status);
      res.write(head.subarray(i + 4));
    });
    child.on('close', () => res.end());
  });
}

const sh = (cwd: string, ...args: string[]) => execFileSync('git', args, { cwd, encoding: 'utf8', env: { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' } }).trim();

// The server is on loopback, which the operator refuses unless the install allows it.
const net = { policy: { allow: ['127.0.0.1'] } };

let base: string;
let server: Server;
let url: string;
let first: string;
let second: string;
beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'dsa-git-'));
  const work = path.join(base, 'work');
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  execFileSync('sh', ['-c', `mkdir -p app/sub && echo 'FROM x' > app/Dockerfile && echo hi > app/sub/a.txt && printf '#!/bin/sh\\n' > app/run.sh && chmod +x app/run.sh && ln -s sub/a.txt app/link && echo top > README`], { cwd: work });
  sh(work, 'add', '-A');
  sh(work, 'commit', '-q', '-m', 'one');
  first = sh(work, 'rev-parse', 'HEAD');
  sh(work, 'tag', '-a', 'v1', '-m', 'v1');
  execFileSync('sh', ['-c', 'echo changed > app/sub/a.txt'], { cwd: work });
  sh(work, 'commit', '-q', '-am', 'two');
  second = sh(work, 'rev-parse', 'HEAD');
  execFileSync('git', ['clone', '-q', '--bare', work, path.join(base, 'srv', 'repo.git')]);
  server = gitHttpServer(path.join(base, 'srv'));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/repo.git`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(base, { recursive: true, force: true });
});

describe('git', () => {
  it('pickRef prefers exact names, then branches, then tags (peeled)', () => {
    const refs = [
      { ref: 'HEAD', oid: 'h' },
      { ref: 'refs/heads/main', oid: 'm' },
      { ref: 'refs/tags/v1', oid: 'tagobj', peeled: 'c1' },
    ];
    expect(pickRef(refs, undefined)).toBe('h');
    expect(pickRef(refs, 'main')).toBe('m');
    expect(pickRef(refs, 'v1')).toBe('c1');
    expect(pickRef(refs, 'refs/heads/main')).toBe('m');
    expect(pickRef(refs, 'nope')).toBeUndefined();
  });

  it('resolves branches, annotated tags, HEAD and commits over smart HTTP', async () => {
    expect(await resolveRef({ url, net, ref: 'main' })).toBe(second);
    expect(await resolveRef({ url, net })).toBe(second);
    expect(await resolveRef({ url, net, ref: 'v1' })).toBe(first);
    expect(await resolveRef({ url, net, ref: first })).toBe(first);
    await expect(resolveRef({ url, net, ref: 'no-such-branch' })).rejects.toBeInstanceOf(GitNotFoundError);
  });

  it('checks out a subPath at a commit, with modes and symlinks, from a per-URL cache', async () => {
    const cacheDir = path.join(base, 'cache');
    const d1 = path.join(base, 'out1');
    expect(await checkoutSubPath({ url, net, ref: 'main', commit: second, subPath: 'app', dest: d1, cacheDir })).toBe(4);
    expect(await readFile(path.join(d1, 'sub/a.txt'), 'utf8')).toBe('changed\n');
    expect((await stat(path.join(d1, 'run.sh'))).mode & 0o111).not.toBe(0);
    expect(await readlink(path.join(d1, 'link'))).toBe('sub/a.txt');
    // an older commit from the same cache (already fetched with the branch history)
    const d2 = path.join(base, 'out2');
    await checkoutSubPath({ url, net, ref: 'main', commit: first, subPath: 'app/', dest: d2, cacheDir });
    expect(await readFile(path.join(d2, 'sub/a.txt'), 'utf8')).toBe('hi\n');
    await expect(checkoutSubPath({ url, net, ref: 'main', commit: first, subPath: 'missing', dest: path.join(base, 'out3'), cacheDir })).rejects.toBeInstanceOf(GitNotFoundError);
  });

  it('refuses subPaths leaving the repository', () => {
    expect(cleanSubPath('./a//b/')).toBe('a/b');
    expect(() => cleanSubPath('a/../../etc')).toThrow(GitNotFoundError);
  });
});

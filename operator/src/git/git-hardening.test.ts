// Git sources are tenant input (issue 8, "Hardened inputs"): a real smart-HTTP server on loopback serving crafted
// repositories, and servers that misbehave (answer with secrets, never answer, send too much).
import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { existsSync } from 'node:fs';
import { mkdir, mkdtemp, readdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { GitNotFoundError, checkoutSubPath, resolveRef } from './git.js';
import { dropEscapingLinks } from '../deploy/git-source.js';

const LOOPBACK = { policy: { allow: ['127.0.0.1'] } };

function gitHttpServer(root: string): Server {
  return createServer((req, res) => {
    const u = new URL(req.url ?? '/', 'http://x');
    const child = spawn('git', ['http-backend'], {
      env: { ...process.env, GIT_PROJECT_ROOT: root, GIT_HTTP_EXPORT_ALL: '1', PATH_INFO: decodeURIComponent(u.pathname), QUERY_STRING: u.search.slice(1), REQUEST_METHOD: req.method ?? 'GET', CONTENT_TYPE: req.headers['content-type'] ?? '', HTTP_GIT_PROTOCOL: String(req.headers['git-protocol'] ?? '') },
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
        if (line.slice(0, j).trim().toLowerCase() === 'status') status = Number.parseInt(line.slice(j + 1), 10);
        else res.setHeader(line.slice(0, j).trim(), line.slice(j + 1).trim());
      }
      res.writeHead(status);
      res.write(head.subarray(i + 4));
    });
    child.on('close', () => res.end());
  });
}

const gitEnv = { ...process.env, GIT_AUTHOR_NAME: 't', GIT_AUTHOR_EMAIL: 't@x', GIT_COMMITTER_NAME: 't', GIT_COMMITTER_EMAIL: 't@x' };
const sh = (cwd: string, script: string) => execFileSync('sh', ['-c', script], { cwd, encoding: 'utf8', env: gitEnv }).trim();
const listen = async (s: Server) => {
  await new Promise<void>((r) => s.listen(0, '127.0.0.1', r));
  return `http://127.0.0.1:${(s.address() as AddressInfo).port}`;
};

let base: string;
let server: Server;
let url: string;
let dupCommit: string;
let bigCommit: string;
beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'dsa-git-hard-'));
  const work = path.join(base, 'work');
  execFileSync('git', ['init', '-q', '-b', 'main', work]);
  sh(work, 'mkdir sub && echo hi > sub/f && git add -A && git commit -qm one');
  // A tree with two entries named `a`: a symlink leaving the checkout, then a directory whose file would be
  // written through it. git itself refuses such trees (fsck duplicateEntries); a hostile server still sends them.
  const blob = sh(work, "printf '../../outside' | git hash-object -w --stdin");
  const sub = sh(work, 'git rev-parse HEAD:sub');
  const raw = Buffer.concat([Buffer.from('120000 a\0'), Buffer.from(blob, 'hex'), Buffer.from('40000 a\0'), Buffer.from(sub, 'hex')]);
  await writeFile(path.join(base, 'tree.bin'), raw);
  const tree = sh(work, `git hash-object -t tree --literally -w ${path.join(base, 'tree.bin')}`);
  dupCommit = sh(work, `git commit-tree ${tree} -m dup`);
  sh(work, `git update-ref refs/heads/dup ${dupCommit}`);
  // 3 MiB of incompressible data on another branch, for the byte caps.
  sh(work, 'git checkout -q -b big && head -c 3145728 /dev/urandom > blob.bin && git add -A && git commit -qm big && git checkout -q main');
  bigCommit = sh(work, 'git rev-parse big');
  execFileSync('git', ['clone', '-q', '--bare', '--mirror', work, path.join(base, 'srv', 'repo.git')]);
  server = gitHttpServer(path.join(base, 'srv'));
  url = `${await listen(server)}/repo.git`;
});
afterAll(async () => {
  await new Promise((r) => server.close(r));
  await rm(base, { recursive: true, force: true });
});

describe('git sources are refused or bounded', () => {
  it('refuses loopback, link-local and metadata addresses unless allowed', async () => {
    await expect(resolveRef({ url, ref: 'main' })).rejects.toThrow(/127\.0\.0\.1 is refused: a loopback address/);
    await expect(resolveRef({ url: 'http://169.254.169.254/latest/meta-data/x.git' })).rejects.toThrow(/cloud metadata service/);
    await expect(resolveRef({ url: 'http://metadata.google.internal/x.git' })).rejects.toThrow(/internal host/);
    await expect(resolveRef({ url: 'http://[::ffff:127.0.0.1]:1/x.git' })).rejects.toThrow(/loopback/);
    await expect(resolveRef({ url: 'http://2130706433:1/x.git' })).rejects.toThrow(/loopback/);
    await expect(resolveRef({ url: 'file:///etc/x.git' })).rejects.toThrow(/http or https only/);
    // …and a refused address is final: retrying the same spec will not help.
    await expect(resolveRef({ url, ref: 'main' })).rejects.toBeInstanceOf(GitNotFoundError);
    expect(await resolveRef({ url, ref: 'main', net: LOOPBACK })).toMatch(/^[0-9a-f]{40}$/);
  });

  it('never copies a response body into an error (it ends up in status)', async () => {
    const secret = 'AKIA-SECRET-FROM-THE-METADATA-SERVICE';
    const s = createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end(`${secret}\n${secret}`));
    const u = await listen(s);
    const s404 = createServer((_req, res) => res.writeHead(404).end(secret));
    const u404 = await listen(s404);
    try {
      const e1 = (await resolveRef({ url: `${u}/r.git`, net: LOOPBACK }).catch((e: Error) => e)) as Error;
      expect(e1).toBeInstanceOf(Error);
      expect(e1.message).not.toContain('SECRET');
      expect(e1.message).toMatch(/did not answer as a git smart-HTTP server/);
      const e2 = (await resolveRef({ url: `${u404}/r.git`, net: LOOPBACK }).catch((e: Error) => e)) as Error;
      expect(e2.message).not.toContain('SECRET');
      expect(e2.message).toMatch(/HTTP 404/);
    } finally {
      s.close();
      s404.close();
    }
  });

  it('keeps credentials in a URL out of messages', async () => {
    const e = (await resolveRef({ url: 'http://user:hunter2@127.0.0.1:1/r.git', net: LOOPBACK }).catch((x: Error) => x)) as Error;
    expect(e.message).not.toContain('hunter2');
  });

  it('gives up at the deadline, and when the reconcile is aborted', async () => {
    const hang = createServer(() => undefined);
    const u = await listen(hang);
    try {
      let t = Date.now();
      await expect(resolveRef({ url: `${u}/r.git`, net: { ...LOOPBACK, limits: { deadlineMs: 300 } } })).rejects.toThrow(/deadline|timed out/);
      expect(Date.now() - t).toBeLessThan(3000);
      const ac = new AbortController();
      t = Date.now();
      setTimeout(() => ac.abort(), 200);
      await expect(resolveRef({ url: `${u}/r.git`, net: { ...LOOPBACK, signal: ac.signal } })).rejects.toThrow(/aborted|cancelled/);
      expect(Date.now() - t).toBeLessThan(3000);
    } finally {
      hang.closeAllConnections();
      hang.close();
    }
  });

  it('caps the bytes a fetch may download and a checkout may write', async () => {
    const cacheDir = path.join(base, 'cache-cap');
    await expect(checkoutSubPath({ url, ref: 'big', commit: bigCommit, dest: path.join(base, 'cap1'), cacheDir, net: { ...LOOPBACK, limits: { maxFetchBytes: 1024 * 1024 } } })).rejects.toThrow(/more than 1 MiB/);
    await expect(checkoutSubPath({ url, ref: 'big', commit: bigCommit, dest: path.join(base, 'cap2'), cacheDir: path.join(base, 'cache-cap2'), net: { ...LOOPBACK, limits: { maxCheckoutBytes: 1024 * 1024 } } })).rejects.toThrow(/more than 1 MiB/);
    // within the caps it works
    expect(await checkoutSubPath({ url, ref: 'big', commit: bigCommit, dest: path.join(base, 'cap3'), cacheDir: path.join(base, 'cache-cap3'), net: LOOPBACK })).toBeGreaterThan(0);
  });

  it('rejects duplicate tree entries and never writes through a link', async () => {
    const outside = path.join(base, 'outside');
    await mkdir(outside, { recursive: true });
    const dest = path.join(base, 'co', 'dup');
    await mkdir(path.dirname(dest), { recursive: true });
    await expect(checkoutSubPath({ url, ref: 'dup', commit: dupCommit, dest, cacheDir: path.join(base, 'cache-dup'), net: LOOPBACK })).rejects.toThrow(/duplicate entry a/);
    expect(await readdir(outside)).toEqual([]);
    expect(existsSync(path.join(base, 'f'))).toBe(false);
  });
});

describe('links in a checkout', () => {
  it('drops every link whose resolved real path leaves the checkout (lexically inside or not)', async () => {
    const root = await mkdtemp(path.join(tmpdir(), 'dsa-links-'));
    try {
      await mkdir(path.join(root, 'dir'));
      await writeFile(path.join(root, 'dir', 'ok.yaml'), 'x');
      await symlink('.', path.join(root, 'self')); // inside
      await symlink('self/..', path.join(root, 'up')); // lexically root, really the parent
      await symlink('dir/ok.yaml', path.join(root, 'good'));
      await symlink('/etc/passwd', path.join(root, 'abs'));
      await symlink('missing', path.join(root, 'dangling'));
      await symlink('up/etc', path.join(root, 'dir', 'chain'));
      const dropped = await dropEscapingLinks(root);
      expect(dropped.sort()).toEqual(['abs', 'dangling', 'dir/chain', 'up']);
      expect((await readdir(root)).sort()).toEqual(['dir', 'good', 'self']);
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

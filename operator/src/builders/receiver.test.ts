// Runs the receiver scripts with the REAL busybox (the same Debian busybox-static the cluster's helper
// image is built from), so the safety rules are tested as they execute in the pod, not as a TS model.
import { describe, expect, it, beforeAll, afterAll } from '@jest/globals';
import { execFileSync, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { lstat, mkdir, mkdtemp, readdir, readFile, readlink, realpath, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import fc from 'fast-check';
import tar from 'tar-stream';
import { UPLOAD_COMMAND } from '@dsa/api/build-context';
import { MAIN_SCRIPT, RECEIVER_EXIT, UPLOAD_DIR, dockerfileAppend, receiveScript } from './receiver.js';

const BUSYBOX = ['/usr/bin/busybox', '/bin/busybox'].find((p) => existsSync(p));
if (!BUSYBOX) throw new Error('these tests need busybox (the helper image is built from it): apt-get install busybox-static');

let bin: string;
let base: string;
beforeAll(async () => {
  base = await mkdtemp(path.join(tmpdir(), 'dsa-recv-'));
  bin = path.join(base, 'bin');
  await mkdir(bin);
  const applets = execFileSync(BUSYBOX, ['--list'], { encoding: 'utf8' }).split('\n').filter(Boolean);
  for (const a of applets) await symlink(BUSYBOX, path.join(bin, a));
});
afterAll(async () => {
  await rm(base, { recursive: true, force: true });
});

interface TarEntry {
  name: string;
  type: 'file' | 'directory' | 'symlink' | 'link';
  body?: string;
  linkname?: string;
}

async function makeTar(entries: TarEntry[]): Promise<Buffer> {
  const pack = tar.pack();
  for (const e of entries) {
    if (e.type === 'file') pack.entry({ name: e.name, type: 'file', mode: 0o644, mtime: new Date(0) }, e.body ?? e.name);
    else pack.entry({ name: e.name, type: e.type, mode: e.type === 'directory' ? 0o755 : 0o777, mtime: new Date(0), linkname: e.linkname ?? '' });
  }
  pack.finalize();
  const chunks: Buffer[] = [];
  for await (const c of pack as AsyncIterable<Buffer>) chunks.push(c);
  return Buffer.concat(chunks);
}

const digestOf = (b: Buffer) => `sha256:${createHash('sha256').update(b).digest('hex')}`;

interface Sandbox {
  root: string;
  dsa: string;
  context: string;
  appended: string;
}

let n = 0;
async function sandbox(): Promise<Sandbox> {
  const root = path.join(base, `s${n++}`);
  await mkdir(path.join(root, 'outside'), { recursive: true });
  await writeFile(path.join(root, 'outside', 'sentinel'), 'original');
  await mkdir(path.join(root, 'work'), { recursive: true });
  return { root, dsa: path.join(root, 'dsa'), context: path.join(root, 'work', 'context'), appended: path.join(root, 'work', 'Dockerfile.dsa') };
}

function run(script: string, env: Record<string, string>, stdin?: Buffer, args: string[] = []): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolve, reject) => {
    const child = spawn(path.join(bin, 'sh'), ['-c', script, 'sh', ...args], { env: { PATH: bin, ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.on('error', () => undefined);
    child.stdin.end(stdin ?? Buffer.alloc(0));
  });
}

function mainEnv(s: Sandbox, digest: string, extra: Record<string, string> = {}): Record<string, string> {
  return {
    DSA_CONTEXT_DIGEST: digest,
    DSA_RECEIVE_SCRIPT: receiveScript(digest, s.dsa),
    DSA_UPLOAD_TIMEOUT: '3',
    DSA_UPLOAD_DIR: s.dsa,
    DSA_CONTEXT_DIR: s.context,
    DSA_DOCKERFILE: 'Dockerfile',
    DSA_DOCKERFILE_APPEND: '',
    DSA_APPENDED_DOCKERFILE: s.appended,
    ...extra,
  };
}

/** Place the tar as an uploader bypassing receive.sh would, then run MAIN. */
async function receiveDirect(s: Sandbox, tarBuf: Buffer, digest = digestOf(tarBuf), extra: Record<string, string> = {}) {
  await mkdir(s.dsa, { recursive: true });
  await writeFile(path.join(s.dsa, 'context.tar'), tarBuf);
  return run(MAIN_SCRIPT, mainEnv(s, digest, extra));
}

/** Every path outside the context and upload dirs with its content/link target. */
async function snapshotOutside(s: Sandbox): Promise<string[]> {
  const out: string[] = [];
  const walk = async (dir: string): Promise<void> => {
    for (const name of (await readdir(dir)).sort()) {
      const p = path.join(dir, name);
      if (p === s.context || p === s.dsa) continue;
      const st = await lstat(p);
      if (st.isSymbolicLink()) out.push(`${p} -> ${await readlink(p)}`);
      else if (st.isDirectory()) {
        out.push(`${p}/`);
        await walk(p);
      } else out.push(`${p} = ${await readFile(p, 'utf8')} (${st.nlink})`);
    }
  };
  await walk(s.root);
  return out;
}

const ok = (entries: TarEntry[]) => [{ name: 'Dockerfile', type: 'file' as const, body: 'FROM scratch\n' }, ...entries];

describe('receiver (real busybox)', () => {
  it('receives through receive.sh, verifies, extracts, and appends ENTRYPOINT/CMD to a copy', async () => {
    const s = await sandbox();
    const t = await makeTar(ok([{ name: 'app', type: 'directory' }, { name: 'app/main.js', type: 'file', body: 'hi' }, { name: 'link', type: 'symlink', linkname: 'app/main.js' }]));
    const digest = digestOf(t);
    const append = dockerfileAppend(['node', 'main.js'], ['--port', '80']);
    const main = run(MAIN_SCRIPT, mainEnv(s, digest, { DSA_DOCKERFILE_APPEND: append }));
    // the uploader runs the agent's real UPLOAD_COMMAND (pointed at the sandbox's upload dir): it waits
    // for the receive script MAIN writes, then streams the tar on stdin
    expect(UPLOAD_COMMAND.slice(0, 2)).toEqual(['sh', '-c']);
    const uploadCommand = UPLOAD_COMMAND[2]!.replaceAll(`${UPLOAD_DIR}/`, `${s.dsa}/`);
    expect(uploadCommand).toContain(`exec sh ${s.dsa}/receive.sh`);
    const wrong = await run(uploadCommand, {}, Buffer.concat([t, Buffer.from('x')]));
    expect(wrong.code).toBe(RECEIVER_EXIT.digestMismatch);
    expect(wrong.stderr).toMatch(/digest mismatch/);
    const up = await run(uploadCommand, {}, t);
    expect(up.stderr).toBe('');
    expect(up.code).toBe(0);
    const res = await main;
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(await readFile(path.join(s.context, 'app/main.js'), 'utf8')).toBe('hi');
    expect(await readlink(path.join(s.context, 'link'))).toBe('app/main.js');
    expect(await readFile(path.join(s.context, 'Dockerfile'), 'utf8')).toBe('FROM scratch\n');
    expect(await readFile(s.appended, 'utf8')).toBe('FROM scratch\n\nENTRYPOINT ["node","main.js"]\nCMD ["--port","80"]\n');
    expect(existsSync(path.join(s.dsa, 'context.tar'))).toBe(false);
  });

  it('rejects a tar whose digest differs from the declared one, even when written directly', async () => {
    const s = await sandbox();
    const t = await makeTar(ok([]));
    const res = await receiveDirect(s, t, `sha256:${'a'.repeat(64)}`);
    expect(res.code).toBe(RECEIVER_EXIT.digestMismatch);
    expect(existsSync(path.join(s.context, 'Dockerfile'))).toBe(false);
  });

  it('times out when nothing is uploaded', async () => {
    const s = await sandbox();
    const res = await run(MAIN_SCRIPT, mainEnv(s, `sha256:${'b'.repeat(64)}`, { DSA_UPLOAD_TIMEOUT: '1' }));
    expect(res.code).toBe(RECEIVER_EXIT.timeout);
    expect(res.stderr).toMatch(/no build context was uploaded within 1s/);
  });

  it('refuses an upload larger than the limit, through receive.sh and when written directly', async () => {
    const s = await sandbox();
    const t = await makeTar(ok([{ name: 'big', type: 'file', body: 'x'.repeat(20_000) }]));
    const digest = digestOf(t);
    const limit = { DSA_MAX_UPLOAD_BYTES: '10000' };
    const main = run(MAIN_SCRIPT, mainEnv(s, digest, limit));
    const uploadCommand = UPLOAD_COMMAND[2]!.replaceAll(`${UPLOAD_DIR}/`, `${s.dsa}/`);
    const up = await run(uploadCommand, {}, t);
    expect(up.code).toBe(RECEIVER_EXIT.unsafeTar);
    expect(up.stderr).toMatch(/larger than 10000 bytes/);
    // nothing was received, so MAIN times out rather than building
    expect((await main).code).toBe(RECEIVER_EXIT.timeout);
    const direct = await receiveDirect(await sandbox(), t, digest, limit);
    expect(direct.code).toBe(RECEIVER_EXIT.unsafeTar);
    expect(direct.stderr).toMatch(/larger than 10000 bytes/);
  });

  it('fails clearly when the Dockerfile is missing', async () => {
    const s = await sandbox();
    const res = await receiveDirect(s, await makeTar([{ name: 'x', type: 'file' }]));
    expect(res.code).toBe(RECEIVER_EXIT.missingDockerfile);
  });

  const attacks: Array<[string, TarEntry[]]> = [
    ['absolute path', [{ name: '/abs.txt', type: 'file' }]],
    ['.. path', [{ name: '../outside/sentinel', type: 'file', body: 'pwned' }]],
    ['.. inside a path', [{ name: 'a/../../outside/sentinel', type: 'file', body: 'pwned' }]],
    ['absolute symlink', [{ name: 'l', type: 'symlink', linkname: '/etc/passwd' }]],
    ['escaping relative symlink', [{ name: 'l', type: 'symlink', linkname: '../../outside' }]],
    ['write through an escaping symlink', [{ name: 'l', type: 'symlink', linkname: '../../outside' }, { name: 'l/sentinel', type: 'file', body: 'pwned' }]],
    ['symlink chain', [{ name: 'a', type: 'symlink', linkname: 'b' }, { name: 'b', type: 'symlink', linkname: '..' }]],
    ['hard link to an outside file', [{ name: 'h', type: 'link', linkname: '../../outside/sentinel' }]],
    ['hard link inside', [{ name: 'f', type: 'file', body: 'x' }, { name: 'h', type: 'link', linkname: 'f' }]],
    ['write through a hard link', [{ name: 'h', type: 'link', linkname: '../../outside/sentinel' }, { name: 'h', type: 'file', body: 'pwned' }]],
    ['dot-dot name without trailing slash', [{ name: 'a/..', type: 'directory' }]],
    // A name with a line break reads as two paths to a line-by-line check: the real link is never checked.
    ['escaping symlink whose name has a line break', [{ name: 'a\nb', type: 'symlink', linkname: '../../outside' }]],
    ['escaping symlink whose name ends in a line break', [{ name: 'x\n', type: 'symlink', linkname: '../../outside' }]],
    ['symlink target with a line break', [{ name: 'l', type: 'symlink', linkname: 'x\n/../../../outside' }]],
    ['file name with a control character', [{ name: 'bell\u0007.txt', type: 'file', body: 'x' }]],
    ['file name with a carriage return', [{ name: 'cr\r.txt', type: 'file', body: 'x' }]],
  ];
  it.each(attacks)('rejects %s and leaves everything outside the context untouched', async (_name, entries) => {
    const s = await sandbox();
    const before = await snapshotOutside(s);
    const res = await receiveDirect(s, await makeTar(ok(entries)));
    expect(res.code).toBe(RECEIVER_EXIT.unsafeTar);
    expect(await snapshotOutside(s)).toEqual(before);
  });

  it('property: whatever the tar, nothing outside the context changes, and success means every link stays inside', async () => {
    const comp = fc.constantFrom('a', 'b', 'c', '..', '.', 'outside', 'sentinel');
    const relPath = fc.array(comp, { minLength: 1, maxLength: 4 }).map((p) => p.join('/'));
    const name = fc.oneof({ weight: 5, arbitrary: relPath }, { weight: 1, arbitrary: relPath.map((p) => `/${p}`) });
    const linkname = fc.oneof(relPath, relPath.map((p) => `/${p}`), fc.constant('/'), fc.constant('../../outside'));
    const entry: fc.Arbitrary<TarEntry> = fc.oneof(
      fc.record({ name, type: fc.constant('file' as const), body: fc.constantFrom('x', 'pwned') }),
      fc.record({ name, type: fc.constant('directory' as const) }),
      fc.record({ name, type: fc.constantFrom('symlink' as const, 'link' as const), linkname }),
    );
    let accepted = 0;
    await fc.assert(
      fc.asyncProperty(fc.array(entry, { minLength: 1, maxLength: 6 }), async (entries) => {
        const s = await sandbox();
        const before = await snapshotOutside(s);
        const res = await receiveDirect(s, await makeTar(ok(entries)));
        expect([0, RECEIVER_EXIT.unsafeTar]).toContain(res.code);
        expect(await snapshotOutside(s)).toEqual(before);
        if (res.code === 0) {
          accepted++;
          const ctx = await realpath(s.context);
          const walk = async (dir: string): Promise<void> => {
            for (const n of await readdir(dir)) {
              const p = path.join(dir, n);
              const st = await lstat(p);
              if (st.isSymbolicLink()) {
                const target = await readlink(p);
                expect(target.startsWith('/')).toBe(false);
                expect(path.resolve(path.dirname(p), target).startsWith(ctx)).toBe(true);
              } else if (st.isDirectory()) await walk(p);
              else expect(st.nlink).toBe(1);
            }
          };
          await walk(ctx);
        }
        await rm(s.root, { recursive: true, force: true });
      }),
      { numRuns: 120 },
    );
    // the generator must also produce acceptable tars, or the "success" half is never exercised
    expect(accepted).toBeGreaterThan(5);
  }, 120_000);
});

// Dependencies from git, as DevSpace fetches them (pkg/devspace/dependency/util): the `git` CLI clones
// the repository into a cache folder named after the source (`~/.cache/dsa/dependencies/<hash>`,
// DevSpace: ~/.devspace/dependencies), shallow unless a revision is pinned or `disableShallow`; a cached
// copy is brought up to date on every run unless `disablePull` (or a pinned revision); the dependency is
// then loaded from `<checkout>/<subPath>` like a path dependency.
//
// Bounds: every git command has a timeout, git never prompts (GIT_TERMINAL_PROMPT=0, ssh BatchMode),
// its output is kept to the last few KiB, and subPath must stay inside the checkout.
import { spawn } from 'node:child_process';
import { createHash, randomBytes } from 'node:crypto';
import { mkdir, realpath, rename, rm, stat, utimes } from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { GitSource } from '../../../api/src/model/project.js';

/** A git dependency with DevSpace's clone options (v1beta8+ `cloneArgs`/`disableShallow`, v2beta1 `disablePull`). */
export interface GitDependencySource extends GitSource {
  cloneArgs?: string[];
  disableShallow?: boolean;
  disablePull?: boolean;
}

export interface FetchedDependency {
  /** The checkout (the repository root). */
  dir: string;
  /** HEAD of the checkout. */
  commit?: string;
  /** Set when the copy could not be updated and the cached one is used (DevSpace warns and goes on). */
  warning?: string;
}

export interface GitDependencyFetcher {
  /**
   * The checkout for `src`. `offline`: only what the cache already has (undefined when nothing), no
   * network: commands that must not fetch (down, logs) still find the dependencies a deploy fetched.
   */
  fetch(src: GitDependencySource, opts: { offline: boolean }): Promise<FetchedDependency | undefined>;
}

export class GitDependencyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'GitDependencyError';
  }
}

/** `https://user:token@host/x.git` → `https://host/x.git`: credentials never reach keys, messages or logs. */
export function redactUrl(url: string): string {
  return url.trim().replace(/^([a-z][a-z0-9+.-]*:\/\/)[^@/]*@/i, '$1');
}

/**
 * The cache folder's name for a source: a hash of the URL (without credentials), the ref and the
 * clone arguments (DevSpace's dependency ID). subPath is not part of it: two folders of one repository
 * share one checkout. Pure.
 */
export function dependencyCacheKey(src: GitDependencySource): string {
  const ref = src.revision ? `@revision:${src.revision}` : src.tag ? `@tag:${src.tag}` : src.branch ? `@${src.branch}` : '';
  const id = `${redactUrl(src.url)}${ref}${src.cloneArgs?.length ? ` - with clone args ${src.cloneArgs.join(' ')}` : ''}${src.disableShallow ? ' - full' : ''}`;
  return createHash('sha256').update(id).digest('hex').slice(0, 24);
}

/** `$DSA_CACHE/dependencies`, else `$XDG_CACHE_HOME/dsa/dependencies`, else `~/.cache/dsa/dependencies`. */
export function dependencyCacheDir(env: Readonly<Record<string, string | undefined>>, home = os.homedir()): string {
  if (env.DSA_CACHE && path.isAbsolute(env.DSA_CACHE)) return path.join(env.DSA_CACHE, 'dependencies');
  const base = env.XDG_CACHE_HOME && path.isAbsolute(env.XDG_CACHE_HOME) ? env.XDG_CACHE_HOME : path.join(home, '.cache');
  return path.join(base, 'dsa', 'dependencies');
}

/** `git clone` arguments for a fresh copy (DevSpace's Clone): the branch or tag, shallow unless a revision is pinned. Pure. */
export function cloneCommand(src: GitDependencySource, dest: string): string[] {
  const ref = src.branch ?? src.tag;
  const shallow = !src.revision && !src.disableShallow;
  return ['clone', '--quiet', ...(ref ? ['--branch', ref] : []), ...(shallow ? ['--depth', '1'] : []), ...(src.cloneArgs ?? []), '--', src.url, dest];
}

/** `git fetch` arguments that bring a cached copy up to date, or undefined when it must not move (a pinned revision, disablePull). Pure. */
export function updateCommand(src: GitDependencySource): string[] | undefined {
  if (src.revision || src.disablePull) return undefined;
  const ref = src.branch ?? src.tag ?? 'HEAD';
  return ['fetch', '--quiet', ...(src.disableShallow ? [] : ['--depth', '1']), 'origin', src.tag && !src.branch ? `refs/tags/${src.tag}` : ref];
}

/**
 * The dependency's folder (or config file) inside the checkout. subPath is the other side's input:
 * it must not leave the checkout, also not through a symlink. Returns the absolute path.
 */
export async function resolveSubPath(checkout: string, subPath: string | undefined): Promise<string> {
  const root = await realpath(checkout);
  const target = path.resolve(root, subPath ?? '.');
  const inside = (p: string) => p === root || p.startsWith(root + path.sep);
  if (!inside(target)) throw new GitDependencyError(`subPath ${JSON.stringify(subPath)} leaves the repository`);
  let real: string;
  try {
    real = await realpath(target);
  } catch {
    throw new GitDependencyError(`subPath ${JSON.stringify(subPath)} does not exist in the repository`);
  }
  if (!inside(real)) throw new GitDependencyError(`subPath ${JSON.stringify(subPath)} leaves the repository (through a symlink)`);
  return real;
}

export interface GitRunResult {
  code: number | null;
  stdout: string;
  /** The last OUTPUT_TAIL bytes of stderr. */
  stderr: string;
  timedOut: boolean;
}

export type GitRunner = (args: string[], opts: { cwd?: string; timeoutMs: number; env: NodeJS.ProcessEnv }) => Promise<GitRunResult>;

const OUTPUT_TAIL = 4096;

/** Runs `git` with bounded output and a timeout (SIGKILL), never through a shell. */
export const runGit: GitRunner = (args, opts) =>
  new Promise((resolve) => {
    const child = spawn('git', args, { cwd: opts.cwd, env: opts.env, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    let timedOut = false;
    const keep = (s: string, add: string) => (s + add).slice(-OUTPUT_TAIL);
    child.stdout.on('data', (b: Buffer) => (stdout = keep(stdout, b.toString())));
    child.stderr.on('data', (b: Buffer) => (stderr = keep(stderr, b.toString())));
    const timer = setTimeout(() => {
      timedOut = true;
      child.kill('SIGKILL');
    }, opts.timeoutMs);
    child.on('error', (e) => {
      clearTimeout(timer);
      resolve({ code: null, stdout, stderr: (e as NodeJS.ErrnoException).code === 'ENOENT' ? 'git is not installed (it is needed to fetch git dependencies)' : String(e), timedOut });
    });
    child.on('close', (code) => {
      clearTimeout(timer);
      resolve({ code, stdout, stderr, timedOut });
    });
  });

export interface GitFetcherOptions {
  cacheDir: string;
  /** The environment git runs in (proxies, credential helpers); git's prompts are switched off on top. */
  env: Readonly<Record<string, string | undefined>>;
  /** Per clone (default 5 min) and per update (default 2 min). */
  cloneTimeoutMs?: number;
  updateTimeoutMs?: number;
  run?: GitRunner;
  /** How long to wait for another dsa holding the same checkout (default 3 min). */
  lockTimeoutMs?: number;
}

/** One line of git's complaint, credentials removed. */
function gitComplaint(r: GitRunResult, timeoutMs: number): string {
  if (r.timedOut) return `git did not finish within ${Math.round(timeoutMs / 1000)}s`;
  const lines = r.stderr.split('\n').map((l) => l.trim()).filter(Boolean);
  // git explains in its first `fatal:`/`error:` line; what follows is advice ("Please make sure…").
  const line = lines.find((l) => /^(fatal|error):/.test(l)) ?? lines.pop() ?? `git exited with code ${r.code}`;
  return line.replace(/([a-z][a-z0-9+.-]*:\/\/)[^@/\s]*@/gi, '$1');
}

export function createGitFetcher(o: GitFetcherOptions): GitDependencyFetcher {
  const run = o.run ?? runGit;
  const env: NodeJS.ProcessEnv = { ...o.env, GIT_TERMINAL_PROMPT: '0', GIT_SSH_COMMAND: o.env.GIT_SSH_COMMAND ?? 'ssh -oBatchMode=yes' };
  const cloneTimeout = o.cloneTimeoutMs ?? 300_000;
  const updateTimeout = o.updateTimeoutMs ?? 120_000;
  const git = async (args: string[], cwd: string | undefined, timeoutMs: number, what: string) => {
    const r = await run(args, { ...(cwd ? { cwd } : {}), timeoutMs, env });
    if (r.code !== 0) throw new GitDependencyError(`${what}: ${gitComplaint(r, timeoutMs)}`);
    return r.stdout.trim();
  };
  const head = (dir: string) => git(['rev-parse', 'HEAD'], dir, 30_000, 'reading HEAD').catch(() => undefined);
  return {
    async fetch(src, { offline }) {
      const dir = path.join(o.cacheDir, dependencyCacheKey(src));
      const cached = await isRepo(dir);
      const name = redactUrl(src.url);
      if (offline) return cached ? { dir, ...(await withCommit(head, dir)) } : undefined;
      await mkdir(o.cacheDir, { recursive: true });
      return withLock(`${dir}.lock`, o.lockTimeoutMs ?? 180_000, async () => {
        if (await isRepo(dir)) {
          const update = updateCommand(src);
          if (!update) return { dir, ...(await withCommit(head, dir)) };
          try {
            await git(update, dir, updateTimeout, `updating ${name}`);
            await git(['reset', '--quiet', '--hard', 'FETCH_HEAD'], dir, 60_000, `checking out ${name}`);
            return { dir, ...(await withCommit(head, dir)) };
          } catch (e) {
            // DevSpace: a failed pull is a warning, the cached copy is used.
            return { dir, ...(await withCommit(head, dir)), warning: `${(e as Error).message}; using the cached copy` };
          }
        }
        const tmp = `${dir}.tmp-${randomBytes(4).toString('hex')}`;
        try {
          await git(cloneCommand(src, tmp), undefined, cloneTimeout, `cloning ${name}`);
          if (src.revision) await git(['checkout', '--quiet', src.revision, '--'], tmp, 60_000, `checking out revision ${src.revision} of ${name}`);
          await rm(dir, { recursive: true, force: true });
          await rename(tmp, dir);
        } finally {
          await rm(tmp, { recursive: true, force: true });
        }
        return { dir, ...(await withCommit(head, dir)) };
      });
    },
  };
}

async function withCommit(head: (dir: string) => Promise<string | undefined>, dir: string): Promise<{ commit?: string }> {
  const c = await head(dir);
  return c ? { commit: c } : {};
}

async function isRepo(dir: string): Promise<boolean> {
  try {
    return (await stat(path.join(dir, '.git'))).isDirectory();
  } catch {
    return false;
  }
}

/**
 * A lock folder around one checkout, so two dsa runs do not clone into or update the same folder at
 * once. A lock older than the timeout is stale (its holder died) and taken over.
 */
async function withLock<T>(lock: string, timeoutMs: number, fn: () => Promise<T>): Promise<T> {
  const start = Date.now();
  for (;;) {
    try {
      await mkdir(lock);
      break;
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
      const age = await stat(lock).then((s) => Date.now() - s.mtimeMs, () => 0);
      if (age > timeoutMs) {
        await rm(lock, { recursive: true, force: true });
        continue;
      }
      if (Date.now() - start > timeoutMs) throw new GitDependencyError(`another dsa has held ${lock} for ${Math.round(age / 1000)}s; remove it if no dsa is running`);
      await new Promise((r) => setTimeout(r, 250));
    }
  }
  const keepAlive = setInterval(() => void utimes(lock, new Date(), new Date()).catch(() => undefined), 30_000);
  keepAlive.unref();
  try {
    return await fn();
  } finally {
    clearInterval(keepAlive);
    await rm(lock, { recursive: true, force: true });
  }
}

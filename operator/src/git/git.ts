// Git sources for the operator (ImageBuild git contexts, DevSession manifests/charts from git), with
// isomorphic-git: pure JS, so the operator image needs no git binary. It speaks the smart HTTP
// protocol only (no dumb HTTP, no ssh): repositories must be served over http(s) by a git server.
//
// Two operations:
//  - resolveRef: ref → commit with one ls-remote round trip (cheap; run on every reconcile so a moved
//    branch is noticed);
//  - checkoutSubPath: the files of `subPath` at a commit, written to a folder. Objects are cached in one
//    bare repository per URL, so a second build of the same repository fetches only what is new.
//
// The URL, the server and the repository are tenant input (docs/security.md, "Git sources"):
//  - requests go through net/guarded-http.ts: loopback, link-local and metadata addresses are refused unless
//    the install allows them; an overall deadline, the reconcile's abort signal and a byte budget bound them;
//  - errors say what failed by status and error code, never with what the server sent (a message lands in
//    status, readable by anyone who can read the session), and URLs in them carry no credentials;
//  - the checkout never writes through a link: every file, directory and link is created exclusively
//    (O_EXCL, O_NOFOLLOW) in a fresh folder, and a tree naming an entry twice is rejected.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { mkdir, open, rm, symlink } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import git from 'isomorphic-git';
import { BlockedAddressError, DEFAULT_ADDRESS_POLICY, redactUrl, type AddressPolicy } from '../net/address-guard.js';
import { ByteBudget, TooLargeError, gitHttpClient } from '../net/guarded-http.js';

export interface GitAuth {
  username?: string;
  password?: string;
}

/** Bounds on one git operation (resolve, fetch + checkout). */
export interface GitLimits {
  /** Overall time for the operation (default 5 minutes). */
  deadlineMs?: number;
  /** What the server may send for one operation (default 256 MiB). */
  maxFetchBytes?: number;
  /** What a checkout may write (default 256 MiB), and how many entries (default 50,000). */
  maxCheckoutBytes?: number;
  maxCheckoutEntries?: number;
}

export const DEFAULT_GIT_LIMITS: Required<GitLimits> = {
  deadlineMs: 5 * 60_000,
  maxFetchBytes: 256 * 1024 * 1024,
  maxCheckoutBytes: 256 * 1024 * 1024,
  maxCheckoutEntries: 50_000,
};

/** Where requests may go and how long/much they may take. */
export interface GitNetOptions {
  policy?: AddressPolicy;
  /** The reconcile's abort signal. */
  signal?: AbortSignal;
  limits?: GitLimits;
}

export interface GitSourceRef {
  url: string;
  /** Branch, tag, full ref name or 40-hex commit; default: the remote HEAD. */
  ref?: string;
  auth?: GitAuth;
  net?: GitNetOptions;
}

/** The remote could not be reached or answered oddly: retry with backoff. */
export class GitTransientError extends Error {
  override readonly name = 'GitTransientError';
}
/** The ref or path does not exist, or the source is refused: retrying the same spec will not help. */
export class GitNotFoundError extends Error {
  override readonly name = 'GitNotFoundError';
}

const COMMIT = /^[0-9a-f]{40}$/;

function onAuth(auth?: GitAuth) {
  return auth?.username || auth?.password ? () => ({ username: auth.username ?? '', password: auth.password ?? '' }) : undefined;
}

const MiB = (n: number) => `${Math.round(n / (1024 * 1024))} MiB`;

/** A deadline-bounded operation: the signal for its requests, and how to describe an abort. */
interface Op {
  signal: AbortSignal;
  budget: ByteBudget;
  limits: Required<GitLimits>;
  policy: AddressPolicy;
  deadlineHit(): boolean;
  done(): void;
}

function startOp(url: string, net: GitNetOptions | undefined): Op {
  const limits = { ...DEFAULT_GIT_LIMITS, ...(net?.limits ?? {}) };
  const deadline = new AbortController();
  const timer = setTimeout(() => deadline.abort(new Error('deadline')), limits.deadlineMs);
  timer.unref?.();
  const signal = net?.signal ? AbortSignal.any([net.signal, deadline.signal]) : deadline.signal;
  return {
    signal,
    budget: new ByteBudget(limits.maxFetchBytes, `fetching ${redactUrl(url)}`),
    limits,
    policy: net?.policy ?? DEFAULT_ADDRESS_POLICY,
    deadlineHit: () => deadline.signal.aborted,
    done: () => clearTimeout(timer),
  };
}

/**
 * The error to report for `e`: by kind, status and error code only. isomorphic-git's messages may quote what
 * the server sent (SmartHttpError shows the first bytes of the response), so they are never passed on.
 */
function wrap(e: unknown, what: string, op: Op): Error {
  if (e instanceof GitNotFoundError || e instanceof GitTransientError) return e;
  if (e instanceof BlockedAddressError) return new GitNotFoundError(`${what}: ${e.message}`);
  if (e instanceof TooLargeError) return new GitNotFoundError(`${what}: ${e.message.replace(/^[^:]*: /, '')}`);
  const err = e as { code?: unknown; name?: unknown; data?: { statusCode?: number }; cause?: unknown };
  if (op.signal.aborted || err.name === 'AbortError') {
    return op.deadlineHit()
      ? new GitTransientError(`${what}: timed out (deadline ${Math.round(op.limits.deadlineMs / 1000)}s)`)
      : new GitTransientError(`${what}: cancelled (reconcile aborted)`);
  }
  if (err.code === 'EDSABLOCKED') return new GitNotFoundError(`${what}: ${(e as Error).message}`);
  const status = err.data?.statusCode;
  if (err.code === 'HttpError' && typeof status === 'number') {
    if (status >= 400 && status < 500 && status !== 429) return new GitNotFoundError(`${what}: HTTP ${status}`);
    return new GitTransientError(`${what}: HTTP ${status}`);
  }
  if (err.code === 'SmartHttpError' || err.code === 'UnknownTransportError' || err.code === 'EmptyServerResponseError') {
    return new GitNotFoundError(`${what}: the server did not answer as a git smart-HTTP server`);
  }
  // Node network errors (ECONNREFUSED, ENOTFOUND, …) and isomorphic-git's own codes: the code, not the text.
  const code = typeof err.code === 'string' ? err.code : typeof err.name === 'string' ? err.name : 'error';
  return new GitTransientError(`${what}: ${code}`);
}

/** Pick the commit for `ref` out of an ls-remote listing (pure; exported for tests). */
export function pickRef(refs: Array<{ ref: string; oid: string; target?: string; peeled?: string }>, ref: string | undefined): string | undefined {
  const byName = new Map(refs.map((r) => [r.ref, r]));
  const want = ref && ref !== 'HEAD' ? [ref, `refs/heads/${ref}`, `refs/tags/${ref}`] : ['HEAD'];
  for (const name of want) {
    const r = byName.get(name);
    // Annotated tags point at a tag object; the commit is the peeled oid.
    if (r) return r.peeled ?? r.oid;
  }
  return undefined;
}

/** Resolve a ref to a commit. A 40-hex ref is returned as is (no network). */
export async function resolveRef(src: GitSourceRef): Promise<string> {
  if (src.ref && COMMIT.test(src.ref)) return src.ref;
  const op = startOp(src.url, src.net);
  const what = `listing refs of ${redactUrl(src.url)}`;
  let refs;
  try {
    refs = await git.listServerRefs({ http: gitHttpClient({ policy: op.policy, signal: op.signal, budget: op.budget }), url: src.url, onAuth: onAuth(src.auth), symrefs: true, peelTags: true });
  } catch (e) {
    throw wrap(e, what, op);
  } finally {
    op.done();
  }
  const commit = pickRef(refs, src.ref);
  if (!commit) throw new GitNotFoundError(`ref ${src.ref ?? 'HEAD'} not found in ${redactUrl(src.url)}`);
  return commit;
}

export interface CheckoutOptions extends GitSourceRef {
  /** The commit to check out (from resolveRef). */
  commit: string;
  /** Folder inside the repository; '' for the root. */
  subPath?: string;
  /** Destination folder (created; must not exist or be empty). */
  dest: string;
  /** Where bare caches live (default $TMPDIR/dsa-git). */
  cacheDir?: string;
}

// isomorphic-git is not safe for concurrent writes to one repository: serialise per cache dir.
const locks = new Map<string, Promise<unknown>>();
async function withLock<T>(key: string, fn: () => Promise<T>): Promise<T> {
  const prev = locks.get(key) ?? Promise.resolve();
  const run = prev.catch(() => undefined).then(fn);
  locks.set(key, run);
  try {
    return await run;
  } finally {
    if (locks.get(key) === run) locks.delete(key);
  }
}

/** Clean a repository-relative path; rejects `..` (a spec must not read outside the repository). */
export function cleanSubPath(subPath: string | undefined): string {
  const parts = (subPath ?? '').split('/').filter((p) => p !== '' && p !== '.');
  if (parts.includes('..')) throw new GitNotFoundError(`subPath ${subPath} must stay inside the repository`);
  return parts.join('/');
}

async function hasCommit(gitdir: string, oid: string): Promise<boolean> {
  try {
    await git.readCommit({ fs, gitdir, oid });
    return true;
  } catch {
    return false;
  }
}

/** A tree entry name that can be written as one path component. */
function safeName(name: string): boolean {
  // eslint-disable-next-line no-control-regex
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\\') && !/[\x00-\x1f\x7f]/.test(name);
}

const EXCL_FILE = fs.constants.O_WRONLY | fs.constants.O_CREAT | fs.constants.O_EXCL | fs.constants.O_NOFOLLOW;

/** Write the tree of `subPath` at `commit` to `dest`. Returns the number of files written. */
export async function checkoutSubPath(opts: CheckoutOptions): Promise<number> {
  const cacheRoot = opts.cacheDir ?? path.join(tmpdir(), 'dsa-git');
  const gitdir = path.join(cacheRoot, createHash('sha256').update(opts.url).digest('hex').slice(0, 16));
  const sub = cleanSubPath(opts.subPath);
  const shown = redactUrl(opts.url);
  const op = startOp(opts.url, opts.net);
  try {
    return await withLock(gitdir, async () => {
      if (!(await hasCommit(gitdir, opts.commit))) {
        await mkdir(gitdir, { recursive: true });
        await git.init({ fs, gitdir, bare: true });
        await git.addRemote({ fs, gitdir, remote: 'origin', url: opts.url, force: true });
        // Fetch the named ref when we have one (servers refuse arbitrary SHAs by default); a moved ref may
        // no longer contain the commit, which the check below reports as transient (re-resolve next time).
        const ref = opts.ref && !COMMIT.test(opts.ref) ? opts.ref : undefined;
        try {
          await git.fetch({ fs, http: gitHttpClient({ policy: op.policy, signal: op.signal, budget: op.budget }), gitdir, remote: 'origin', ref, singleBranch: ref !== undefined, tags: false, onAuth: onAuth(opts.auth) });
        } catch (e) {
          // A partial pack must not be mistaken for a cache next time.
          if (e instanceof TooLargeError || op.signal.aborted) await rm(gitdir, { recursive: true, force: true });
          throw wrap(e, `fetching ${shown}`, op);
        }
        if (!(await hasCommit(gitdir, opts.commit))) throw new GitTransientError(`commit ${opts.commit} not found after fetching ${shown}`);
      }
      return writeCheckout(gitdir, opts.commit, sub, opts.dest, shown, op);
    });
  } finally {
    op.done();
  }
}

async function writeCheckout(gitdir: string, commit: string, sub: string, dest: string, shown: string, op: Op): Promise<number> {
  await mkdir(dest, { recursive: true });
  let files = 0;
  let entries = 0;
  let bytes = 0;
  const writeTree = async (treePath: string, out: string): Promise<void> => {
    op.signal.throwIfAborted();
    let tree;
    try {
      tree = await git.readTree({ fs, gitdir, oid: commit, filepath: treePath || undefined });
    } catch {
      throw new GitNotFoundError(`path ${treePath || '/'} not found at ${commit.slice(0, 12)} in ${shown}`);
    }
    const seen = new Set<string>();
    for (const entry of tree.tree) {
      const inRepo = treePath ? `${treePath}/${entry.path}` : entry.path;
      if (!safeName(entry.path)) throw new GitNotFoundError(`malformed tree at ${commit.slice(0, 12)} in ${shown}: entry ${JSON.stringify(inRepo)}`);
      if (seen.has(entry.path)) throw new GitNotFoundError(`malformed tree at ${commit.slice(0, 12)} in ${shown}: duplicate entry ${inRepo}`);
      seen.add(entry.path);
      if (++entries > op.limits.maxCheckoutEntries) throw new GitNotFoundError(`checkout of ${shown}: more than ${op.limits.maxCheckoutEntries} entries`);
      const target = path.join(out, entry.path);
      if (entry.type === 'tree') {
        // Not recursive: the parent is a directory this checkout created; an existing path is a duplicate.
        await mkdir(target);
        await writeTree(inRepo, target);
      } else if (entry.type === 'blob') {
        const { blob } = await git.readBlob({ fs, gitdir, oid: entry.oid });
        bytes += blob.length;
        if (bytes > op.limits.maxCheckoutBytes) throw new GitNotFoundError(`checkout of ${shown}: more than ${MiB(op.limits.maxCheckoutBytes)}`);
        if (entry.mode === '120000') await symlink(Buffer.from(blob).toString('utf8'), target);
        else {
          const fh = await open(target, EXCL_FILE, entry.mode === '100755' ? 0o755 : 0o644);
          try {
            await fh.writeFile(blob);
          } finally {
            await fh.close();
          }
        }
        files++;
      } // commits (submodules) are skipped, as a plain `git archive` does
    }
  };
  try {
    await writeTree(sub, dest);
  } catch (e) {
    if (op.signal.aborted && !(e instanceof GitNotFoundError)) throw wrap(e, `checkout of ${shown}`, op);
    if ((e as NodeJS.ErrnoException).code === 'EEXIST' || (e as NodeJS.ErrnoException).code === 'ELOOP') {
      throw new GitNotFoundError(`malformed tree at ${commit.slice(0, 12)} in ${shown}: an entry would be written twice`);
    }
    throw e;
  }
  return files;
}

/** Remove a checkout folder. */
export async function removeCheckout(dest: string): Promise<void> {
  await rm(dest, { recursive: true, force: true });
}

// Git sources for the operator (ImageBuild git contexts, DevSession manifests/charts from git), with
// isomorphic-git: pure JS, so the operator image needs no git binary. It speaks the smart HTTP
// protocol only (no dumb HTTP, no ssh): repositories must be served over http(s) by a git server.
//
// Two operations:
//  - resolveRef: ref → commit with one ls-remote round trip (cheap; run on every reconcile so a moved
//    branch is noticed);
//  - checkoutSubPath: the files of `subPath` at a commit, written to a folder. Objects are cached in one
//    bare repository per URL, so a second build of the same repository fetches only what is new.
import { createHash } from 'node:crypto';
import * as fs from 'node:fs';
import { mkdir, rm, symlink, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import git from 'isomorphic-git';
import http from 'isomorphic-git/http/node';

export interface GitAuth {
  username?: string;
  password?: string;
}

export interface GitSourceRef {
  url: string;
  /** Branch, tag, full ref name or 40-hex commit; default: the remote HEAD. */
  ref?: string;
  auth?: GitAuth;
}

/** The remote could not be reached or answered oddly: retry with backoff. */
export class GitTransientError extends Error {
  override readonly name = 'GitTransientError';
}
/** The ref or path does not exist: retrying the same spec will not help. */
export class GitNotFoundError extends Error {
  override readonly name = 'GitNotFoundError';
}

const COMMIT = /^[0-9a-f]{40}$/;

function onAuth(auth?: GitAuth) {
  return auth?.username || auth?.password ? () => ({ username: auth.username ?? '', password: auth.password ?? '' }) : undefined;
}

function wrap(e: unknown, what: string): Error {
  const err = e as { code?: string; message?: string; data?: { statusCode?: number } };
  const status = err.data?.statusCode;
  if (err.code === 'HttpError' && status !== undefined && status >= 400 && status < 500 && status !== 429) {
    return new GitNotFoundError(`${what}: HTTP ${status}`);
  }
  return new GitTransientError(`${what}: ${err.message ?? String(e)}`);
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
  let refs;
  try {
    refs = await git.listServerRefs({ http, url: src.url, onAuth: onAuth(src.auth), symrefs: true, peelTags: true });
  } catch (e) {
    throw wrap(e, `listing refs of ${src.url}`);
  }
  const commit = pickRef(refs, src.ref);
  if (!commit) throw new GitNotFoundError(`ref ${src.ref ?? 'HEAD'} not found in ${src.url}`);
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

/** Write the tree of `subPath` at `commit` to `dest`. Returns the number of files written. */
export async function checkoutSubPath(opts: CheckoutOptions): Promise<number> {
  const cacheRoot = opts.cacheDir ?? path.join(tmpdir(), 'dsa-git');
  const gitdir = path.join(cacheRoot, createHash('sha256').update(opts.url).digest('hex').slice(0, 16));
  const sub = cleanSubPath(opts.subPath);
  return withLock(gitdir, async () => {
    if (!(await hasCommit(gitdir, opts.commit))) {
      await mkdir(gitdir, { recursive: true });
      await git.init({ fs, gitdir, bare: true });
      await git.addRemote({ fs, gitdir, remote: 'origin', url: opts.url, force: true });
      // Fetch the named ref when we have one (servers refuse arbitrary SHAs by default); a moved ref may
      // no longer contain the commit, which the check below reports as transient (re-resolve next time).
      const ref = opts.ref && !COMMIT.test(opts.ref) ? opts.ref : undefined;
      try {
        await git.fetch({ fs, http, gitdir, remote: 'origin', ref, singleBranch: ref !== undefined, tags: false, onAuth: onAuth(opts.auth) });
      } catch (e) {
        throw wrap(e, `fetching ${opts.url}`);
      }
      if (!(await hasCommit(gitdir, opts.commit))) throw new GitTransientError(`commit ${opts.commit} not found after fetching ${opts.url}`);
    }
    await mkdir(opts.dest, { recursive: true });
    let files = 0;
    const writeTree = async (treePath: string, out: string): Promise<void> => {
      let tree;
      try {
        tree = await git.readTree({ fs, gitdir, oid: opts.commit, filepath: treePath || undefined });
      } catch {
        throw new GitNotFoundError(`path ${treePath || '/'} not found at ${opts.commit.slice(0, 12)} in ${opts.url}`);
      }
      for (const entry of tree.tree) {
        if (entry.path.includes('/') || entry.path === '..' || entry.path === '.') continue; // malformed tree: never leave dest
        const target = path.join(out, entry.path);
        const inRepo = treePath ? `${treePath}/${entry.path}` : entry.path;
        if (entry.type === 'tree') {
          await mkdir(target, { recursive: true });
          await writeTree(inRepo, target);
        } else if (entry.type === 'blob') {
          const { blob } = await git.readBlob({ fs, gitdir, oid: entry.oid });
          if (entry.mode === '120000') await symlink(Buffer.from(blob).toString('utf8'), target);
          else await writeFile(target, blob, { mode: entry.mode === '100755' ? 0o755 : 0o644 });
          files++;
        } // commits (submodules) are skipped, as a plain `git archive` does
      }
    };
    await writeTree(sub, opts.dest);
    return files;
  });
}

/** Remove a checkout folder. */
export async function removeCheckout(dest: string): Promise<void> {
  await rm(dest, { recursive: true, force: true });
}

// What the deploy pipeline needs from git: a checkout of url@ref in a temp folder. operator/src/git
// implements it with isomorphic-git; tests can pass a fake.
import { lstat, mkdtemp, readdir, realpath, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative, sep } from 'node:path';
import { checkoutSubPath, removeCheckout, resolveRef, type GitLimits } from '../git/git.js';
import type { AddressPolicy } from '../net/address-guard.js';

export interface GitCheckout {
  /** Root of the working tree. */
  dir: string;
  /** Resolved commit (for messages). */
  commit?: string;
  /** Removes the checkout. */
  cleanup(): Promise<void>;
}

export interface GitFetcher {
  checkout(url: string, ref: string | undefined, signal?: AbortSignal): Promise<GitCheckout>;
}

export interface IsomorphicGitFetcherOptions {
  workDir?: string;
  cacheDir?: string;
  /** Internal addresses the install allows (--allow-internal-hosts). */
  policy?: AddressPolicy;
  limits?: GitLimits;
  log?: (msg: string, fields: Record<string, unknown>) => void;
}

/**
 * GitFetcher on operator/src/git (isomorphic-git, object cache per URL, guarded and bounded requests). Links
 * whose real path leaves the checkout are removed before helm/kustomize read it: a repository must not make
 * the operator render its own files (service-account token, …) into manifests.
 */
export class IsomorphicGitFetcher implements GitFetcher {
  constructor(private readonly opts: IsomorphicGitFetcherOptions = {}) {}

  async checkout(url: string, ref: string | undefined, signal?: AbortSignal): Promise<GitCheckout> {
    const net = { ...(this.opts.policy ? { policy: this.opts.policy } : {}), ...(this.opts.limits ? { limits: this.opts.limits } : {}), ...(signal ? { signal } : {}) };
    const commit = await resolveRef({ url, ...(ref ? { ref } : {}), net });
    const dir = await mkdtemp(join(this.opts.workDir ?? tmpdir(), 'dsa-src-'));
    try {
      await checkoutSubPath({ url, ...(ref ? { ref } : {}), commit, dest: dir, net, ...(this.opts.cacheDir ? { cacheDir: this.opts.cacheDir } : {}) });
      const dropped = await dropEscapingLinks(dir);
      if (dropped.length) this.opts.log?.('links leaving the checkout removed', { url, dropped: dropped.slice(0, 20) });
    } catch (e) {
      await removeCheckout(dir);
      throw e;
    }
    return { dir, commit, cleanup: () => removeCheckout(dir) };
  }
}

/**
 * Removes every symbolic link under `root` whose resolved real path is outside `root` or does not resolve, until
 * none is left (removing one can leave another dangling). The real path, not the link text: `up -> self/..` with
 * `self -> .` reads as inside but leads to root's parent. Returns the removed links, relative to root.
 */
export async function dropEscapingLinks(root: string): Promise<string[]> {
  const realRoot = await realpath(root);
  const dropped: string[] = [];
  for (;;) {
    const links: string[] = [];
    const walk = async (dir: string): Promise<void> => {
      for (const e of await readdir(dir, { withFileTypes: true })) {
        const full = join(dir, e.name);
        if (e.isSymbolicLink()) links.push(full);
        else if (e.isDirectory()) await walk(full);
      }
    };
    await walk(root);
    let removed = 0;
    for (const link of links) {
      let real: string | undefined;
      try {
        real = await realpath(link);
      } catch {
        real = undefined; // dangling or a loop
      }
      if (real !== undefined && (real === realRoot || real.startsWith(realRoot + sep))) continue;
      // lstat: the link may already be gone with a removed parent (never: parents are real directories here).
      if ((await lstat(link).catch(() => undefined))?.isSymbolicLink()) {
        await rm(link, { force: true });
        dropped.push(relative(root, link));
        removed++;
      }
    }
    if (removed === 0) return dropped;
  }
}

// What the deploy pipeline needs from git: a checkout of url@ref in a temp folder. operator/src/git
// implements it with isomorphic-git; tests can pass a fake.
import { mkdtemp, readdir, readlink, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve, sep } from 'node:path';
import { checkoutSubPath, removeCheckout, resolveRef } from '../git/git.js';
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

/**
 * GitFetcher on operator/src/git (isomorphic-git, object cache per URL). Symlinks that point outside the
 * checkout are removed before helm/kustomize read it: a repository must not make the operator render its
 * own files (service-account token, …) into manifests.
 */
export class IsomorphicGitFetcher implements GitFetcher {
  constructor(private readonly opts: { workDir?: string; cacheDir?: string } = {}) {}

  async checkout(url: string, ref: string | undefined): Promise<GitCheckout> {
    const commit = await resolveRef({ url, ...(ref ? { ref } : {}) });
    const dir = await mkdtemp(join(this.opts.workDir ?? tmpdir(), 'dsa-src-'));
    try {
      await checkoutSubPath({ url, ...(ref ? { ref } : {}), commit, dest: dir, ...(this.opts.cacheDir ? { cacheDir: this.opts.cacheDir } : {}) });
      await removeEscapingLinks(dir, dir);
    } catch (e) {
      await removeCheckout(dir);
      throw e;
    }
    return { dir, commit, cleanup: () => removeCheckout(dir) };
  }
}

async function removeEscapingLinks(root: string, dir: string): Promise<void> {
  for (const e of await readdir(dir, { withFileTypes: true })) {
    const full = join(dir, e.name);
    if (e.isSymbolicLink()) {
      const target = resolve(dirname(full), await readlink(full));
      if (target !== root && !target.startsWith(root + sep)) await rm(full, { force: true });
    } else if (e.isDirectory()) await removeEscapingLinks(root, full);
  }
}

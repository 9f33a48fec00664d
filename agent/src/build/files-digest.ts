// What a custom build's tag is computed from: the content of its `onChange` files (DevSpace hashes
// them to decide whether to rebuild), or of its whole context folder when it lists none. Paths are
// hashed relative to the project folder, so the same tree gives the same digest on every machine.
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import { lstat, readdir, readFile, readlink } from 'node:fs/promises';
import path from 'node:path';
import { isExcluded, parseDockerignore, type DockerignoreRule } from '@dsa/api/build-context';
import { expandGlob } from '../config/glob.js';
import { nodeFileReader } from '../config/node-fs.js';
import { LocalBuildError } from './errors.js';

/** More files than this in one digest is a mistake (a glob over node_modules, a home folder). */
export const MAX_DIGEST_FILES = 50_000;

/** Folders never part of a digest: version control and dsa's own cache. */
const SKIP_DIRS = new Set(['.git', '.dsa']);

async function fileSha(abs: string): Promise<string> {
  const h = createHash('sha256');
  for await (const chunk of createReadStream(abs)) h.update(chunk as Buffer);
  return h.digest('hex');
}

/** Every regular file (and symlink) under `root`, relative POSIX paths, sorted; `.dockerignore` rules of `root` honoured. */
async function walk(root: string, rules: readonly DockerignoreRule[], out: string[], budget: { left: number }): Promise<void> {
  const visit = async (rel: string): Promise<void> => {
    const names = (await readdir(rel ? path.join(root, rel) : root)).sort();
    for (const n of names) {
      const r = rel ? `${rel}/${n}` : n;
      if (isExcluded(rules, r)) continue;
      const st = await lstat(path.join(root, r));
      if (st.isDirectory()) {
        if (!SKIP_DIRS.has(n)) await visit(r);
      } else if (st.isFile() || st.isSymbolicLink()) {
        if (--budget.left < 0) throw new LocalBuildError(`more than ${MAX_DIGEST_FILES} files under ${root}; narrow the custom build's onChange`);
        out.push(r);
      }
    }
  };
  await visit('');
}

async function dockerignoreOf(dir: string): Promise<DockerignoreRule[]> {
  try {
    return parseDockerignore(await readFile(path.join(dir, '.dockerignore'), 'utf8'));
  } catch {
    return [];
  }
}

/**
 * sha256 over `<path relative to base>\0<sha256 of content>\n` of every file the entries stand for:
 * globs (as the loader expands them) and plain paths; a folder stands for the files below it.
 */
export async function filesDigest(base: string, entries: readonly string[]): Promise<string> {
  const files = new Map<string, string>();
  const budget = { left: MAX_DIGEST_FILES };
  for (const entry of entries) {
    const matches = /[*?[]/.test(entry) ? await expandGlob(nodeFileReader, entry) : [entry];
    for (const m of matches) {
      let st;
      try {
        st = await lstat(m);
      } catch {
        continue; // DevSpace's glob simply matches nothing
      }
      if (st.isDirectory()) {
        const rel: string[] = [];
        await walk(m, await dockerignoreOf(m), rel, budget);
        for (const r of rel) files.set(path.join(m, ...r.split('/')), '');
      } else {
        if (--budget.left < 0) throw new LocalBuildError(`more than ${MAX_DIGEST_FILES} files in onChange; narrow it`);
        files.set(m, '');
      }
    }
  }
  const h = createHash('sha256');
  for (const abs of [...files.keys()].sort()) {
    const rel = path.relative(base, abs).split(path.sep).join('/');
    const st = await lstat(abs);
    h.update(`${rel}\0${st.isSymbolicLink() ? `link:${await readlink(abs)}` : await fileSha(abs)}\n`);
  }
  return `sha256:${h.digest('hex')}`;
}

// The real file system and git, for the CLI. Tests inject their own FileReader / gitCommit.
import { execFile } from 'node:child_process';
import { readdir, readFile, stat } from 'node:fs/promises';
import type { FileReader } from './types.js';

export const nodeFileReader: FileReader = {
  readFile: (p) => readFile(p, 'utf8'),
  stat: async (p) => {
    try {
      const s = await stat(p);
      return s.isDirectory() ? 'dir' : 'file';
    } catch {
      return undefined;
    }
  },
  readdir: async (p) => {
    try {
      return await readdir(p);
    } catch {
      return [];
    }
  },
};

/** `git rev-parse --short HEAD` in dir; undefined when git or the repository is missing. */
export function gitShortCommit(dir: string): Promise<string | undefined> {
  return new Promise((resolve) => {
    execFile('git', ['rev-parse', '--short', 'HEAD'], { cwd: dir, timeout: 10_000 }, (err, stdout) => {
      const out = String(stdout ?? '').trim();
      resolve(err || !out ? undefined : out);
    });
  });
}

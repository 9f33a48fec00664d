// Which devspace.yaml a command works on, found the way DevSpace finds it:
//   1. `--config <file>` (DevSpace 6 still accepts it, deprecated in favour of the variable);
//   2. `DEVSPACE_CONFIG=<file>` (DevSpace 6's documented way to pick another file);
//   3. devspace.yaml in the current folder, else in the nearest parent folder that has one. The walk up
//      is DevSpace 5's `SetDevSpaceRoot` (pkg/devspace/config/loader); DevSpace 6 kept the function but
//      builds the path before calling it, so it only looks in the current folder. Like DevSpace 5 we skip
//      the home folder on the way up: a stray ~/devspace.yaml must not capture every folder below it.
// Relative paths (flag, variable) are relative to the current folder. The planner is pure; the file
// checks are injected so tests run on a real temporary tree and on fakes alike.
import { statSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { UsageError } from '../errors.js';

export const CONFIG_FILE = 'devspace.yaml';
export const CONFIG_ENV = 'DEVSPACE_CONFIG';

export interface DiscoveryInput {
  /** `--config`, as typed. */
  flag?: string | undefined;
  env: Readonly<Record<string, string | undefined>>;
  cwd: string;
  homeDir: string;
}

export type ConfigSource = 'flag' | 'env' | 'cwd' | 'parent';

export interface FoundConfig {
  /** Absolute path of the file. */
  path: string;
  source: ConfigSource;
}

/** Where to look: one named file, or devspace.yaml in each folder of `dirs` in order. */
export type SearchPlan =
  | { kind: 'explicit'; source: 'flag' | 'env'; given: string; path: string }
  | { kind: 'walk'; dirs: string[]; skipped: string[] };

/** Pure: the plan for an input. */
export function planConfigSearch(input: DiscoveryInput): SearchPlan {
  if (input.flag !== undefined) return { kind: 'explicit', source: 'flag', given: input.flag, path: resolve(input.cwd, input.flag) };
  const fromEnv = input.env[CONFIG_ENV];
  if (fromEnv) return { kind: 'explicit', source: 'env', given: fromEnv, path: resolve(input.cwd, fromEnv) };
  const dirs: string[] = [];
  const skipped: string[] = [];
  const start = resolve(input.cwd);
  const home = input.homeDir ? resolve(input.homeDir) : '';
  for (let dir = start; ; dir = dirname(dir)) {
    if (dir !== start && dir === home) skipped.push(dir);
    else dirs.push(dir);
    if (dirname(dir) === dir) break;
  }
  return { kind: 'walk', dirs, skipped };
}

/** Whether `path` is a regular file (or a link to one). */
export function isFile(path: string): boolean {
  return statSync(path, { throwIfNoEntry: false })?.isFile() ?? false;
}

/**
 * The devspace.yaml to load: the named one, else the first found walking up, else a UsageError that
 * names every folder it looked in (exit 2: the user points dsa at a project, as with a bad flag).
 */
export function discoverConfig(input: DiscoveryInput, exists: (path: string) => boolean = isFile): FoundConfig {
  const plan = planConfigSearch(input);
  // A named file is taken as named: when it is missing, the loader's `file:1:1: config file not found`
  // says so in the one-line format editors and scripts parse.
  if (plan.kind === 'explicit') return { path: plan.path, source: plan.source };
  for (const [i, dir] of plan.dirs.entries()) {
    const path = join(dir, CONFIG_FILE);
    if (exists(path)) return { path, source: i === 0 ? 'cwd' : 'parent' };
  }
  const looked = plan.dirs.join(', ');
  const skipped = plan.skipped.length ? `; the home folder ${plan.skipped.join(', ')} is not searched` : '';
  throw new UsageError(`no ${CONFIG_FILE} in ${plan.dirs[0]} or its parent folders (looked in ${looked}${skipped})`, {
    hint: `run dsa in a project folder, pass --config <file> or set ${CONFIG_ENV}`,
  });
}

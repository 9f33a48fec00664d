// What this build of dsa is. The bundle (agent/build/bundle.mjs) defines __DSA_BUILD__ at build time;
// run from source (tsx), the version comes from agent/package.json and the commit from git, read only
// when `dsa version` asks.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export interface BuildInfo {
  version: string;
  /** Full git commit the agent was built from, with `-dirty` when the tree had changes; '' unknown. */
  commit: string;
  /** When the bundle was built (ISO 8601); '' from source. */
  date: string;
  /** `bundle`, `sea` (single executable) or `source` (tsx). */
  flavor: 'bundle' | 'sea' | 'source';
  /** apiDigest() of the API this agent was built against; '' from source (computed on demand). */
  apiDigest: string;
}

declare const __DSA_BUILD__: BuildInfo | undefined;

const BUILT: BuildInfo | undefined = typeof __DSA_BUILD__ === 'undefined' ? undefined : __DSA_BUILD__;

function packageVersion(): string {
  try {
    const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version?: string };
    return pkg.version ?? '0.0.0';
  } catch {
    return '0.0.0';
  }
}

/** The version alone: what `dsa --version` prints. Cheap (no git). */
export function agentVersion(): string {
  return BUILT?.version ?? packageVersion();
}

/** The commit of a checkout, as the bundle script records it. '' outside a git work tree. */
export async function gitCommit(cwd: string): Promise<string> {
  // Only `dsa version` from source asks; child_process is not loaded on other starts.
  const { execFile } = await import('node:child_process');
  const git = (args: string[]) =>
    new Promise<string>((resolve, reject) =>
      execFile('git', args, { cwd, encoding: 'utf8', timeout: 5000 }, (err, stdout) => (err ? reject(err) : resolve(stdout.trim()))),
    );
  try {
    const head = await git(['rev-parse', 'HEAD']);
    return (await git(['status', '--porcelain', '--untracked-files=no'])) === '' ? head : `${head}-dirty`;
  } catch {
    return '';
  }
}

/** Everything about this build; from source the commit is the checkout's. */
export async function buildInfo(): Promise<BuildInfo> {
  if (BUILT) return BUILT;
  return { version: packageVersion(), commit: await gitCommit(fileURLToPath(new URL('.', import.meta.url))), date: '', flavor: 'source', apiDigest: '' };
}

/** The API digest recorded at build time ('' from source: callers compute it when they need it). */
export function recordedApiDigest(): string {
  return BUILT?.apiDigest ?? '';
}

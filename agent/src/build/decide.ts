// Pure decisions of the local builders: the tag of a custom build, and whether an image is built
// again, pushed, or taken from an earlier build.
import { TAG_PREFIX, canonicalJson, sha256Hex, type CustomBuildConfig } from '@dsa/api';
import path from 'node:path';
import type { CachedBuild } from './build-cache.js';

/**
 * The content-addressed tag of a custom build: its command line as configured, and the digest of the
 * files it depends on (onChange, else its context folder). The same inputs give the same tag on every
 * machine (onChange paths are taken relative to the project folder).
 */
export function customImageTag(cfg: CustomBuildConfig, projectDir: string, filesDigest: string): string {
  const rel = (p: string) => path.relative(projectDir, p).split(path.sep).join('/');
  const canonical = canonicalJson({
    builder: 'custom',
    command: cfg.command,
    args: cfg.args,
    appendArgs: cfg.appendArgs,
    imageFlag: cfg.imageFlag ?? '',
    imageTagOnly: cfg.imageTagOnly,
    imageArg: cfg.imageArg,
    onChange: cfg.onChange.map(rel),
    files: filesDigest,
  });
  return TAG_PREFIX + sha256Hex(canonical).slice(0, 12);
}

export type BuildDecision =
  /** Build (and push, unless skipPush), then deploy `tag`. */
  | { action: 'build'; reason: string }
  /** Nothing to build: `tag` exists (custom: built from the same files; docker: in the daemon). */
  | { action: 'reuse'; reason: string }
  /** --skip-build: reference an earlier local build. */
  | { action: 'reference'; tag: string; reason: string };

export interface DecisionInputs {
  engine: 'docker' | 'custom';
  /** The tag this build would produce. */
  tag: string;
  image: string;
  /** -b */
  force: boolean;
  /** --skip-build */
  skipBuild: boolean;
  /** The last local build of this image, from the build cache (build-cache.ts). */
  cached?: CachedBuild;
  /** custom: onChange was given (without it DevSpace builds every time). */
  hasOnChange?: boolean;
  /** docker: the daemon has `image:tag` already. */
  inDaemon?: boolean;
}

export function decideBuild(i: DecisionInputs): BuildDecision {
  const cachedHere = i.cached !== undefined && i.cached.image === i.image && i.cached.engine === i.engine ? i.cached : undefined;
  if (i.skipBuild && cachedHere) return { action: 'reference', tag: cachedHere.tag, reason: `--skip-build: using the last local build ${i.image}:${cachedHere.tag}` };
  if (i.force) return { action: 'build', reason: 'forced (-b)' };
  if (i.engine === 'custom') {
    if (!i.hasOnChange) return { action: 'build', reason: 'custom build without onChange: built every time' };
    if (cachedHere?.tag === i.tag) return { action: 'reuse', reason: 'onChange files unchanged since the last build' };
    return { action: 'build', reason: cachedHere ? 'onChange files changed' : 'no earlier build' };
  }
  if (i.inDaemon) return { action: 'reuse', reason: `${i.image}:${i.tag} is already in the Docker daemon` };
  return { action: 'build', reason: 'not built yet' };
}

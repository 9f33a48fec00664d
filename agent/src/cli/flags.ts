// Flag definitions shared by several commands (commands never import each other). DevSpace's names
// and short flags where it has them.
import { InvalidArgumentError, Option } from 'commander';
import type { PodSelectionFlags } from '../devloop/pods.js';
import { parseDuration } from '../session/duration.js';

/** Build/deploy flags shared by `up` and `deploy`. */
export interface BuildFlags {
  forceBuild?: boolean;
  forceDeploy?: boolean;
  buildSequential?: boolean;
  skipBuild?: boolean;
  skipPush?: boolean;
}

export const buildOptions = (): Option[] => [
  new Option('-b, --force-build', 'rebuild images even if the content-addressed tag already exists'),
  new Option('-d, --force-deploy', 'redeploy even if nothing changed, and wait for the rollout that follows'),
  new Option('--build-sequential', 'build images one after another instead of in parallel'),
  new Option('--skip-build', 'do not build images that were built before; deploy with their last tag').conflicts('forceBuild'),
  new Option('--skip-push', 'do not push images built locally (docker); in-cluster builds always push'),
];

/** `dsa up --quiet`: file sync prints no line per batch or per file (warnings and errors stay). */
export const quietSyncOption = () => new Option('-q, --quiet', 'file sync: no line per synced batch, no progress, no per-file logs (warnings and errors still show)');

export const DEFAULT_TIMEOUT = '10m';

export const timeoutOption = (defaultValue = DEFAULT_TIMEOUT, what = 'the session to be ready') =>
  new Option('--timeout <duration>', `how long to wait for ${what} (e.g. 90s, 10m)`).default(defaultValue);

/** `--timeout` in milliseconds; a bad value is a UsageError naming the flag. */
export const timeoutMs = (value: string | undefined, defaultValue = DEFAULT_TIMEOUT): number => parseDuration(value ?? defaultValue);

/**
 * Container selection for `enter` and `logs`. DevSpace uses `-p` for `--profile` globally, and so do
 * we, so the interactive picker is the long flag `--pick` only (see docs/cli.md).
 */
export interface PodFlags extends PodSelectionFlags {
  pick?: boolean;
}

export const podOptions = (): Option[] => [
  new Option('-c, --container <name>', 'container to use (default: the dev pod\'s container)'),
  new Option('--pick', 'choose the pod and container interactively'),
  new Option('--pod <name>', 'pod to use'),
  new Option('-l, --label-selector <selector>', 'select the pod by labels, e.g. app=api'),
  new Option('--image-selector <image>', 'select the pod by image'),
];

/** The selection part of PodFlags, without commander's extra keys. */
export function podSelection(flags: PodFlags): PodSelectionFlags {
  const { container, pod, labelSelector, imageSelector } = flags;
  return { ...(container !== undefined ? { container } : {}), ...(pod ? { pod } : {}), ...(labelSelector ? { labelSelector } : {}), ...(imageSelector ? { imageSelector } : {}) };
}

export interface RenderFlags {
  skipFileChecks?: boolean;
}

export const skipFileChecksOption = () =>
  new Option('--skip-file-checks', 'advanced: do not require referenced files (manifests, Dockerfiles, charts) to exist').hideHelp();

/** `--exit-after-deploy`, `--exit-after-deploy=false`, `--exit-after-deploy true`. */
export function parseBool(value: string | boolean): boolean {
  // Commander hands the preset (true) to the parser when the flag comes without a value.
  if (typeof value === 'boolean') return value;
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new InvalidArgumentError('expected true or false');
}

/** `--lines`/`--tail`: 0 or more. */
export function parseLines(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a number of lines (0 or more)');
  return Number(value);
}


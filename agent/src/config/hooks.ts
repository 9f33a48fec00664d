// Hooks as dsa runs them (agent/src/hooks): the normalized HookConfig plus what DevSpace's hook runner
// reads besides the command (pkg/devspace/hook: name, os, background, silent, and `container` /
// v1beta9–10 `where.container` for hooks that run in a pod). One normalizer for both schema families.
//
// The extra fields live here, beside the shared model's HookConfig (api/src/model/project.ts), so the
// model does not change under the other users of it; a HookSpec is a HookConfig.
import type { HookConfig, ProjectConfig } from '../../../api/src/model/project.js';
import { bool, num, obj, str, strMap, strs, warn, type NormCtx, type Obj } from './normalize-common.js';
import type { Seg } from './paths.js';

/** Where a container hook runs: DevSpace's HookContainer. */
export interface HookContainer {
  labelSelector?: Record<string, string>;
  pod?: string;
  namespace?: string;
  /** An image reference (or repository) a container of the pod runs. */
  imageSelector?: string;
  /** v1beta10 `imageName`: a key of `images:`. */
  imageName?: string;
  containerName?: string;
  /** Wait for a running container (default true, as DevSpace). */
  wait: boolean;
  /** Seconds to wait (default 150, as DevSpace). */
  timeoutSeconds: number;
  /** Only once per container (DevSpace marks it in the container). */
  once: boolean;
}

export interface HookSpec extends HookConfig {
  /** Shown in logs instead of the command line. */
  name?: string;
  /** No `args`: the command is a shell line (`sh -c`), as DevSpace runs it. */
  shell: boolean;
  /** GOOS names (`linux`, `darwin`, `windows`); empty = every OS. */
  os: string[];
  /** Do not wait for it; a failure is a warning. */
  background: boolean;
  /** Its output is shown only when it fails. */
  silent: boolean;
  /** Runs in a container instead of locally. */
  container?: HookContainer;
}

/** The project's hooks with their runner fields (hooks normalized before these fields existed get the defaults). */
export function hookSpecs(project: Pick<ProjectConfig, 'hooks'>): HookSpec[] {
  return project.hooks.map((h) => {
    const s = h as Partial<HookSpec> & HookConfig;
    return { ...s, shell: s.shell ?? false, os: s.os ?? [], background: s.background ?? false, silent: s.silent ?? false };
  });
}

function container(c: Obj | undefined): HookContainer | undefined {
  if (!c) return undefined;
  const labels = strMap(c.labelSelector);
  const out: HookContainer = { wait: bool(c.wait) ?? true, timeoutSeconds: num(c.timeout) && (c.timeout as number) > 0 ? (c.timeout as number) : 150, once: bool(c.once) ?? false };
  if (labels && Object.keys(labels).length) out.labelSelector = labels;
  for (const k of ['pod', 'namespace', 'imageSelector', 'imageName', 'containerName'] as const) {
    const v = str(c[k]);
    if (v) out[k] = v;
  }
  return out;
}

/**
 * One hook from either schema family. `events` are already v2beta1-style (`before:deploy:api`).
 * Returns undefined for hooks dsa does not run (disabled, no command), after a warning saying so.
 */
export function normHook(ctx: NormCtx, h: Obj, i: number, events: string[]): HookSpec | undefined {
  const at: Seg[] = ['hooks', i];
  if (bool(h.disabled) === true) return undefined;
  const command = str(h.command);
  if (!command) {
    warn(ctx, h, undefined, at, 'has no command (hooks that only upload, download, wait or print logs are not run by dsa)');
    return undefined;
  }
  if (events.length === 0) warn(ctx, h, undefined, at, 'has no when/events, so it never runs');
  const c = container(obj(h.container) ?? obj(obj(h.where)?.container));
  const args = strs(h.args);
  const spec: HookSpec = {
    command,
    args: args ?? [],
    events,
    shell: args === undefined,
    os: (str(h.os) ?? '').split(',').map((s) => s.trim()).filter(Boolean),
    background: bool(h.background) ?? false,
    silent: bool(h.silent) ?? false,
  };
  if (str(h.name)) spec.name = h.name as string;
  if (c) spec.container = c;
  return spec;
}

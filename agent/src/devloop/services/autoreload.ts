// Auto-reload (DevSpace v1beta `dev.autoReload`, and a changed Dockerfile): when a watched file
// changes, run the deploy pipeline again (the dev action hands in `redeploy`: this layer must not
// import actions/). The operator rebuilds what changed (content-addressed tags) and rolls out; the
// other services follow the new pods through the session feed, as after any rollout.
//
// What is watched (DevSpace's GetPaths, v4/v5 cmd/dev.go): `dev.autoReload.paths` (globs), the
// manifests, local chart and values files of the deployments named in `dev.autoReload.deployments`,
// the Dockerfiles of the images named in `dev.autoReload.images`, and the Dockerfile of every image
// dsa builds. Like DevSpace, it polls once a second (mtime and size); a change fires once a poll finds
// nothing new, so an editor's burst of writes is one redeploy.
import { stat } from 'node:fs/promises';
import path from 'node:path';
import type { ProjectConfig } from '@dsa/api';
import { expandGlob, hasGlob } from '../../config/glob.js';
import { nodeFileReader } from '../../config/node-fs.js';
import type { DevServiceDefinition } from '../service.js';

export interface AutoReloadOptions {
  /** Absolute paths and globs (autoReloadWatchList). */
  watch: readonly string[];
  /** Build and deploy again; resolves when the session is Ready (or rejects with why not). */
  redeploy(signal: AbortSignal): Promise<void>;
  /** Poll interval (DevSpace: 1 s). */
  pollMs?: number;
}

/** The files and globs auto-reload watches for a project (absolute, each once, in a stable order). Pure. */
export function autoReloadWatchList(project: Pick<ProjectConfig, 'dev' | 'deployments' | 'images'>): string[] {
  const out = new Set<string>();
  const ar = project.dev.autoReload;
  for (const p of ar?.paths ?? []) out.add(p);
  for (const name of ar?.deployments ?? []) {
    const d = project.deployments.find((x) => x.name === name);
    if (!d) continue;
    if (d.kind === 'kubectl') for (const m of d.manifests) out.add(m);
    else {
      // A chart folder: everything in it; a packed chart: the file. Remote and component charts have nothing local.
      if ('path' in d.chart) out.add(/\.tgz$/.test(d.chart.path) ? d.chart.path : path.join(d.chart.path, '**'));
      for (const v of d.valuesFiles) out.add(v);
    }
  }
  for (const name of ar?.images ?? []) {
    const i = project.images.find((x) => x.name === name);
    if (i) out.add(i.dockerfile);
  }
  for (const i of project.images) if (!i.disabled) out.add(i.dockerfile);
  return [...out];
}

/** Entries one watched pattern may stand for: polling a huge tree every second must stay cheap. */
const MAX_ENTRIES = 20_000;

/** path → `mtime:size` of everything the watch list names now (`dir/**`: the folder and all below it). */
export async function snapshot(watch: readonly string[]): Promise<Map<string, string>> {
  const out = new Map<string, string>();
  const add = async (p: string): Promise<boolean> => {
    try {
      const s = await stat(p);
      // A folder's own mtime changes when entries come and go.
      out.set(p, `${s.mtimeMs}:${s.isDirectory() ? 'dir' : s.size}`);
      return s.isDirectory();
    } catch {
      return false; // gone: absent from the snapshot, which is the change
    }
  };
  for (const w of watch) {
    const tree = /[\\/]\*\*$/.test(w);
    const base = tree ? w.slice(0, -3) : w;
    const roots = hasGlob(base) ? await expandGlob(nodeFileReader, base) : [base];
    let budget = MAX_ENTRIES;
    const walk = async (p: string): Promise<void> => {
      if (--budget < 0) return;
      if (!(await add(p)) || !tree) return;
      for (const name of (await nodeFileReader.readdir(p)).sort()) await walk(path.join(p, name));
    };
    for (const r of roots) await walk(r);
  }
  return out;
}

/** What changed between two snapshots (created, changed, deleted). Pure. */
export function changedPaths(before: ReadonlyMap<string, string>, after: ReadonlyMap<string, string>): string[] {
  const out: string[] = [];
  for (const [p, v] of after) if (before.get(p) !== v) out.push(p);
  for (const p of before.keys()) if (!after.has(p)) out.push(p);
  return out.sort();
}

export function autoReloadService(opts: AutoReloadOptions): DevServiceDefinition {
  return {
    name: 'autoreload',
    create(ctx) {
      if (opts.watch.length === 0) return undefined;
      const pollMs = opts.pollMs ?? 1000;
      let timer: NodeJS.Timeout | undefined;
      let last: Map<string, string> | undefined;
      let pending: string[] = [];
      let deploying: Promise<void> | undefined;
      let stopped = false;
      const rel = (p: string) => path.relative(ctx.projectDir, p) || p;
      const reload = async (why: string[]) => {
        const shown = why.slice(0, 3).map(rel).join(', ') + (why.length > 3 ? ` and ${why.length - 3} more` : '');
        ctx.env.log.info(`auto-reload: ${shown} changed; building and deploying again`);
        try {
          await opts.redeploy(ctx.env.signal);
          if (!ctx.env.signal.aborted) ctx.env.log.info('auto-reload: deployed; the dev loop follows the new pods');
        } catch (e) {
          // The loop keeps running on the last good deploy; the next change tries again.
          if (!ctx.env.signal.aborted) ctx.env.log.error(`auto-reload: ${(e as Error)?.message ?? String(e)}`);
        }
      };
      const poll = async () => {
        timer = undefined;
        if (stopped) return;
        const now = await snapshot(opts.watch);
        if (stopped) return;
        const changed = last ? changedPaths(last, now) : [];
        last = now;
        if (changed.length) pending.push(...changed.filter((p) => !pending.includes(p)));
        else if (pending.length && !deploying) {
          // Quiet for one poll after changes: one redeploy for the whole burst.
          const why = pending;
          pending = [];
          deploying = reload(why).finally(() => (deploying = undefined));
        }
        if (!stopped) timer = setTimeout(() => void poll(), pollMs);
      };
      return {
        async start() {
          last = await snapshot(opts.watch);
          timer = setTimeout(() => void poll(), pollMs);
        },
        async stop() {
          stopped = true;
          clearTimeout(timer);
          await deploying;
        },
      };
    },
  };
}

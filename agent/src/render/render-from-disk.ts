// The IO edge of rendering: compute context digests, read manifest/values files and pack local
// charts from disk, then call the pure renderProject(). Its options match the CLI's RenderOptions.
import { readFileSync } from 'node:fs';
import type { ProjectConfig } from '@dsa/api';
import { packChart as packChartDir } from './pack-chart.js';
import { planSessions, renderProject, type RenderProjectResult } from './render-project.js';

export interface RenderFromDiskOptions {
  namespace: string;
  owner: { user: string; host: string };
  /** sha256 of the canonical tar of a build context (docs/api/v1alpha1.md, upload contract). */
  contextDigest: (contextDir: string, dockerfile: string) => Promise<string>;
  kustomizeBuild?: (absDir: string) => string;
  /** Injected for tests; default: pack-chart.ts. */
  packChart?: (absDir: string) => Promise<string>;
  readFile?: (absPath: string) => string;
}

export async function renderProjectFromDisk(project: ProjectConfig, opts: RenderFromDiskOptions): Promise<RenderProjectResult> {
  const { sessions } = planSessions(project, opts.namespace);
  const digests: Record<string, string> = {};
  const charts = new Map<string, string>();
  const pack = opts.packChart ?? packChartDir;
  // Sequential on purpose: hashing contexts is disk-bound, and 2-core dev machines are common.
  for (const s of sessions) {
    for (const img of s.project.images) {
      if (img.disabled || s.skipBuild) continue;
      digests[`${s.name}/${img.name}`] = await opts.contextDigest(img.context, img.dockerfile);
    }
    for (const d of s.project.deployments) {
      if (d.kind === 'helm' && 'path' in d.chart && !charts.has(d.chart.path)) charts.set(d.chart.path, await pack(d.chart.path));
    }
  }
  return renderProject(project, {
    namespace: opts.namespace,
    owner: opts.owner,
    uploadDigests: digests,
    inlineFiles: opts.readFile ?? ((p) => readFileSync(p, 'utf8')),
    packChart: (dir) => {
      const archive = charts.get(dir);
      if (archive === undefined) throw new Error(`chart ${dir} was not packed`);
      return archive;
    },
    ...(opts.kustomizeBuild ? { kustomizeBuild: opts.kustomizeBuild } : {}),
  });
}

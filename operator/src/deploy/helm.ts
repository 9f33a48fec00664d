// Helm deployments: helm is used as a RENDERER (`helm template`), never as a release manager.
//
// Why (operator/src/deploy/README.md has the long version): the output goes through the same pipeline
// as kubectl manifests — tag replacement, dev overrides, ownership labels, server-side apply with the
// dsa-operator field manager, the inventory in status and pruning — so a chart that drops an object
// prunes it, deleting the session removes everything, and there is no second source of truth (helm
// release Secrets) that can drift from status.inventory. The cost: helm hooks are rendered as plain
// objects (`--no-hooks` drops them instead) and `helm list` does not show dsa deployments.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { KubernetesObject } from '@kubernetes/client-node';
import { parseManifests } from './manifests.js';
import { runCommand, ToolFailedError, type CommandRunner } from './exec.js';

/** A chart helm can render, already materialized where needed. */
export type ChartSource =
  | { kind: 'path'; path: string } // a folder or a .tgz on disk
  | { kind: 'repo'; name: string; repo?: string; version?: string };

export interface HelmTemplateRequest {
  release: string;
  namespace: string;
  chart: ChartSource;
  values: Record<string, unknown>;
  timeoutMs?: number;
  signal?: AbortSignal;
}

/** The chart cannot be found/fetched/rendered: retrying with the same spec will not help soon. */
export class ChartError extends Error {
  override readonly name = 'ChartError';
  constructor(
    message: string,
    readonly notFound: boolean,
  ) {
    super(message);
  }
}

export interface HelmRendererOptions {
  /** helm binary: env DSA_HELM, else `helm` on PATH. */
  helmPath?: string;
  run?: CommandRunner;
  /** Scratch space for values files and helm's cache/config (the operator's HOME may be read-only). */
  workDir?: string;
}

export function helmBinary(env: NodeJS.ProcessEnv = process.env): string {
  return env.DSA_HELM || 'helm';
}

/** argv for `helm template` (pure; exposed for tests). */
export function helmTemplateArgs(req: HelmTemplateRequest, valuesFile: string): string[] {
  const args = ['template', req.release];
  if (req.chart.kind === 'path') args.push(req.chart.path);
  else {
    args.push(req.chart.name);
    if (req.chart.repo) args.push('--repo', req.chart.repo);
    if (req.chart.version) args.push('--version', req.chart.version);
  }
  // --include-crds: CRDs are objects like any other here (inventory, pruning); helm install would skip them on upgrade.
  args.push('--namespace', req.namespace, '--values', valuesFile, '--include-crds', '--skip-tests');
  return args;
}

export class HelmRenderer {
  private readonly helm: string;
  private readonly run: CommandRunner;
  private readonly workDir: string | undefined;

  constructor(opts: HelmRendererOptions = {}) {
    this.helm = opts.helmPath ?? helmBinary();
    this.run = opts.run ?? runCommand;
    this.workDir = opts.workDir;
  }

  async template(req: HelmTemplateRequest): Promise<KubernetesObject[]> {
    const dir = await mkdtemp(join(this.workDir ?? tmpdir(), 'dsa-helm-'));
    try {
      const valuesFile = join(dir, 'values.json');
      // JSON is YAML: no serializer quirks for values that look like numbers or booleans.
      await writeFile(valuesFile, JSON.stringify(req.values ?? {}));
      const env = {
        ...process.env,
        HELM_CACHE_HOME: join(dir, 'cache'),
        HELM_CONFIG_HOME: join(dir, 'config'),
        HELM_DATA_HOME: join(dir, 'data'),
      };
      let out: string;
      try {
        out = await this.run(this.helm, helmTemplateArgs(req, valuesFile), { timeoutMs: req.timeoutMs ?? 120_000, env, signal: req.signal });
      } catch (e) {
        if (e instanceof ToolFailedError) {
          const notFound = /not found|no such file|failed to download|404|could not find|no chart/i.test(e.stderr);
          throw new ChartError(`helm template ${describe(req.chart)}: ${e.stderr.trim().split('\n').slice(-3).join(' ') || e.message}`, notFound);
        }
        throw e;
      }
      return parseManifests(out, `helm template ${req.release}`);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }
}

function describe(c: ChartSource): string {
  return c.kind === 'path' ? 'local chart' : `${c.name}${c.version ? `@${c.version}` : ''}${c.repo ? ` from ${c.repo}` : ''}`;
}

/** Writes a base64 .tgz (spec.deployments[].helm.chart.archive) to `dir`; helm template accepts the file. */
export async function writeChartArchive(base64: string, dir: string): Promise<string> {
  const buf = Buffer.from(base64, 'base64');
  // gzip magic: catches a non-base64 or non-tgz payload with a clear message instead of helm's.
  if (buf.length < 2 || buf[0] !== 0x1f || buf[1] !== 0x8b) throw new ChartError('chart.archive is not a base64-encoded .tgz', false);
  const file = join(dir, 'chart.tgz');
  await writeFile(file, buf);
  return file;
}

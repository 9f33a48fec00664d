import { ValidationError, isConfigError } from '../../errors.js';
import { toJson, toYaml, type KubeObject } from '../../output/printer.js';
import { defineCommand } from '../command.js';
import { configPath, displayPath, formatWarning, loadAndRender, type LoadedProject } from '../project.js';
import { skipFileChecksOption, type RenderFlags } from './render.js';

/** `-o json|yaml` report. Stable: scripts and editors consume it. */
export interface ValidateReport {
  apiVersion: 'dsa.dev/v1alpha1';
  kind: 'ValidationReport';
  file: string;
  valid: boolean;
  project?: string;
  counts?: { images: number; deployments: number; devPods: number; dependencies: number; warnings: number };
  warnings: Array<{ path: string; message: string; file?: string; line?: number; col?: number }>;
  /** One entry on failure: the same line printed on stderr. */
  errors: Array<{ message: string; file?: string; line?: number; col?: number; path?: string }>;
}

function countOf(sessions: KubeObject[], pick: (spec: Record<string, any>) => unknown[] | undefined): number {
  return sessions.reduce((n, s) => n + (pick((s.spec ?? {}) as Record<string, any>)?.length ?? 0), 0);
}

export function counts(loaded: LoadedProject): NonNullable<ValidateReport['counts']> {
  const sessions = loaded.rendered.sessions;
  return {
    images: countOf(sessions, (s) => s.images),
    deployments: countOf(sessions, (s) => s.deployments),
    devPods: countOf(sessions, (s) => s.dev?.pods),
    // Every session but the root one is a dependency (rendered recursively).
    dependencies: Math.max(0, sessions.length - 1),
    warnings: loaded.warnings.length,
  };
}

function plural(n: number, word: string): string {
  return `${n} ${word}${n === 1 ? '' : 's'}`;
}

export const validateCommand = defineCommand<RenderFlags>({
  name: 'validate',
  summary: 'check a devspace.yaml: load, render, and validate the objects against the CRD schemas',
  description: 'Exit 0 when valid, 2 with one `file:line:col: path: reason` line when not. Never contacts the cluster.',
  options: [skipFileChecksOption()],
  examples: [
    ['dsa validate', '✓ devspace.yaml: valid (1 image, 1 deployment, 1 dev pod, 0 dependencies; 0 warnings)'],
    ['dsa validate --config services/api/devspace.yaml -p staging', 'another file, with a profile'],
    ['dsa validate -o json', 'a machine-readable report (also on failure)'],
  ],
  async run(ctx, _args, flags) {
    const file = displayPath(ctx, configPath(ctx));
    const structured = ctx.globals.output === 'json' || ctx.globals.output === 'yaml';
    const emit = (report: ValidateReport) => ctx.stdout.write(ctx.globals.output === 'yaml' ? toYaml(report) : toJson(report));
    let loaded: LoadedProject;
    try {
      loaded = await loadAndRender(ctx, { checkFiles: !flags.skipFileChecks });
      const issues: string[] = [];
      for (const obj of [...loaded.rendered.sessions, ...loaded.rendered.imageBuilds]) {
        const services = await ctx.services();
        for (const issue of services.validateObject(obj)) {
          issues.push(`${obj.kind ?? '?'} ${obj.metadata?.name ?? '?'}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
        }
      }
      if (issues.length > 0) {
        throw new ValidationError(`${file}: rendered ${issues[0]}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`);
      }
    } catch (err) {
      if (structured && (isConfigError(err) || err instanceof ValidationError)) {
        const e = err as Error & { file?: string; line?: number; col?: number; path?: string };
        emit({
          apiVersion: 'dsa.dev/v1alpha1',
          kind: 'ValidationReport',
          file,
          valid: false,
          warnings: [],
          errors: [
            {
              message: isConfigError(err) ? err.toString() : e.message,
              ...(e.file !== undefined ? { file: e.file } : {}),
              ...(typeof e.line === 'number' ? { line: e.line } : {}),
              ...(typeof e.col === 'number' ? { col: e.col } : {}),
              ...(typeof e.path === 'string' && e.path !== '' ? { path: e.path } : {}),
            },
          ],
        });
      }
      throw err; // the top-level handler prints the one line and exits 2
    }
    const c = counts(loaded);
    for (const w of loaded.warnings) ctx.log.warn(formatWarning(w));
    if (structured) {
      emit({
        apiVersion: 'dsa.dev/v1alpha1',
        kind: 'ValidationReport',
        file,
        valid: true,
        project: loaded.project.name,
        counts: c,
        warnings: loaded.warnings.map((w) => ({
          path: w.path,
          message: w.message,
          ...(w.pos ? { file: w.pos.file, line: w.pos.line, col: w.pos.col } : {}),
        })),
        errors: [],
      });
      return;
    }
    const summary = [
      plural(c.images, 'image'),
      plural(c.deployments, 'deployment'),
      plural(c.devPods, 'dev pod'),
      plural(c.dependencies, 'dependency').replace(/dependencys$/, 'dependencies'),
    ].join(', ');
    ctx.stdout.write(`${ctx.stdoutColor.green('✓')} ${file}: valid (${summary}; ${plural(c.warnings, 'warning')})\n`);
  },
});

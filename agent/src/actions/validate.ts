// `dsa validate`: load + render + check every object against the CRD schemas (and their CEL mirrors).
// The outcome is a report either way, so `-o json` can print one on failure too.
import { ValidationError, isConfigError } from '../errors.js';
import type { AgentEnv } from '../env.js';
import type { KubeObject } from '../output/printer.js';
import type { ActionDeps } from './action-deps.js';
import { formatWarning, loadAndRender, type LoadedProject, type LoadOptions } from './load-project.js';

/** `-o json|yaml` report. Stable: scripts and editors consume it. */
export interface ValidateReport {
  apiVersion: 'dsa.dev/v1alpha1';
  kind: 'ValidationReport';
  file: string;
  valid: boolean;
  project?: string;
  counts?: ValidateCounts;
  warnings: Array<{ path: string; message: string; file?: string; line?: number; col?: number }>;
  /** One entry on failure: the same line printed on stderr. */
  errors: Array<{ message: string; file?: string; line?: number; col?: number; path?: string }>;
}

export interface ValidateCounts {
  images: number;
  deployments: number;
  devPods: number;
  dependencies: number;
  warnings: number;
}

export type ValidateOutcome =
  | { valid: true; report: ValidateReport; counts: ValidateCounts }
  /** `error` is what the CLI reports (a ConfigError or ValidationError, exit 2). */
  | { valid: false; report: ValidateReport; error: Error };

function countOf(sessions: KubeObject[], pick: (spec: Record<string, any>) => unknown[] | undefined): number {
  return sessions.reduce((n, s) => n + (pick((s.spec ?? {}) as Record<string, any>)?.length ?? 0), 0);
}

/** Counts over the project and its dependencies. Pure. */
export function counts(loaded: Pick<LoadedProject, 'rendered' | 'warnings'>): ValidateCounts {
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

/** The report of an invalid project: one error entry, positioned when the error carries a position. Pure. */
export function failureReport(file: string, err: Error): ValidateReport {
  const e = err as Error & { file?: string; line?: number; col?: number; path?: string };
  return {
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
  };
}

/**
 * Validate; an invalid project is an outcome (valid: false), any other failure (no cluster config,
 * an internal error) is thrown. Warnings are logged when the project is valid.
 */
export async function validateProject(env: AgentEnv, deps: ActionDeps, opts: LoadOptions & { file: string }): Promise<ValidateOutcome> {
  let loaded: LoadedProject;
  try {
    loaded = await loadAndRender(env, deps, opts);
    const services = await deps.services();
    const issues: string[] = [];
    for (const obj of [...loaded.rendered.sessions, ...loaded.rendered.imageBuilds]) {
      for (const issue of services.validateObject(obj)) {
        issues.push(`${obj.kind ?? '?'} ${obj.metadata?.name ?? '?'}: ${issue.path ? `${issue.path}: ` : ''}${issue.message}`);
      }
    }
    if (issues.length > 0) {
      throw new ValidationError(`${opts.file}: rendered ${issues[0]}${issues.length > 1 ? ` (and ${issues.length - 1} more)` : ''}`);
    }
  } catch (err) {
    if (isConfigError(err) || err instanceof ValidationError) return { valid: false, report: failureReport(opts.file, err as Error), error: err as Error };
    throw err;
  }
  for (const w of loaded.warnings) env.log.warn(formatWarning(w));
  const c = counts(loaded);
  return {
    valid: true,
    counts: c,
    report: {
      apiVersion: 'dsa.dev/v1alpha1',
      kind: 'ValidationReport',
      file: opts.file,
      valid: true,
      project: loaded.project.name,
      counts: c,
      warnings: loaded.warnings.map((w) => ({ path: w.path, message: w.message, ...(w.pos ? { file: w.pos.file, line: w.pos.line, col: w.pos.col } : {}) })),
      errors: [],
    },
  };
}

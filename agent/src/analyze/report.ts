// The plain-text report: problems grouped by object, each with its facts, the container's last log
// lines, and what to do. Pure; colours are optional (an identity painter when absent).
import { showObject, sameObject, type AnalyzeReport, type Problem } from './model.js';

export interface Painter {
  red(s: string): string;
  yellow(s: string): string;
  bold(s: string): string;
  dim(s: string): string;
}

const plain: Painter = { red: (s) => s, yellow: (s) => s, bold: (s) => s, dim: (s) => s };

const KIND_WORDS: Record<string, string> = {
  CrashLoop: 'crash loop',
  OOMKilled: 'out of memory',
  InitFailed: 'init container fails',
  ImagePull: 'image pull',
  ContainerConfig: 'container cannot start',
  Unschedulable: 'unschedulable',
  NotReady: 'not ready',
  PodFailed: 'failed',
  Restarted: 'restarted',
  WarningEvent: 'warning event',
  SessionFailed: 'failed',
  SessionRetrying: 'retrying',
  SessionProgressing: 'in progress',
  BuildFailed: 'build failed',
  BuildRetrying: 'build retrying',
};

export const problemWords = (p: Problem): string => KIND_WORDS[p.kind] ?? p.kind;

/** One problem as indented lines (no object header). */
export function formatProblem(p: Problem, paint: Painter = plain, indent = '  '): string[] {
  const mark = p.severity === 'error' ? paint.red('✗') : paint.yellow('!');
  const lines = [`${indent}${mark} ${p.container ? `${p.container}: ` : ''}${p.summary}`];
  for (const d of p.details) lines.push(`${indent}    ${d}`);
  if (p.logs?.length) {
    lines.push(`${indent}    ${paint.dim(`last ${p.logs.length} log line${p.logs.length === 1 ? '' : 's'}${p.logsFrom === 'previous' ? ' (the run that crashed)' : ''}:`)}`);
    for (const l of p.logs) lines.push(`${indent}    ${paint.dim('|')} ${l}`);
  }
  lines.push(`${indent}    ${paint.bold('→')} ${p.hint}`);
  return lines;
}

/** Problems grouped by object, in the order given (sortProblems puts errors first). */
export function groupByObject(problems: readonly Problem[]): Array<{ object: Problem['object']; problems: Problem[] }> {
  const groups: Array<{ object: Problem['object']; problems: Problem[] }> = [];
  for (const p of problems) {
    const g = groups.find((x) => sameObject(x.object, p.object));
    if (g) g.problems.push(p);
    else groups.push({ object: p.object, problems: [p] });
  }
  return groups;
}

/** The report as text: objects with their problems, then a summary line. */
export function formatReport(r: AnalyzeReport, paint: Painter = plain): string {
  const out: string[] = [];
  for (const g of groupByObject(r.problems)) {
    out.push(paint.bold(showObject(g.object)));
    for (const p of g.problems) out.push(...formatProblem(p, paint));
    out.push('');
  }
  const { errors, warnings, pods } = r.counts;
  const scope = `namespace ${r.namespace} (${pods} pod${pods === 1 ? '' : 's'}${r.sessions.length ? `, session${r.sessions.length === 1 ? '' : 's'} ${r.sessions.join(', ')}` : ''})`;
  if (errors === 0 && warnings === 0) out.push(`No problems found in ${scope}. dsa logs --pick shows a container's log.`);
  else if (errors === 0) out.push(`No errors in ${scope}; ${warnings} warning${warnings === 1 ? '' : 's'}.`);
  else out.push(paint.red(`${errors} problem${errors === 1 ? '' : 's'} in ${scope}${warnings ? `, and ${warnings} warning${warnings === 1 ? '' : 's'}` : ''}.`));
  return `${out.join('\n')}\n`;
}

// `dsa analyze` end to end: list what is in the namespace (IO), judge it (pure: pods.ts, events.ts,
// resources.ts), then read the last log lines of the containers that have a problem (IO, bounded).
import type { CoreV1Event, V1Pod } from '@kubernetes/client-node';
import type { DevSession, ImageBuild } from '@dsa/api';
import { eventProblems } from './events.js';
import type { AnalyzeKube } from './kube.js';
import { sortProblems, type AnalyzeReport, type Problem } from './model.js';
import { isBuildPod, podProblems } from './pods.js';
import { explainRegistries, httpRegistryProbe, type RegistryProbe } from './registry-probe.js';
import { imageBuildProblems, sessionProblems } from './resources.js';

export interface AnalyzeInput {
  pods: readonly V1Pod[];
  events: readonly CoreV1Event[];
  sessions: readonly DevSession[];
  imageBuilds: readonly ImageBuild[];
}

/** Every problem in what was listed, errors first. Pure. */
export function analyzeObjects(input: AnalyzeInput, now: Date): Problem[] {
  return sortProblems([
    ...input.sessions.flatMap((s) => sessionProblems(s, now)),
    ...input.imageBuilds.flatMap((ib) => imageBuildProblems(ib)),
    // Build pods are reported through their ImageBuild (a failed one is kept an hour for its log).
    ...input.pods.filter((p) => !isBuildPod(p)).flatMap((p) => podProblems(p, input.events, { now })),
    ...eventProblems(input.events, { now }),
  ]).map(withoutInternals);
}

/** The report fields only: fail-fast timings are the deploy's business, not the report's. */
function withoutInternals(p: Problem & { failFastAfterMs?: number }): Problem {
  const { failFastAfterMs: _f, ...rest } = p;
  return rest;
}

export function buildReport(namespace: string, sessions: readonly string[], problems: readonly Problem[], pods: number, now: Date): AnalyzeReport {
  const errors = problems.filter((p) => p.severity === 'error').length;
  return {
    apiVersion: 'dsa.dev/v1alpha1',
    kind: 'AnalyzeReport',
    namespace,
    sessions: [...sessions],
    generatedAt: now.toISOString(),
    healthy: errors === 0,
    counts: { errors, warnings: problems.length - errors, pods },
    problems: [...problems],
  };
}

export interface LogReadOptions {
  /** Lines per container (DevSpace's analyze shows 50). */
  lines?: number;
  /** Bytes per container. */
  limitBytes?: number;
  /** Longest line kept (a minified JSON line is not read by a person anyway). */
  maxLineLength?: number;
  concurrency?: number;
}

/** Split a log into its last `lines` non-empty lines, each cut at maxLineLength. Pure. */
export function logLines(text: string, lines: number, maxLineLength = 400): string[] {
  return text
    .split('\n')
    .map((l) => l.replace(/\r$/, '').trimEnd())
    .filter((l) => l !== '')
    .slice(-lines)
    .map((l) => (l.length > maxLineLength ? `${l.slice(0, maxLineLength - 1)}…` : l));
}

/** The problems with the last log lines of their containers filled in; a log that cannot be read says so in details. */
export async function withLogs(kube: Pick<AnalyzeKube, 'podLog'>, problems: readonly Problem[], opts: LogReadOptions = {}): Promise<Problem[]> {
  const lines = opts.lines ?? 50;
  const limitBytes = opts.limitBytes ?? 64 * 1024;
  const out = problems.map((p) => ({ ...p }));
  const todo = out.filter((p) => p.logsFrom && p.container && p.object.kind === 'Pod' && !p.logs);
  let next = 0;
  const worker = async () => {
    while (next < todo.length) {
      const p = todo[next++]!;
      const read = (previous: boolean) => kube.podLog(p.object.namespace, p.object.name, p.container!, { previous, tailLines: lines, limitBytes });
      try {
        let text: string;
        try {
          text = await read(p.logsFrom === 'previous');
        } catch (e) {
          // The previous run's log is gone (the kubelet keeps one): the current run's is the next best.
          if (p.logsFrom !== 'previous') throw e;
          text = await read(false);
          p.logsFrom = 'current';
        }
        p.logs = logLines(text, lines, opts.maxLineLength);
      } catch (e) {
        p.details = [...p.details, `log not readable: ${(e as Error)?.message?.split('\n')[0] ?? String(e)}`];
      }
    }
  };
  await Promise.all(Array.from({ length: Math.min(opts.concurrency ?? 4, todo.length) }, worker));
  return out;
}

export interface AnalyzeNamespaceOptions {
  namespace: string;
  /** Asks a registry the operator cannot reach over HTTPS whether it speaks plain HTTP (default: a real, bounded probe). */
  probe?: RegistryProbe;
  /** The project's sessions, named in the report (every session of the namespace is analyzed). */
  sessions?: readonly string[];
  now?: () => Date;
  logs?: LogReadOptions;
}

/** List, judge, read logs: the whole of `dsa analyze` for one namespace. */
export async function analyzeNamespace(kube: AnalyzeKube, opts: AnalyzeNamespaceOptions): Promise<AnalyzeReport> {
  const ns = opts.namespace;
  const [pods, events, sessions, imageBuilds] = await Promise.all([
    kube.listPods(ns),
    kube.listWarningEvents(ns),
    // A cluster without dsa's CRDs still has pods worth analyzing.
    kube.listSessions(ns).catch((e: unknown) => (notServed(e) ? [] : Promise.reject(e))),
    kube.listImageBuilds(ns).catch((e: unknown) => (notServed(e) ? [] : Promise.reject(e))),
  ]);
  const now = (opts.now ?? (() => new Date()))();
  const judged = await explainRegistries(analyzeObjects({ pods, events, sessions, imageBuilds }, now), opts.probe ?? httpRegistryProbe(), new Map());
  const problems = await withLogs(kube, judged, opts.logs);
  const names = opts.sessions?.length ? opts.sessions : sessions.map((s) => s.metadata.name);
  return buildReport(ns, names, problems, pods.length, now);
}

const notServed = (e: unknown): boolean => {
  const code = (e as { code?: unknown })?.code ?? (e as { statusCode?: unknown })?.statusCode;
  return code === 404;
};

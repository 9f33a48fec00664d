// Two operators, one cluster (operator/src/scope/scope.ts): every namespace a suite creates carries
// `dsa.dev/operator-scope: <E2E_SCOPE>`, and every operator a suite starts (in-process, as a process, or from
// the chart) runs with `--scope <E2E_SCOPE>`. An installed operator (`make demo`'s) runs without a scope and so
// never reconciles the suites' sessions, and the suites' operators never touch anyone else's.
//
// One scope per test file: jest evaluates this module once per file, so two suites (or two runs on one
// cluster) never share one either. DSA_E2E_SCOPE pins it (e.g. to look at a run's objects by label).
import { randomBytes } from 'node:crypto';
import { LABELS } from '@dsa/api';

export const E2E_SCOPE = process.env.DSA_E2E_SCOPE?.trim() || `e2e-${randomBytes(4).toString('hex')}`;

/** The label that puts an object (or a namespace and everything in it) in the suites' scope. */
export function scopeLabels(scope = E2E_SCOPE): Record<string, string> {
  return { [LABELS.operatorScope]: scope };
}

/** Flags for an operator process (`tsx operator/src/main.ts`). */
export function scopeArgs(scope = E2E_SCOPE): string[] {
  return [`--scope=${scope}`];
}

/**
 * The flags every in-process operator of the suites runs with: one namespace, this file's scope, the harness's
 * builder images, and the local registry listed as insecure (plain HTTP) as the chart's `registries.insecure`
 * does for `make deploy`. Confinement stays at its default (confined): tenant.ts prepares the namespace.
 */
export function e2eOperatorArgs(namespace: string, env: { kanikoImage?: string; testImage?: string; registry?: string }, extra: string[] = []): string[] {
  return [
    '--leader-elect=false',
    '--metrics-bind-address=0',
    `--watch-namespace=${namespace}`,
    ...scopeArgs(),
    ...(env.kanikoImage ? [`--kaniko-image=${env.kanikoImage}`] : []),
    ...(env.testImage ? [`--helper-image=${env.testImage}`] : []),
    ...(env.registry ? [`--insecure-registries=${env.registry}`] : []),
    ...extra,
  ];
}

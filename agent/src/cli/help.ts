import type { CommandSpec } from './command.js';

function examplesBlock(examples: Array<[string, string]>): string {
  // kubectl's layout: the comment above the command, so long command lines need no alignment.
  return ['Examples:', ...examples.flatMap(([cmd, what], i) => [...(i > 0 ? [''] : []), `  # ${what}`, `  ${cmd}`])].join('\n');
}

/** Subcommand description: one line, then examples first (clig.dev: help leads with examples). */
export function commandDescription(spec: CommandSpec<any>): string {
  return [spec.summary, '', examplesBlock(spec.examples), ...(spec.description ? ['', spec.description] : [])].join('\n');
}

export const ROOT_EXAMPLES: Array<[string, string]> = [
  ['dsa up', 'build in-cluster, deploy, sync and forward ports for ./devspace.yaml'],
  ['dsa render | kubectl apply -f -', 'GitOps: the DevSession objects, no agent needed'],
  ['dsa validate --config api/devspace.yaml', 'check a config without a cluster'],
  ['dsa logs -f -c api', 'follow the logs of the dev container api'],
  ['dsa down', 'delete the session and what it deployed'],
];

export function rootDescription(): string {
  return [
    "dsa: DevSpace's development workflow, run by a Kubernetes operator (DevSession, ImageBuild).",
    '',
    examplesBlock(ROOT_EXAMPLES),
  ].join('\n');
}

/** Appended to every help page: scripts rely on these. */
export const EXIT_CODES_HELP = [
  '',
  'Exit codes:',
  '  0    success',
  '  1    runtime or cluster error (e.g. no cluster configured, build failed)',
  '  2    usage or validation error (bad flags, invalid devspace.yaml)',
  '  3    dsa analyze found problems',
  '  130  interrupted (Ctrl-C)',
  '',
  'Environment: KUBECONFIG, NO_COLOR, FORCE_COLOR, TERM=dumb, DSA_DEBUG=1 (stack traces of internal errors).',
  'Data goes to stdout, progress and warnings to stderr. Docs: docs/cli.md',
].join('\n');

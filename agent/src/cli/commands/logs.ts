import { InvalidArgumentError, Option } from 'commander';
import { RuntimeError, UsageError } from '../../errors.js';
import { makeLog, streamLogs } from '../../devloop/logs.js';
import { containerIn, rankPods, resolvePodTarget, sessionPodSelector, type PodTarget } from '../../devloop/pods.js';
import { projectSessions, type ProjectSessions } from '../../session/project-session.js';
import { defineCommand } from '../command.js';
import { podOptions, type PodFlags } from './build-flags.js';
import { pickTarget } from './enter.js';

export function parseLines(value: string): number {
  if (!/^\d+$/.test(value.trim())) throw new InvalidArgumentError('expected a number of lines (0 or more)');
  return Number(value);
}

/**
 * Without selection flags: every dev pod the session publishes, else every running pod it deployed
 * (first container each). With flags: the one pod they select.
 */
export async function logTargets(ps: ProjectSessions, flags: PodFlags): Promise<PodTarget[]> {
  if (flags.pod || flags.labelSelector || flags.imageSelector || flags.container !== undefined || !ps.root) {
    return [await resolvePodTarget(ps.kube, ps.namespace, ps.root, flags, 'logs')];
  }
  const root = ps.root;
  const devPods = (root.status?.pods ?? []).filter((p) => root.spec.dev?.pods?.find((d) => d.name === p.devPod)?.logs?.enabled !== false);
  if (devPods.length > 0) {
    return devPods.map((p) => ({ namespace: p.namespace || root.metadata.namespace || ps.namespace, pod: p.pod, container: p.container ?? '', devPod: p.devPod }));
  }
  const pods = rankPods(await ps.kube.listPods(ps.namespace, sessionPodSelector(root)));
  if (pods.length === 0) return [await resolvePodTarget(ps.kube, ps.namespace, root, flags, 'logs')];
  return pods.map((p) => ({ namespace: p.metadata?.namespace ?? ps.namespace, pod: p.metadata?.name ?? '', container: containerIn(p, undefined) }));
}

export const logsCommand = defineCommand<PodFlags & { follow?: boolean; lines?: number | string; tail?: number }>({
  name: 'logs',
  summary: 'print the logs of a dev container',
  description:
    'Print the logs of the dev pods the operator reports for this project (or of every pod the session\n' +
    'deployed when it has no dev pods), each line prefixed with [pod/container] when there are several.\n' +
    '--pod, -l, --image-selector or -c select one container instead.',
  options: [
    ...podOptions(),
    new Option('-f, --follow', 'keep streaming new lines'),
    new Option('--lines <n>', 'number of past lines to show').default('200').argParser(parseLines),
    new Option('--tail <n>', 'alias of --lines (kubectl\'s name)').argParser(parseLines).hideHelp(),
  ],
  examples: [
    ['dsa logs', 'the last lines of the first dev pod'],
    ['dsa logs -f -c api', 'follow container api'],
    ['dsa logs --pick', 'choose the pod and container from a list'],
  ],
  async run(ctx, _args, flags) {
    const lines = flags.tail ?? (typeof flags.lines === 'number' ? flags.lines : parseLines(flags.lines ?? '200'));
    const explicit = Boolean(flags.pod || flags.labelSelector || flags.imageSelector);
    const ps = await projectSessions(ctx, { optionalConfig: explicit });
    const targets = flags.pick ? [await pickTarget(ctx, ps)] : await logTargets(ps, flags);
    if (targets.length === 0) throw new UsageError('nothing to show');
    const log = await makeLog(ps.kc);
    const prefix = targets.length > 1 ? undefined : '';
    const one = (t: PodTarget) =>
      streamLogs(log, t, ctx.stdout, { follow: flags.follow === true, tailLines: lines, ...(prefix !== undefined ? { prefix } : {}), signal: ctx.signal }).catch((e: unknown) => {
        throw new RuntimeError(`logs of ${t.pod}/${t.container}: ${(e as { body?: { message?: string } })?.body?.message ?? (e as Error)?.message ?? String(e)}`);
      });
    if (flags.follow) await Promise.all(targets.map(one));
    else for (const t of targets) await one(t);
  },
});

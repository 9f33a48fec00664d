import { Option } from 'commander';
import { UsageError } from '../../errors.js';
import { execInContainer, makeExec, processTerminal, withWorkdir } from '../../devloop/exec.js';
import { choose, pickChoices } from '../../devloop/pick.js';
import { resolvePodTarget, sessionPodSelector, type PodTarget } from '../../devloop/pods.js';
import { projectSessions } from '../../session/project-session.js';
import { defineCommand } from '../command.js';
import type { CommandContext } from '../context.js';
import { promptLine } from '../prompt.js';
import { podOptions, type PodFlags } from './build-flags.js';
import type { ProjectSessions } from '../../session/project-session.js';

/** --pick: list the session's (or namespace's) containers on stderr and ask. */
export async function pickTarget(ctx: CommandContext, ps: ProjectSessions): Promise<PodTarget> {
  if (!ctx.interactive) throw new UsageError('--pick needs an interactive terminal (or pass --pod/-l/-c)');
  const pods = await ps.kube.listPods(ps.namespace, ps.root ? sessionPodSelector(ps.root) : undefined);
  const choices = pickChoices(pods, ps.namespace);
  if (choices.length === 0) throw new UsageError(`no running pods to pick from in namespace ${ps.namespace}`);
  choices.forEach((c, i) => ctx.stderr.write(`  ${i + 1}) ${c.pod}/${c.container}\n`));
  return choose(choices, await promptLine(ctx, 'container', { default: '1' }));
}

export const enterCommand = defineCommand<PodFlags & { workdir?: string }>({
  name: 'enter',
  summary: 'open a shell (or run a command) in a dev container',
  description:
    'Exec into the dev pod the operator reports for this project (status.pods), or the pod chosen with\n' +
    '--pod, -l or --image-selector. Without a command it runs the dev pod\'s terminal command (default sh).\n' +
    'A TTY is used when stdin is a terminal. Exits with the remote command\'s exit code.',
  arguments: [['[cmd...]', 'command to run instead of the dev pod\'s terminal command (put it after --)']],
  options: [...podOptions(), new Option('--workdir <dir>', 'working directory in the container')],
  examples: [
    ['dsa enter', 'a shell in the first dev pod'],
    ['dsa enter -c api -- ./migrate.sh', 'run a command in container api'],
    ['dsa enter --pick', 'choose the pod and container from a list'],
  ],
  async run(ctx, args, flags) {
    const explicit = Boolean(flags.pod || flags.labelSelector || flags.imageSelector);
    const ps = await projectSessions(ctx, { optionalConfig: explicit });
    const target = flags.pick ? await pickTarget(ctx, ps) : await resolvePodTarget(ps.kube, ps.namespace, ps.root, flags, 'terminal');
    const devPod = ps.root?.spec.dev?.pods?.find((p) => p.name === target.devPod);
    const command = args.length > 0 ? args : (devPod?.terminal?.command ?? ['sh']);
    const workdir = flags.workdir ?? (args.length > 0 ? undefined : devPod?.terminal?.workDir);
    const tty = ctx.isTTY.stdin && ctx.isTTY.stdout;
    ctx.log.debug(`exec ${target.namespace}/${target.pod} -c ${target.container} (tty: ${tty}): ${command.join(' ')}`);
    const exec = await makeExec(ps.kc);
    return execInContainer(exec, target, withWorkdir(command, workdir), processTerminal(), { tty, stdin: true, signal: ctx.signal });
  },
});

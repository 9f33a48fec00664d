import { Option } from 'commander';
import { enterContainer } from '../../actions/containers.js';
import { defineCommand } from '../command.js';
import { podOptions, podSelection, type PodFlags } from '../flags.js';
import { chooseContainer } from '../prompt.js';

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
    return enterContainer(ctx.env, ctx.deps, {
      project: ctx.project(),
      selection: podSelection(flags),
      pick: flags.pick,
      ...(ctx.interactive ? { choose: (choices) => chooseContainer(ctx, choices) } : {}),
      command: args,
      ...(flags.workdir !== undefined ? { workdir: flags.workdir } : {}),
    });
  },
});

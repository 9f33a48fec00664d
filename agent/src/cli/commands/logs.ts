import { Option } from 'commander';
import { printLogs } from '../../actions/containers.js';
import { defineCommand } from '../command.js';
import { parseLines, podOptions, podSelection, type PodFlags } from '../flags.js';
import { chooseContainer } from '../prompt.js';

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
    await printLogs(ctx.env, ctx.deps, {
      project: ctx.project(),
      selection: podSelection(flags),
      pick: flags.pick,
      ...(ctx.interactive ? { choose: (choices) => chooseContainer(ctx, choices) } : {}),
      follow: flags.follow === true,
      // The default arrives unparsed ('200').
      lines: flags.tail ?? (typeof flags.lines === 'number' ? flags.lines : parseLines(flags.lines ?? '200')),
    });
  },
});

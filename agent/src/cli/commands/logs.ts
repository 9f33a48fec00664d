import { Option } from 'commander';
import { defineCommand } from '../command.js';
import { podOptions, type PodFlags } from './build-flags.js';
import { notImplemented } from './not-implemented.js';

export const logsCommand = defineCommand<PodFlags & { follow?: boolean; lines?: string }>({
  name: 'logs',
  summary: 'print the logs of a dev container',
  options: [
    ...podOptions(),
    new Option('-f, --follow', 'keep streaming new lines'),
    new Option('--lines <n>', 'number of past lines to show').default('200'),
  ],
  examples: [
    ['dsa logs', 'the last lines of the first dev pod'],
    ['dsa logs -f -c api', 'follow container api'],
    ['dsa logs --pick', 'choose the pod and container from a list'],
  ],
  async run() {
    notImplemented();
  },
});

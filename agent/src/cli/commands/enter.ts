import { Option } from 'commander';
import { defineCommand } from '../command.js';
import { podOptions, type PodFlags } from './build-flags.js';
import { notImplemented } from './not-implemented.js';

export const enterCommand = defineCommand<PodFlags & { workdir?: string }>({
  name: 'enter',
  summary: 'open a shell (or run a command) in a dev container',
  arguments: [['[cmd...]', 'command to run instead of the dev pod\'s terminal command (put it after --)']],
  options: [...podOptions(), new Option('--workdir <dir>', 'working directory in the container')],
  examples: [
    ['dsa enter', 'a shell in the first dev pod'],
    ['dsa enter -c api -- ./migrate.sh', 'run a command in container api'],
    ['dsa enter --pick', 'choose the pod and container from a list'],
  ],
  async run() {
    notImplemented();
  },
});

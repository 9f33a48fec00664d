import { Option } from 'commander';
import { defineCommand } from '../command.js';
import { notImplemented } from './not-implemented.js';

export const downCommand = defineCommand<{ keepDeployments?: boolean; dependencies?: boolean }>({
  name: 'down',
  aliases: ['purge'],
  summary: 'stop developing: delete the DevSession and what it deployed (alias: purge)',
  options: [
    new Option('--keep-deployments', 'delete the session but leave deployed objects running'),
    new Option('--dependencies', 'also delete the sessions of dependencies'),
  ],
  examples: [
    ['dsa down', 'delete the session for ./devspace.yaml and everything it deployed'],
    ['dsa purge --dependencies', 'the same, including dependency sessions'],
  ],
  async run() {
    notImplemented();
  },
});

import { Option } from 'commander';
import { defineCommand } from '../command.js';
import { notImplemented } from './not-implemented.js';

export const analyzeCommand = defineCommand<{ wait?: boolean; timeout?: string }>({
  name: 'analyze',
  summary: 'explain why a session is not ready: failed builds, crashing pods, pending pods, events',
  options: [
    new Option('--wait', 'wait until the session is ready or the timeout passes before reporting'),
    new Option('--timeout <seconds>', 'how long --wait waits').default('120'),
  ],
  examples: [
    ['dsa analyze', 'problems of the session for ./devspace.yaml'],
    ['dsa analyze -n dev-alice -o json', 'as JSON, in namespace dev-alice'],
  ],
  async run() {
    notImplemented();
  },
});

import { defineCommand } from '../command.js';
import { buildOptions, type BuildFlags } from './build-flags.js';
import { notImplemented } from './not-implemented.js';

export const upCommand = defineCommand<BuildFlags>({
  name: 'up',
  summary: 'start developing: build, deploy, then sync files, forward ports and stream logs (DevSpace\'s `dev`)',
  options: buildOptions(),
  examples: [
    ['dsa up', 'apply the DevSession for ./devspace.yaml and start the dev loop'],
    ['dsa up -b -n dev-alice', 'force a rebuild, in namespace dev-alice'],
    ['dsa up -p debug --var LOG_LEVEL=debug', 'with a profile and a variable'],
  ],
  async run() {
    notImplemented();
  },
});

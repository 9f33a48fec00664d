import { defineCommand } from '../command.js';
import { buildOptions, type BuildFlags } from './build-flags.js';
import { notImplemented } from './not-implemented.js';

export const deployCommand = defineCommand<BuildFlags>({
  name: 'deploy',
  summary: 'build and deploy once, then exit (no sync, no port-forwarding)',
  options: buildOptions(),
  examples: [
    ['dsa deploy', 'build images in-cluster and deploy ./devspace.yaml'],
    ['dsa deploy -d --build-sequential', 'redeploy, building one image at a time'],
  ],
  async run() {
    notImplemented();
  },
});

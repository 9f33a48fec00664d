import { deployProject } from '../../actions/index.js';
import { startApiCheck } from '../api-check.js';
import { defineCommand } from '../command.js';
import { buildOptions, timeoutMs, timeoutOption, type BuildFlags } from '../flags.js';
import { printSessions } from '../print.js';

export const deployCommand = defineCommand<BuildFlags & { timeout?: string }>({
  name: 'deploy',
  summary: 'build and deploy once, then exit (no sync, no port-forwarding)',
  description:
    'Apply the DevSession of ./devspace.yaml (and of its dependencies), stream each image\'s build context\n' +
    'to its in-cluster build, and wait until the operator reports the session Ready. Needs the dsa\n' +
    'operator in the cluster. -b asks the operator to build every image again (and waits for it) even\n' +
    'when its content-addressed tag is in the registry already, pushing the same tag; -d makes the operator\n' +
    're-apply every deployment and waits for the rollout that follows. Stops as soon as the rollout cannot\n' +
    'succeed without a change (a crash loop, an image that cannot be pulled, a pod no node fits, a failed\n' +
    'build), printing what `dsa analyze` would say. Runs the project\'s hooks (docs/cli.md, "Hooks").',
  options: [...buildOptions(), timeoutOption()],
  examples: [
    ['dsa deploy', 'build images in-cluster and deploy ./devspace.yaml'],
    ['dsa deploy -d --build-sequential', 'redeploy, building one image at a time'],
    ['dsa deploy -b', 'rebuild every image (e.g. after its base image moved) and deploy'],
  ],
  async run(ctx, _args, { timeout, ...build }) {
    const apiCheck = startApiCheck(ctx);
    const { sessions, stopHooks } = await deployProject(ctx.env, ctx.deps, { project: ctx.project(), ...build, timeoutMs: timeoutMs(timeout) });
    stopHooks();
    await apiCheck;
    printSessions(ctx, sessions);
  },
});

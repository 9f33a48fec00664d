import { Option } from 'commander';
import { formatTable, printObjects, type KubeObject } from '../../output/printer.js';
import { DEFAULT_TIMEOUT, deployProject } from '../../session/deploy.js';
import { SUMMARY_HEADERS, summaryRow } from '../../session/summary.js';
import type { DevSession } from '@dsa/api';
import type { CommandContext } from '../context.js';
import { defineCommand } from '../command.js';
import { buildOptions, type BuildFlags } from './build-flags.js';

export type DeployCommandFlags = BuildFlags & { timeout?: string };

export const timeoutOption = () => new Option('--timeout <duration>', 'how long to wait for the session to be ready (e.g. 90s, 10m)').default(DEFAULT_TIMEOUT);

/** The deployed sessions on stdout: a table, or the objects with -o json|yaml. */
export function printSessions(ctx: CommandContext, sessions: readonly DevSession[]): void {
  if (ctx.globals.output === 'table') {
    ctx.stdout.write(formatTable(SUMMARY_HEADERS, sessions.map(summaryRow), ctx.stdoutColor));
  } else {
    printObjects(ctx.stdout, ctx.globals.output, sessions as unknown as KubeObject[]);
  }
}

export const deployCommand = defineCommand<DeployCommandFlags>({
  name: 'deploy',
  summary: 'build and deploy once, then exit (no sync, no port-forwarding)',
  description:
    'Apply the DevSession of ./devspace.yaml (and of its dependencies), stream each image\'s build context\n' +
    'to its in-cluster build, and wait until the operator reports the session Ready. Needs the dsa\n' +
    'operator in the cluster. -b asks the operator to build every image again (and waits for it) even\n' +
    'when its content-addressed tag is in the registry already, pushing the same tag; -d makes the operator\n' +
    're-apply every deployment.',
  options: [...buildOptions(), timeoutOption()],
  examples: [
    ['dsa deploy', 'build images in-cluster and deploy ./devspace.yaml'],
    ['dsa deploy -d --build-sequential', 'redeploy, building one image at a time'],
    ['dsa deploy -b', 'rebuild every image (e.g. after its base image moved) and deploy'],
  ],
  async run(ctx, _args, flags) {
    const { sessions } = await deployProject(ctx, flags);
    printSessions(ctx, sessions);
  },
});

import { InvalidArgumentError, Option } from 'commander';
import { runDevLoop } from '../../devloop/dev-loop.js';
import { makeExec, processTerminal } from '../../devloop/exec.js';
import { makeLog } from '../../devloop/logs.js';
import { makePortForward } from '../../devloop/port-forward.js';
import { deployProject } from '../../session/deploy.js';
import { defineCommand } from '../command.js';
import { buildOptions, type BuildFlags } from './build-flags.js';
import { printSessions, timeoutOption } from './deploy.js';

/** `--exit-after-deploy`, `--exit-after-deploy=false`, `--exit-after-deploy true`. */
export function parseBool(value: string): boolean {
  const v = value.trim().toLowerCase();
  if (['true', '1', 'yes'].includes(v)) return true;
  if (['false', '0', 'no'].includes(v)) return false;
  throw new InvalidArgumentError('expected true or false');
}

export const upCommand = defineCommand<BuildFlags & { timeout?: string; exitAfterDeploy?: boolean }>({
  name: 'up',
  summary: 'start developing: build, deploy, then sync files, forward ports and stream logs (DevSpace\'s `dev`)',
  description:
    'Deploy as `dsa deploy` does, then forward the dev pods\' ports (127.0.0.1 unless bindAddress says\n' +
    'otherwise) and stream their logs, or open the dev pod\'s terminal when one is configured and stdin is\n' +
    'a terminal. Ctrl-C stops forwarding and streaming; the session keeps running (dsa down removes it).\n' +
    'File sync is not part of this release: the sync paths are listed in a warning.',
  options: [
    ...buildOptions(),
    timeoutOption(),
    new Option('--exit-after-deploy [bool]', 'exit after the deploy instead of starting the dev loop').preset(true).argParser(parseBool).default(false),
  ],
  examples: [
    ['dsa up', 'apply the DevSession for ./devspace.yaml and start the dev loop'],
    ['dsa up -b -n dev-alice', 'force a rebuild, in namespace dev-alice'],
    ['dsa up -p debug --var LOG_LEVEL=debug', 'with a profile and a variable'],
  ],
  async run(ctx, _args, flags) {
    const result = await deployProject(ctx, flags);
    if (flags.exitAfterDeploy) {
      printSessions(ctx, result.sessions);
      return;
    }
    ctx.log.info(`session ${result.root.metadata.name} is ready`);
    return runDevLoop(ctx, result.kube, result.root, {
      exec: await makeExec(result.kc),
      log: await makeLog(result.kc),
      portForward: await makePortForward(result.kc),
      terminal: processTerminal(),
    });
  },
});

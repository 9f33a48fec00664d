import { Option } from 'commander';
import { deployProject, runDevLoop } from '../../actions/index.js';
import { startApiCheck } from '../api-check.js';
import { defineCommand } from '../command.js';
import { buildOptions, parseBool, quietSyncOption, timeoutMs, timeoutOption, type BuildFlags } from '../flags.js';
import { printSessions } from '../print.js';

export const upCommand = defineCommand<BuildFlags & { timeout?: string; exitAfterDeploy?: boolean; terminal?: boolean; quiet?: boolean }>({
  name: 'up',
  summary: 'start developing: build, deploy, then sync files, forward ports and stream logs (DevSpace\'s `dev`)',
  description:
    'Deploy as `dsa deploy` does, then forward the dev pods\' ports (127.0.0.1 unless bindAddress says\n' +
    'otherwise), sync their files (initial sync first, then both ways, following the pod through\n' +
    'restarts and rollouts), and stream their logs, or open the dev pod\'s terminal when one is\n' +
    'configured and stdin is a terminal. Sync progress goes to stderr, one line per batch (--quiet: only\n' +
    'warnings and errors). Watched files (dev.autoReload, Dockerfiles) trigger a new build and deploy.\n' +
    'Ctrl-C stops it all; the session keeps running (dsa down removes it).',
  options: [
    ...buildOptions(),
    timeoutOption(),
    new Option('--exit-after-deploy [bool]', 'exit after the deploy instead of starting the dev loop').preset(true).argParser(parseBool).default(false),
    new Option('-t, --terminal', 'open a terminal in the dev container instead of streaming logs (the app keeps running)'),
    quietSyncOption(),
  ],
  examples: [
    ['dsa up', 'apply the DevSession for ./devspace.yaml and start the dev loop'],
    ['dsa up -b -n dev-alice', 'force a rebuild, in namespace dev-alice'],
    ['dsa up -p debug --var LOG_LEVEL=debug', 'with a profile and a variable'],
    ['dsa up -t', 'a shell in the dev container instead of its logs (the app keeps running)'],
    ['dsa up --quiet', 'sync without a line per batch (warnings and errors still show)'],
  ],
  async run(ctx, _args, { exitAfterDeploy, timeout, terminal, quiet, ...build }) {
    const apiCheck = startApiCheck(ctx);
    const deployOptions = { project: ctx.project(), ...build, ...(terminal ? { terminal: true } : {}), timeoutMs: timeoutMs(timeout) };
    const deployed = await deployProject(ctx.env, ctx.deps, deployOptions);
    await apiCheck;
    if (exitAfterDeploy) {
      deployed.stopHooks();
      return printSessions(ctx, deployed.sessions);
    }
    if (terminal && !(ctx.env.isTTY.stdin && ctx.env.isTTY.stdout)) ctx.log.warn('-t/--terminal: stdin/stdout is not a terminal, so no terminal opens; dsa enter runs commands in the dev container');
    try {
      return await runDevLoop(ctx.env, ctx.deps, { deployed, deploy: deployOptions, ...(quiet ? { quiet: true } : {}) });
    } finally {
      deployed.stopHooks();
    }
  },
});

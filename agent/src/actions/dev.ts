// `dsa up` after the deploy: the dev loop's services (port-forwards, file sync, log streams or a
// terminal, the heartbeat, auto-reload) until Ctrl-C or the terminal exits. The session keeps running
// afterwards (DevSpace keeps its deployments too).
import type { DevSession } from '@dsa/api';
import { withSignal, type AgentEnv } from '../env.js';
import { UsageError } from '../errors.js';
import { runDevServices, type RunDevServicesOptions } from '../devloop/runner.js';
import type { DevServiceDefinition } from '../devloop/service.js';
import { autoReloadService, autoReloadWatchList } from '../devloop/services/autoreload.js';
import { defaultDevServices } from '../devloop/services/index.js';
import { syncPaths, terminalDevPod } from '../devloop/plan.js';
import type { ActionDeps } from './action-deps.js';
import type { AnalyzeDeps } from './analyze.js';
import { deployProject, type DeployOptions, type DeployResult } from './deploy.js';

export interface DevLoopOptions {
  /** What deployProject returned. */
  deployed: Pick<DeployResult, 'kc' | 'kube' | 'root' | 'project'>;
  /** `--quiet`: the sync prints no per-batch lines (warnings and errors stay). */
  quiet?: boolean;
  /**
   * How the first deploy was made: auto-reload deploys again with these (without -b/-d, which asked
   * for that one deploy). Without them there is no auto-reload.
   */
  deploy?: DeployOptions;
  /** Default: defaultDevServices() and auto-reload. */
  services?: readonly DevServiceDefinition[];
  /** Session feed tuning (tests). */
  follow?: RunDevServicesOptions['follow'];
  /** Auto-reload's poll interval (tests). */
  autoReloadPollMs?: number;
}

/** The name of the dev pod -t adds when the project has none. */
export const TERMINAL_DEV_POD = 'terminal';

/**
 * `dsa up -t` (DevSpace's `dev -t`): open a terminal instead of streaming logs. The root session's dev
 * pod that has a terminal keeps it; otherwise its first dev pod gets one; a project without dev pods
 * gets a dev pod `terminal` on its image (DevSpace asks which when there are several). The container
 * keeps its command: unlike interactive mode, the app runs and the shell is a second process.
 */
export async function withTerminal(root: DevSession, prompt?: (question: string, opts: { options?: string[] }) => Promise<string>): Promise<DevSession> {
  const out = structuredClone(root);
  const pods = out.spec.dev?.pods ?? [];
  if (pods.some((p) => p.terminal !== undefined && p.terminal.enabled !== false)) return out;
  if (pods.length > 0) {
    pods[0]!.terminal = { ...(pods[0]!.terminal ?? {}), enabled: true };
    return out;
  }
  const images = (out.spec.images ?? []).map((i) => i.name);
  if (images.length === 0) throw new UsageError('-t/--terminal: the project has no dev pod and no image to open a terminal in');
  let image = images[0]!;
  if (images.length > 1) {
    if (!prompt) throw new UsageError(`-t/--terminal: which image? the project has ${images.join(', ')} and no dev pod with a terminal (add dev.<name>.terminal to devspace.yaml, or run dsa up -t in a terminal to be asked)`);
    image = await prompt('Which image do you want to open a terminal to?', { options: images });
  }
  out.spec.dev = { ...(out.spec.dev ?? {}), pods: [{ name: TERMINAL_DEV_POD, selector: { imageName: image }, terminal: { enabled: true } }] };
  return out;
}

/**
 * The services of `dsa up`: the default ones, plus auto-reload when the first deploy's options are
 * known (it deploys again with them; background hooks of those deploys stop with the loop).
 */
export function devLoopServices(env: AgentEnv, deps: AnalyzeDeps, opts: DevLoopOptions, stopHooks: Array<() => void>): DevServiceDefinition[] {
  const services = defaultDevServices({ quiet: opts.quiet === true });
  const first = opts.deploy;
  if (!first) return services;
  const { forceBuild: _b, forceDeploy: _d, ...again } = first;
  const watch = autoReloadWatchList(opts.deployed.project);
  return [
    ...services,
    autoReloadService({
      watch,
      ...(opts.autoReloadPollMs !== undefined ? { pollMs: opts.autoReloadPollMs } : {}),
      async redeploy(signal) {
        const r = await deployProject(withSignal(env, signal), deps, again);
        stopHooks.push(r.stopHooks);
      },
    }),
  ];
}

/** Resolves with the terminal's exit code when a terminal ran, else undefined (Ctrl-C, session deleted). */
export async function runDevLoop(env: AgentEnv, deps: ActionDeps, opts: DevLoopOptions): Promise<number | undefined> {
  const { root, kc, kube, project } = opts.deployed;
  const stopHooks: Array<() => void> = [];
  const services = opts.services ?? devLoopServices(env, deps, opts, stopHooks);
  env.log.info(`session ${root.metadata.name} is ready`);
  if (!services.some((s) => s.name === 'sync')) {
    const paths = syncPaths(root);
    if (paths.length) env.log.warn(`file sync is not active yet (a later release): ${paths.join(', ')}`);
  }
  const wanted = terminalDevPod(root, { stdin: true, stdout: true });
  if (wanted && !terminalDevPod(root, env.isTTY)) {
    // In interactive mode the container's command is `sleep`: there is nothing to log or serve until
    // someone starts the app in that container.
    const sleeping = root.spec.dev?.interactive === true;
    env.log.warn(`dev pod ${wanted} wants a terminal${sleeping ? ' (its container runs sleep: interactive mode)' : ''} but stdin/stdout is not a terminal; use dsa enter to work in it`);
  }
  try {
    return await runDevServices(services, {
      env,
      kube,
      clients: deps.cluster.devClients(kc),
      initial: root,
      projectDir: project.dir,
      ...(opts.follow ? { follow: opts.follow } : {}),
      onStarted(running) {
        if (running.includes('terminal')) return;
        if (running.includes('ports') || running.includes('logs') || running.includes('sync')) env.log.info('press Ctrl-C to stop (the session keeps running; dsa down removes it)');
        else env.log.info('no dev pods with ports, sync or logs; press Ctrl-C to stop');
      },
    });
  } finally {
    for (const stop of stopHooks) stop();
  }
}

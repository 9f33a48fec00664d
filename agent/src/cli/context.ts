// What a command may touch, made from the process (or a test) and the parsed global flags. Commands
// turn it into the actions' inputs: `ctx.env` (the small environment), `ctx.deps` (collaborators)
// and `ctx.project()` (the project the flags name).
import type { ActionDeps, ClusterClients, ProjectRef } from '../actions/action-deps.js';
import { defaultClusterClients } from '../actions/cluster-clients.js';
import type { AgentEnv, TTYs } from '../env.js';
import { createKubeAccess } from '../kube/access.js';
import { makeColors, type Colors } from '../output/color.js';
import { createLogger, type Logger } from '../output/logger.js';
import type { Writer } from '../output/writer.js';
import type { ProjectServices } from '../project/project-services.js';
import type { GlobalOptions } from './global-options.js';
import { discoverConfig, type FoundConfig } from './project-discovery.js';
import { promptLine } from './prompt.js';

export type ProcessEnv = Readonly<Record<string, string | undefined>>;

/** Everything a command may touch. Commands never read process.* directly. */
export interface CommandContext {
  /** The command's canonical name (`render`, `down`, …). */
  readonly command: string;
  readonly globals: GlobalOptions;
  /** Data (the command's result) goes here… */
  readonly stdout: Writer;
  /** …progress, warnings and errors here. */
  readonly stderr: Writer;
  /** Colours for stderr. */
  readonly color: Colors;
  /** Colours for stdout (tables); off when stdout is piped. */
  readonly stdoutColor: Colors;
  readonly log: Logger;
  readonly cwd: string;
  /** May prompt: stdin is a terminal and --no-input was not given. */
  readonly interactive: boolean;
  /** Aborted on SIGINT; long-running commands stop and throw InterruptedError. */
  readonly signal: AbortSignal;
  /** The environment the actions run in. */
  readonly env: AgentEnv;
  /** The actions' collaborators: cluster access, project services, cluster clients. */
  readonly deps: ActionDeps;
  /** The project --config, -p and --var name. */
  project(): ProjectRef;
  /** The devspace.yaml --config, DEVSPACE_CONFIG or the folders up from cwd name (project-discovery.ts); throws UsageError when none. */
  configPath(): string;
  /** The process environment, for the few commands that read a variable of their own. */
  readonly processEnv: ProcessEnv;
}

/** What the process (or a test) provides; createContext derives the rest. */
export interface ContextIO {
  stdout: Writer;
  stderr: Writer;
  env: ProcessEnv;
  cwd: string;
  homeDir: string;
  isTTY: TTYs;
  signal: AbortSignal;
  services: () => Promise<ProjectServices>;
  owner: () => { user: string; host: string };
  /** Default: the real client-node clients. */
  cluster?: ClusterClients;
}

export function createContext(command: string, globals: GlobalOptions, io: ContextIO): CommandContext {
  const color = makeColors({ flag: globals.color, env: io.env, isTTY: io.isTTY.stderr });
  const stdoutColor = makeColors({ flag: globals.color, env: io.env, isTTY: io.isTTY.stdout });
  const verbose = globals.verbose || io.env.DSA_DEBUG === '1';
  const log = createLogger(io.stderr, color, verbose);
  const interactive = io.isTTY.stdin && globals.input;
  const kube = createKubeAccess({
    kubeconfig: globals.kubeconfig,
    context: globals.context,
    namespace: globals.namespace,
    env: io.env,
    homeDir: io.homeDir,
    cwd: io.cwd,
    log,
  });
  let services: Promise<ProjectServices> | undefined;
  let config: FoundConfig | undefined;
  const configPath = (): string => {
    if (!config) {
      config = discoverConfig({ flag: globals.config, env: io.env, cwd: io.cwd, homeDir: io.homeDir });
      // DevSpace says so too: the project is not the one in the current folder.
      if (config.source === 'parent') log.info(`using ${config.path}`);
    }
    return config.path;
  };
  const env: AgentEnv = { log, signal: io.signal, stdout: io.stdout, stderr: io.stderr, isTTY: io.isTTY };
  return {
    command,
    globals,
    stdout: io.stdout,
    stderr: io.stderr,
    color,
    stdoutColor,
    log,
    cwd: io.cwd,
    interactive,
    signal: io.signal,
    env,
    deps: { kube, services: () => (services ??= io.services()), cluster: io.cluster ?? defaultClusterClients },
    configPath,
    processEnv: io.env,
    project: () => ({
      // Found on first read: loadAndRender resolves the kube target first, so a bad --context is reported
      // before a missing devspace.yaml, as before discovery existed.
      get configPath() {
        return configPath();
      },
      profiles: globals.profiles,
      vars: globals.vars,
      processEnv: io.env,
      owner: io.owner(),
      ...(interactive ? { prompt: (question: string, o: { default?: string; options?: string[]; password?: boolean }) => promptLine({ color, signal: io.signal }, question, o) } : {}),
    }),
  };
}

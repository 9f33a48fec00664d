import type { KubeConfig } from '@kubernetes/client-node';
import { createKubeConfig } from '../kube/client.js';
import { loadKubeconfig, resolveTarget, type KubeTarget, type MergedKubeconfig } from '../kube/kubeconfig.js';
import { makeColors, type Colors } from '../output/color.js';
import { createLogger, type Logger } from '../output/logger.js';
import type { Writer } from '../output/writer.js';
import type { GlobalOptions } from './global-options.js';
import type { ProjectServices } from './services.js';

export type Env = Readonly<Record<string, string | undefined>>;

/** Hints from the loaded project that influence context/namespace resolution (flags still win). */
export interface ProjectKubeHints {
  namespace?: string;
  kubeContext?: string;
}

/** Lazily resolved cluster access: offline resolution first, client-node only when a command needs it. */
export interface KubeAccess {
  /** Which kubeconfig/context/namespace applies; never contacts the cluster. Memoized per hints. */
  target(hints?: ProjectKubeHints): KubeTarget;
  /** A client-node KubeConfig for that target; throws ClusterError when no cluster is configured. */
  kubeConfig(hints?: ProjectKubeHints): Promise<KubeConfig>;
}

/** Everything a command may touch. Commands never read process.* directly. */
export interface CommandContext {
  /** The command's name as typed by the user's canonical form (`render`, `down`, …). */
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
  readonly env: Env;
  readonly cwd: string;
  readonly homeDir: string;
  readonly isTTY: { readonly stdin: boolean; readonly stdout: boolean; readonly stderr: boolean };
  /** May prompt: stdin is a terminal and --no-input was not given. */
  readonly interactive: boolean;
  /** Aborted on SIGINT; long-running commands stop and throw InterruptedError. */
  readonly signal: AbortSignal;
  readonly kube: KubeAccess;
  /** Loader/renderer/validators, created on first use. */
  services(): Promise<ProjectServices>;
  /** Who is developing, for DevSession spec.owner. */
  owner(): { user: string; host: string };
}

/** What the process (or a test) provides; createContext derives the rest. */
export interface ContextIO {
  stdout: Writer;
  stderr: Writer;
  env: Env;
  cwd: string;
  homeDir: string;
  isTTY: { stdin: boolean; stdout: boolean; stderr: boolean };
  signal: AbortSignal;
  services: () => Promise<ProjectServices>;
  owner: () => { user: string; host: string };
  /** In-cluster namespace file folder (tests). */
  serviceAccountDir?: string;
}

export function createContext(command: string, globals: GlobalOptions, io: ContextIO): CommandContext {
  const color = makeColors({ flag: globals.color, env: io.env, isTTY: io.isTTY.stderr });
  const stdoutColor = makeColors({ flag: globals.color, env: io.env, isTTY: io.isTTY.stdout });
  const verbose = globals.verbose || io.env.DSA_DEBUG === '1';
  const log = createLogger(io.stderr, color, verbose);

  let merged: MergedKubeconfig | undefined;
  const targets = new Map<string, KubeTarget>();
  const kube: KubeAccess = {
    target(hints = {}) {
      const key = JSON.stringify([hints.namespace ?? '', hints.kubeContext ?? '']);
      let t = targets.get(key);
      if (t === undefined) {
        merged ??= loadKubeconfig({ kubeconfig: globals.kubeconfig, env: io.env, homeDir: io.homeDir, cwd: io.cwd });
        t = resolveTarget(merged, {
          context: globals.context,
          namespace: globals.namespace,
          projectContext: hints.kubeContext,
          projectNamespace: hints.namespace,
          env: io.env,
          serviceAccountDir: io.serviceAccountDir,
        });
        log.debug(
          `kube: files=[${t.files.join(', ')}] context=${t.contextName ?? '-'} namespace=${t.namespace} (from ${t.namespaceSource})`,
        );
        if (t.ignoredProjectContext) log.warn(`kube context "${t.ignoredProjectContext}" from the config does not exist here; using ${t.contextName ?? 'none'}`);
        targets.set(key, t);
      }
      return t;
    },
    async kubeConfig(hints) {
      const t = kube.target(hints);
      return createKubeConfig(merged!, t);
    },
  };

  let services: Promise<ProjectServices> | undefined;
  return {
    command,
    globals,
    stdout: io.stdout,
    stderr: io.stderr,
    color,
    stdoutColor,
    log,
    env: io.env,
    cwd: io.cwd,
    homeDir: io.homeDir,
    isTTY: io.isTTY,
    interactive: io.isTTY.stdin && globals.input,
    signal: io.signal,
    kube,
    services: () => (services ??= io.services()),
    owner: io.owner,
  };
}

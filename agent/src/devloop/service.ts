// The dev loop of `dsa up` is a set of services (DevSpace's dev: ports, sync, logs, terminal, plus the
// heartbeat that shows the attached agent in `kubectl get devsessions`). The runner (runner.ts)
// creates them from their definitions, starts each once the services it waits for are ready, feeds
// them every new version of the DevSession, and stops them in reverse definition order.
//
// A definition is static (name, ordering), a service is one run of it: `create` may return undefined
// when the session gives the service nothing to do (no ports, no sync paths), and then it never runs.
import type { KubeConfig } from '@kubernetes/client-node';
import type { DevSession } from '@dsa/api';
import type { AgentEnv } from '../env.js';
import type { SessionKube, SessionRef, SyncPathStatus } from '../session/kube.js';
import type { ExecLike, TerminalIO } from './exec.js';
import type { LogLike } from './logs.js';
import type { PortForwardLike } from './port-forward.js';

export interface DevService {
  /**
   * Start with the current session. Resolve once running; a rejection ends the loop with that error
   * (a service that can limp on — a port already taken — warns instead).
   */
  start(session: DevSession): Promise<void>;
  /**
   * Resolves when the services waiting for this one may start (DevSpace's waitInitialSync: the
   * initial sync is done). Default: as soon as start() resolved. A rejection ends the loop.
   */
  ready?(): Promise<void>;
  /**
   * The DevSession changed (status.pods names a new pod, the spec was re-applied, …). Calls are
   * serial, only after start() resolved, never after stop(). Errors are logged, not fatal.
   */
  update?(session: DevSession): void | Promise<void>;
  /**
   * Release everything (listeners, streams, connections). Called once, also when start() failed or
   * is still pending; the runner waits at most STOP_TIMEOUT_MS for it.
   */
  stop(): Promise<void>;
}

/** What the service's part of the agent status says; the heartbeat service merges and writes the parts. */
export interface AgentStatusPart {
  /** The SYNC column text (`2 paths watching`); the last service in definition order that sets one wins. */
  sync?: string;
  /** Entries for status.syncPaths; the parts are concatenated in definition order. */
  syncPaths?: SyncPathStatus[];
}

/** client-node clients for the session's cluster, made on first use. */
export interface DevClients {
  /** For clients of your own (e.g. an exec transport). */
  readonly kubeConfig: KubeConfig;
  exec(): Promise<ExecLike>;
  log(): Promise<LogLike>;
  portForward(): Promise<PortForwardLike>;
  /** The process's terminal (raw mode, size): only the terminal service reads stdin. */
  readonly terminal: TerminalIO;
}

/** What a service gets from the runner. One context per service. */
export interface DevServiceContext {
  /** log, stdout, stderr, isTTY, now; `env.signal` aborts when the loop stops (Ctrl-C, exit(), fail()). */
  readonly env: AgentEnv;
  readonly ref: SessionRef;
  readonly kube: SessionKube;
  readonly clients: DevClients;
  /** The project's folder (where devspace.yaml is): local state goes under `<projectDir>/.dsa/`, local hooks run here. */
  readonly projectDir: string;
  /** The latest version of the session the loop has seen (update() follows it). */
  session(): DevSession;
  /** Replace this service's part of the agent status; undefined withdraws it. Cheap: writes are throttled. */
  setStatus(part: AgentStatusPart | undefined): void;
  /** Every service's part, in definition order, and a change notification: what the heartbeat service writes. */
  readonly statusParts: { current(): AgentStatusPart[]; subscribe(listener: () => void): () => void };
  /** End the loop normally; `code` becomes the command's exit code (the terminal's shell exited). */
  exit(code?: number): void;
  /** End the loop with an error (`dsa up: <message>`, exit 1 for a RuntimeError). */
  fail(error: unknown): void;
}

export interface DevServiceDefinition {
  /** Unique in a loop: 'heartbeat', 'ports', 'sync', 'logs', 'terminal'. */
  readonly name: string;
  /** Services that must be ready before this one starts. Names of services that do not run are ignored. */
  readonly after?: readonly string[];
  /** Services that must wait until this one is ready (sync: ['logs', 'terminal'] when waitInitialSync). */
  readonly before?: readonly string[];
  /** The service for this session, or undefined when there is nothing for it to do. Must not do IO. */
  create(ctx: DevServiceContext, session: DevSession): DevService | undefined;
}

// `dsa up` after the deploy: port-forwards, log streams or a terminal, until Ctrl-C (ctx.signal) or the
// terminal exits. The session keeps running afterwards (DevSpace keeps its deployments too).
//
// The root session is re-read every 2 s: status.pods says which pod each dev pod currently is, so
// forwards (per connection) and log streams (restarted on change) follow pod replacements.
import type { DevSession } from '@dsa/api';
import type { CommandContext } from '../cli/context.js';
import type { SessionKube } from '../session/kube.js';
import { refOf } from '../session/apply.js';
import { abortableSleep } from '../session/uploads.js';
import { execInContainer, withWorkdir, type ExecLike, type TerminalIO } from './exec.js';
import { streamLogs, type LogLike } from './logs.js';
import { defaultDevPod, targetFromStatus, type PodTarget } from './pods.js';
import { PortForwarder, describeForward, forwardsFor, type PortForwardLike } from './port-forward.js';

export interface DevLoopDeps {
  exec: ExecLike;
  log: LogLike;
  portForward: PortForwardLike;
  terminal: TerminalIO;
  pollMs?: number;
  /** Clock for the heartbeat (tests). */
  now?: () => Date;
}

/** How often a running `dsa up` refreshes status.agentHeartbeatTime (the SYNC column's freshness). */
export const HEARTBEAT_MS = 30_000;

/**
 * The SYNC printer column while `dsa up` runs: that an agent is connected, and what it syncs. File sync
 * itself comes in a later release, so the paths are reported as off. Pure.
 */
export function agentSyncSummary(session: DevSession): string {
  const n = (session.spec.dev?.pods ?? []).reduce((k, p) => k + (p.sync?.length ?? 0), 0);
  return n === 0 ? 'agent up, no sync paths' : `agent up, sync off (${n} path${n === 1 ? '' : 's'})`;
}

/** `./src:/app (api)` for each sync path of each dev pod: file sync is not part of this release. Pure. */
export function syncPaths(session: DevSession): string[] {
  return (session.spec.dev?.pods ?? []).flatMap((p) => (p.sync ?? []).map((s) => `${s.localPath}:${s.containerPath} (${p.name})`));
}

/** The dev pod that gets a terminal, when one should be opened. Pure. */
export function terminalDevPod(session: DevSession, isTTY: { stdin: boolean; stdout: boolean }): string | undefined {
  if (!isTTY.stdin || !isTTY.stdout) return undefined;
  const pods = session.spec.dev?.pods ?? [];
  const withTerminal = pods.find((p) => p.terminal !== undefined && p.terminal.enabled !== false);
  if (withTerminal) return withTerminal.name;
  return session.spec.dev?.interactive ? pods[0]?.name : undefined;
}

/** Dev pods whose logs are streamed (all with logs not disabled, except the one in the terminal). Pure. */
export function logDevPods(session: DevSession, terminalPod: string | undefined): string[] {
  return (session.spec.dev?.pods ?? []).filter((p) => p.logs?.enabled !== false && p.name !== terminalPod).map((p) => p.name);
}

export async function runDevLoop(ctx: CommandContext, kube: SessionKube, initial: DevSession, deps: DevLoopDeps): Promise<number | void> {
  const ref = refOf(initial);
  let session = initial;
  const signal = ctx.signal;
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  signal.addEventListener('abort', onAbort, { once: true });
  const current = (devPod: string): PodTarget | undefined => targetFromStatus(session, { devPod });

  const sync = syncPaths(session);
  if (sync.length) ctx.log.warn(`file sync is not active yet (a later release): ${sync.join(', ')}`);

  // ── heartbeat: the team sees in `kubectl get devsessions` that a developer's agent is attached ──
  const now = deps.now ?? (() => new Date());
  let lastBeat = 0;
  const beat = async (): Promise<void> => {
    lastBeat = now().getTime();
    try {
      await kube.applyAgentStatus(ref, { sync: agentSyncSummary(session), agentHeartbeatTime: now().toISOString().replace(/\.\d{3}Z$/, 'Z') });
    } catch (e) {
      // A user without update rights on devsessions/status still gets a working dev loop.
      ctx.log.debug(`agent status: ${(e as Error)?.message ?? String(e)}`);
    }
  };
  await beat();

  // ── port-forwards ──
  const forwarder = new PortForwarder({ portForward: deps.portForward, target: current, log: ctx.log });
  const { forwards, conflicts } = forwardsFor(session);
  for (const c of conflicts) ctx.log.warn(c);
  for (const f of forwards) {
    try {
      await forwarder.start(f);
      ctx.log.info(`forwarding ${describeForward(f)}`);
    } catch (e) {
      ctx.log.warn(`cannot forward ${describeForward(f)}: ${(e as Error).message}`);
    }
  }

  // ── logs: one stream per dev pod, restarted when its pod changes ──
  const termPod = terminalDevPod(session, ctx.isTTY);
  const wantsTerminal = terminalDevPod(session, { stdin: true, stdout: true });
  if (wantsTerminal && !termPod) {
    // Terminal mode replaced the container's command with `sleep`: there is nothing to log or serve
    // until someone starts the app in that container.
    ctx.log.warn(`dev pod ${wantsTerminal} is in terminal mode (its container runs sleep) but stdin/stdout is not a terminal; use dsa enter to work in it`);
  }
  const streams = new Map<string, { pod: string; stop: AbortController }>();
  const syncLogs = () => {
    for (const devPod of logDevPods(session, termPod)) {
      const t = current(devPod);
      const running = streams.get(devPod);
      if (running && (!t || running.pod !== t.pod)) {
        running.stop.abort();
        streams.delete(devPod);
      }
      if (!t || streams.has(devPod) || stop.signal.aborted) continue;
      const ac = new AbortController();
      stop.signal.addEventListener('abort', () => ac.abort(), { once: true });
      streams.set(devPod, { pod: t.pod, stop: ac });
      const lastLines = session.spec.dev?.pods?.find((p) => p.name === devPod)?.logs?.lastLines ?? 50;
      streamLogs(deps.log, t, ctx.stdout, { follow: true, tailLines: lastLines, signal: ac.signal })
        .catch((e: unknown) => ctx.log.debug(`logs of ${t.pod}/${t.container}: ${(e as Error)?.message ?? String(e)}`))
        .finally(() => {
          // Ended by itself (container restarted): the next poll starts it again from the current pod.
          if (streams.get(devPod)?.stop === ac) streams.delete(devPod);
        });
    }
  };
  syncLogs();

  // ── session poll ──
  const poll = (async () => {
    while (!stop.signal.aborted) {
      await abortableSleep(deps.pollMs ?? 2000, stop.signal);
      if (stop.signal.aborted) break;
      try {
        const s = await kube.getSession(ref);
        if (!s) {
          ctx.log.warn(`DevSession ${ref.name} was deleted; stopping`);
          stop.abort();
          break;
        }
        const before = JSON.stringify(session.status?.pods ?? []);
        session = s;
        if (JSON.stringify(s.status?.pods ?? []) !== before) {
          for (const p of s.status?.pods ?? []) ctx.log.info(`dev pod ${p.devPod}: ${p.pod}`);
        }
        syncLogs();
        if (now().getTime() - lastBeat >= HEARTBEAT_MS) await beat();
      } catch (e) {
        ctx.log.debug(`reading the session: ${(e as Error)?.message ?? String(e)}`);
      }
    }
  })();

  let exitCode: number | void = undefined;
  try {
    if (termPod) {
      const t = current(termPod) ?? (await waitForPod(() => current(termPod), stop.signal));
      const pod = session.spec.dev?.pods?.find((p) => p.name === termPod);
      if (t) {
        const command = withWorkdir(pod?.terminal?.command ?? ['sh'], pod?.terminal?.workDir);
        ctx.log.info(`terminal: ${t.pod}/${t.container} (exit the shell to stop dsa up; the session keeps running)`);
        exitCode = await execInContainer(deps.exec, t, command, deps.terminal, { tty: true, stdin: true, signal: stop.signal });
      }
    } else {
      if (!defaultDevPod(session, 'logs') && forwards.length === 0) ctx.log.info('no dev pods with ports or logs; press Ctrl-C to stop');
      else ctx.log.info('press Ctrl-C to stop (the session keeps running; dsa down removes it)');
      await new Promise<void>((resolve) => (stop.signal.aborted ? resolve() : stop.signal.addEventListener('abort', () => resolve(), { once: true })));
    }
  } finally {
    stop.abort();
    signal.removeEventListener('abort', onAbort);
    await forwarder.close();
    await poll;
    // Detach: SSA without our fields removes them, so the SYNC column goes blank (no agent).
    await kube.applyAgentStatus(ref, undefined).catch((e: unknown) => ctx.log.debug(`agent status: ${(e as Error)?.message ?? String(e)}`));
  }
  return exitCode;
}

async function waitForPod(get: () => PodTarget | undefined, signal: AbortSignal): Promise<PodTarget | undefined> {
  while (!signal.aborted) {
    const t = get();
    if (t) return t;
    await abortableSleep(1000, signal);
  }
  return undefined;
}

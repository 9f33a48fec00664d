// The dev loop's decisions, pure: which dev pod gets the terminal, whose logs stream, what the SYNC
// column says.
import type { DevSession } from '@dsa/api';
import type { AgentStatus } from '../session/kube.js';
import type { AgentStatusPart } from './service.js';

/**
 * The SYNC printer column while `dsa up` runs and no service reports sync itself: that an agent is
 * connected, and how many paths it does not sync.
 */
export function agentSyncSummary(session: DevSession): string {
  const n = (session.spec.dev?.pods ?? []).reduce((k, p) => k + (p.sync?.length ?? 0), 0);
  return n === 0 ? 'agent up, no sync paths' : `agent up, sync off (${n} path${n === 1 ? '' : 's'})`;
}

/** `./src:/app (api)` for each sync path of each dev pod. */
export function syncPaths(session: DevSession): string[] {
  return (session.spec.dev?.pods ?? []).flatMap((p) => (p.sync ?? []).map((s) => `${s.localPath}:${s.containerPath} (${p.name})`));
}

/** The dev pod that gets a terminal, when one should be opened. */
export function terminalDevPod(session: DevSession, isTTY: { stdin: boolean; stdout: boolean }): string | undefined {
  if (!isTTY.stdin || !isTTY.stdout) return undefined;
  const pods = session.spec.dev?.pods ?? [];
  const withTerminal = pods.find((p) => p.terminal !== undefined && p.terminal.enabled !== false);
  if (withTerminal) return withTerminal.name;
  return session.spec.dev?.interactive ? pods[0]?.name : undefined;
}

/** Dev pods whose logs are streamed (all with logs not disabled, except the one in the terminal). */
export function logDevPods(session: DevSession, terminalPod: string | undefined): string[] {
  return (session.spec.dev?.pods ?? []).filter((p) => p.logs?.enabled !== false && p.name !== terminalPod).map((p) => p.name);
}

/** RFC 3339 without milliseconds, as metav1.Time serializes. */
export const kubeTime = (d: Date) => d.toISOString().replace(/\.\d{3}Z$/, 'Z');

/**
 * The agent status from the services' parts (in definition order): the last SYNC text set wins,
 * syncPaths are concatenated; without a SYNC text, agentSyncSummary.
 */
export function mergeAgentStatus(parts: readonly AgentStatusPart[], session: DevSession, now: Date): AgentStatus {
  let sync: string | undefined;
  const paths: NonNullable<AgentStatus['syncPaths']> = [];
  for (const p of parts) {
    if (p.sync !== undefined && p.sync !== '') sync = p.sync;
    paths.push(...(p.syncPaths ?? []));
  }
  return { sync: sync ?? agentSyncSummary(session), agentHeartbeatTime: kubeTime(now), ...(paths.length > 0 ? { syncPaths: paths } : {}) };
}

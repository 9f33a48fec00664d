// The SYNC column when a developer's agent vanished without detaching (laptop lid closed, kill -9, network
// gone). A running `dsa up` refreshes status.agentHeartbeatTime every 30 s and removes it when it exits
// cleanly, so a heartbeat older than AGENT_GONE_AFTER_MS means nobody syncs that session any more, whatever
// status.sync still claims. This controller then writes `agent gone` into status.sync by server-side apply
// with its own field manager and force; a returning agent (which also forces, as dsa-agent) takes the field
// back, and its clean exit removes it.
//
// No polling: a session is looked at when its heartbeat or SYNC text changes, and once more when its
// heartbeat expires (requeueAfter). Its own write changes status.sync to the value it wants, so it causes
// one more look and no write.
import * as k8s from '@kubernetes/client-node';
import type { KubernetesObject } from '@kubernetes/client-node';
import { DEVSESSION, GROUP, VERSION, type DevSession, type DevSessionStatus } from '@dsa/api';
import { Controller, patchStatus, realClock, type Clock, type Logger, type OperatorMetrics, type Request, type Result, type SharedInformer } from '../../runtime/index.js';

export const AGENT_PRESENCE_FIELD_MANAGER = 'dsa-operator-agent-presence';
/** Three missed heartbeats (agent/src/devloop/services/heartbeat.ts beats every 30 s). */
export const AGENT_GONE_AFTER_MS = 90_000;
export const AGENT_GONE = 'agent gone';

export interface AgentPresence {
  /** Write this SYNC text now. */
  write?: typeof AGENT_GONE;
  /** Look again after this many ms (the heartbeat expires then). */
  recheckInMs?: number;
}

/** What to do about a session's agent fields at `nowMs`. Pure. */
export function agentPresence(status: Pick<DevSessionStatus, 'agentHeartbeatTime' | 'sync'> | undefined, nowMs: number): AgentPresence {
  const beat = status?.agentHeartbeatTime ? Date.parse(status.agentHeartbeatTime) : Number.NaN;
  // No heartbeat: no agent ever attached, or it detached cleanly (and took its fields with it).
  if (!Number.isFinite(beat)) return {};
  const left = beat + AGENT_GONE_AFTER_MS - nowMs;
  if (left > 0) return { recheckInMs: left };
  return status?.sync === AGENT_GONE ? {} : { write: AGENT_GONE };
}

/** Only the agent's fields matter here. */
export function agentFieldsChanged(o: KubernetesObject, old?: KubernetesObject): boolean {
  if (!old) return true;
  const a = (o as unknown as DevSession).status;
  const b = (old as unknown as DevSession).status;
  return a?.agentHeartbeatTime !== b?.agentHeartbeatTime || a?.sync !== b?.sync;
}

export interface AgentGoneWriter {
  /** SSA `status.sync: agent gone` as AGENT_PRESENCE_FIELD_MANAGER, forced. */
  markGone(ref: Request): Promise<void>;
}

export class ClientNodeAgentGoneWriter implements AgentGoneWriter {
  private readonly custom: k8s.CustomObjectsApi;

  constructor(kc: k8s.KubeConfig) {
    this.custom = kc.makeApiClient(k8s.CustomObjectsApi);
  }

  async markGone(ref: Request): Promise<void> {
    await patchStatus(
      this.custom,
      { group: GROUP, version: VERSION, kind: DEVSESSION.kind, plural: DEVSESSION.plural, namespace: ref.namespace, name: ref.name },
      { sync: AGENT_GONE },
      { fieldManager: AGENT_PRESENCE_FIELD_MANAGER, force: true },
    );
  }
}

export class AgentPresenceReconciler {
  constructor(
    private readonly d: { session(req: Request): DevSession | undefined; writer: AgentGoneWriter; clock: Clock },
  ) {}

  async reconcile(req: Request): Promise<Result | void> {
    const s = this.d.session(req);
    if (!s || s.metadata.deletionTimestamp) return;
    const next = agentPresence(s.status, this.d.clock.now());
    if (next.write) await this.d.writer.markGone(req);
    if (next.recheckInMs !== undefined) return { requeueAfter: next.recheckInMs };
  }
}

export interface AgentPresenceOptions {
  kc: k8s.KubeConfig;
  /** The DevSession informer (OperatorCache.sessions). */
  sessions: SharedInformer<KubernetesObject>;
  writer?: AgentGoneWriter;
  logger?: Logger;
  metrics?: OperatorMetrics;
  clock?: Clock;
}

export function createAgentPresenceController(o: AgentPresenceOptions): Controller<KubernetesObject> {
  const sessions = o.sessions;
  const clock = o.clock ?? realClock;
  const reconciler = new AgentPresenceReconciler({
    session: (req) => sessions.get(req.namespace, req.name) as unknown as DevSession | undefined,
    writer: o.writer ?? new ClientNodeAgentGoneWriter(o.kc),
    clock,
  });
  return new Controller<KubernetesObject>({
    name: 'devsession-agent-presence',
    for: sessions,
    predicate: agentFieldsChanged,
    reconciler: (req) => reconciler.reconcile(req),
    ...(o.metrics ? { metrics: o.metrics } : {}),
    ...(o.logger ? { logger: o.logger } : {}),
    clock,
  });
}

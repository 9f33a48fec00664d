// The heartbeat: the team sees in `kubectl get devsessions` (SYNC column) that a developer's agent is
// attached, and what it syncs. Writes status.{sync, agentHeartbeatTime, syncPaths} by server-side
// apply as dsa-agent (the operator never sets them), at start, every intervalMs, and when the
// services' status parts change (at most once per minGapMs, the last change always written). On stop
// it applies nothing of ours, which removes the fields: the column goes blank.
//
// Session updates alone do not trigger a write: each write is itself a new version of the session.
import type { DevServiceDefinition } from '../service.js';
import { mergeAgentStatus } from '../plan.js';

/** How often a running `dsa up` refreshes status.agentHeartbeatTime. */
export const HEARTBEAT_MS = 30_000;

export interface HeartbeatOptions {
  intervalMs?: number;
  /** Least time between two writes (default 1 s). */
  minGapMs?: number;
}

export function heartbeatService(opts: HeartbeatOptions = {}): DevServiceDefinition {
  const intervalMs = opts.intervalMs ?? HEARTBEAT_MS;
  const minGapMs = opts.minGapMs ?? 1000;
  return {
    name: 'heartbeat',
    create(ctx) {
      let timer: NodeJS.Timeout | undefined;
      let interval: NodeJS.Timeout | undefined;
      let inflight: Promise<void> | undefined;
      let unsubscribe: (() => void) | undefined;
      let dirty = false;
      let stopped = false;
      let lastAt = Number.NEGATIVE_INFINITY;
      let lastWritten = '';
      const debug = (e: unknown) => ctx.env.log.debug(`agent status: ${(e as Error)?.message ?? String(e)}`);
      /** What is written, without the time: a change of it is worth a write. */
      const content = () => {
        const { agentHeartbeatTime: _t, ...rest } = mergeAgentStatus(ctx.statusParts.current(), ctx.session(), new Date(0));
        return JSON.stringify(rest);
      };
      const write = async () => {
        const status = mergeAgentStatus(ctx.statusParts.current(), ctx.session(), ctx.env.now?.() ?? new Date());
        lastWritten = content();
        try {
          await ctx.kube.applyAgentStatus(ctx.ref, status);
        } catch (e) {
          // A user without update rights on devsessions/status still gets a working dev loop.
          debug(e);
        }
      };
      const flush = () => {
        timer = undefined;
        if (!dirty || stopped) return;
        dirty = false;
        lastAt = Date.now();
        inflight = write().finally(() => {
          inflight = undefined;
          if (dirty) schedule();
        });
      };
      const schedule = () => {
        if (timer || inflight || stopped) return;
        timer = setTimeout(flush, Math.max(0, lastAt + minGapMs - Date.now()));
      };
      const request = () => {
        dirty = true;
        schedule();
      };
      return {
        async start() {
          dirty = true;
          flush();
          await inflight;
          interval = setInterval(request, intervalMs);
          unsubscribe = ctx.statusParts.subscribe(() => {
            if (content() !== lastWritten) request();
          });
        },
        update() {
          // The default SYNC text depends on the spec (its sync paths).
          if (content() !== lastWritten) request();
        },
        async stop() {
          stopped = true;
          clearTimeout(timer);
          clearInterval(interval);
          unsubscribe?.();
          await inflight;
          await ctx.kube.applyAgentStatus(ctx.ref, undefined).catch(debug);
        },
      };
    },
  };
}

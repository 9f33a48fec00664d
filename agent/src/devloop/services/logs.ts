// Log streams of the dev pods (all with logs enabled, except the one in the terminal) on stdout,
// `[pod/container] `-prefixed. A stream follows its dev pod: restarted when status.pods names another
// pod, and again shortly after it ended by itself (the container restarted: the pod name, and so the
// session, may not change at all).
import { abortableSleep } from '../../session/uploads.js';
import { streamLogs, type LogLike } from '../logs.js';
import { logDevPods, terminalDevPod } from '../plan.js';
import { targetFromStatus } from '../pods.js';
import type { DevServiceDefinition } from '../service.js';

export interface LogsServiceOptions {
  /** Wait before following a stream that ended by itself (default 2 s). */
  restartDelayMs?: number;
}

export function logsService(opts: LogsServiceOptions = {}): DevServiceDefinition {
  return {
    name: 'logs',
    create(ctx, session) {
      const termPod = terminalDevPod(session, ctx.env.isTTY);
      if (logDevPods(session, termPod).length === 0) return undefined;
      const streams = new Map<string, { pod: string; stop: AbortController; done: Promise<void> }>();
      let log: LogLike | undefined;
      let stopped = false;
      const follow = () => {
        if (stopped || !log) return;
        const s = ctx.session();
        for (const devPod of logDevPods(s, termPod)) {
          const t = targetFromStatus(s, { devPod });
          const running = streams.get(devPod);
          if (running && (!t || running.pod !== t.pod)) {
            running.stop.abort();
            streams.delete(devPod);
          }
          if (!t || streams.has(devPod)) continue;
          const ac = new AbortController();
          const lastLines = s.spec.dev?.pods?.find((p) => p.name === devPod)?.logs?.lastLines ?? 50;
          const done = streamLogs(log, t, ctx.env.stdout, { follow: true, tailLines: lastLines, signal: ac.signal })
            .catch((e: unknown) => ctx.env.log.debug(`logs of ${t.pod}/${t.container}: ${(e as Error)?.message ?? String(e)}`))
            .finally(() => {
              if (streams.get(devPod)?.stop !== ac) return;
              streams.delete(devPod);
              if (!ac.signal.aborted && !stopped) void abortableSleep(opts.restartDelayMs ?? 2000, ctx.env.signal).then(follow);
            });
          streams.set(devPod, { pod: t.pod, stop: ac, done });
        }
      };
      return {
        async start() {
          log = await ctx.clients.log();
          follow();
        },
        update: follow,
        async stop() {
          stopped = true;
          const all = [...streams.values()];
          for (const s of all) s.stop.abort();
          await Promise.all(all.map((s) => s.done));
        },
      };
    },
  };
}

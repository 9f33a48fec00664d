// Port-forwards of the dev pods: one local listener per port; each connection goes to the pod the
// session publishes for its dev pod at that moment (status.pods), so replaced pods need no restart.
import { PortForwarder, describeForward, forwardsFor } from '../port-forward.js';
import { targetFromStatus } from '../pods.js';
import type { DevServiceDefinition } from '../service.js';

export const portsService: DevServiceDefinition = {
  name: 'ports',
  create(ctx, session) {
    const { forwards, conflicts } = forwardsFor(session);
    if (forwards.length === 0 && conflicts.length === 0) return undefined;
    let forwarder: PortForwarder | undefined;
    let starting: Promise<void> | undefined;
    let stopped = false;
    return {
      start() {
        starting = (async () => {
          for (const c of conflicts) ctx.env.log.warn(c);
          forwarder = new PortForwarder({ portForward: await ctx.clients.portForward(), target: (devPod) => targetFromStatus(ctx.session(), { devPod }), log: ctx.env.log });
          for (const f of forwards) {
            if (stopped) return;
            try {
              await forwarder.start(f);
              ctx.env.log.info(`forwarding ${describeForward(f)}`);
            } catch (e) {
              ctx.env.log.warn(`cannot forward ${describeForward(f)}: ${(e as Error).message}`);
            }
          }
        })();
        return starting;
      },
      async stop() {
        stopped = true;
        await starting?.catch(() => undefined);
        await forwarder?.close();
      },
    };
  },
};

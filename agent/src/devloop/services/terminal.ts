// The dev pod's terminal (DevSpace's terminal mode): an exec with a TTY into the pod the session
// publishes for it, once there is one. Exiting the shell ends `dsa up` with the shell's exit code;
// the session keeps running.
import { execInContainer, withWorkdir } from '../exec.js';
import { terminalDevPod } from '../plan.js';
import { targetFromStatus, type PodTarget } from '../pods.js';
import type { DevServiceDefinition } from '../service.js';

export const terminalService: DevServiceDefinition = {
  name: 'terminal',
  create(ctx, session) {
    const devPod = terminalDevPod(session, ctx.env.isTTY);
    if (!devPod) return undefined;
    let wake: (() => void) | undefined;
    let running: Promise<void> | undefined;
    const signal = ctx.env.signal;
    /** The dev pod's current pod, waiting for the session to publish one. */
    const podTarget = async (): Promise<PodTarget | undefined> => {
      for (;;) {
        const t = targetFromStatus(ctx.session(), { devPod });
        if (t || signal.aborted) return t;
        await new Promise<void>((resolve) => {
          wake = resolve;
          signal.addEventListener('abort', () => resolve(), { once: true });
        });
      }
    };
    return {
      async start() {
        running = (async () => {
          const t = await podTarget();
          if (!t) return;
          const pod = ctx.session().spec.dev?.pods?.find((p) => p.name === devPod);
          const command = withWorkdir(pod?.terminal?.command ?? ['sh'], pod?.terminal?.workDir);
          ctx.env.log.info(`terminal: ${t.pod}/${t.container} (exit the shell to stop dsa up; the session keeps running)`);
          ctx.exit(await execInContainer(await ctx.clients.exec(), t, command, ctx.clients.terminal, { tty: true, stdin: true, signal }));
        })().catch((e: unknown) => ctx.fail(e));
      },
      update() {
        wake?.();
      },
      async stop() {
        wake?.();
        await running;
      },
    };
  },
};

// `dsa-sidecar daemon`: the sidecar container's main process. It only has to exist (the agent execs
// `serve` next to it) and stop promptly: one log line, no work, exit 0 on SIGTERM/SIGINT.
export function runDaemon(log: (line: string) => void): Promise<number> {
  log('dsa-sidecar: ready; waiting for an agent to connect (dsa up)');
  return new Promise((resolve) => {
    // A timer keeps the event loop alive without waking up (about 24 days).
    const keepAlive = setInterval(() => undefined, 2 ** 31 - 1);
    const stop = (signal: string) => {
      clearInterval(keepAlive);
      log(`dsa-sidecar: ${signal}, exiting`);
      resolve(0);
    };
    process.once('SIGTERM', () => stop('SIGTERM'));
    process.once('SIGINT', () => stop('SIGINT'));
  });
}

// dsa-sidecar: the dev sidecar's program (image dsa/sidecar).
//   dsa-sidecar serve    speak the sync protocol on stdin/stdout for one agent (what the agent execs)
//   dsa-sidecar daemon   the container's main process: idle until SIGTERM
//   dsa-sidecar version
// Everything it prints goes to stderr: in `serve`, stdout is the protocol.
import { Duplex } from 'node:stream';
import { CTL_DIR, SIDECAR_CTL_DIR_ENV, SIDECAR_PATHS_ENV } from '@dsa/api/sync';
import { parseSidecarPaths } from './config.js';
import { runDaemon } from './daemon.js';
import { serve } from './serve.js';

export const SIDECAR_VERSION = '0.1.0';

const log = (line: string) => process.stderr.write(`${line}\n`);

async function main(argv: string[]): Promise<number> {
  const cmd = argv[0];
  switch (cmd) {
    case 'serve': {
      // Nothing may reach stdout but frames.
      console.log = console.info = console.warn = console.debug = (...args: unknown[]) => log(args.map(String).join(' '));
      let paths;
      try {
        paths = parseSidecarPaths(process.env[SIDECAR_PATHS_ENV]);
      } catch (e) {
        log(`dsa-sidecar: ${(e as Error).message}`);
        return 2;
      }
      const stream = Duplex.from({ readable: process.stdin, writable: process.stdout });
      return serve({ stream, paths, ctlDir: process.env[SIDECAR_CTL_DIR_ENV] || CTL_DIR, software: `dsa-sidecar ${SIDECAR_VERSION}`, log });
    }
    case 'daemon':
      return runDaemon(log);
    case 'version':
    case '--version':
      process.stdout.write(`${SIDECAR_VERSION}\n`);
      return 0;
    default:
      log(`usage: dsa-sidecar serve | daemon | version${cmd ? ` (unknown command ${JSON.stringify(cmd)})` : ''}`);
      return 2;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
    // Pending timers (watchers, listeners) must not keep a finished serve alive.
    setTimeout(() => process.exit(code), 100).unref();
  },
  (e: unknown) => {
    log(`dsa-sidecar: ${(e as Error)?.message ?? String(e)}`);
    process.exit(1);
  },
);

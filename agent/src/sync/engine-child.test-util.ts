// A SyncSession in its own process, so a test can SIGKILL the engine. Argument: JSON
// `{ local, remote, ctl, state, strategy? }`. Writes each event as a JSON line on stdout.
import { SyncSession } from './session.js';
import { sidecarProcesses } from './sidecar-process.test-util.js';

const cfg = JSON.parse(process.argv[2] ?? '{}') as { local: string; remote: string; ctl: string; state: string; strategy?: 'mirrorLocal' };
const procs = sidecarProcesses([cfg.remote], cfg.ctl);
const session = new SyncSession({
  connect: procs.connect,
  paths: [{ devPod: 'api', sync: 0, localPath: cfg.local, containerPath: '/app0', initialSync: cfg.strategy ?? 'mirrorLocal' }],
  stateDir: cfg.state,
  sessionKey: 'e2e',
});
session.on((e) => process.stdout.write(`${JSON.stringify(e)}\n`));
session.start();
await session.initialSyncDone;
process.stdout.write('{"type":"ready"}\n');

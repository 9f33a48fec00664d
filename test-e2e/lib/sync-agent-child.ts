// The agent's sync engine in a process of its own, against the real cluster, so a suite can SIGKILL it
// (sync-reliability.test.ts). Argument: JSON of AgentChildConfig. Prints every engine event as a JSON
// line on stdout, then `{"type":"ready"}` once the initial sync of every path is done.
import * as k8s from '@kubernetes/client-node';
import { SyncSession, execTransport, type SyncPathConfig } from '../../agent/src/sync/index.js';
import { kubeFromEnv } from './env.js';

export interface AgentChildConfig {
  namespace: string;
  /** Label app=<app> selects the dev pod's workload. */
  app: string;
  paths: SyncPathConfig[];
  stateDir: string;
  sessionKey: string;
}

const cfg = JSON.parse(process.argv[2] ?? '{}') as AgentChildConfig;
const kc = kubeFromEnv();
const core = kc.makeApiClient(k8s.CoreV1Api);

async function currentPod(): Promise<string> {
  for (;;) {
    const pods = await core.listNamespacedPod({ namespace: cfg.namespace, labelSelector: `app=${cfg.app}` });
    const p = pods.items.find((x) => x.status?.phase === 'Running' && !x.metadata?.deletionTimestamp);
    if (p?.metadata?.name) return p.metadata.name;
    await new Promise((r) => setTimeout(r, 300));
  }
}

const session = new SyncSession({
  connect: async (signal) => execTransport(kc, { namespace: cfg.namespace, pod: await currentPod() })(signal),
  paths: cfg.paths,
  stateDir: cfg.stateDir,
  sessionKey: cfg.sessionKey,
  software: 'dsa e2e child',
});
session.on((e) => process.stdout.write(`${JSON.stringify(e)}\n`));
session.start();
await session.initialSyncDone;
process.stdout.write('{"type":"ready"}\n');

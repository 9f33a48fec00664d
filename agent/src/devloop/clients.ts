// client-node's Exec, Log and PortForward for one cluster, each made once on first use.
import type { KubeConfig } from '@kubernetes/client-node';
import { makeExec, type TerminalIO } from './exec.js';
import { makeLog } from './logs.js';
import { makePortForward } from './port-forward.js';
import type { DevClients } from './service.js';

function once<T>(make: () => Promise<T>): () => Promise<T> {
  let p: Promise<T> | undefined;
  return () => (p ??= make());
}

export function createDevClients(kc: KubeConfig, terminal: TerminalIO): DevClients {
  return {
    kubeConfig: kc,
    exec: once(() => makeExec(kc)),
    log: once(() => makeLog(kc)),
    portForward: once(() => makePortForward(kc)),
    terminal,
  };
}

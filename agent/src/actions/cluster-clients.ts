// The real cluster clients. client-node and the upload module are imported on first use: offline
// commands (render, validate, --help) never load them.
import { createDevClients } from '../devloop/clients.js';
import { processTerminal } from '../devloop/exec.js';
import { createSessionKube } from '../session/kube.js';
import type { ClusterClients } from './action-deps.js';

export const defaultClusterClients: ClusterClients = {
  sessionKube: createSessionKube,
  async prepareContext(local) {
    const { prepareContext } = await import('@dsa/api/build-context');
    return prepareContext(local.contextDir, local.dockerfile);
  },
  async uploadContext(kc, target, tar, signal) {
    const { uploadContext } = await import('@dsa/api/build-context');
    return uploadContext(kc, target, tar, { signal });
  },
  devClients: (kc) => createDevClients(kc, processTerminal()),
};

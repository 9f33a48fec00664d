// Namespace per test file: a random name so parallel or leftover runs never collide, and a cleanup that
// waits for the namespace to be gone (optional) so the next suite starts from a clean cluster.
import { randomBytes } from 'node:crypto';
import * as k8s from '@kubernetes/client-node';
import { waitFor } from './wait.js';

export interface TestNamespace {
  name: string;
  /** Delete the namespace; with `wait`, until the API no longer returns it. Never throws on not-found. */
  cleanup(opts?: { wait?: boolean; timeoutMs?: number }): Promise<void>;
}

const isNotFound = (e: unknown) => (e as { code?: number })?.code === 404;

export async function createTestNamespace(kc: k8s.KubeConfig, prefix: string, labels: Record<string, string> = {}): Promise<TestNamespace> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  const name = `${prefix}-${randomBytes(3).toString('hex')}`.slice(0, 63);
  await core.createNamespace({ body: { metadata: { name, labels: { 'dsa.dev/e2e': 'true', ...labels } } } });
  return {
    name,
    async cleanup(opts = {}) {
      try {
        await core.deleteNamespace({ name, propagationPolicy: 'Background' });
      } catch (e) {
        if (!isNotFound(e)) throw e;
      }
      if (opts.wait) {
        await waitFor(
          `namespace ${name} to be deleted`,
          async () => {
            try {
              await core.readNamespace({ name });
              return false;
            } catch (e) {
              if (isNotFound(e)) return true;
              throw e;
            }
          },
          { timeoutMs: opts.timeoutMs ?? 120_000, intervalMs: 500 },
        );
      }
    },
  };
}

// `dsa down`: delete DevSessions (the root first, then its dependencies) and wait until they are gone.
// The operator's finalizer deletes what each session deployed (its status.inventory) before the
// object disappears, so "gone" means "cleaned up".
import type { DevSession, InventoryEntry } from '@dsa/api';
import { ClusterError, InterruptedError, RuntimeError } from '../errors.js';
import { formatDuration } from './duration.js';
import { toClusterError, type SessionKube, type SessionRef } from './kube.js';
import { abortableSleep } from './uploads.js';
import { NO_OPERATOR_MESSAGE } from './wait.js';
import { showRef } from './apply.js';

export interface Removed {
  ref: SessionRef;
  /** What the operator had deployed for it (deleted with it unless keepDeployments). */
  inventory: InventoryEntry[];
  kept: boolean;
}

export interface DeleteOptions {
  keepDeployments?: boolean;
  timeoutMs: number;
  /** Still there without the operator marking it Deleting after this long → no operator (default 30 s). */
  noOperatorMs?: number;
  pollMs?: number;
  signal: AbortSignal;
  log: (line: string) => void;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
}

/** `Deployment node-kubectl, Service node-kubectl` (at most `max` named). Pure. */
export function describeInventory(inv: readonly InventoryEntry[], max = 6): string {
  const names = inv.map((e) => `${e.kind} ${e.name}`);
  return names.length > max ? `${names.slice(0, max).join(', ')} and ${names.length - max} more` : names.join(', ');
}

/** Delete the sessions in the given order; returns what existed and was removed. Missing ones are skipped. */
export async function deleteSessions(kube: SessionKube, refs: readonly SessionRef[], opts: DeleteOptions): Promise<Removed[]> {
  const removed: Removed[] = [];
  for (const ref of refs) {
    let s: DevSession | undefined;
    try {
      s = await kube.getSession(ref);
      if (!s) {
        opts.log(`DevSession ${showRef(ref)} does not exist`);
        continue;
      }
      if (opts.keepDeployments && !s.spec.keepDeployments) await kube.setKeepDeployments(ref, true);
      await kube.deleteSession(ref);
    } catch (e) {
      if ((e as { code?: number }).code === 404) throw new ClusterError('the DevSession CRD is not installed in this cluster', { cause: e });
      throw toClusterError(e, `deleting DevSession ${showRef(ref)}`);
    }
    opts.log(`deleting DevSession ${showRef(ref)}…`);
    await waitGone(kube, ref, opts);
    const kept = opts.keepDeployments === true || s.spec.keepDeployments === true;
    removed.push({ ref, inventory: s.status?.inventory ?? [], kept });
  }
  return removed;
}

async function waitGone(kube: SessionKube, ref: SessionRef, opts: DeleteOptions): Promise<void> {
  const sleep = opts.sleep ?? abortableSleep;
  const now = opts.now ?? Date.now;
  const start = now();
  for (;;) {
    if (opts.signal.aborted) throw new InterruptedError();
    const s = await kube.getSession(ref).catch((e: unknown) => Promise.reject(toClusterError(e, `reading DevSession ${showRef(ref)}`)));
    if (!s) return;
    const elapsed = now() - start;
    // The operator marks a session it is cleaning up as Deleting; a finalizer nobody works on never goes.
    if (s.status?.phase !== 'Deleting' && elapsed >= (opts.noOperatorMs ?? 30_000)) {
      throw new ClusterError(`${NO_OPERATOR_MESSAGE}; DevSession ${showRef(ref)} keeps its finalizer until one runs`);
    }
    if (elapsed >= opts.timeoutMs) {
      throw new RuntimeError(`timed out after ${formatDuration(opts.timeoutMs)} waiting for DevSession ${showRef(ref)} to be deleted (${s.status?.message ?? 'no status'})`);
    }
    await sleep(opts.pollMs ?? 1000, opts.signal);
  }
}

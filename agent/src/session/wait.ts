// Wait for a DevSession to become Ready for the spec we applied, printing a progress line on stderr
// whenever what the operator reports changes (and a reminder when it has not changed for a while: the
// wait is never silent). Polls every second: a GET cannot stall silently the way a client-node 1.x
// watch can, and one small GET a second is nothing for the apiserver.
//
// An inspector (the deploy's fail-fast, analyze/rollout.ts) looks behind the session every few
// seconds: it adds what the rollout waits for to the progress line, and ends the wait as soon as the
// rollout cannot succeed without a change. With -d the session's Ready may be the previous pass's
// (an annotation does not bump the generation): `settle` then also waits until the inspector reports
// the rollouts behind it complete.
import { ConditionType, SessionPhase, type DevSession } from '@dsa/api';
import { ClusterError, InterruptedError, RuntimeError } from '../errors.js';
import { formatDuration } from './duration.js';
import { toClusterError, type SessionKube, type SessionRef } from './kube.js';
import { abortableSleep } from './uploads.js';
import { showRef } from './apply.js';

export const NO_OPERATOR_MESSAGE = 'no dsa operator is reconciling DevSessions in this cluster (install it with make deploy)';

type Cond = { type: string; status: string; observedGeneration?: number; message?: string; reason?: string };

const condition = (s: DevSession, type: string): Cond | undefined => (s.status?.conditions as Cond[] | undefined)?.find((c) => c.type === type);

export type Verdict =
  /** No status for this generation yet. `seen` = the operator has reconciled the session at some point. */
  | { kind: 'unobserved'; seen: boolean }
  | { kind: 'progress'; line: string }
  | { kind: 'ready'; line: string }
  | { kind: 'failed'; message: string };

/** One human line for where the session is (`building app…`, `deploying…`, `ready: 2/2 deployments`). Pure. */
export function progressLine(s: DevSession): string {
  const st = s.status ?? {};
  switch (st.phase) {
    case SessionPhase.Pending:
      return `pending: ${st.message ?? 'waiting'}`;
    case SessionPhase.Building: {
      const building = (st.images ?? []).filter((i) => i.phase !== 'Succeeded');
      const names = building.map((i) => (i.phase && i.phase !== 'Building' ? `${i.name} (${phaseWords(i.phase)})` : i.name));
      return names.length ? `building ${names.join(', ')}… (${st.imagesBuilt ?? '?'} images built)` : `building… ${st.message ?? ''}`.trimEnd();
    }
    case SessionPhase.Deploying: {
      const waiting = (st.deployments ?? []).find((d) => !d.ready);
      const detail = waiting ? `; ${waiting.name}: ${waiting.message ?? 'in progress'}` : '';
      return `deploying… ${st.deploymentsReady ?? '?'} deployments ready${detail}`;
    }
    case SessionPhase.Ready:
      return `ready: ${st.deploymentsReady ?? '0/0'} deployments`;
    case SessionPhase.Failed:
      return `failed: ${st.message ?? 'no message'}`;
    case SessionPhase.Deleting:
      return 'deleting…';
    default:
      return st.message ?? 'waiting for the operator…';
  }
}

function phaseWords(phase: string): string {
  switch (phase) {
    case 'AwaitingUpload':
      return 'waiting for the upload';
    case 'Pending':
      return 'starting the build pod';
    default:
      return phase.toLowerCase();
  }
}

/** What a snapshot of the session means for a wait on `generation`. Pure. */
export function evaluateSession(s: DevSession, generation: number): Verdict {
  const observed = s.status?.observedGeneration;
  if (observed === undefined || observed < generation) return { kind: 'unobserved', seen: observed !== undefined };
  const stalled = condition(s, ConditionType.Stalled);
  if (stalled?.status === 'True' && (stalled.observedGeneration ?? observed) >= generation) {
    return { kind: 'failed', message: stalled.message || s.status?.message || 'the session is stalled' };
  }
  const ready = condition(s, ConditionType.Ready);
  if (ready?.status === 'True' && (ready.observedGeneration ?? observed) >= generation) return { kind: 'ready', line: progressLine(s) };
  return { kind: 'progress', line: progressLine(s) };
}

/** What an inspector found behind the session. */
export interface Inspection {
  /** Stop waiting with this error: the rollout cannot succeed without a change. */
  fail?: unknown;
  /** What is being waited for, appended to the progress line (`pod api-7f9c/app: ContainerCreating`). */
  detail?: string;
  /** The rollouts behind the session are complete (for `settle`). */
  settled?: boolean;
  /** A pod became ready only just now: Ready counts after this long (a container that exits at once looks ready for an instant). */
  freshMs?: number;
}

export interface WaitOptions {
  /** metadata.generation of the applied object. */
  generation: number;
  timeoutMs: number;
  /** No status at all after this long → no operator (default 30 s). */
  noOperatorMs?: number;
  pollMs?: number;
  signal: AbortSignal;
  /** Called with each new progress line. */
  onProgress?: (line: string) => void;
  /** Looks behind the session while it is not ready; its errors are logged through onDebug, never fatal. */
  inspect?: (s: DevSession) => Promise<Inspection>;
  /** How often the inspector runs (default every 2 s). */
  inspectEveryMs?: number;
  /**
   * -d: Ready counts only after `minMs` since the wait started and once the inspector reports the
   * rollouts settled (the session's Ready may still be the previous pass's).
   */
  settle?: { minMs: number };
  /** Repeat the last progress line when it has not changed for this long (default 30 s). */
  reminderMs?: number;
  /** Every read of the session, before it is judged (the deploy fires hook events from it). */
  onSession?: (s: DevSession) => Promise<void>;
  onDebug?: (line: string) => void;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
}

/** The session stalled (Stalled=True): the operator will not get further without a change of the spec. */
export class SessionFailedError extends RuntimeError {
  constructor(
    readonly session: DevSession,
    message: string,
  ) {
    super(`DevSession ${session.metadata.name} failed: ${message}`);
  }
}

/** Resolves with the Ready session; throws SessionFailedError (stalled), RuntimeError (timeout, an inspector's verdict) or ClusterError (no operator). */
export async function waitForSession(kube: Pick<SessionKube, 'getSession'>, ref: SessionRef, opts: WaitOptions): Promise<DevSession> {
  const sleep = opts.sleep ?? abortableSleep;
  const now = opts.now ?? Date.now;
  const start = now();
  const noOperatorMs = opts.noOperatorMs ?? 30_000;
  const inspectEveryMs = opts.inspectEveryMs ?? 2_000;
  const reminderMs = opts.reminderMs ?? 30_000;
  let last = '';
  let lastSaid = start;
  let staleWarned = false;
  let lastInspect = -Infinity;
  let inspection: Inspection = {};
  const say = (line: string) => {
    const t = now();
    if (line !== last) opts.onProgress?.(line);
    else if (t - lastSaid >= reminderMs) opts.onProgress?.(`still ${line.replace(/…$/, '')} (${formatDuration(t - start)} so far)`);
    else return;
    last = line;
    lastSaid = t;
  };
  const inspect = async (s: DevSession, force = false): Promise<Inspection> => {
    if (!opts.inspect || (!force && now() - lastInspect < inspectEveryMs)) return inspection;
    lastInspect = now();
    try {
      inspection = await opts.inspect(s);
    } catch (e) {
      opts.onDebug?.(`inspecting the rollout: ${(e as Error)?.message ?? String(e)}`);
      inspection = {};
    }
    if (inspection.fail !== undefined) throw inspection.fail;
    return inspection;
  };
  const withDetail = (line: string, i: Inspection) => (i.detail ? `${line} (${i.detail})` : line);
  for (;;) {
    if (opts.signal.aborted) throw new InterruptedError();
    let s: DevSession | undefined;
    try {
      s = await kube.getSession(ref);
    } catch (e) {
      throw toClusterError(e, `reading DevSession ${showRef(ref)}`);
    }
    if (!s) throw new RuntimeError(`DevSession ${showRef(ref)} was deleted while waiting for it`);
    if (s.metadata.deletionTimestamp) throw new RuntimeError(`DevSession ${showRef(ref)} is being deleted (dsa down?)`);
    await opts.onSession?.(s);
    const v = evaluateSession(s, opts.generation);
    const elapsed = now() - start;
    switch (v.kind) {
      case 'ready': {
        if (!opts.settle) {
          // One fresh look behind it: a pod ready only just now must stay up a moment (a crash fails here).
          const i = opts.inspect ? await inspect(s, true) : {};
          if (i.freshMs && elapsed < opts.timeoutMs) {
            say(withDetail('ready; making sure the new pods stay up…', i));
            break;
          }
          say(v.line);
          return s;
        }
        const i = await inspect(s);
        // An inspector that could not look (no permission to list pods) does not hold the deploy forever.
        if (elapsed >= opts.settle.minMs && i.settled !== false) {
          say(v.line);
          return s;
        }
        say(withDetail('ready; waiting for the rollout this deploy asked for…', i));
        break;
      }
      case 'failed':
        say(`failed: ${v.message}`);
        throw new SessionFailedError(s, v.message);
      case 'progress':
        say(withDetail(v.line, await inspect(s)));
        break;
      case 'unobserved':
        if (!v.seen && elapsed >= noOperatorMs) throw new ClusterError(NO_OPERATOR_MESSAGE);
        if (v.seen && elapsed >= noOperatorMs && !staleWarned) {
          // An operator reconciled it before; it may be busy or gone. Keep waiting until --timeout.
          staleWarned = true;
          say(`the operator has not picked up this change after ${formatDuration(elapsed)} (is it running?)`);
        } else if (!staleWarned) say('waiting for the operator…');
        break;
    }
    if (elapsed >= opts.timeoutMs) {
      throw new RuntimeError(`timed out after ${formatDuration(opts.timeoutMs)} waiting for DevSession ${ref.name} to be ready (last: ${last})`, {
        hint: 'raise --timeout, or run dsa analyze',
      });
    }
    await sleep(opts.pollMs ?? 1000, opts.signal);
  }
}

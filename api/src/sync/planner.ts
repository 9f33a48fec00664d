// The initial-sync planner: what to transfer, delete and keep when a sync path (re)connects. Pure:
// scans, base and options in, a plan out (docs/sync.md, "Initial sync", has the table).
//
// Without a base (first sync of this path with this pod) the strategy decides alone, with
// DevSpace's meaning (pkg/devspace/sync/initial.go): mirrorLocal deletes remote-only paths and
// uploads local ones, mirrorRemote the reverse, prefer* copy missing paths both ways and let one side
// win differences, preferNewest lets the newer mtime win, keepAll copies missing paths and leaves
// differences alone. Upload-excluded local paths are never uploaded nor deleted (a remote version
// still comes down unless the local side would win); download-excluded remote paths are invisible.
//
// With a base (what both sides held after the last sync, kept by the agent), the agent resumes:
// a path changed on one side only goes to the other side (deletions included), whatever the
// strategy, so an edit made while the agent was away is never lost. When both sides changed a path
// differently, the strategy picks the winner, which is applied in place; the loser's content is kept
// on the laptop as a conflict copy (conflictPath). keepAll leaves such conflicts unresolved.
//
// Files of equal size but different mtime are hash candidates: the caller compares content hashes
// and plans again with `sameContent`/`differentContent` (DevSpace v6 does the same with crc32).
import { hashCandidate, sameAcross, sameSide, type CompareBy, type Sig } from './entry.js';
import { conflictPath, isWithin } from './paths.js';

export const SYNC_STRATEGIES = ['mirrorLocal', 'mirrorRemote', 'preferLocal', 'preferRemote', 'preferNewest', 'keepAll', 'disabled'] as const;
export type SyncStrategy = (typeof SYNC_STRATEGIES)[number];

/** What both sides held after the last sync of a path. */
export interface BaseEntry {
  l: Sig | null;
  r: Sig | null;
}

export interface PlanInput {
  local: ReadonlyMap<string, Sig>;
  remote: ReadonlyMap<string, Sig>;
  /** Undefined: first sync (no base at all). A path missing from a base was absent on both sides. */
  base?: ReadonlyMap<string, BaseEntry>;
  /**
   * False when the base is partial (an earlier first sync was interrupted): paths missing from it
   * are decided as in a first sync instead of "absent on both sides". Default true.
   */
  baseComplete?: boolean;
  strategy: SyncStrategy;
  compareBy?: CompareBy;
  /** exclude ∪ uploadExclude. */
  uploadIgnored?: (rel: string, isDir: boolean) => boolean;
  /** exclude ∪ downloadExclude. */
  downloadIgnored?: (rel: string, isDir: boolean) => boolean;
  disableUpload?: boolean;
  disableDownload?: boolean;
  /** Hash results for earlier hash candidates. */
  sameContent?: ReadonlySet<string>;
  differentContent?: ReadonlySet<string>;
  /** Timestamp of conflict copies. */
  now: Date;
}

/** A transfer: `sig` is the source side's entry, `expect` what the target side holds now (null: nothing). */
export interface Transfer {
  p: string;
  sig: Sig;
  /** Undefined: the target side is not visible (download-excluded), write without expectation. */
  expect: Sig | null | undefined;
}

export interface Deletion {
  p: string;
  expect: Sig;
  /** A directory with everything below it (every descendant was to be deleted too). */
  recursive: boolean;
}

/** The loser of a conflict, kept on the laptop at `copy`: `remote` = download its content there; `local` = move the local file there first. */
export interface ConflictCopy {
  p: string;
  side: 'local' | 'remote';
  copy: string;
}

export interface ConflictNote {
  p: string;
  winner: 'local' | 'remote' | 'none';
  copy?: string;
}

export interface Plan {
  upload: Transfer[];
  download: Transfer[];
  deleteRemote: Deletion[];
  deleteLocal: Deletion[];
  conflictCopies: ConflictCopy[];
  conflicts: ConflictNote[];
  /** Compare content hashes of these before deciding (planned again with the answers). */
  hashCheck: string[];
  /** Base entries of paths that need no transfer (in sync, or left alone). */
  keep: Map<string, BaseEntry>;
}

type Side = 'local' | 'remote';
type Action =
  | { a: 'none'; keep?: BaseEntry }
  | { a: 'upload' }
  | { a: 'download' }
  | { a: 'deleteRemote' }
  | { a: 'deleteLocal' }
  | { a: 'hash' };

const NONE: Action = { a: 'none' };

/** Which side the strategy prefers when both hold different things (none: leave both). */
function strategyWinner(strategy: SyncStrategy, l: Sig | null, r: Sig | null): Side | 'none' {
  switch (strategy) {
    case 'mirrorLocal':
    case 'preferLocal':
      return 'local';
    case 'mirrorRemote':
    case 'preferRemote':
      return 'remote';
    case 'preferNewest':
      // A deletion has no time: the side that still holds something (a modification) wins.
      if (!l) return r ? 'remote' : 'none';
      if (!r) return 'local';
      return l.m > r.m ? 'local' : r.m > l.m ? 'remote' : 'none';
    default:
      return 'none';
  }
}

export function planInitialSync(input: PlanInput): Plan {
  const plan: Plan = { upload: [], download: [], deleteRemote: [], deleteLocal: [], conflictCopies: [], conflicts: [], hashCheck: [], keep: new Map() };
  if (input.strategy === 'disabled') return plan;
  const compareBy = input.compareBy ?? 'mtime';
  const upIgnored = input.uploadIgnored ?? (() => false);
  const downIgnored = input.downloadIgnored ?? (() => false);
  const paths = new Set<string>([...input.local.keys(), ...input.remote.keys(), ...(input.base?.keys() ?? [])]);
  const sorted = [...paths].sort();

  const decided = new Map<string, Action>();
  const invisible = new Set<string>();
  for (const p of sorted) {
    const L = input.local.get(p) ?? null;
    const Rraw = input.remote.get(p) ?? null;
    const upX = upIgnored(p, (L ?? Rraw)?.t === 'd');
    const dnX = downIgnored(p, (Rraw ?? L)?.t === 'd');
    // Download-excluded remote paths are invisible (the sidecar does not even report them).
    const R = dnX ? null : Rraw;
    if (dnX) invisible.add(p);
    const canUp = !input.disableUpload && !upX;
    const canDown = !input.disableDownload && !dnX;
    const B = input.base ? (input.base.get(p) ?? (input.baseComplete === false ? undefined : { l: null, r: null })) : undefined;

    const equalOrHash = (): Action | undefined => {
      if (!L || !R) return undefined;
      if (sameAcross(L, R, compareBy)) return { a: 'none', keep: { l: L, r: R } };
      if (compareBy === 'mtime' && hashCandidate(L, R)) {
        if (input.sameContent?.has(p)) return { a: 'none', keep: { l: L, r: R } };
        if (!input.differentContent?.has(p)) return { a: 'hash' };
      }
      return undefined;
    };
    const toRemote = (): Action => (!canUp ? NONE : L ? { a: 'upload' } : R ? { a: 'deleteRemote' } : NONE);
    const toLocal = (): Action => (!canDown ? NONE : R ? { a: 'download' } : L ? { a: 'deleteLocal' } : NONE);

    let action: Action;
    if (!L && !R) {
      action = NONE;
    } else if (B) {
      // Resume from the base.
      const lc = !sameSide(L, B.l);
      const rc = dnX ? false : !sameSide(R, B.r);
      if (!lc && !rc) action = { a: 'none', keep: B };
      else if (upX && dnX) action = NONE;
      else {
        const eq = equalOrHash();
        if (eq) action = eq;
        else if (lc && !rc) action = toRemote();
        else if (!lc && rc) action = toLocal();
        else {
          // Both sides changed, differently: a conflict.
          const winner = strategyWinner(input.strategy, L, R);
          const gated = winner === 'local' ? !canUp : winner === 'remote' ? !canDown : false;
          if (winner === 'none' || gated) {
            plan.conflicts.push({ p, winner: 'none' });
            action = B.l || B.r ? { a: 'none', keep: B } : NONE;
          } else {
            const loser = winner === 'local' ? R : L;
            const note: ConflictNote = { p, winner };
            if (loser?.t === 'f') {
              const side: Side = winner === 'local' ? 'remote' : 'local';
              note.copy = conflictPath(p, side, input.now);
              plan.conflictCopies.push({ p, side, copy: note.copy });
            }
            plan.conflicts.push(note);
            action = winner === 'local' ? toRemote() : toLocal();
          }
        }
      }
    } else if (L && !R) {
      // Only local (or the remote is invisible).
      if (upX) action = NONE;
      else if (input.strategy === 'mirrorRemote' && !dnX) action = input.disableDownload ? NONE : { a: 'deleteLocal' };
      else action = input.disableUpload ? NONE : { a: 'upload' };
    } else if (!L && R) {
      if (input.strategy === 'mirrorLocal' && !upX) action = input.disableUpload ? NONE : { a: 'deleteRemote' };
      else action = canDown ? { a: 'download' } : NONE;
    } else {
      const eq = equalOrHash();
      if (eq) action = eq;
      else {
        const winner = strategyWinner(input.strategy, L, R);
        if (winner === 'local') action = canUp ? { a: 'upload' } : NONE;
        else if (winner === 'remote') action = canDown ? { a: 'download' } : NONE;
        else action = NONE;
      }
    }
    decided.set(p, action);
  }

  settleDirectories(decided, input, plan.conflictCopies);

  for (const p of sorted) {
    const act = decided.get(p)!;
    const L = input.local.get(p) ?? null;
    const R = input.remote.get(p) ?? null;
    switch (act.a) {
      case 'none':
        if (act.keep) plan.keep.set(p, act.keep);
        break;
      case 'hash':
        plan.hashCheck.push(p);
        break;
      case 'upload':
        plan.upload.push({ p, sig: L!, expect: invisible.has(p) ? undefined : R });
        break;
      case 'download':
        plan.download.push({ p, sig: R!, expect: L });
        break;
      case 'deleteRemote':
        plan.deleteRemote.push({ p, expect: R!, recursive: R!.t === 'd' });
        break;
      case 'deleteLocal':
        plan.deleteLocal.push({ p, expect: L!, recursive: L!.t === 'd' });
        break;
    }
  }
  plan.deleteRemote = collapse(plan.deleteRemote);
  plan.deleteLocal = collapse(plan.deleteLocal);
  // A conflict copy is only needed where the loser is actually overwritten or deleted by this plan
  // (a type change may have dropped the action below a replaced directory).
  const touched = new Set([...plan.upload, ...plan.download, ...plan.deleteLocal, ...plan.deleteRemote].map((t) => t.p));
  plan.conflictCopies = plan.conflictCopies.filter((c) => touched.has(c.p));
  return plan;
}

/**
 * Directory consequences, in place:
 *  - a directory to delete on one side stays when anything below it stays on that side (a path not
 *    deleted there, or a conflict copy on the laptop); its base entry is kept as it was;
 *  - a file or symlink replacing a directory takes the whole subtree with it: actions below it are dropped.
 */
function settleDirectories(decided: Map<string, Action>, input: PlanInput, copies: readonly ConflictCopy[]): void {
  const sideMap = (side: Side) => (side === 'local' ? input.local : input.remote);
  for (const [p, act] of [...decided.entries()]) {
    const side: Side | undefined = act.a === 'deleteLocal' ? 'local' : act.a === 'deleteRemote' ? 'remote' : undefined;
    if (!side) continue;
    if (sideMap(side).get(p)?.t !== 'd') continue;
    const prefix = `${p}/`;
    let kept = side === 'local' && copies.some((c) => c.p.startsWith(prefix));
    if (!kept) {
      for (const q of sideMap(side).keys()) {
        if (q.startsWith(prefix) && decided.get(q)?.a !== act.a) {
          kept = true;
          break;
        }
      }
    }
    if (kept) {
      const b = input.base?.get(p);
      decided.set(p, b ? { a: 'none', keep: b } : NONE);
    }
  }
  for (const [p, act] of decided) {
    const src = act.a === 'upload' ? input.local.get(p) : act.a === 'download' ? input.remote.get(p) : undefined;
    const dst = act.a === 'upload' ? input.remote.get(p) : act.a === 'download' ? input.local.get(p) : undefined;
    if (!src || src.t === 'd' || dst?.t !== 'd') continue;
    const prefix = `${p}/`;
    for (const q of decided.keys()) if (q.startsWith(prefix)) decided.set(q, NONE);
  }
}

/** A recursive directory deletion covers its descendants' deletions. */
function collapse(list: Deletion[]): Deletion[] {
  const dirs = list.filter((d) => d.recursive).map((d) => d.p);
  if (!dirs.length) return list;
  const covered = (p: string) => dirs.some((d) => p !== d && isWithin(p, d));
  return list.filter((d) => !covered(d.p));
}

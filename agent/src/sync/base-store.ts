// The base of a sync path (what both sides held after the last sync), kept on disk so an agent
// killed with SIGKILL and started again knows which side changed what while it was gone.
//
// Layout: `<name>.json`, a snapshot written atomically (temp file + rename), and `<name>.log`, a
// journal of changes since the snapshot (one JSON line per path, appended after each batch). A
// torn last line (killed mid-write) is ignored. The order that makes this safe: a change is applied
// on the target side first, recorded here second, so a record is never ahead of reality.
//
// Uploads also leave an intent line (`{"u": path, "s": signature sent}`) before their bytes leave:
// an agent killed after the container applied an upload but before it recorded the result finds,
// on restart, the container holding exactly what it sent, and adopts that as the base instead of
// seeing "changed on both sides" (a needless conflict copy). Downloads need no intent: a downloaded
// file carries the container's mtime and size, which the planner recognises as equal.
import * as fs from 'node:fs';
import path from 'node:path';
import { ProtocolError, parseSig, type BaseEntry, type Sig } from '@dsa/api/sync';

export interface BaseSnapshot {
  /** The remote replica this base belongs to (another pod's files are another base). */
  replicaId: string;
  /** False while a first sync has not finished: paths missing from it are unknown, not absent. */
  complete: boolean;
  entries: Map<string, BaseEntry>;
  /** Uploads sent whose outcome was not recorded (null: a deletion). Not part of a saved snapshot. */
  inFlight?: Map<string, Sig | null>;
}

const VERSION = 1;
/** Compact the journal into a new snapshot past this many lines. */
const COMPACT_AFTER = 20_000;

export class BaseStore {
  private journalLines = 0;

  constructor(
    /** Path without extension: `<dir>/<name>`. */
    readonly file: string,
  ) {}

  /** Load snapshot + journal; undefined when there is none or it is unreadable (a first sync then). */
  load(): BaseSnapshot | undefined {
    let raw: string;
    try {
      raw = fs.readFileSync(`${this.file}.json`, 'utf8');
    } catch {
      return undefined;
    }
    let snap: BaseSnapshot;
    try {
      const v = JSON.parse(raw) as { v?: unknown; replicaId?: unknown; complete?: unknown; entries?: unknown };
      if (v.v !== VERSION || typeof v.replicaId !== 'string' || !Array.isArray(v.entries)) return undefined;
      const entries = new Map<string, BaseEntry>();
      for (const e of v.entries) {
        const [p, l, r] = e as [unknown, unknown, unknown];
        if (typeof p !== 'string') continue;
        entries.set(p, { l: sigOrNull(l), r: sigOrNull(r) });
      }
      snap = { replicaId: v.replicaId, complete: v.complete === true, entries, inFlight: new Map() };
    } catch {
      return undefined;
    }
    let journal = '';
    try {
      journal = fs.readFileSync(`${this.file}.log`, 'utf8');
    } catch {
      /* no journal */
    }
    this.journalLines = 0;
    for (const line of journal.split('\n')) {
      if (!line) continue;
      try {
        const v = JSON.parse(line) as unknown;
        if (!Array.isArray(v)) {
          const o = v as { u?: unknown; s?: unknown };
          if (typeof o.u === 'string') snap.inFlight!.set(o.u, sigOrNull(o.s));
          continue;
        }
        const [p, l, r] = v as [unknown, unknown, unknown];
        if (typeof p !== 'string') continue;
        snap.inFlight!.delete(p);
        if (l === null && r === null) snap.entries.delete(p);
        else snap.entries.set(p, { l: sigOrNull(l), r: sigOrNull(r) });
        this.journalLines++;
      } catch {
        // A torn line from a kill mid-append: everything before it counts.
      }
    }
    return snap;
  }

  /** Write a full snapshot atomically and start an empty journal. */
  save(snap: BaseSnapshot): void {
    fs.mkdirSync(path.dirname(this.file), { recursive: true });
    const entries: Array<[string, Sig | null, Sig | null]> = [];
    for (const [p, e] of snap.entries) entries.push([p, e.l, e.r]);
    const tmp = `${this.file}.json.tmp-${process.pid}`;
    fs.writeFileSync(tmp, JSON.stringify({ v: VERSION, replicaId: snap.replicaId, complete: snap.complete, entries }));
    fs.renameSync(tmp, `${this.file}.json`);
    fs.writeFileSync(`${this.file}.log`, '');
    this.journalLines = 0;
  }

  /** Record changed entries (null: the path is gone from the base). One write per call. */
  append(changes: ReadonlyArray<[string, BaseEntry | null]>): void {
    if (!changes.length) return;
    const text = changes.map(([p, e]) => JSON.stringify([p, e?.l ?? null, e?.r ?? null])).join('\n') + '\n';
    fs.appendFileSync(`${this.file}.log`, text);
    this.journalLines += changes.length;
  }

  /** Record uploads about to be sent (`null`: a deletion). One write per call. */
  intend(items: ReadonlyArray<[string, Sig | null]>): void {
    if (!items.length) return;
    fs.appendFileSync(`${this.file}.log`, items.map(([p, sig]) => JSON.stringify({ u: p, s: sig })).join('\n') + '\n');
    this.journalLines += items.length;
  }

  /** True when the journal grew enough to be folded into a snapshot. */
  get wantsCompaction(): boolean {
    return this.journalLines > COMPACT_AFTER;
  }

  remove(): void {
    fs.rmSync(`${this.file}.json`, { force: true });
    fs.rmSync(`${this.file}.log`, { force: true });
  }
}

function sigOrNull(v: unknown): Sig | null {
  if (v === null || v === undefined) return null;
  try {
    return parseSig(v);
  } catch (e) {
    if (e instanceof ProtocolError) return null;
    throw e;
  }
}

/** File name (without extension) of a path's base: readable, and safe whatever the names contain. */
export function baseFileName(sessionKey: string, devPod: string, sync: number): string {
  const clean = (s: string) => s.replace(/[^A-Za-z0-9_.-]+/g, '_').slice(0, 100);
  return `${clean(sessionKey)}--${clean(devPod)}--${sync}`;
}

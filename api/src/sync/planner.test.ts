import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { INITIAL_SYNC_STRATEGIES } from '../v1alpha1/devsession.js';
import type { Sig } from './entry.js';
import { SYNC_STRATEGIES, planInitialSync, type BaseEntry, type Plan, type PlanInput, type SyncStrategy } from './planner.js';

const NOW = new Date('2026-03-04T05:06:07.890Z');
const f = (s: number, m: number, c = m, x = 0o644): Sig => ({ t: 'f', s, m, c, x });
const d = (c = 1): Sig => ({ t: 'd', s: 0, m: 0, c, x: 0o755 });
const l = (target: string, c = 1): Sig => ({ t: 'l', s: 0, m: 0, c, x: 0o777, l: target });

type Over = Partial<Omit<PlanInput, 'local' | 'remote' | 'base'>> & { local?: Record<string, Sig>; remote?: Record<string, Sig>; base?: Record<string, BaseEntry> | undefined };

function plan(over: Over = {}): Plan {
  const { local, remote, base, ...rest } = over;
  return planInitialSync({
    strategy: 'mirrorLocal',
    now: NOW,
    ...rest,
    local: new Map(Object.entries(local ?? {})),
    remote: new Map(Object.entries(remote ?? {})),
    base: base === undefined ? undefined : new Map(Object.entries(base)),
  });
}

/** The single action a plan takes for `p` ('none' when none). */
function actionOf(p: Plan, path = 'a'): string {
  const acts: string[] = [];
  if (p.upload.some((t) => t.p === path)) acts.push('upload');
  if (p.download.some((t) => t.p === path)) acts.push('download');
  if (p.deleteRemote.some((t) => t.p === path)) acts.push('deleteRemote');
  if (p.deleteLocal.some((t) => t.p === path)) acts.push('deleteLocal');
  if (p.hashCheck.includes(path)) acts.push('hash');
  if (acts.length > 1) throw new Error(`several actions for ${path}: ${acts.join(', ')}`);
  return acts[0] ?? (p.keep.has(path) ? 'keep' : 'none');
}

const S: SyncStrategy[] = ['mirrorLocal', 'mirrorRemote', 'preferLocal', 'preferRemote', 'preferNewest', 'keepAll', 'disabled'];
const row = (...acts: string[]) => Object.fromEntries(S.map((s, i) => [s, acts[i]!]));

describe('strategies', () => {
  it('are the DevSession schema strategies', () => {
    expect([...SYNC_STRATEGIES].sort()).toEqual([...INITIAL_SYNC_STRATEGIES].sort());
  });
});

describe('first sync (no base): the strategy decides alone, with DevSpace meaning', () => {
  // situation → expected action per strategy (mirrorLocal, mirrorRemote, preferLocal, preferRemote, preferNewest, keepAll, disabled)
  const table: Array<[string, Over, Record<string, string>]> = [
    ['only local', { local: { a: f(1, 10) } }, row('upload', 'deleteLocal', 'upload', 'upload', 'upload', 'upload', 'none')],
    ['only remote', { remote: { a: f(1, 10) } }, row('deleteRemote', 'download', 'download', 'download', 'download', 'download', 'none')],
    ['equal (size and mtime)', { local: { a: f(5, 10, 1) }, remote: { a: f(5, 10, 2) } }, row('keep', 'keep', 'keep', 'keep', 'keep', 'keep', 'none')],
    ['differ in size, local newer', { local: { a: f(5, 20) }, remote: { a: f(6, 10) } }, row('upload', 'download', 'upload', 'download', 'upload', 'none', 'none')],
    ['differ in size, remote newer', { local: { a: f(5, 10) }, remote: { a: f(6, 20) } }, row('upload', 'download', 'upload', 'download', 'download', 'none', 'none')],
    ['differ in size, same mtime', { local: { a: f(5, 10) }, remote: { a: f(6, 10) } }, row('upload', 'download', 'upload', 'download', 'none', 'none', 'none')],
    ['same size, different mtime: hash first', { local: { a: f(5, 20) }, remote: { a: f(5, 10) } }, row('hash', 'hash', 'hash', 'hash', 'hash', 'hash', 'none')],
    ['same size, different mtime, same content', { local: { a: f(5, 20) }, remote: { a: f(5, 10) }, sameContent: new Set(['a']) }, row('keep', 'keep', 'keep', 'keep', 'keep', 'keep', 'none')],
    [
      'same size, different mtime, different content',
      { local: { a: f(5, 20) }, remote: { a: f(5, 10) }, differentContent: new Set(['a']) },
      row('upload', 'download', 'upload', 'download', 'upload', 'none', 'none'),
    ],
    ['compareBy size: same size is equal', { compareBy: 'size', local: { a: f(5, 20) }, remote: { a: f(5, 10) } }, row('keep', 'keep', 'keep', 'keep', 'keep', 'keep', 'none')],
    ['compareBy size: different size differs', { compareBy: 'size', local: { a: f(5, 20) }, remote: { a: f(7, 10) } }, row('upload', 'download', 'upload', 'download', 'upload', 'none', 'none')],
    ['exec bit differs', { local: { a: f(5, 10, 10, 0o755) }, remote: { a: f(5, 10, 10, 0o644) } }, row('upload', 'download', 'upload', 'download', 'none', 'none', 'none')],
    ['symlink targets differ', { local: { a: l('x') }, remote: { a: l('y') } }, row('upload', 'download', 'upload', 'download', 'none', 'none', 'none')],
    ['file here, directory there', { local: { a: f(1, 10) }, remote: { a: d() } }, row('upload', 'download', 'upload', 'download', 'upload', 'none', 'none')],
    ['directories on both sides', { local: { a: d(1) }, remote: { a: d(2) } }, row('keep', 'keep', 'keep', 'keep', 'keep', 'keep', 'none')],
  ];
  for (const [name, input, expected] of table) {
    for (const strategy of S) {
      it(`${name} / ${strategy} → ${expected[strategy]}`, () => {
        const p = plan({ ...input, strategy });
        expect(actionOf(p)).toBe(expected[strategy]);
        expect(p.conflictCopies).toEqual([]);
        expect(p.conflicts).toEqual([]);
      });
    }
  }

  it('uploads carry the remote state they replace; downloads the local one', () => {
    const p = plan({ strategy: 'preferLocal', local: { a: f(5, 20), n: f(1, 1) }, remote: { a: f(6, 10), r: f(2, 2) } });
    expect(p.upload).toEqual([
      { p: 'a', sig: f(5, 20), expect: f(6, 10) },
      { p: 'n', sig: f(1, 1), expect: null },
    ]);
    expect(p.download).toEqual([{ p: 'r', sig: f(2, 2), expect: null }]);
  });
});

describe('excludes and disabled directions (DevSpace semantics)', () => {
  const upX = (p: string) => p.endsWith('.up');
  const dnX = (p: string) => p.endsWith('.dn');
  const cases: Array<[string, Over, string]> = [
    ['upload-excluded local file is not uploaded', { strategy: 'preferLocal', local: { 'a.up': f(1, 1) } }, 'none'],
    ['upload-excluded local file is not deleted by mirrorRemote', { strategy: 'mirrorRemote', local: { 'a.up': f(1, 1) } }, 'none'],
    ['download-excluded remote file is invisible', { strategy: 'preferLocal', remote: { 'a.dn': f(1, 1) } }, 'none'],
    ['download-excluded remote file is not deleted by mirrorLocal', { strategy: 'mirrorLocal', remote: { 'a.dn': f(1, 1) } }, 'none'],
    ['mirrorLocal downloads a remote file it may not upload over', { strategy: 'mirrorLocal', remote: { 'a.up': f(1, 1) } }, 'download'],
    ['mirrorRemote uploads a local file it may not download over', { strategy: 'mirrorRemote', local: { 'a.dn': f(1, 1) } }, 'upload'],
    ['upload-excluded file differing: the local side keeps it under preferLocal', { strategy: 'preferLocal', local: { 'a.up': f(1, 20) }, remote: { 'a.up': f(2, 10) } }, 'none'],
    ['upload-excluded file differing: preferRemote downloads it', { strategy: 'preferRemote', local: { 'a.up': f(1, 20) }, remote: { 'a.up': f(2, 10) } }, 'download'],
    ['download-excluded file on both sides: uploaded without expectation', { strategy: 'preferRemote', local: { 'a.dn': f(1, 20) }, remote: { 'a.dn': f(2, 10) } }, 'upload'],
    ['disableUpload: nothing goes up', { strategy: 'preferLocal', disableUpload: true, local: { a: f(1, 1) } }, 'none'],
    ['disableUpload: mirrorLocal deletes nothing remotely', { strategy: 'mirrorLocal', disableUpload: true, remote: { a: f(1, 1) } }, 'none'],
    ['disableDownload: nothing comes down', { strategy: 'preferLocal', disableDownload: true, remote: { a: f(1, 1) } }, 'none'],
    ['disableDownload: mirrorRemote deletes nothing locally', { strategy: 'mirrorRemote', disableDownload: true, local: { a: f(1, 1) } }, 'none'],
    ['disableDownload: mirrorLocal still deletes remote-only files', { strategy: 'mirrorLocal', disableDownload: true, remote: { a: f(1, 1) } }, 'deleteRemote'],
  ];
  for (const [name, input, expected] of cases) {
    it(name, () => {
      const path = Object.keys({ ...input.local, ...input.remote })[0]!;
      const p = plan({ uploadIgnored: (q) => upX(q), downloadIgnored: (q) => dnX(q), ...input });
      expect(actionOf(p, path)).toBe(expected);
      if (expected === 'upload' && path.endsWith('.dn')) expect(p.upload[0]!.expect).toBeUndefined();
    });
  }
});

describe('with a base: one-sided changes propagate, conflicts are arbitrated', () => {
  const B = (lsig: Sig | null, rsig: Sig | null): BaseEntry => ({ l: lsig, r: rsig });
  const L0 = f(5, 10, 100);
  const R0 = f(5, 10, 200);
  const one: Array<[string, { local?: Record<string, Sig>; remote?: Record<string, Sig> }, string]> = [
    ['unchanged', { local: { a: L0 }, remote: { a: R0 } }, 'keep'],
    ['changed locally', { local: { a: f(6, 30, 300) }, remote: { a: R0 } }, 'upload'],
    ['deleted locally', { remote: { a: R0 } }, 'deleteRemote'],
    ['changed remotely', { local: { a: L0 }, remote: { a: f(7, 40, 400) } }, 'download'],
    ['deleted remotely', { local: { a: L0 } }, 'deleteLocal'],
    ['changed on both sides to the same', { local: { a: f(9, 50, 301) }, remote: { a: f(9, 50, 401) } }, 'keep'],
    ['deleted on both sides', {}, 'none'],
    ['touched locally (same content, the hash decides)', { local: { a: f(5, 30, 300) }, remote: { a: R0 } }, 'hash'],
  ];
  for (const strategy of S.filter((s) => s !== 'disabled')) {
    for (const [name, sides, expected] of one) {
      it(`${strategy}: ${name} → ${expected}`, () => {
        const p = plan({ strategy, ...sides, base: { a: B(L0, R0) } });
        expect(actionOf(p)).toBe(expected);
        expect(p.conflicts).toEqual([]);
        if (expected === 'keep' && name === 'unchanged') expect(p.keep.get('a')).toEqual(B(L0, R0));
      });
    }
  }

  // both sides changed differently: [local, remote] → per strategy [action, copy side]
  const conflicts: Array<[string, { local?: Record<string, Sig>; remote?: Record<string, Sig> }, Record<string, [string, string | undefined, string]>]> = [
    [
      'modified on both sides',
      { local: { a: f(6, 30, 300) }, remote: { a: f(7, 20, 400) } },
      {
        mirrorLocal: ['upload', 'remote', 'local'],
        preferLocal: ['upload', 'remote', 'local'],
        mirrorRemote: ['download', 'local', 'remote'],
        preferRemote: ['download', 'local', 'remote'],
        preferNewest: ['upload', 'remote', 'local'],
        keepAll: ['keep', undefined, 'none'],
      },
    ],
    [
      'deleted locally, modified remotely',
      { remote: { a: f(7, 20, 400) } },
      {
        mirrorLocal: ['deleteRemote', 'remote', 'local'],
        preferLocal: ['deleteRemote', 'remote', 'local'],
        mirrorRemote: ['download', undefined, 'remote'],
        preferRemote: ['download', undefined, 'remote'],
        preferNewest: ['download', undefined, 'remote'],
        keepAll: ['keep', undefined, 'none'],
      },
    ],
    [
      'modified locally, deleted remotely',
      { local: { a: f(6, 30, 300) } },
      {
        mirrorLocal: ['upload', undefined, 'local'],
        preferLocal: ['upload', undefined, 'local'],
        mirrorRemote: ['deleteLocal', 'local', 'remote'],
        preferRemote: ['deleteLocal', 'local', 'remote'],
        preferNewest: ['upload', undefined, 'local'],
        keepAll: ['keep', undefined, 'none'],
      },
    ],
  ];
  for (const [name, sides, per] of conflicts) {
    for (const [strategy, [action, copySide, winner]] of Object.entries(per)) {
      it(`${strategy}: ${name} → ${action}${copySide ? ` + ${copySide} copy` : ''}`, () => {
        const p = plan({ strategy: strategy as SyncStrategy, ...sides, base: { a: B(L0, R0) } });
        expect(actionOf(p)).toBe(action);
        expect(p.conflicts).toEqual([expect.objectContaining({ p: 'a', winner })]);
        if (copySide) {
          expect(p.conflictCopies).toEqual([{ p: 'a', side: copySide, copy: `a.dsa-conflict-${copySide}-20260304T050607` }]);
        } else {
          expect(p.conflictCopies).toEqual([]);
        }
      });
    }
  }

  it('preferNewest: the newer modification wins', () => {
    const p = plan({ strategy: 'preferNewest', local: { 'x.ts': f(6, 30, 300) }, remote: { 'x.ts': f(7, 50, 400) }, base: { 'x.ts': B(L0, R0) } });
    expect(actionOf(p, 'x.ts')).toBe('download');
    expect(p.conflictCopies).toEqual([{ p: 'x.ts', side: 'local', copy: 'x.dsa-conflict-local-20260304T050607.ts' }]);
  });

  it('a path missing from a complete base was absent on both sides: created on both is a conflict', () => {
    const p = plan({ strategy: 'mirrorLocal', local: { a: f(1, 2) }, remote: { a: f(3, 4) }, base: {} });
    expect(actionOf(p)).toBe('upload');
    expect(p.conflicts).toHaveLength(1);
    expect(p.conflictCopies).toHaveLength(1);
  });

  it('a partial base (interrupted first sync) decides unknown paths as a first sync', () => {
    const p = plan({ strategy: 'mirrorLocal', local: { a: f(1, 2) }, remote: { a: f(3, 4) }, base: {}, baseComplete: false });
    expect(actionOf(p)).toBe('upload');
    expect(p.conflicts).toEqual([]);
  });

  it('directions stay gated: a local change with uploads disabled stays local', () => {
    const p = plan({ strategy: 'mirrorLocal', disableUpload: true, local: { a: f(6, 30, 300) }, remote: { a: R0 }, base: { a: B(L0, R0) } });
    expect(actionOf(p)).toBe('none');
  });

  it('a conflict whose winner may not travel is left alone, and said so', () => {
    const p = plan({ strategy: 'mirrorLocal', disableUpload: true, local: { a: f(6, 30, 300) }, remote: { a: f(7, 20, 400) }, base: { a: B(L0, R0) } });
    expect(actionOf(p)).toBe('keep');
    expect(p.conflicts).toEqual([{ p: 'a', winner: 'none' }]);
    expect(p.conflictCopies).toEqual([]);
  });
});

describe('directories', () => {
  it('mirrorLocal deletes a remote-only tree with one recursive deletion', () => {
    const p = plan({ strategy: 'mirrorLocal', remote: { t: d(), 't/a': f(1, 1), 't/s': d(), 't/s/b': f(1, 1) } });
    expect(p.deleteRemote).toEqual([{ p: 't', expect: d(), recursive: true }]);
  });

  it('a directory stays when something below it stays (an excluded file comes down instead)', () => {
    const p = plan({ strategy: 'mirrorLocal', uploadIgnored: (q) => q.endsWith('.gen'), remote: { t: d(), 't/a': f(1, 1), 't/x.gen': f(2, 2) } });
    expect(p.deleteRemote.map((x) => x.p)).toEqual(['t/a']);
    expect(p.download.map((x) => x.p)).toEqual(['t/x.gen']);
  });

  it('a file replacing a directory takes its subtree along', () => {
    const p = plan({ strategy: 'preferLocal', local: { t: f(1, 1) }, remote: { t: d(), 't/a': f(1, 1), 't/b': f(2, 2) } });
    expect(p.upload).toEqual([{ p: 't', sig: f(1, 1), expect: d() }]);
    expect(p.download).toEqual([]);
    expect(p.deleteRemote).toEqual([]);
  });

  it('mirrorRemote: a local deletion of a tree keeps a directory holding a conflict copy', () => {
    const L1 = f(6, 30, 300);
    const p = plan({
      strategy: 'mirrorRemote',
      local: { t: d(), 't/a': L1 },
      remote: {},
      base: { t: { l: d(), r: d(9) }, 't/a': { l: f(5, 10, 100), r: f(5, 10, 200) } },
    });
    expect(p.deleteLocal).toEqual([{ p: 't/a', expect: L1, recursive: false }]);
    expect(p.conflictCopies).toEqual([{ p: 't/a', side: 'local', copy: 't/a.dsa-conflict-local-20260304T050607' }]);
    expect(actionOf(p, 't')).toBe('keep');
  });
});

describe('properties', () => {
  const sig = fc.oneof(
    fc.record({ t: fc.constant('f' as const), s: fc.integer({ min: 0, max: 3 }), m: fc.integer({ min: 0, max: 3 }), c: fc.integer({ min: 0, max: 3 }), x: fc.constantFrom(0o644, 0o755) }),
    fc.constant(d()),
  );
  const side = fc.dictionary(fc.constantFrom('a', 'b', 'c', 'c/d'), sig);
  const input = fc.record({
    local: side,
    remote: side,
    base: fc.option(fc.dictionary(fc.constantFrom('a', 'b', 'c', 'c/d'), fc.record({ l: fc.option(sig, { nil: null }), r: fc.option(sig, { nil: null }) })), { nil: undefined }),
    strategy: fc.constantFrom(...S),
  });

  it('never plans two actions for a path, never transfers what is equal, and never writes a conflict copy over anything', () => {
    fc.assert(
      fc.property(input, ({ local, remote, base, strategy }) => {
        const p = plan({ local, remote, base, strategy });
        const seen = new Set<string>();
        for (const list of [p.upload, p.download, p.deleteLocal, p.deleteRemote]) {
          for (const t of list) {
            expect(seen.has(t.p)).toBe(false);
            seen.add(t.p);
          }
        }
        for (const h of p.hashCheck) expect(seen.has(h)).toBe(false);
        for (const c of p.conflictCopies) expect(local[c.copy]).toBeUndefined();
        if (strategy === 'disabled') expect(seen.size + p.hashCheck.length).toBe(0);
        // Without a base nothing is ever deleted except by a mirror strategy.
        if (!base && strategy !== 'mirrorLocal') expect(p.deleteRemote).toEqual([]);
        if (!base && strategy !== 'mirrorRemote') expect(p.deleteLocal).toEqual([]);
        // A one-sided change against a base never loses the changed side's content.
        if (base) {
          for (const t of p.download) {
            const b = base[t.p];
            const lChanged = b && JSON.stringify(b.l) !== JSON.stringify(local[t.p] ?? null);
            if (lChanged && local[t.p]?.t === 'f') expect(p.conflictCopies.some((c) => c.p === t.p && c.side === 'local')).toBe(true);
          }
        }
      }),
      { numRuns: 3000 },
    );
  });
});

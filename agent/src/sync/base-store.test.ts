import { afterEach, beforeEach, describe, expect, it } from '@jest/globals';
import * as fs from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { Sig } from '@dsa/api/sync';
import { BaseStore, baseFileName } from './base-store.js';

let dir: string;
beforeEach(() => {
  dir = fs.mkdtempSync(path.join(tmpdir(), 'dsa-base-'));
});
afterEach(() => fs.rmSync(dir, { recursive: true, force: true }));

const f = (s: number, c = s): Sig => ({ t: 'f', s, m: 1000 + s, c: c + 0.123456, x: 0o644 });

describe('BaseStore', () => {
  it('has nothing before the first save', () => {
    expect(new BaseStore(path.join(dir, 'x')).load()).toBeUndefined();
  });

  it('round-trips a snapshot plus journal, deletions included, exactly (float ctimes)', () => {
    const s = new BaseStore(path.join(dir, 'sub', 'x'));
    s.save({ replicaId: 'r1', complete: true, entries: new Map([['a', { l: f(1), r: f(2) }], ['b', { l: f(3), r: null }]]) });
    s.append([
      ['c', { l: f(4), r: f(5) }],
      ['a', null],
    ]);
    s.append([['b', { l: f(6), r: f(7) }]]);
    const back = new BaseStore(path.join(dir, 'sub', 'x')).load()!;
    expect(back.replicaId).toBe('r1');
    expect(back.complete).toBe(true);
    expect([...back.entries]).toEqual([
      ['b', { l: f(6), r: f(7) }],
      ['c', { l: f(4), r: f(5) }],
    ]);
  });

  it('ignores a torn last journal line (killed mid-append) and keeps what came before', () => {
    const file = path.join(dir, 'x');
    const s = new BaseStore(file);
    s.save({ replicaId: 'r', complete: false, entries: new Map() });
    s.append([['a', { l: f(1), r: f(1) }]]);
    fs.appendFileSync(`${file}.log`, '["b",{"t":"f","s":');
    const back = s.load()!;
    expect(back.complete).toBe(false);
    expect([...back.entries.keys()]).toEqual(['a']);
  });

  it('a save starts a new journal; an unreadable snapshot counts as none', () => {
    const file = path.join(dir, 'x');
    const s = new BaseStore(file);
    s.save({ replicaId: 'r', complete: true, entries: new Map() });
    s.append([['a', { l: f(1), r: f(1) }]]);
    s.save({ replicaId: 'r', complete: true, entries: new Map([['z', { l: null, r: f(9) }]]) });
    expect([...s.load()!.entries.keys()]).toEqual(['z']);
    fs.writeFileSync(`${file}.json`, '{not json');
    expect(s.load()).toBeUndefined();
  });

  it('keeps upload intents until the outcome is recorded', () => {
    const s = new BaseStore(path.join(dir, 'x'));
    s.save({ replicaId: 'r', complete: true, entries: new Map() });
    s.intend([
      ['a', f(1)],
      ['gone', null],
      ['b', f(2)],
    ]);
    s.append([['b', { l: f(2), r: f(3) }]]);
    const back = s.load()!;
    expect([...back.inFlight!]).toEqual([
      ['a', f(1)],
      ['gone', null],
    ]);
    s.save(back);
    expect(s.load()!.inFlight!.size).toBe(0);
  });

  it('names files safely whatever the session and pod names are', () => {
    expect(baseFileName('ns.sess', 'api', 0)).toBe('ns.sess--api--0');
    expect(baseFileName('../../etc', 'a/b', 2)).toBe('.._.._etc--a_b--2');
  });
});

import { describe, expect, it, beforeEach, afterEach } from '@jest/globals';
import fc from 'fast-check';
import { execFileSync } from 'node:child_process';
import { appendFileSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, readlinkSync, renameSync, rmSync, symlinkSync, utimesSync, writeFileSync, watch as fsWatch } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import {
  WatchEventBatch,
  WatcherError,
  planWatchEntry,
  splitWatchPath,
  watchTree,
  type DirWatchFn,
  type TreeWatcher,
  type WatchEvent,
  type WatchTreeOptions,
  type WatchedStat,
} from './watcher.js';

// Real directories, real kernel events. Nothing asserts on a fixed sleep: every wait is "until the expected
// events arrived, or fail after a timeout, listing what did arrive". Absence of events is shown with a
// sentinel: a change made *after* the one that must stay silent, whose event proves the watcher has
// processed everything before it.

const WAIT_MS = 5000;
let dir: string;
let outside: string;
const open: TreeWatcher[] = [];

beforeEach(() => {
  const base = mkdtempSync(path.join(tmpdir(), 'dsa-watch-'));
  dir = path.join(base, 'root');
  outside = path.join(base, 'outside');
  mkdirSync(dir);
  mkdirSync(outside);
});
afterEach(async () => {
  await Promise.all(open.splice(0).map((w) => w.close()));
  rmSync(path.dirname(dir), { recursive: true, force: true });
});

const p = (rel: string): string => path.join(dir, rel);
function put(rel: string, content = rel): void {
  mkdirSync(path.dirname(p(rel)), { recursive: true });
  writeFileSync(p(rel), content);
}

interface Recorder {
  w: TreeWatcher;
  events: WatchEvent[];
  batches: WatchEvent[][];
  errors: Error[];
  warnings: WatcherError[];
  /** Resolves once every `kind path` in `expected` has been seen (in any order), else rejects with what was seen. */
  until(expected: string[], timeoutMs?: number): Promise<void>;
  /** Resolves with the first warning (or error) with this code. */
  untilWarning(code: string, timeoutMs?: number): Promise<WatcherError>;
  seen(): string[];
}

function record(opts: Partial<WatchTreeOptions> = {}, root = dir): Recorder {
  const events: WatchEvent[] = [];
  const batches: WatchEvent[][] = [];
  const errors: Error[] = [];
  const warnings: WatcherError[] = [];
  const seenSet = new Set<string>();
  const checks = new Set<() => void>();
  const poke = (): void => checks.forEach((c) => c());
  const w = watchTree(root, {
    onEvents: (es) => {
      batches.push(es);
      events.push(...es);
      for (const e of es) seenSet.add(`${e.kind} ${e.path}`);
      poke();
    },
    onError: (e) => {
      errors.push(e);
      poke();
    },
    onWarning: (e) => {
      warnings.push(e);
      poke();
    },
    ...opts,
  });
  open.push(w);
  const seen = (): string[] => events.map((e) => `${e.kind} ${e.path}`);
  const waitFor = <T>(test: () => T | undefined, what: () => string, timeoutMs: number): Promise<T> =>
    new Promise((resolve, reject) => {
      const check = (): void => {
        const v = test();
        if (v === undefined) return;
        checks.delete(check);
        clearTimeout(timer);
        resolve(v);
      };
      const timer = setTimeout(() => {
        checks.delete(check);
        reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what()}`));
      }, timeoutMs);
      checks.add(check);
      check();
    });
  return {
    w,
    events,
    batches,
    errors,
    warnings,
    seen,
    until: (expected, timeoutMs = WAIT_MS) =>
      waitFor(
        () => (expected.every((x) => seenSet.has(x)) ? true : undefined),
        () => {
          const missing = expected.filter((x) => !seenSet.has(x));
          return `${missing.length} events [${missing.slice(0, 20).join(', ')}]; seen: [${seen().slice(0, 50).join(', ')}]; errors: [${errors.map((e) => e.message).join('; ')}]`;
        },
        timeoutMs,
      ).then(() => undefined),
    untilWarning: (code, timeoutMs = WAIT_MS) =>
      waitFor(
        () => [...warnings, ...errors].find((x): x is WatcherError => x instanceof WatcherError && x.code === code),
        () => `a ${code} warning; warnings: [${warnings.map((x) => x.message).join('; ')}]; errors: [${errors.map((x) => x.message).join('; ')}]`,
        timeoutMs,
      ),
  };
}

/** inotify watches this process holds right now (Linux). */
function inotifyWatches(): number {
  let n = 0;
  for (const fd of readdirSync('/proc/self/fd')) {
    try {
      if (readlinkSync(`/proc/self/fd/${fd}`).includes('inotify')) {
        n += readFileSync(`/proc/self/fdinfo/${fd}`, 'utf8').split('\n').filter((l) => l.startsWith('inotify wd:')).length;
      }
    } catch {
      // closed meanwhile
    }
  }
  return n;
}

describe('watchTree (per-directory, real inotify)', () => {
  it('reports create, update, rename and delete of files with relative paths, and nothing for the initial contents', async () => {
    put('src/a.txt');
    put('src/deep/b.txt');
    const r = record();
    await r.w.ready;
    expect(r.w.stats()).toMatchObject({ dirs: 3, files: 2, watched: 3, polled: 0 });

    writeFileSync(p('src/new.txt'), 'hello');
    await r.until(['create src/new.txt']);
    appendFileSync(p('src/deep/b.txt'), ' more');
    await r.until(['update src/deep/b.txt']);
    renameSync(p('src/new.txt'), p('src/deep/moved.txt'));
    await r.until(['delete src/new.txt', 'create src/deep/moved.txt']);
    rmSync(p('src/a.txt'));
    await r.until(['delete src/a.txt']);
    expect(r.seen()).not.toContain('create src/a.txt'); // initial contents are not reported
    expect(r.events.every((e) => !e.path.startsWith('/') && !e.path.includes('\\') && !e.path.split('/').includes('..'))).toBe(true);
    expect(r.events.find((e) => e.path === 'src/deep/moved.txt')?.isDir).toBe(false);
  });

  it('reports an atomic save (write a temp file, rename it over the original) as a change of the original', async () => {
    put('app.js', 'v1');
    const r = record();
    await r.w.ready;
    writeFileSync(p('.app.js.swp'), 'v2');
    renameSync(p('.app.js.swp'), p('app.js'));
    await r.until(['update app.js']);
    expect(r.seen()).not.toContain('delete app.js');
  });

  it('sees every file of nested directories created right after mkdir, and watches them', async () => {
    const r = record();
    await r.w.ready;
    mkdirSync(p('a/b/c'), { recursive: true });
    for (const f of ['a/1', 'a/b/2', 'a/b/c/3']) writeFileSync(p(f), f);
    await r.until(['create a', 'create a/b', 'create a/b/c', 'create a/1', 'create a/b/2', 'create a/b/c/3']);
    expect(r.events.find((e) => e.path === 'a/b')?.isDir).toBe(true);
    // The new deepest directory has its own watch: a later write there is reported.
    writeFileSync(p('a/b/c/later'), 'x');
    await r.until(['create a/b/c/later']);
    expect(r.w.stats()).toMatchObject({ dirs: 4, files: 4, watched: 4 });
  });

  it('takes in a directory tree moved in from outside, contents included, and watches inside it', async () => {
    mkdirSync(path.join(outside, 'pkg/lib/deep'), { recursive: true });
    writeFileSync(path.join(outside, 'pkg/lib/deep/index.js'), 'x');
    const r = record();
    await r.w.ready;
    renameSync(path.join(outside, 'pkg'), p('pkg'));
    await r.until(['create pkg', 'create pkg/lib', 'create pkg/lib/deep', 'create pkg/lib/deep/index.js']);
    writeFileSync(p('pkg/lib/deep/new.js'), 'y');
    await r.until(['create pkg/lib/deep/new.js']);
  });

  it('reports a deleted directory once, releases its watches, and a directory moved out as deleted', async () => {
    put('gone/x/1');
    put('gone/x/2');
    put('away/3');
    const r = record();
    await r.w.ready;
    const before = r.w.stats();
    rmSync(p('gone'), { recursive: true });
    renameSync(p('away'), path.join(outside, 'away'));
    await r.until(['delete gone', 'delete away']);
    expect(r.events.find((e) => e.path === 'gone')?.isDir).toBe(true);
    expect(r.w.stats()).toEqual({ dirs: before.dirs - 3, files: 0, watched: before.watched - 3, polled: 0 });
    // Writes into the moved-out directory are outside the tree now.
    writeFileSync(path.join(outside, 'away/4'), 'x');
    writeFileSync(p('sentinel'), 'x');
    await r.until(['create sentinel']);
    expect(r.seen().filter((s) => s.includes('away/'))).toEqual([]);
  });

  it('follows a directory renamed inside the tree: old path deleted, new path created with contents, and watched', async () => {
    put('old/sub/f');
    const r = record();
    await r.w.ready;
    renameSync(p('old'), p('new'));
    await r.until(['delete old', 'create new', 'create new/sub', 'create new/sub/f']);
    writeFileSync(p('new/sub/g'), 'g');
    await r.until(['create new/sub/g']);
    expect(r.seen()).not.toContain('create old/sub/g');
  });

  it('reports a file replaced by a directory (and back) as delete then create', async () => {
    put('thing', 'file');
    const r = record();
    await r.w.ready;
    rmSync(p('thing'));
    mkdirSync(p('thing'));
    writeFileSync(p('thing/inside'), 'x');
    await r.until(['delete thing', 'create thing', 'create thing/inside']);
    const kinds = r.events.filter((e) => e.path === 'thing').map((e) => `${e.kind}:${e.isDir}`);
    expect(kinds).toEqual(['delete:false', 'create:true']);
  });

  it('reports symlinks as entries, never following them out of the tree', async () => {
    mkdirSync(path.join(outside, 'target'));
    const r = record();
    await r.w.ready;
    symlinkSync(path.join(outside, 'target'), p('link'));
    await r.until(['create link']);
    expect(r.events.find((e) => e.path === 'link')?.isDir).toBe(false);
    writeFileSync(path.join(outside, 'target/file'), 'x');
    writeFileSync(p('sentinel'), 'x');
    await r.until(['create sentinel']);
    expect(r.seen().filter((s) => s.includes('link/'))).toEqual([]);
    expect(r.w.stats().watched).toBe(1);
  });

  it('never reports fifos (syncing one would block the reader)', async () => {
    const r = record();
    await r.w.ready;
    execFileSync('mkfifo', [p('pipe')]);
    writeFileSync(p('sentinel'), 'x');
    await r.until(['create sentinel']);
    expect(r.seen()).not.toContain('create pipe');
  });

  it('prunes ignored directories: not watched, not read, and their changes never reported', async () => {
    for (let i = 0; i < 50; i++) put(`node_modules/pkg${i}/index.js`);
    put('src/app.js');
    put('src/debug.log');
    const ignore = (rel: string, isDir: boolean): boolean => (isDir && rel.split('/').at(-1) === 'node_modules') || rel.endsWith('.log');
    const r = record({ ignore });
    await r.w.ready;
    expect(r.w.stats()).toEqual({ dirs: 2, files: 1, watched: 2, polled: 0 });

    writeFileSync(p('node_modules/pkg0/index.js'), 'changed');
    mkdirSync(p('node_modules/fresh'));
    writeFileSync(p('src/debug.log'), 'more');
    writeFileSync(p('src/other.log'), 'new');
    mkdirSync(p('src/node_modules/nested'), { recursive: true }); // ignored wherever it appears
    writeFileSync(p('src/app.js'), 'sentinel');
    await r.until(['update src/app.js']);
    expect(r.seen()).toEqual(['update src/app.js']);
  });

  it('close() stops events and releases every inotify watch', async () => {
    put('a/b/c/f');
    const baseline = inotifyWatches();
    const r = record();
    await r.w.ready;
    expect(inotifyWatches()).toBe(baseline + 4);
    await r.w.close();
    expect(inotifyWatches()).toBe(baseline);

    // A second watcher on the same tree sees a later change; the closed one must not.
    const other = record();
    await other.w.ready;
    writeFileSync(p('a/b/c/g'), 'x');
    await other.until(['create a/b/c/g']);
    expect(r.events).toEqual([]);
    await r.w.close(); // idempotent
  });

  it('rescans the tree when the inotify queue overflows, so no change is lost', async () => {
    put('big/a');
    put('big/b');
    const r = record();
    await r.w.ready;
    // Synchronous calls keep the event loop away from the inotify fd. Touching two files in turn queues
    // one IN_ATTRIB each (alternating, so the kernel cannot merge them) until the queue
    // (fs.inotify.max_queued_events) overflows; the kernel then drops the events of everything after,
    // here 50 new files.
    const max = Number(readFileSync('/proc/sys/fs/inotify/max_queued_events', 'utf8'));
    for (let i = 0; i < max + 100; i++) utimesSync(p(i % 2 ? 'big/a' : 'big/b'), 1000 + i, 1000 + i);
    const late = Array.from({ length: 50 }, (_, i) => `big/late${i}`);
    for (const f of late) writeFileSync(p(f), 'x');
    const w = await r.untilWarning('overflow');
    expect(w.fatal).toBe(false);
    await r.until(late.map((f) => `create ${f}`));
    expect(r.w.stats().files).toBe(52);
  });

  it('polls the directories past the inotify watch limit, with one warning that names the sysctl', async () => {
    for (const d of ['a', 'b', 'c', 'd']) put(`${d}/x/f`);
    // Real fs.watch until the (simulated) limit, then inotify's ENOSPC as Node reports it.
    let budget = 3;
    const limited: DirWatchFn = (absDir, recursive, listener, onError) => {
      if (budget-- <= 0) throw Object.assign(new Error(`ENOSPC: System limit for number of file watchers reached, watch '${absDir}'`), { code: 'ENOSPC' });
      const w = fsWatch(absDir, { recursive }, listener);
      w.on('error', onError);
      return w;
    };
    const r = record({ watchFn: limited, pollIntervalMs: 50 });
    await r.w.ready;
    const warning = await r.untilWarning('watch-limit');
    expect(warning.message).toMatch(/fs\.inotify\.max_user_watches=\d+/);
    expect(warning.message).toContain('sudo sysctl fs.inotify.max_user_watches=');
    expect(warning.fatal).toBe(false);
    expect(r.w.stats()).toMatchObject({ dirs: 9, watched: 3, polled: 6 });

    // Changes in watched and in polled directories all arrive.
    for (const d of ['a', 'b', 'c', 'd']) writeFileSync(p(`${d}/x/new`), 'n');
    appendFileSync(p('d/x/f'), 'more');
    rmSync(p('c/x/f'));
    await r.until(['create a/x/new', 'create b/x/new', 'create c/x/new', 'create d/x/new', 'update d/x/f', 'delete c/x/f']);
    expect(r.warnings.filter((x) => x.code === 'watch-limit')).toHaveLength(1);
    expect(r.errors).toEqual([]);
  });

  it('without onWarning, warnings arrive through onError marked non-fatal', async () => {
    const errors: Error[] = [];
    const w = watchTree(dir, {
      watchFn: () => {
        throw Object.assign(new Error('ENOSPC'), { code: 'ENOSPC' });
      },
      pollIntervalMs: 50,
      onEvents: () => undefined,
      onError: (e) => errors.push(e),
    });
    open.push(w);
    await w.ready;
    expect(errors).toHaveLength(1);
    expect(errors[0]).toBeInstanceOf(WatcherError);
    expect(errors[0]).toMatchObject({ code: 'watch-limit', fatal: false });
  });

  it('stops with a fatal error when the root itself is removed', async () => {
    put('f');
    const r = record();
    await r.w.ready;
    rmSync(dir, { recursive: true });
    const err = await r.untilWarning('root');
    expect(r.errors).toContain(err);
    expect(err.fatal).toBe(true);
    expect(err.message).toContain('was removed');
    expect(r.w.stats().watched).toBe(0);
  });

  it('rejects ready with a one-line error for a missing root or a file, and throws on bad options', async () => {
    const missing = watchTree(path.join(dir, 'nope'), { onEvents: () => undefined, onError: () => undefined });
    await expect(missing.ready).rejects.toThrow(/cannot watch .*nope: no such directory$/);
    put('file');
    const file = watchTree(p('file'), { onEvents: () => undefined, onError: () => undefined });
    await expect(file.ready).rejects.toMatchObject({ code: 'root', message: expect.stringMatching(/not a directory$/) });
    expect(() => watchTree(dir, { pollIntervalMs: 0, onEvents: () => undefined, onError: () => undefined })).toThrow(/pollIntervalMs must be/);
    expect(() => watchTree(dir, { coalesceMs: Number.NaN, onEvents: () => undefined, onError: () => undefined })).toThrow(WatcherError);
  });
});

describe('watchTree polling', () => {
  it('finds creates, updates, deletes and new directories by walking the tree, with no inotify watch', async () => {
    put('keep/a');
    put('edit/b', 'v1');
    put('drop/c');
    const baseline = inotifyWatches();
    const r = record({ polling: true, pollIntervalMs: 30 });
    await r.w.ready;
    expect(inotifyWatches()).toBe(baseline);
    expect(r.w.stats()).toMatchObject({ watched: 0, polled: 4 });

    writeFileSync(p('edit/b'), 'v2, longer');
    rmSync(p('drop'), { recursive: true });
    mkdirSync(p('fresh/deep'), { recursive: true });
    writeFileSync(p('fresh/deep/d'), 'd');
    await r.until(['update edit/b', 'delete drop', 'create fresh', 'create fresh/deep', 'create fresh/deep/d']);
    renameSync(p('keep/a'), p('keep/a2'));
    await r.until(['delete keep/a', 'create keep/a2']);
    expect(inotifyWatches()).toBe(baseline);
    expect(r.seen()).not.toContain('update keep/a2');
  });

  it("throttleMs: a walk pauses after every 100 entries it checks (DevSpace's throttleChangeDetection); close() cuts a pause short", async () => {
    for (let i = 0; i < 1000; i++) put(`zz/f${i}`, '');
    put('a', 'v1');
    const plain = record({ polling: true, pollIntervalMs: 20 });
    const slow = record({ polling: true, pollIntervalMs: 20, throttleMs: 40 });
    await Promise.all([plain.w.ready, slow.w.ready]);
    const t0 = Date.now();
    writeFileSync(p('a'), 'v2, longer');
    await plain.until(['update a']);
    const tPlain = Date.now() - t0;
    await slow.until(['update a']);
    const tSlow = Date.now() - t0;
    // Events go out when a walk ends: at least the 10 pauses of zz/'s 1000 entries lie between the
    // change and the end of the walk that sees it (`a` comes first in every walk).
    expect(tSlow).toBeGreaterThanOrEqual(10 * 40);
    expect(tPlain).toBeLessThan(tSlow);
    expect(() => watchTree(dir, { polling: true, throttleMs: -1, onEvents: () => undefined, onError: () => undefined })).toThrow(/throttleMs must be between 0 and 60000/);

    const closing = record({ polling: true, pollIntervalMs: 10, throttleMs: 10_000 });
    await closing.w.ready;
    await new Promise((r) => setTimeout(r, 50)); // the first walk sits in its first pause now
    const c0 = Date.now();
    await closing.w.close();
    expect(Date.now() - c0).toBeLessThan(1000);
  });

  it('close() stops the polling', async () => {
    const r = record({ polling: true, pollIntervalMs: 20 });
    await r.w.ready;
    await r.w.close();
    const sentinel = record({ polling: true, pollIntervalMs: 20 });
    await sentinel.w.ready;
    writeFileSync(p('x'), 'x');
    await sentinel.until(['create x']);
    // Two more changes, each seen by the sentinel one poll later: a live first watcher, polling at the
    // same period, would have reported x by now.
    writeFileSync(p('y'), 'y');
    await sentinel.until(['create y']);
    writeFileSync(p('z'), 'z');
    await sentinel.until(['create z']);
    expect(r.events).toEqual([]);
  });
});

describe('watchTree recursive backend (Node emulates it on Linux; native on macOS and Windows)', () => {
  it('settles the events of a recursive watch the same way', async () => {
    put('src/a');
    const r = record({ backend: 'recursive' });
    await r.w.ready;
    expect(r.w.stats().watched).toBe(1);
    mkdirSync(p('src/n/x'), { recursive: true });
    writeFileSync(p('src/n/x/f'), 'f');
    appendFileSync(p('src/a'), 'more');
    await r.until(['create src/n', 'create src/n/x', 'create src/n/x/f', 'update src/a']);
    rmSync(p('src/n'), { recursive: true });
    await r.until(['delete src/n']);
  });
});

// ---------------------------------------------------------------------------------------------------------
// Pure parts

const stat = fc.record({
  dir: fc.boolean(),
  ino: fc.integer({ min: 1, max: 1e9 }),
  size: fc.nat(),
  mtimeMs: fc.double({ min: 0, max: 2e12, noNaN: true }),
  mode: fc.integer({ min: 0, max: 0o177777 }),
}) as fc.Arbitrary<WatchedStat>;

describe('planWatchEntry', () => {
  it('follows the state: unknown → create, gone → delete, same → none', () => {
    fc.assert(
      fc.property(stat, fc.boolean(), (s, content) => {
        expect(planWatchEntry(undefined, s, content)).toBe('create');
        expect(planWatchEntry(s, undefined, content)).toBe('delete');
        expect(planWatchEntry(undefined, undefined, content)).toBe('none');
        expect(planWatchEntry(s, { ...s }, false)).toBe('none');
      }),
    );
  });

  it('a kind change or a new directory inode is a replace; a content event on a file always an update', () => {
    fc.assert(
      fc.property(stat, stat, fc.boolean(), (a, b, content) => {
        const action = planWatchEntry(a, b, content);
        if (a.dir !== b.dir) expect(action).toBe('replace');
        else if (a.dir) expect(action).toBe(a.ino === b.ino ? 'none' : 'replace');
        else if (content) expect(action).toBe('update');
        else {
          const same = a.ino === b.ino && a.size === b.size && a.mtimeMs === b.mtimeMs && a.mode === b.mode;
          expect(action).toBe(same ? 'none' : 'update');
        }
      }),
    );
  });
});

describe('WatchEventBatch', () => {
  it('drops repeats and folds an update into a preceding create, keeping order otherwise', () => {
    const ev = fc.record({ path: fc.constantFrom('a', 'b', 'c/d'), kind: fc.constantFrom('create', 'update', 'delete'), isDir: fc.boolean() }) as fc.Arbitrary<WatchEvent>;
    fc.assert(
      fc.property(fc.array(ev, { maxLength: 30 }), (input) => {
        const b = new WatchEventBatch();
        input.forEach((e) => b.add(e));
        // Per path, the kinds are the input's with repeats and create→update folded.
        for (const path of ['a', 'b', 'c/d']) {
          const expected: string[] = [];
          for (const e of input.filter((x) => x.path === path)) {
            const last = expected.at(-1);
            if (last === e.kind || (last === 'create' && e.kind === 'update')) continue;
            expected.push(e.kind);
          }
          expect(b.events.filter((e) => e.path === path).map((e) => e.kind)).toEqual(expected);
        }
      }),
    );
  });
});

describe('splitWatchPath', () => {
  it('splits on the platform separators and refuses anything that could leave the root', () => {
    expect(splitWatchPath('a/b\\c', true)).toEqual(['a', 'b', 'c']);
    expect(splitWatchPath('a/b\\c', false)).toEqual(['a', 'b\\c']); // a legal name on macOS and Linux
    expect(splitWatchPath('./a//b')).toEqual(['a', 'b']);
    expect(splitWatchPath('a/../../etc')).toBeUndefined();
    expect(splitWatchPath('a\\..\\..\\x', true)).toBeUndefined();
    expect(splitWatchPath('')).toBeUndefined();
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', '..', '.', '', 'x y', '\\', '/'), { maxLength: 8 }), fc.boolean(), (parts, windows) => {
        const out = splitWatchPath(parts.join(windows ? '\\' : '/'), windows);
        if (out) expect(out.every((s) => s !== '..' && s !== '.' && s !== '' && !s.includes('/') && !(windows && s.includes('\\')))).toBe(true);
      }),
    );
  });
});

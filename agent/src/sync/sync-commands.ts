// Commands after sync (onUpload.exec, onDownload.exec; DevSpace's exec[], execRemote and execLocal):
// which runs a batch causes (pure), and running them in the app container or on the developer's
// machine. DevSpace's rules (pkg/devspace/sync/upstream.go): the commands of a batch run in order once
// it is applied, before the restart; during the initial sync nothing runs, and once it is done the
// batch commands run once with everything it changed; `onChange` globs (doublestar, relative to the
// sync root) filter; a command without args is a shell line; a failure is logged unless failOnError,
// which restarts the sync. `once` runs a command once in the container's life: we remember it per
// pod, on disk, so an agent started again does not run it twice in the same pod.
import { spawn } from 'node:child_process';
import * as fs from 'node:fs';
import path from 'node:path';
import { PassThrough, Writable } from 'node:stream';
import type { SyncExec } from '@dsa/api';
import { execInContainer, type ExecLike } from '../devloop/exec.js';
import type { PodTarget } from '../devloop/pods.js';
import type { Changed } from './events.js';

/** One command to run, for one batch (or one file or directory of it). */
export interface CommandRun {
  /** Position in its exec list (for `once`). */
  index: number;
  exec: SyncExec;
  /** on: file|dir: the path it runs for, relative to the sync root. */
  item?: string;
  /** The changed path an onChange glob matched (for the log line). */
  matched?: string;
}

/** Runs per file/directory in one batch at most: a huge batch must not fork thousands of processes. */
export const MAX_RUNS_PER_BATCH = 200;

/**
 * The runs a batch causes, in list order. `initial`: the batch is everything the initial sync changed,
 * and only `on: batch` commands run for it. Pure.
 */
export function planCommandRuns(execs: readonly SyncExec[], changed: Changed, initial: boolean): { runs: CommandRun[]; dropped: number } {
  const runs: CommandRun[] = [];
  let dropped = 0;
  const all = [...changed.files, ...changed.dirs, ...changed.deleted];
  if (all.length === 0) return { runs, dropped };
  execs.forEach((exec, index) => {
    const on = exec.trigger ?? 'batch';
    const filter = exec.onChange?.length ? exec.onChange.map(globMatcher) : undefined;
    const passes = (p: string) => !filter || filter.some((m) => m(p));
    if (on === 'batch') {
      const matched = filter ? all.find(passes) : undefined;
      if (filter && matched === undefined) return;
      runs.push({ index, exec, ...(matched !== undefined ? { matched } : {}) });
      return;
    }
    if (initial) return;
    for (const item of on === 'file' ? changed.files : changed.dirs) {
      if (!passes(item)) continue;
      if (runs.length >= MAX_RUNS_PER_BATCH) dropped++;
      else runs.push({ index, exec, item });
    }
  });
  return { runs, dropped };
}

/** `'a b'` → `'a b'` quoted for sh. Pure. */
export const shellQuote = (s: string): string => `'${s.replace(/'/g, `'\\''`)}'`;

/**
 * The command line of a run: argv, or a shell line. `{}` (in args, or in a shell line) becomes the
 * run's path on that side (`itemPath`). Pure.
 */
export function commandLine(exec: SyncExec, itemPath: string | undefined): { argv: string[] } | { shell: string } {
  const fill = (s: string, quote: boolean) => (itemPath === undefined ? s : s.split('{}').join(quote ? shellQuote(itemPath) : itemPath));
  if (exec.shell) return { shell: fill(exec.command, true) };
  return { argv: [exec.command, ...(exec.args ?? []).map((a) => fill(a, false))] };
}

/** How a command shows in logs: its name, else its command line, shortened. Pure. */
export function commandLabel(exec: SyncExec): string {
  const text = exec.name || (exec.shell ? exec.command : [exec.command, ...(exec.args ?? [])].join(' '));
  const one = text.replace(/\s+/g, ' ').trim();
  return one.length > 80 ? `${one.slice(0, 79)}…` : one;
}

// ── doublestar globs (onChange) ─────────────────────────────────────────────────────────────────

/**
 * A matcher for a doublestar glob (github.com/bmatcuk/doublestar, as DevSpace uses): `*` and `?`
 * within a name, `**` as a whole segment for any number of directories, `[a-z]`/`[!x]`/`[^x]`
 * classes, `{a,b}` alternatives, `\` escapes. The pattern is cleaned like Go's path.Clean (`./x` →
 * `x`). Paths are relative to the sync root, `/`-separated. Pure.
 */
export function globMatcher(pattern: string): (p: string) => boolean {
  const clean = cleanPattern(pattern);
  let re: RegExp;
  try {
    re = new RegExp(`^${globSource(clean)}$`, 'u');
  } catch {
    // Not a glob JavaScript can express (a class like [z-a]): the pattern names one path.
    return (p) => p === clean;
  }
  return (p) => re.test(p);
}

function cleanPattern(p: string): string {
  const parts: string[] = [];
  for (const seg of p.split('/')) {
    if (seg === '' || seg === '.') continue;
    if (seg === '..' && parts.length && parts.at(-1) !== '..') parts.pop();
    else parts.push(seg);
  }
  return parts.join('/');
}

const escapeRe = (c: string) => c.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

function globSource(p: string): string {
  let out = '';
  for (let i = 0; i < p.length; i++) {
    const c = p[i]!;
    if (c === '\\' && i + 1 < p.length) {
      out += escapeRe(p[++i]!);
    } else if (c === '*') {
      const whole = p[i + 1] === '*' && (i === 0 || p[i - 1] === '/') && (i + 2 === p.length || p[i + 2] === '/');
      if (whole) {
        if (i + 2 === p.length) {
          // `a/**`: a and everything below it; `**` alone: everything.
          if (out.endsWith('/')) out = `${out.slice(0, -1)}(?:/.*)?`;
          else out += '.*';
          i += 1;
        } else {
          // `**/`: any number of directories, none included.
          out += '(?:[^/]*/)*';
          i += 2;
        }
      } else {
        while (p[i + 1] === '*') i++;
        out += '[^/]*';
      }
    } else if (c === '?') {
      out += '[^/]';
    } else if (c === '[') {
      const end = classEnd(p, i);
      if (end < 0) out += '\\[';
      else {
        let body = p.slice(i + 1, end);
        const negate = body.startsWith('!') || body.startsWith('^');
        if (negate) body = body.slice(1);
        body = body.replace(/\\(.)/g, '$1').replace(/[\\\]^]/g, '\\$&');
        out += negate ? `[^/${body}]` : `[${body}]`;
        i = end;
      }
    } else if (c === '{') {
      const end = braceEnd(p, i);
      if (end < 0) out += '\\{';
      else {
        out += `(?:${splitAlternatives(p.slice(i + 1, end)).map(globSource).join('|')})`;
        i = end;
      }
    } else {
      out += escapeRe(c);
    }
  }
  return out;
}

function classEnd(p: string, start: number): number {
  let i = start + 1;
  if (p[i] === '!' || p[i] === '^') i++;
  if (p[i] === ']') i++;
  for (; i < p.length; i++) {
    if (p[i] === '\\') i++;
    else if (p[i] === ']') return i;
  }
  return -1;
}

function braceEnd(p: string, start: number): number {
  let depth = 0;
  for (let i = start; i < p.length; i++) {
    if (p[i] === '\\') i++;
    else if (p[i] === '{') depth++;
    else if (p[i] === '}' && --depth === 0) return i;
  }
  return -1;
}

function splitAlternatives(body: string): string[] {
  const out: string[] = [];
  let depth = 0;
  let cur = '';
  for (let i = 0; i < body.length; i++) {
    const c = body[i]!;
    if (c === '\\' && i + 1 < body.length) {
      cur += c + body[++i]!;
      continue;
    }
    if (c === '{') depth++;
    if (c === '}') depth--;
    if (c === ',' && depth === 0) {
      out.push(cur);
      cur = '';
    } else cur += c;
  }
  out.push(cur);
  return out;
}

// ── running ─────────────────────────────────────────────────────────────────────────────────────

/** How a command ended: its exit code (undefined: it could not run, or was killed), and the tail of its output. */
export interface CommandResult {
  code: number | undefined;
  output: string;
  error?: string;
}

/** Where commands run; injectable (tests record container runs). */
export interface CommandRunner {
  local(line: { argv: string[] } | { shell: string }, cwd: string, signal: AbortSignal): Promise<CommandResult>;
  container(target: PodTarget, argv: string[], signal: AbortSignal): Promise<CommandResult>;
}

/** Output kept per command: enough for an error message, bounded whatever the command prints. */
const OUTPUT_TAIL = 4096;

class Tail extends Writable {
  text = '';
  override _write(chunk: Buffer, _enc: BufferEncoding, cb: () => void): void {
    this.text = (this.text + chunk.toString('utf8')).slice(-OUTPUT_TAIL);
    cb();
  }
}

/** Runs local commands as child processes and container commands through the Kubernetes exec API. */
export function commandRunner(exec: () => Promise<ExecLike>): CommandRunner {
  return {
    local: (line, cwd, signal) =>
      new Promise<CommandResult>((resolve) => {
        const tail = new Tail();
        // Its own process group, so stopping it stops what a shell line started too.
        const opts = { cwd, stdio: ['ignore', 'pipe', 'pipe'] as ['ignore', 'pipe', 'pipe'], detached: process.platform !== 'win32' };
        const child = 'shell' in line ? spawn(line.shell, { ...opts, shell: true }) : spawn(line.argv[0]!, line.argv.slice(1), opts);
        child.stdout.pipe(tail, { end: false });
        child.stderr.pipe(tail, { end: false });
        let error: string | undefined;
        let settled = false;
        let killTimer: NodeJS.Timeout | undefined;
        const kill = (sig: NodeJS.Signals) => {
          try {
            if (opts.detached && child.pid) process.kill(-child.pid, sig);
            else child.kill(sig);
          } catch {
            /* already gone */
          }
        };
        const onAbort = () => {
          error = 'stopped';
          kill('SIGTERM');
          killTimer = setTimeout(() => kill('SIGKILL'), 2000);
        };
        if (signal.aborted) onAbort();
        else signal.addEventListener('abort', onAbort, { once: true });
        const finish = (code: number | null) => {
          if (settled) return;
          settled = true;
          clearTimeout(killTimer);
          signal.removeEventListener('abort', onAbort);
          resolve({ code: error ? undefined : (code ?? undefined), output: tail.text, ...(error ? { error } : {}) });
        };
        child.on('error', (e: NodeJS.ErrnoException) => {
          error = e.code === 'ENOENT' ? `${'shell' in line ? 'sh' : line.argv[0]}: not found` : e.message;
          finish(null);
        });
        child.on('close', (code) => finish(code));
        // Something it left running in the background may hold the output pipes open: do not wait for it.
        child.on('exit', (code) => setTimeout(() => finish(code), 500).unref());
      }),
    async container(target, argv, signal) {
      const out = new Tail();
      try {
        // No stdin: execInContainer neither reads nor pauses it.
        const code = await execInContainer(await exec(), target, argv, { stdin: new PassThrough(), stdout: out, stderr: out }, { tty: false, stdin: false, signal });
        return { code: signal.aborted ? undefined : code, output: out.text, ...(signal.aborted ? { error: 'stopped' } : {}) };
      } catch (e) {
        return { code: undefined, output: out.text, error: (e as Error).message };
      }
    },
  };
}

/** Which (pod, command) ran already with `once`, kept in the project's .dsa/sync so an agent restart remembers it. */
export class OnceMarks {
  private pod: string | undefined;
  private done = new Set<string>();

  constructor(private readonly file: string) {
    try {
      const saved = JSON.parse(fs.readFileSync(file, 'utf8')) as { pod?: unknown; done?: unknown };
      if (typeof saved.pod === 'string' && Array.isArray(saved.done)) {
        this.pod = saved.pod;
        this.done = new Set(saved.done.filter((d): d is string => typeof d === 'string').slice(0, 1000));
      }
    } catch {
      /* none yet */
    }
  }

  has(pod: string, key: string): boolean {
    return this.pod === pod && this.done.has(key);
  }

  add(pod: string, key: string): void {
    if (this.pod !== pod) {
      // Another pod, another container life: what ran in the old one does not count.
      this.pod = pod;
      this.done = new Set();
    }
    this.done.add(key);
    try {
      fs.mkdirSync(path.dirname(this.file), { recursive: true });
      const tmp = `${this.file}.tmp-${process.pid}`;
      fs.writeFileSync(tmp, JSON.stringify({ pod, done: [...this.done] }));
      fs.renameSync(tmp, this.file);
    } catch {
      /* remembered in memory for this run */
    }
  }
}

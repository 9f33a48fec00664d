// Exclude patterns of a sync path (`excludePaths`, `uploadExcludePaths`, `downloadExcludePaths` and
// the `*ExcludeFile` variants) with git's .gitignore semantics, as git 2.x implements them (dir.c
// and wildmatch.c), checked against `git check-ignore --no-index` by a property test.
//
// Used on both sides of a sync (agent and sidecar), so it depends on nothing but the language.
//
// The rules, as git applies them to a path relative to the sync root:
//  - the LAST pattern that matches decides; `!pattern` re-includes;
//  - a path whose parent directory is excluded is excluded, whatever comes later: `!` cannot
//    re-include a file inside an excluded directory (`dir/**` + `!dir/keep` is the way to do it);
//  - a pattern with no `/` (besides a trailing one) matches the name at any depth; a leading or
//    middle `/` anchors it to the sync root; a trailing `/` matches directories only;
//  - `*` and `?` never match `/`; `**` is "any number of directories" only as a whole segment
//    (`**/x`, `x/**`, `a/**/b`), elsewhere it is a plain `*`; `[...]` classes with ranges, `!`/`^`
//    negation and `[:alpha:]` names; `\` escapes the next character;
//  - matching is by bytes of the UTF-8 name, case-sensitive (git's core.ignoreCase=false), so `?`
//    matches one byte, not one character, as in git.
//
// Where DevSpace differs (docs/sync.md, "Excludes"): its matcher (go-gitignore) lets `!/dir/keep/`
// re-include below an excluded `dir/`, and DevSpace 5 dropped a leading `/` of exclude-file lines
// (issue #2077). We keep git's rule for the first and the anchoring for the second.

export interface ExcludeMatcher {
  /**
   * Whether `relPath` (relative to the sync root, `/`-separated, no leading `/`) is excluded.
   * `isDir` says whether the path itself is a directory (a symlink to one is not, as in git).
   */
  ignores(relPath: string, isDir: boolean): boolean;
}

interface Pattern {
  negative: boolean;
  /** Trailing `/`: applies to directories only. */
  dirOnly: boolean;
  /** No `/` in the pattern: matched against the last path segment only. */
  basename: boolean;
  /** Tests the (byte-string) path or basename. */
  test: (s: string) => boolean;
}

/** Above this many cached directory verdicts the cache starts over (bounded memory on huge trees). */
const DIR_CACHE_MAX = 65_536;

const NEVER = (): boolean => false;

/**
 * git's trim_trailing_spaces(): drops trailing spaces unless the last one is escaped with `\`.
 * Only spaces, not tabs.
 */
function trimTrailingSpaces(line: string): string {
  let lastSpace = -1;
  for (let i = 0; i < line.length; i++) {
    const c = line.charCodeAt(i);
    if (c === 0x20) {
      if (lastSpace < 0) lastSpace = i;
    } else if (c === 0x5c) {
      i++;
      if (i >= line.length) return line;
      lastSpace = -1;
    } else lastSpace = -1;
  }
  return lastSpace >= 0 ? line.slice(0, lastSpace) : line;
}

/**
 * The lines of an exclude file (`excludeFile: .gitignore`) as patterns, in order, with git's
 * reading rules: a UTF-8 BOM is skipped, CRLF is accepted, lines starting with `#` are comments,
 * trailing spaces are dropped unless escaped (`\ `), blank lines are dropped. `\#` and `\!` stay
 * escaped, and a leading `/` stays (it anchors), so compileExcludes() of the result means exactly
 * what git means by the file.
 */
export function parseExcludeFile(text: string): string[] {
  const out: string[] = [];
  const body = text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
  for (let line of body.split('\n')) {
    if (line.endsWith('\r')) line = line.slice(0, -1);
    if (line.startsWith('#')) continue;
    line = trimTrailingSpaces(line);
    if (line !== '') out.push(line);
  }
  return out;
}

const encoder = new TextEncoder();

/** A string whose char codes are the bytes of its UTF-8 encoding (identity for ASCII). */
function toBytes(s: string): string {
  for (let i = 0; i < s.length; i++) {
    if (s.charCodeAt(i) > 0x7f) {
      const b = encoder.encode(s);
      let out = '';
      for (let j = 0; j < b.length; j += 4096) out += String.fromCharCode(...b.subarray(j, j + 4096));
      return out;
    }
  }
  return s;
}

const isGlobSpecial = (c: string): boolean => c === '*' || c === '?' || c === '[' || c === '\\';

const hex = (n: number): string => `\\x${n.toString(16).padStart(2, '0')}`;

// POSIX classes in the C locale (wildmatch's ISALNUM & co.).
const CLASSES: Record<string, (c: number) => boolean> = {
  alnum: (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a),
  alpha: (c) => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a),
  blank: (c) => c === 0x20 || c === 0x09,
  cntrl: (c) => c < 0x20 || c === 0x7f,
  digit: (c) => c >= 0x30 && c <= 0x39,
  graph: (c) => c > 0x20 && c < 0x7f,
  lower: (c) => c >= 0x61 && c <= 0x7a,
  print: (c) => c >= 0x20 && c < 0x7f,
  punct: (c) => c > 0x20 && c < 0x7f && !((c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a)),
  space: (c) => c === 0x20 || (c >= 0x09 && c <= 0x0d),
  upper: (c) => c >= 0x41 && c <= 0x5a,
  xdigit: (c) => (c >= 0x30 && c <= 0x39) || (c >= 0x41 && c <= 0x46) || (c >= 0x61 && c <= 0x66),
};

/**
 * A `[...]` class starting at p[i] === '[' (wildmatch's rules: `!`/`^` negate, a `]` right after
 * the opening (or the negation) is a member, `a-z` ranges by byte, `[:name:]` classes, `\` escapes).
 * Returns the regex class and the index after the closing `]`, or undefined when the class is
 * malformed (unterminated, unknown class name): git then matches nothing with the whole pattern.
 */
function bracket(p: string, i: number): { re: string; next: number } | undefined {
  const set = new Array<boolean>(256).fill(false);
  let j = i + 1;
  let negated = false;
  if (p[j] === '!' || p[j] === '^') {
    negated = true;
    j++;
  }
  let prev = -1; // previous literal member (for ranges); -1 after a range or a class
  let first = true;
  for (;;) {
    if (j >= p.length) return undefined;
    let c = p.charCodeAt(j);
    if (c === 0x5d /* ] */ && !first) break;
    first = false;
    if (c === 0x5c /* \ */) {
      j++;
      if (j >= p.length) return undefined;
      c = p.charCodeAt(j);
      set[c] = true;
      prev = c;
    } else if (c === 0x2d /* - */ && prev >= 0 && j + 1 < p.length && p[j + 1] !== ']') {
      j++;
      let hi = p.charCodeAt(j);
      if (hi === 0x5c) {
        j++;
        if (j >= p.length) return undefined;
        hi = p.charCodeAt(j);
      }
      for (let x = prev; x <= hi; x++) set[x] = true;
      prev = -1;
    } else if (c === 0x5b /* [ */ && p[j + 1] === ':') {
      const s = j + 2;
      let k = s;
      while (k < p.length && p[k] !== ']') k++;
      if (k >= p.length) return undefined;
      if (k - s - 1 < 0 || p[k - 1] !== ':') {
        // No ":]": a literal `[` member; scanning resumes right after it.
        set[0x5b] = true;
        prev = 0x5b;
      } else {
        const test = CLASSES[p.slice(s, k - 1)];
        if (!test) return undefined;
        for (let x = 0; x < 256; x++) if (test(x)) set[x] = true;
        prev = -1;
        j = k;
      }
    } else {
      set[c] = true;
      prev = c;
    }
    j++;
  }
  // With WM_PATHNAME a class never matches `/`; basename patterns never see one.
  const members: number[] = [];
  for (let x = 0; x < 256; x++) if (set[x] !== negated && x !== 0x2f) members.push(x);
  let re = '[';
  for (let k = 0; k < members.length; ) {
    let e = k;
    while (e + 1 < members.length && members[e + 1] === (members[e] as number) + 1) e++;
    re += e === k ? hex(members[k] as number) : `${hex(members[k] as number)}-${hex(members[e] as number)}`;
    k = e + 1;
  }
  return { re: `${re}]`, next: j + 1 };
}

/** A wildmatch pattern (byte string) as an anchored regex source; undefined = matches nothing. */
function wildToRegex(p: string): string | undefined {
  let re = '';
  for (let i = 0; i < p.length; ) {
    const c = p[i] as string;
    if (c === '\\') {
      // A trailing backslash makes the pattern match nothing (wildmatch compares it with NUL).
      if (i + 1 >= p.length) return undefined;
      re += hex(p.charCodeAt(i + 1));
      i += 2;
    } else if (c === '?') {
      re += '[^/]';
      i++;
    } else if (c === '[') {
      const b = bracket(p, i);
      if (!b) return undefined;
      re += b.re;
      i = b.next;
    } else if (c === '*') {
      let e = i;
      while (p[e] === '*') e++;
      const run = e - i;
      const atSegmentStart = i === 0 || p[i - 1] === '/';
      const next = p[e];
      if (run >= 2 && atSegmentStart && (next === undefined || next === '/' || (next === '\\' && p[e + 1] === '/'))) {
        if (next === '/') {
          // `**/`: zero or more whole directories.
          re += '(?:[^]*/)?';
          i = e + 1;
        } else {
          // Trailing `**` (or before an escaped slash): anything, slashes included.
          re += '[^]*';
          i = e;
        }
      } else {
        re += '[^/]*';
        i = e;
      }
    } else {
      re += hex(p.charCodeAt(i));
      i++;
    }
  }
  return re;
}

/** One pattern line → Pattern, or undefined for comments and blank lines. */
function compileLine(raw: string): Pattern | undefined {
  let line = raw.endsWith('\r') ? raw.slice(0, -1) : raw;
  if (line.startsWith('#')) return undefined;
  line = trimTrailingSpaces(line);
  if (line === '') return undefined;
  let p = toBytes(line);
  let negative = false;
  if (p.startsWith('!')) {
    negative = true;
    p = p.slice(1);
  }
  let dirOnly = false;
  if (p.endsWith('/')) {
    dirOnly = true;
    p = p.slice(0, -1);
  }
  const basename = !p.includes('/');
  // Anchored patterns are matched against the whole path, with one leading `/` dropped.
  if (!basename && p.startsWith('/')) p = p.slice(1);
  let test: (s: string) => boolean;
  if (p === '') test = NEVER;
  else if (![...p].some(isGlobSpecial)) {
    const lit = p;
    test = (s) => s === lit;
  } else if (basename && p[0] === '*' && p.length > 1 && ![...p.slice(1)].some(isGlobSpecial)) {
    const suffix = p.slice(1);
    test = (s) => s.endsWith(suffix);
  } else if (!basename && p.endsWith('/**') && p.length > 3 && ![...p.slice(0, -3)].some(isGlobSpecial)) {
    const prefix = p.slice(0, -2);
    test = (s) => s.startsWith(prefix);
  } else {
    // git compares an anchored pattern's literal prefix first and hands only the rest to
    // wildmatch, which then sees the rest's first character as the start of a segment: `a**/b`
    // matches `ab`. Doing the same keeps us exact.
    let lit = 0;
    if (!basename) while (lit < p.length && !isGlobSpecial(p[lit] as string)) lit++;
    const src = wildToRegex(p.slice(lit));
    if (src === undefined) test = NEVER;
    else {
      let prefix = '';
      for (let i = 0; i < lit; i++) prefix += hex(p.charCodeAt(i));
      const re = new RegExp(`^${prefix}${src}$`);
      test = (s) => re.test(s);
    }
  }
  return { negative, dirOnly, basename, test };
}

class GitignoreMatcher implements ExcludeMatcher {
  private readonly dirCache = new Map<string, boolean>();

  constructor(private readonly patterns: readonly Pattern[]) {}

  ignores(relPath: string, isDir: boolean): boolean {
    if (this.patterns.length === 0) return false;
    let p = relPath;
    // Tolerate `./x`, `/x` and `x/` from callers; the common case costs three char checks.
    if (p.charCodeAt(0) === 0x2e && p.charCodeAt(1) === 0x2f) p = p.slice(2);
    if (p.charCodeAt(0) === 0x2f) p = p.replace(/^\/+/, '');
    if (p.charCodeAt(p.length - 1) === 0x2f) p = p.replace(/\/+$/, '');
    if (p === '' || p === '.') return false;
    p = toBytes(p);
    const slash = p.lastIndexOf('/');
    if (slash > 0 && this.dirExcluded(p.slice(0, slash))) return true;
    return this.own(p, slash, isDir);
  }

  /** The verdict of the last matching pattern for `p` itself (its parents aside). */
  private own(p: string, slash: number, isDir: boolean): boolean {
    const base = slash >= 0 ? p.slice(slash + 1) : p;
    for (let i = this.patterns.length - 1; i >= 0; i--) {
      const pt = this.patterns[i] as Pattern;
      if (pt.dirOnly && !isDir) continue;
      if (pt.test(pt.basename ? base : p)) return !pt.negative;
    }
    return false;
  }

  /** Whether directory `d` is excluded, itself or through a parent (git does not descend into it). */
  private dirExcluded(d: string): boolean {
    const hit = this.dirCache.get(d);
    if (hit !== undefined) return hit;
    // Walk up to the nearest known ancestor, then decide downwards (no recursion: deep paths are fine).
    const todo: string[] = [d];
    let excluded = false;
    for (let cur = d; ; ) {
      const s = cur.lastIndexOf('/');
      if (s <= 0) break;
      cur = cur.slice(0, s);
      const known = this.dirCache.get(cur);
      if (known !== undefined) {
        excluded = known;
        break;
      }
      todo.push(cur);
    }
    if (this.dirCache.size + todo.length > DIR_CACHE_MAX) this.dirCache.clear();
    for (let i = todo.length - 1; i >= 0; i--) {
      const x = todo[i] as string;
      excluded = excluded || this.own(x, x.lastIndexOf('/'), true);
      this.dirCache.set(x, excluded);
    }
    return excluded;
  }
}

/** Compiles pattern lines (as written in excludePaths or read by parseExcludeFile) into a matcher. */
export function compileExcludes(patterns: readonly string[]): ExcludeMatcher {
  const compiled: Pattern[] = [];
  for (const line of patterns) {
    const p = compileLine(line);
    if (p) compiled.push(p);
  }
  return new GitignoreMatcher(compiled);
}

const anyOf = (a: ExcludeMatcher, b: ExcludeMatcher): ExcludeMatcher => ({
  ignores: (p, isDir) => a.ignores(p, isDir) || b.ignores(p, isDir),
});

/**
 * The two directions of a sync path. As in DevSpace, each list is its own matcher and a path is
 * excluded in a direction when either list excludes it: `excludePaths` applies both ways, and a
 * `!pattern` in `uploadExcludePaths` cannot re-include what `excludePaths` excludes.
 */
export function matcherFor(opts: { exclude: readonly string[]; uploadExclude?: readonly string[]; downloadExclude?: readonly string[] }): {
  upload: ExcludeMatcher;
  download: ExcludeMatcher;
} {
  const both = compileExcludes(opts.exclude);
  const one = (extra: readonly string[] | undefined): ExcludeMatcher => (extra && extra.length > 0 ? anyOf(both, compileExcludes(extra)) : both);
  return { upload: one(opts.uploadExclude), download: one(opts.downloadExclude) };
}

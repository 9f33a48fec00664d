// .dockerignore matching with Docker's semantics (moby/patternmatcher), not gitignore's.
//
// The differences matter for which files end up in the context and so in the digest/tag:
//  - patterns are anchored at the context root: `*.log` excludes `a.log` but NOT `sub/a.log`
//    (gitignore would exclude both; Docker needs `**/*.log`);
//  - a pattern that matches a directory excludes everything below it;
//  - the LAST matching pattern wins, and `!pattern` re-includes even below an excluded directory
//    (gitignore cannot re-include a file whose parent is excluded; Docker can).
// The `ignore` package implements gitignore, so using it would silently change which files are sent.

export interface DockerignoreRule {
  negate: boolean;
  /** Cleaned pattern, for messages. */
  pattern: string;
  regex: RegExp;
}

/** Parse the text of a .dockerignore file into ordered rules (comments and blank lines dropped). */
export function parseDockerignore(text: string): DockerignoreRule[] {
  const rules: DockerignoreRule[] = [];
  for (const raw of text.split(/\r?\n/)) {
    // Docker trims only trailing/leading whitespace and treats `#` lines as comments.
    let line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    let negate = false;
    if (line.startsWith('!')) {
      negate = true;
      line = line.slice(1).trim();
    }
    const pattern = cleanPattern(line);
    if (pattern === '') continue;
    rules.push({ negate, pattern, regex: patternToRegex(pattern) });
  }
  return rules;
}

/** filepath.Clean + strip leading `/` (Docker treats `/foo` and `foo` alike). */
function cleanPattern(p: string): string {
  const out: string[] = [];
  for (const part of p.split('/')) {
    if (part === '' || part === '.') continue;
    if (part === '..') {
      out.pop();
      continue;
    }
    out.push(part);
  }
  return out.join('/');
}

/** Translate a Docker pattern (Go filepath.Match + `**`) to an anchored regex. */
export function patternToRegex(pattern: string): RegExp {
  let re = '^';
  for (let i = 0; i < pattern.length; i++) {
    const c = pattern[i]!;
    if (c === '*') {
      if (pattern[i + 1] === '*') {
        i++;
        // `**/` matches zero or more directories; a trailing `**` matches everything.
        if (pattern[i + 1] === '/') {
          i++;
          re += '(?:.*/)?';
        } else {
          re += '.*';
        }
      } else {
        re += '[^/]*';
      }
    } else if (c === '?') {
      re += '[^/]';
    } else if (c === '[') {
      const end = pattern.indexOf(']', i + 1);
      if (end < 0) {
        re += '\\[';
      } else {
        let cls = pattern.slice(i + 1, end);
        if (cls.startsWith('^') || cls.startsWith('!')) cls = '^' + cls.slice(1);
        re += '[' + cls.replace(/\\/g, '\\\\') + ']';
        i = end;
      }
    } else if (c === '\\' && i + 1 < pattern.length) {
      i++;
      re += escapeRegex(pattern[i]!);
    } else {
      re += escapeRegex(c);
    }
  }
  return new RegExp(re + '$');
}

function escapeRegex(c: string): string {
  return /[.*+?^${}()|[\]\\/]/.test(c) ? '\\' + c : c;
}

/**
 * Docker's MatchesOrParentMatches: is `relPath` (POSIX, relative to the context root, no trailing
 * slash) excluded by `rules`? A rule matches the path itself or any of its parent directories; the
 * last matching rule decides.
 */
export function isExcluded(rules: readonly DockerignoreRule[], relPath: string): boolean {
  const parents: string[] = [];
  const parts = relPath.split('/');
  for (let i = 1; i < parts.length; i++) parents.push(parts.slice(0, i).join('/'));
  let excluded = false;
  for (const rule of rules) {
    let match = rule.regex.test(relPath);
    if (!match) match = parents.some((p) => rule.regex.test(p));
    if (match) excluded = !rule.negate;
  }
  return excluded;
}

/** True when some rule is a negation: then an excluded directory must still be walked. */
export function hasExceptions(rules: readonly DockerignoreRule[]): boolean {
  return rules.some((r) => r.negate);
}

// Typed errors of the devspace.yaml loader. The CLI maps a ConfigError to exit code 2 and prints
// `String(err)` — one line, `file:line:col: field.path: what is wrong` — never a stack trace.

/** Make any user-provided text safe for a one-line message (no newlines, bounded length). */
export function oneLine(text: string, max = 300): string {
  const flat = text.replace(/\r\n|\r|\n/g, '\\n').replace(/\t/g, ' ');
  return flat.length > max ? `${flat.slice(0, max)}…` : flat;
}

export class ConfigError extends Error {
  /** Process exit code the CLI uses for configuration errors (usage errors are 2 across dsa). */
  readonly exitCode = 2;
  readonly file: string;
  /** 1-based; 1:1 when the YAML has no node for the problem (e.g. the file itself is missing). */
  readonly line: number;
  readonly col: number;
  /** Dotted field path as the user wrote it (`dev.ports[0].forward[0].port`); '' for the whole file. */
  readonly path: string;
  readonly reason: string;

  constructor(file: string, line: number, col: number, path: string, reason: string) {
    const msg = formatConfigError(file, line, col, path, reason);
    super(msg);
    this.name = 'ConfigError';
    this.file = file;
    this.line = line;
    this.col = col;
    this.path = path;
    this.reason = oneLine(reason);
  }

  override toString(): string {
    return this.message;
  }
}

export function formatConfigError(file: string, line: number, col: number, path: string, reason: string): string {
  // The file name is part of a `file:line:col` prefix editors parse; keep it on one line too.
  const f = oneLine(file, 1000);
  return `${f}:${line}:${col}: ${path ? `${oneLine(path, 200)}: ` : ''}${oneLine(reason)}`;
}

export function isConfigError(e: unknown): e is ConfigError {
  return e instanceof ConfigError;
}

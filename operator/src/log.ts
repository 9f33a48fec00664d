// Structured JSON logging for the operator (pino). One root logger per process; each controller,
// informer and the leader elector get a child logger carrying their key fields, so every line can be
// filtered by `controller`, `namespace`, `name` without string parsing.
import { pino, type Logger, type LoggerOptions, type DestinationStream } from 'pino';

export type { Logger } from 'pino';

export const LOG_LEVEL_ENV = 'DSA_LOG_LEVEL';
const LEVELS = new Set(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']);

export interface CreateLoggerOptions {
  /** Overrides DSA_LOG_LEVEL. */
  level?: string;
  /** Base field `name` on every line (default "dsa-operator"). */
  name?: string;
  /** Where to write; default stdout. Tests pass a stream to capture lines. */
  destination?: DestinationStream;
  /** Environment to read DSA_LOG_LEVEL from (default process.env); injectable for tests. */
  env?: Record<string, string | undefined>;
}

/** Resolve the log level: explicit option, then DSA_LOG_LEVEL, then "info". Unknown values fall back to info. */
export function resolveLogLevel(level: string | undefined, env: Record<string, string | undefined> = process.env): string {
  const candidate = (level ?? env[LOG_LEVEL_ENV] ?? 'info').trim().toLowerCase();
  return LEVELS.has(candidate) ? candidate : 'info';
}

export function createLogger(opts: CreateLoggerOptions = {}): Logger {
  const options: LoggerOptions = {
    name: opts.name ?? 'dsa-operator',
    level: resolveLogLevel(opts.level, opts.env),
    // ISO timestamps read better in `kubectl logs` than epoch millis, and log shippers parse both.
    timestamp: pino.stdTimeFunctions.isoTime,
    // Errors logged as `{ err }` keep stack and ApiException code/body.
    serializers: { err: pino.stdSerializers.err },
    formatters: { level: (label) => ({ level: label }) },
  };
  return opts.destination ? pino(options, opts.destination) : pino(options);
}

/** A logger that discards everything; the default wherever a logger is optional (tests, helpers). */
export function silentLogger(): Logger {
  return pino({ level: 'silent' });
}

/** Child logger for one controller; every line carries `controller`. */
export function controllerLogger(parent: Logger, controller: string, fields: Record<string, unknown> = {}): Logger {
  return parent.child({ controller, ...fields });
}

// `--timeout` values as kubectl and Helm accept them: `90s`, `10m`, `1h30m`, or bare seconds.
import { UsageError } from '../errors.js';

const UNIT_MS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000 };

/** Milliseconds of a Go-style duration; throws UsageError naming the flag on anything else. */
export function parseDuration(value: string, flag = '--timeout'): number {
  const v = value.trim();
  if (/^\d+$/.test(v)) return Number(v) * 1000;
  const re = /(\d+(?:\.\d+)?)(ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(v); m !== null; m = re.exec(v)) {
    total += Number(m[1]) * (UNIT_MS[m[2] ?? 's'] ?? 1000);
    matched = re.lastIndex;
  }
  if (v === '' || matched !== v.length || total <= 0) {
    throw new UsageError(`${flag} must be a positive duration like 90s, 10m or 1h (got "${value}")`);
  }
  return Math.round(total);
}

/** `2m05s`-style for messages. */
export function formatDuration(ms: number): string {
  const s = Math.round(ms / 1000);
  if (s < 60) return `${s}s`;
  const m = Math.floor(s / 60);
  return `${m}m${String(s % 60).padStart(2, '0')}s`;
}

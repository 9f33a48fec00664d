// Content-addressed image tags: the same inputs always give the same tag, so a rebuild of an
// unchanged image is recognised (AlreadyBuilt) and a changed input always gets a new tag.
import { createHash } from 'node:crypto';

export interface BuildTagInputs {
  /** `sha256:…` of the canonical context tar, or gitContextDigest(...) for git contexts. */
  contextDigest: string;
  dockerfile?: string;
  buildArgs?: Record<string, string>;
  target?: string;
  entrypoint?: string[];
  cmd?: string[];
}

export const TAG_PREFIX = 'dsa-';
const TAG_HEX_LENGTH = 12;

/** JSON with object keys sorted at every level and `undefined` members dropped. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') {
    return JSON.stringify(value) ?? 'null';
  }
  if (Array.isArray(value)) return `[${value.map((v) => (v === undefined ? 'null' : canonicalJson(v))).join(',')}]`;
  const rec = value as Record<string, unknown>;
  const keys = Object.keys(rec)
    .filter((k) => rec[k] !== undefined)
    .sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(rec[k])}`).join(',')}}`;
}

export function sha256Hex(text: string): string {
  return createHash('sha256').update(text, 'utf8').digest('hex');
}

/** The digest input for a git context: the resolved commit, not the (moving) ref. */
export function gitContextDigest(url: string, commit: string, subPath = ''): string {
  return `git:${url}#${commit}:${subPath}`;
}

/**
 * `dsa-<12 hex>` from sha256 of the canonical JSON of the inputs. Defaults are normalised first
 * (no dockerfile = `Dockerfile`, no args = `{}`, …) so spelling a default out does not change the tag.
 */
export function buildTag(inputs: BuildTagInputs): string {
  const canonical = canonicalJson({
    contextDigest: inputs.contextDigest,
    dockerfile: inputs.dockerfile || 'Dockerfile',
    buildArgs: inputs.buildArgs ?? {},
    target: inputs.target ?? '',
    entrypoint: inputs.entrypoint ?? [],
    cmd: inputs.cmd ?? [],
  });
  return TAG_PREFIX + sha256Hex(canonical).slice(0, TAG_HEX_LENGTH);
}

/**
 * Stands in for an upload digest that is not known yet (`dsa render` without hashing contexts).
 * It is a valid digest syntactically; desiredImageBuilds() treats it as unknown and derives no tag.
 */
export const PLACEHOLDER_DIGEST = `sha256:${'0'.repeat(64)}`;

/**
 * `name` if it fits in `max` characters, else a prefix plus `-<8 hex of sha256(name)>`, so distinct
 * long names stay distinct and the result is stable. Callers pass DNS-1123-safe input.
 */
export function shortenName(name: string, max = 63): string {
  if (name.length <= max) return name;
  const suffix = sha256Hex(name).slice(0, 8);
  const prefix = name.slice(0, max - suffix.length - 1).replace(/[-.]+$/, '');
  return `${prefix}-${suffix}`;
}

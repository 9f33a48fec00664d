// Validation of DevSession / ImageBuild objects in TypeScript (the agent validates before applying).
//
// Ajv checks the JSON Schema; the CEL rules the CRD carries (`x-kubernetes-validations`) are not
// JSON Schema, so each one is mirrored by a small check below. A test keeps the two lists in step.
import { Ajv, type ErrorObject, type ValidateFunction } from 'ajv';
import { DevSession } from './devsession.js';
import { ImageBuild } from './imagebuild.js';
import type { ContextSource } from './common.js';
import type { DevSessionSpec } from './devsession.js';

export interface ValidationIssue {
  /** Dotted path with indexes, e.g. `spec.images[0].context`. */
  path: string;
  message: string;
}

const RFC3339 = /^\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d+)?([Zz]|[+-]\d{2}:\d{2})$/;
const BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/**
 * An Ajv instance that understands the Kubernetes extensions and formats our schemas (and the
 * generated CRD schemas) use. Ajv stays strict otherwise, so a typo'd keyword fails loudly.
 */
export function createAjv(): Ajv {
  const ajv = new Ajv({ allErrors: true, strict: true, strictTypes: false, allowUnionTypes: true });
  for (const keyword of [
    'x-kubernetes-validations',
    'x-kubernetes-preserve-unknown-fields',
    'x-kubernetes-int-or-string',
    'x-kubernetes-list-type',
    'x-kubernetes-list-map-keys',
    'x-kubernetes-embedded-resource',
    'x-kubernetes-map-type',
  ]) {
    ajv.addKeyword({ keyword });
  }
  ajv.addFormat('date-time', RFC3339);
  ajv.addFormat('byte', BASE64);
  ajv.addFormat('int64', { type: 'number', validate: (n: number) => Number.isInteger(n) });
  ajv.addFormat('int32', { type: 'number', validate: (n: number) => Number.isInteger(n) && Math.abs(n) < 2 ** 31 });
  return ajv;
}

/** `/spec/images/0/name` → `spec.images[0].name`. */
function toDotted(pointer: string): string {
  let out = '';
  for (const raw of pointer.split('/').slice(1)) {
    const seg = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    out += /^\d+$/.test(seg) ? `[${seg}]` : out === '' ? seg : `.${seg}`;
  }
  return out;
}

function join(path: string, key: string): string {
  return path === '' ? key : `${path}.${key}`;
}

export function ajvIssues(errors: ErrorObject[] | null | undefined): ValidationIssue[] {
  return (errors ?? []).map((e) => {
    const path = toDotted(e.instancePath);
    if (e.keyword === 'required') return { path: join(path, String(e.params.missingProperty)), message: 'is required' };
    if (e.keyword === 'additionalProperties')
      return { path: join(path, String(e.params.additionalProperty)), message: 'is not a known field' };
    if (e.keyword === 'enum') return { path, message: `${e.message ?? 'invalid'}: ${(e.params.allowedValues as unknown[]).join(', ')}` };
    return { path, message: e.message ?? `fails ${e.keyword}` };
  });
}

function exactlyOne(obj: object, keys: string[]): boolean {
  const rec = obj as Record<string, unknown>;
  return keys.filter((k) => (k === 'component' ? rec[k] === true : rec[k] !== undefined)).length === 1;
}

function checkContext(ctx: ContextSource, path: string, out: ValidationIssue[]): void {
  if ((ctx.upload !== undefined) === (ctx.git !== undefined)) out.push({ path, message: 'exactly one of upload or git must be set' });
}

function checkUniqueNames(items: Array<{ name: string }> | undefined, path: string, out: ValidationIssue[]): void {
  checkUniqueKeys(items, 'name', path, out);
}

/** `x-kubernetes-list-type: map` lists: the apiserver rejects two items with the same key. */
function checkUniqueKeys<K extends string>(items: Array<Record<K, string>> | undefined, key: K, path: string, out: ValidationIssue[]): void {
  const seen = new Set<string>();
  (items ?? []).forEach((item, i) => {
    if (seen.has(item[key])) out.push({ path: `${path}[${i}].${key}`, message: `duplicate ${key} "${item[key]}"` });
    seen.add(item[key]);
  });
}

/**
 * The CEL rules of the DevSession CRD (plus the list-map key uniqueness the apiserver enforces),
 * in TypeScript. Assumes the spec already passed the JSON Schema.
 */
export function validateSessionRules(spec: DevSessionSpec, base = 'spec'): ValidationIssue[] {
  const out: ValidationIssue[] = [];
  checkUniqueNames(spec.images, `${base}.images`, out);
  checkUniqueNames(spec.deployments, `${base}.deployments`, out);
  checkUniqueNames(spec.dev?.pods, `${base}.dev.pods`, out);
  (spec.images ?? []).forEach((img, i) => {
    const p = `${base}.images[${i}]`;
    if (img.context === undefined) {
      if (img.skip !== true) out.push({ path: p, message: 'context is required unless skip is true' });
    } else checkContext(img.context, `${p}.context`, out);
  });
  (spec.deployments ?? []).forEach((d, i) => {
    const p = `${base}.deployments[${i}]`;
    if ((d.kubectl !== undefined) === (d.helm !== undefined)) out.push({ path: p, message: 'exactly one of kubectl or helm must be set' });
    if (d.kubectl && (d.kubectl.manifests !== undefined) === (d.kubectl.git !== undefined))
      out.push({ path: `${p}.kubectl`, message: 'exactly one of manifests or git must be set' });
    if (d.helm && !exactlyOne(d.helm.chart, ['component', 'name', 'archive', 'git']))
      out.push({ path: `${p}.helm.chart`, message: 'exactly one of component: true, name, archive or git must be set' });
  });
  (spec.dev?.pods ?? []).forEach((pod, i) => {
    if (!exactlyOne(pod.selector, ['imageName', 'imageSelector', 'labelSelector']))
      out.push({ path: `${base}.dev.pods[${i}].selector`, message: 'exactly one of imageName, imageSelector or labelSelector must be set' });
  });
  return out;
}

let compiled: { session: ValidateFunction; build: ValidateFunction } | undefined;
function validators() {
  if (!compiled) {
    const ajv = createAjv();
    compiled = { session: ajv.compile(DevSession), build: ajv.compile(ImageBuild) };
  }
  return compiled;
}

/** Validate a whole DevSession object (schema + CEL mirrors). Empty array = valid. */
export function validateDevSession(obj: unknown): ValidationIssue[] {
  const v = validators().session;
  if (!v(obj)) return ajvIssues(v.errors);
  const out = validateSessionRules((obj as DevSession).spec);
  // The status lists are list-maps too (the apiserver rejects duplicates on /status writes).
  const st = (obj as DevSession).status;
  checkUniqueNames(st?.images, 'status.images', out);
  checkUniqueNames(st?.deployments, 'status.deployments', out);
  checkUniqueKeys(st?.conditions, 'type', 'status.conditions', out);
  return out;
}

/** Validate a whole ImageBuild object (schema + CEL mirrors). Empty array = valid. */
export function validateImageBuild(obj: unknown): ValidationIssue[] {
  const v = validators().build;
  if (!v(obj)) return ajvIssues(v.errors);
  const out: ValidationIssue[] = [];
  checkContext((obj as ImageBuild).spec.context, 'spec.context', out);
  checkUniqueKeys((obj as ImageBuild).status?.conditions, 'type', 'status.conditions', out);
  return out;
}

/** Type guards for callers that only need yes/no. */
export function isDevSession(obj: unknown): obj is DevSession {
  return validateDevSession(obj).length === 0;
}
export function isImageBuild(obj: unknown): obj is ImageBuild {
  return validateImageBuild(obj).length === 0;
}

// TypeBox schema → CustomResourceDefinition (apiextensions.k8s.io/v1). Pure: no IO.
//
// The apiserver only accepts *structural* schemas, which are a subset of JSON Schema. Our TypeBox
// schemas are written to stay inside that subset; this module removes what only Ajv needs
// (`additionalProperties: false` next to `properties`, `$id`, `$schema`) and refuses anything
// else that is not structural, so a schema change that cannot become a CRD fails `make crds`
// instead of failing at `kubectl apply`.
import type { TObject, TSchema } from '@sinclair/typebox';
import { CATEGORY, DEVSESSION, GROUP, IMAGEBUILD, VERSION } from '../constants.js';
import { DevSession } from '../v1alpha1/devsession.js';
import { ImageBuild } from '../v1alpha1/imagebuild.js';

export type JsonSchema = Record<string, unknown>;

export class CrdSchemaError extends Error {
  constructor(
    readonly path: string,
    message: string,
  ) {
    super(`${path || '<root>'}: ${message}`);
    this.name = 'CrdSchemaError';
  }
}

export interface PrinterColumn {
  name: string;
  type: 'string' | 'integer' | 'number' | 'boolean' | 'date';
  jsonPath: string;
  description?: string;
  priority?: number;
}

export interface CrdDefinition {
  kind: string;
  plural: string;
  singular: string;
  shortNames: readonly string[];
  /** The whole object schema (apiVersion, kind, metadata, spec, status); spec and status are used. */
  schema: TObject;
  printerColumns: PrinterColumn[];
}

export interface CustomResourceDefinition {
  apiVersion: 'apiextensions.k8s.io/v1';
  kind: 'CustomResourceDefinition';
  metadata: { name: string };
  spec: {
    group: string;
    names: { kind: string; listKind: string; plural: string; singular: string; shortNames: string[]; categories: string[] };
    scope: 'Namespaced';
    versions: Array<{
      name: string;
      served: boolean;
      storage: boolean;
      subresources: { status: Record<string, never> };
      additionalPrinterColumns: PrinterColumn[];
      schema: { openAPIV3Schema: JsonSchema };
    }>;
  };
}

// Keywords a structural schema may carry (apiextensions JSONSchemaProps minus $ref/definitions/…).
const ALLOWED = new Set([
  'type', 'format', 'description', 'title', 'default', 'nullable', 'enum', 'pattern',
  'minimum', 'maximum', 'exclusiveMinimum', 'exclusiveMaximum', 'multipleOf',
  'minLength', 'maxLength', 'minItems', 'maxItems', 'uniqueItems', 'minProperties', 'maxProperties',
  'required', 'properties', 'additionalProperties', 'items', 'anyOf', 'allOf', 'oneOf', 'not', 'example',
  'x-kubernetes-preserve-unknown-fields', 'x-kubernetes-int-or-string', 'x-kubernetes-embedded-resource',
  'x-kubernetes-list-type', 'x-kubernetes-list-map-keys', 'x-kubernetes-map-type', 'x-kubernetes-validations',
]);
// Dropped silently: only meaningful to Ajv / JSON Schema tooling.
const DROPPED = new Set(['$id', '$schema']);

/** Deep-copy `schema` into a structural CRD schema node, or throw CrdSchemaError. */
export function toStructural(schema: TSchema | JsonSchema, path = ''): JsonSchema {
  // JSON round trip drops TypeBox's symbol-keyed metadata ([Kind], [OptionalKind]).
  const src = JSON.parse(JSON.stringify(schema)) as JsonSchema;
  return convert(src, path);
}

function convert(node: JsonSchema, path: string): JsonSchema {
  const out: JsonSchema = {};
  for (const [key, value] of Object.entries(node)) {
    if (DROPPED.has(key)) continue;
    if (!ALLOWED.has(key)) throw new CrdSchemaError(path, `keyword "${key}" is not allowed in a structural CRD schema`);
    switch (key) {
      case 'properties': {
        const props: JsonSchema = {};
        for (const [name, sub] of Object.entries(value as Record<string, JsonSchema>)) props[name] = convert(sub, `${path}.${name}`);
        out.properties = props;
        break;
      }
      case 'additionalProperties':
        // Next to `properties` it is forbidden; the apiserver prunes unknown fields instead.
        if (node.properties !== undefined) break;
        if (typeof value !== 'object' || value === null)
          throw new CrdSchemaError(path, 'additionalProperties without properties must be a schema (use x-kubernetes-preserve-unknown-fields for free-form objects)');
        out.additionalProperties = convert(value as JsonSchema, `${path}.*`);
        break;
      case 'items':
        if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new CrdSchemaError(path, 'items must be a single schema');
        out.items = convert(value as JsonSchema, `${path}[]`);
        break;
      case 'anyOf':
      case 'allOf':
      case 'oneOf':
        out[key] = (value as JsonSchema[]).map((sub, i) => convert(sub, `${path}<${key}${i}>`));
        break;
      case 'not':
        out.not = convert(value as JsonSchema, `${path}<not>`);
        break;
      default:
        out[key] = value;
    }
  }
  const typed = out.type !== undefined || out['x-kubernetes-preserve-unknown-fields'] === true || out['x-kubernetes-int-or-string'] === true;
  if (!typed) throw new CrdSchemaError(path, 'every node needs a type (or x-kubernetes-preserve-unknown-fields / x-kubernetes-int-or-string)');
  if (Array.isArray(out.type)) throw new CrdSchemaError(path, 'type must be a single string');
  // `type` first reads better in the generated YAML; the rest keeps the schema's order.
  return out.type === undefined ? out : { type: out.type, ...out };
}

function property(schema: TObject, name: string): TSchema {
  const sub = schema.properties[name];
  if (sub === undefined) throw new CrdSchemaError('', `schema has no "${name}" property`);
  return sub;
}

/** The top-level openAPIV3Schema: Kubernetes owns apiVersion/kind/metadata, we own spec/status. */
export function objectSchema(schema: TObject): JsonSchema {
  return {
    type: 'object',
    required: ['spec'],
    properties: {
      apiVersion: { type: 'string' },
      kind: { type: 'string' },
      metadata: { type: 'object' },
      spec: toStructural(property(schema, 'spec'), '.spec'),
      status: toStructural(property(schema, 'status'), '.status'),
    },
  };
}

export function generateCrd(def: CrdDefinition): CustomResourceDefinition {
  return {
    apiVersion: 'apiextensions.k8s.io/v1',
    kind: 'CustomResourceDefinition',
    metadata: { name: `${def.plural}.${GROUP}` },
    spec: {
      group: GROUP,
      names: {
        kind: def.kind,
        listKind: `${def.kind}List`,
        plural: def.plural,
        singular: def.singular,
        shortNames: [...def.shortNames],
        categories: [CATEGORY],
      },
      scope: 'Namespaced',
      versions: [
        {
          name: VERSION,
          served: true,
          storage: true,
          subresources: { status: {} },
          additionalPrinterColumns: def.printerColumns,
          schema: { openAPIV3Schema: objectSchema(def.schema) },
        },
      ],
    },
  };
}

const AGE: PrinterColumn = { name: 'Age', type: 'date', jsonPath: '.metadata.creationTimestamp' };

export const DEVSESSION_CRD: CrdDefinition = {
  ...DEVSESSION,
  schema: DevSession,
  printerColumns: [
    { name: 'Ready', type: 'string', jsonPath: '.status.conditions[?(@.type=="Ready")].status' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Owner', type: 'string', jsonPath: '.status.owner' },
    { name: 'Images', type: 'string', jsonPath: '.status.imagesBuilt', description: 'images built / total' },
    { name: 'Deploys', type: 'string', jsonPath: '.status.deploymentsReady', description: 'deployments ready / total' },
    { name: 'Sync', type: 'string', jsonPath: '.status.sync' },
    AGE,
    { name: 'Message', type: 'string', jsonPath: '.status.message', priority: 1 },
  ],
};

export const IMAGEBUILD_CRD: CrdDefinition = {
  ...IMAGEBUILD,
  schema: ImageBuild,
  printerColumns: [
    { name: 'Image', type: 'string', jsonPath: '.spec.image' },
    { name: 'Tag', type: 'string', jsonPath: '.spec.tag' },
    { name: 'Phase', type: 'string', jsonPath: '.status.phase' },
    { name: 'Duration', type: 'integer', jsonPath: '.status.durationSeconds', description: 'build seconds' },
    AGE,
    { name: 'Digest', type: 'string', jsonPath: '.status.digest', priority: 1 },
    { name: 'Message', type: 'string', jsonPath: '.status.message', priority: 1 },
  ],
};

/** Both CRDs, in a stable order. */
export function generateCrds(): CustomResourceDefinition[] {
  return [generateCrd(DEVSESSION_CRD), generateCrd(IMAGEBUILD_CRD)];
}

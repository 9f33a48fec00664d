// Building blocks shared by the DevSession and ImageBuild schemas.
//
// Every schema here is plain JSON Schema (TypeBox) and must stay expressible as a *structural*
// CRD schema: no `const`, no `patternProperties`, no `$ref`, every node typed. Helpers below exist
// because TypeBox's defaults for those cases (Literal → const, Record → patternProperties) are not.
import { Type, type Static, type TSchema, type TUnsafe } from '@sinclair/typebox';

/** DNS-1123 label: names that end up in object names and label values. */
export const DNS1123_LABEL = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?$';
/** A docker tag (distribution reference grammar). */
export const DOCKER_TAG = '^[A-Za-z0-9_][A-Za-z0-9_.-]{0,127}$';
/** `sha256:<64 hex>`, the only digest algorithm dsa produces. */
export const SHA256_DIGEST = '^sha256:[a-f0-9]{64}$';

/** A string enum as `{type: string, enum: [...]}` (TypeBox's Union of Literals would emit `anyOf`/`const`). */
export function StringEnum<const T extends readonly string[]>(values: T, options: Record<string, unknown> = {}): TUnsafe<T[number]> {
  return Type.Unsafe<T[number]>({ ...options, type: 'string', enum: [...values] });
}

/** `map[string]string` as `additionalProperties` (TypeBox's Record emits `patternProperties`, which CRDs reject). */
export function StringMap(options: Record<string, unknown> = {}): TUnsafe<Record<string, string>> {
  return Type.Unsafe<Record<string, string>>({ ...options, type: 'object', additionalProperties: { type: 'string' } });
}

/** Free-form object (helm values): kept as-is by the apiserver instead of pruned. */
export function FreeFormObject(options: Record<string, unknown> = {}): TUnsafe<Record<string, unknown>> {
  return Type.Unsafe<Record<string, unknown>>({ ...options, type: 'object', 'x-kubernetes-preserve-unknown-fields': true });
}

/** A Kubernetes quantity (`500m`, `1Gi`, `2`): int-or-string, as in core/v1. */
export function Quantity(): TUnsafe<string | number> {
  return Type.Unsafe<string | number>({ 'x-kubernetes-int-or-string': true, anyOf: [{ type: 'integer' }, { type: 'string' }] });
}

/** A list whose items are identified by `name`: SSA merges by key and the apiserver rejects duplicates. */
export function NamedList<T extends TSchema>(item: T, options: Record<string, unknown> = {}) {
  return Type.Array(item, { ...options, 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['name'] });
}

/** RFC 3339 timestamp, as metav1.Time serializes. */
export const Timestamp = () => Type.String({ format: 'date-time' });

export const DnsLabel = (options: Record<string, unknown> = {}) => Type.String({ ...options, pattern: DNS1123_LABEL, minLength: 1, maxLength: 63 });

/** DNS-1123 subdomain: ServiceAccount and Secret names. */
export const DNS1123_SUBDOMAIN = '^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$';
export const DnsSubdomain = (options: Record<string, unknown> = {}) => Type.String({ ...options, pattern: DNS1123_SUBDOMAIN, minLength: 1, maxLength: 253 });

/** A variable name as DevSpace writes them (and a Secret key: letters, digits, `_`, `-`, `.`). */
export const SECRET_VAR_NAME = '^[A-Za-z_][A-Za-z0-9_.-]{0,252}$';

/**
 * Where the values of secret-typed variables (DevSpace `password` vars) live: a Secret of the object's own
 * namespace. The spec carries `${dsa.secret.NAME}` placeholders instead of the values; the operator replaces
 * them when it renders, reading the Secret as the session's ServiceAccount (docs/api/v1alpha1.md).
 */
export const SecretVars = Type.Object(
  {
    secretName: DnsSubdomain({ description: 'A Secret in the same namespace; its keys are the variable names.' }),
    names: Type.Array(Type.String({ pattern: SECRET_VAR_NAME }), { maxItems: 100, description: 'The variables whose ${dsa.secret.NAME} placeholders are replaced.' }),
  },
  { additionalProperties: false, description: 'Values of secret-typed variables, kept out of the spec.' },
);
export type SecretVars = Static<typeof SecretVars>;

/** The ServiceAccount (of the object's namespace) the operator acts as for it. */
export const ServiceAccountName = () =>
  DnsSubdomain({
    description:
      "ServiceAccount of this namespace the operator impersonates to deploy and build for this object; default: the operator's --default-service-account. What it may create is what RBAC grants that account.",
  });

export const ResourceSpec = Type.Object(
  {
    requests: Type.Optional(Type.Unsafe<Record<string, string | number>>({ type: 'object', additionalProperties: Quantity() })),
    limits: Type.Optional(Type.Unsafe<Record<string, string | number>>({ type: 'object', additionalProperties: Quantity() })),
  },
  { additionalProperties: false },
);
export type ResourceSpec = Static<typeof ResourceSpec>;

/** metav1.Condition, including the field rules the apiserver applies to core types. */
export const Condition = Type.Object(
  {
    type: Type.String({ maxLength: 316, pattern: '^([a-z0-9]([-a-z0-9]*[a-z0-9])?(\\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*/)?(([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9])$' }),
    status: StringEnum(['True', 'False', 'Unknown'] as const),
    observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: 'int64' })),
    lastTransitionTime: Timestamp(),
    reason: Type.String({ minLength: 1, maxLength: 1024, pattern: '^[A-Za-z]([A-Za-z0-9_,:]*[A-Za-z0-9_])?$' }),
    // Optional (metav1 requires it) so a status writer that has nothing to say is not rejected.
    message: Type.Optional(Type.String({ maxLength: 32768 })),
  },
  { additionalProperties: false },
);
export type Condition = Static<typeof Condition>;

export const Conditions = () =>
  Type.Array(Condition, { 'x-kubernetes-list-type': 'map', 'x-kubernetes-list-map-keys': ['type'] });

export const OwnerReference = Type.Object(
  {
    apiVersion: Type.String(),
    kind: Type.String(),
    name: Type.String(),
    uid: Type.String(),
    controller: Type.Optional(Type.Boolean()),
    blockOwnerDeletion: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type OwnerReference = Static<typeof OwnerReference>;

/**
 * The part of ObjectMeta dsa reads and writes. Open (`additionalProperties` allowed) because the
 * apiserver adds managedFields & co.; the CRD generator replaces it with `{type: object}` anyway.
 */
export const ObjectMeta = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 253 }),
  namespace: Type.Optional(Type.String()),
  uid: Type.Optional(Type.String()),
  generation: Type.Optional(Type.Integer()),
  resourceVersion: Type.Optional(Type.String()),
  creationTimestamp: Type.Optional(Type.String()),
  deletionTimestamp: Type.Optional(Type.String()),
  labels: Type.Optional(StringMap()),
  annotations: Type.Optional(StringMap()),
  ownerReferences: Type.Optional(Type.Array(OwnerReference)),
  finalizers: Type.Optional(Type.Array(Type.String())),
});
export type ObjectMeta = Static<typeof ObjectMeta>;

/** Where an image's build context comes from. Exactly one of upload | git (CEL + validateContext). */
export const UploadContext = Type.Object(
  {
    /** sha256 of the canonical context tar the agent streams into the build pod. */
    digest: Type.String({ pattern: SHA256_DIGEST }),
  },
  { additionalProperties: false },
);
export type UploadContext = Static<typeof UploadContext>;

export const GitContext = Type.Object(
  {
    url: Type.String({ minLength: 1 }),
    /** Branch, tag or commit; default: the remote's HEAD. A 40-hex commit makes the tag computable up front. */
    ref: Type.Optional(Type.String()),
    /** Folder inside the repository used as the context. */
    subPath: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type GitContext = Static<typeof GitContext>;

export const CEL_EXACTLY_ONE_CONTEXT = {
  rule: 'has(self.upload) != has(self.git)',
  message: 'exactly one of upload or git must be set',
};

export const ContextSource = Type.Object(
  {
    upload: Type.Optional(UploadContext),
    git: Type.Optional(GitContext),
  },
  { additionalProperties: false, 'x-kubernetes-validations': [CEL_EXACTLY_ONE_CONTEXT] },
);
export type ContextSource = Static<typeof ContextSource>;

export const RegistryOptions = Type.Object(
  {
    /** Push/pull over plain HTTP or with an unverified certificate (local registries). */
    insecure: Type.Optional(Type.Boolean()),
    /** docker-registry Secret kaniko pushes with (in the build namespace). */
    pushSecret: Type.Optional(Type.String()),
    /** docker-registry Secret for pulling base images. */
    pullSecret: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type RegistryOptions = Static<typeof RegistryOptions>;

export const BuilderOptions = Type.Object(
  {
    /** kaniko executor image override. */
    image: Type.Optional(Type.String()),
    /** kaniko `--cache` (layer cache in `<image>/cache`). */
    cache: Type.Optional(Type.Boolean()),
    /** Extra executor args. */
    args: Type.Optional(Type.Array(Type.String())),
    resources: Type.Optional(ResourceSpec),
    /** Namespace the build runs in; default: the session's. Cross-namespace builds get no ownerReference. */
    namespace: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type BuilderOptions = Static<typeof BuilderOptions>;

/** What an image is built from: shared by DevSession `spec.images[]` and ImageBuild `spec`. */
export const BuildInputs = {
  /** Repository without tag, e.g. `registry.local:5000/team/api`. */
  image: Type.String({ minLength: 1 }),
  /** Extra explicit tags; the content-addressed tag is always added. */
  tags: Type.Optional(Type.Array(Type.String({ pattern: DOCKER_TAG }))),
  /** Path of the Dockerfile inside the context (default `Dockerfile`). */
  dockerfile: Type.Optional(Type.String()),
  buildArgs: Type.Optional(StringMap()),
  target: Type.Optional(Type.String()),
  /** Appended ENTRYPOINT / CMD (devspace v1beta3+). */
  entrypoint: Type.Optional(Type.Array(Type.String())),
  cmd: Type.Optional(Type.Array(Type.String())),
  registry: Type.Optional(RegistryOptions),
  builder: Type.Optional(BuilderOptions),
};

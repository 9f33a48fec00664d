// ImageBuild: one in-cluster kaniko build of one image (docs/api/v1alpha1.md).
import { Type, type Static } from '@sinclair/typebox';
import { API_VERSION, IMAGEBUILD } from '../constants.js';
import { BuildInputs, Conditions, ContextSource, DOCKER_TAG, ObjectMeta, SecretVars, ServiceAccountName, StringEnum, Timestamp } from './common.js';
import { BUILD_PHASES } from './devsession.js';

export const ImageBuildSpec = Type.Object(
  {
    ...BuildInputs,
    /**
     * Content-addressed tag `dsa-<12 hex>` (api/src/hash.ts). Absent when it cannot be known up front
     * (git context with a branch/tag ref): the operator resolves the ref and reports the tag in status.tag.
     */
    tag: Type.Optional(Type.String({ pattern: DOCKER_TAG })),
    context: ContextSource,
    serviceAccountName: Type.Optional(ServiceAccountName()),
    /** Build args may carry `${dsa.secret.NAME}` placeholders: kaniko gets them from this Secret, never in the pod spec. */
    secretVars: Type.Optional(SecretVars),
  },
  { additionalProperties: false },
);
export type ImageBuildSpec = Static<typeof ImageBuildSpec>;

export const ImageBuildStatus = Type.Object(
  {
    observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: 'int64' })),
    phase: Type.Optional(StringEnum(BUILD_PHASES)),
    /** What was pushed: `repo:tag`. */
    image: Type.Optional(Type.String()),
    /** The tag built (spec.tag, or the one derived after resolving a git ref). */
    tag: Type.Optional(Type.String()),
    /** Resolved git commit for git contexts. */
    commit: Type.Optional(Type.String()),
    digest: Type.Optional(Type.String()),
    /** The build pod; the agent execs the upload into it. */
    podName: Type.Optional(Type.String()),
    /** Init container that receives the context tar on stdin. */
    uploadContainer: Type.Optional(Type.String()),
    startTime: Type.Optional(Timestamp()),
    completionTime: Type.Optional(Timestamp()),
    durationSeconds: Type.Optional(Type.Integer({ minimum: 0 })),
    message: Type.Optional(Type.String()),
    /**
     * The `dsa.dev/requested-at` annotation value of the last forced build the operator started (as
     * Flux's lastHandledReconcileAt): a newer annotation skips the "already built" shortcuts once.
     */
    lastRequestedAt: Type.Optional(Type.String()),
    /** Last lines of the build log on failure. */
    logTail: Type.Optional(Type.String()),
    conditions: Type.Optional(Conditions()),
  },
  { additionalProperties: false },
);
export type ImageBuildStatus = Static<typeof ImageBuildStatus>;

export const ImageBuild = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(IMAGEBUILD.kind),
    metadata: ObjectMeta,
    spec: ImageBuildSpec,
    status: Type.Optional(ImageBuildStatus),
  },
  { additionalProperties: false },
);
export type ImageBuild = Static<typeof ImageBuild>;
/** Alias that reads better where the value (not the type) is meant. */
export const ImageBuildSchema = ImageBuild;

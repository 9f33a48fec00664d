// Pure: ImageBuild (+ resolved tag and context digest) → the build Pod. No IO, so every rule here is
// unit-tested and a restart of the operator computes exactly the same pod (same name → found, never
// duplicated).
import { createHash } from 'node:crypto';
import type { V1Container, V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, LABELS, MANAGED_BY, shortenName, type ImageBuild } from '@dsa/api';
import type { BuildRequest, Builder } from '../../builders/builder.js';
import { builderImageAllowed, insecureRegistryFlags, refusedBuilderArg } from '../../confinement/build-policy.js';
import { KanikoBuilder } from '../../builders/kaniko.js';
import {
  APPENDED_DOCKERFILE,
  CONTEXT_DIR,
  MAIN_SCRIPT,
  UPLOAD_CONTAINER,
  UPLOAD_DIR,
  WORKSPACE_DIR,
  dockerfileAppend,
  receiveScript,
} from '../../builders/receiver.js';

export const BUILD_POD_COMPONENT = 'image-build-pod';
export const ANNOTATION_TAG = 'dsa.dev/tag';
export const ANNOTATION_GENERATION = 'dsa.dev/generation';
export const ANNOTATION_CONTEXT_DIGEST = 'dsa.dev/context-digest';
/** The forced-build request (the ImageBuild's requested-at) this pod serves, for `kubectl describe`. */
export const ANNOTATION_REQUESTED_AT = ANNOTATIONS.requestedAt;
const WORKSPACE_VOLUME = 'workspace';
const UPLOAD_VOLUME = 'upload';

export interface BuildPodConfig {
  /** kaniko executor image (DSA_KANIKO_IMAGE); spec.builder.image overrides it. */
  kanikoImage: string;
  /** busybox-like image with sh, tar, sha256sum, find, awk (DSA_HELPER_IMAGE / DSA_TEST_IMAGE). */
  helperImage: string;
  /** How long the receiver waits for the upload before failing (default 600 s). */
  uploadTimeoutSeconds?: number;
  /** Hard cap on the pod's lifetime, so a stuck build can never run forever (default 3600 s). */
  activeDeadlineSeconds?: number;
  builder?: Builder;
  serviceAccountName?: string;
  /** Largest build context the receiver accepts (bytes); sizes the pod's volumes. Default DEFAULT_MAX_CONTEXT_BYTES. */
  maxContextBytes?: number;
  /** Registries spoken to over plain HTTP or without TLS verification (--insecure-registries). */
  insecureRegistries?: readonly string[];
  /** Images spec.builder.image may name besides kanikoImage ('*' = any). Default: none. */
  allowedBuilderImages?: readonly string[];
}

export const DEFAULT_MAX_CONTEXT_BYTES = 2 ** 30;
/** The build container's writable layer holds the image being built (kaniko unpacks base layers into /). */
export const DEFAULT_BUILD_EPHEMERAL_STORAGE = { request: '256Mi', limit: '8Gi' };
const MiB = 2 ** 20;
/** Kubernetes quantity in Mi, rounded up. */
const mi = (bytes: number) => `${Math.ceil(bytes / MiB)}Mi`;

export interface BuildPlan {
  /** The content-addressed tag (spec.tag, or derived from the resolved git commit). */
  tag: string;
  /** sha256 of the exact tar the receiver must get (the upload digest; for git, the operator's tar). */
  tarDigest: string;
  /** The requested-at value of the forced build this pod serves (see buildPodName). */
  request?: string;
}

/**
 * `<ib>-build-<10 hex>`: the hash covers uid, generation, tag and the forced-build request in effect, so
 * each spec generation and each `-b` gets its own pod, and an operator restarted mid-way computes the same
 * name (finds the pod instead of creating a second one). Without a request the hash input is what it was
 * before forced builds existed, so pods of running builds survive an operator upgrade.
 */
export function buildPodName(ib: ImageBuild, tag: string, request?: string): string {
  const h = createHash('sha256')
    .update(`${ib.metadata.uid ?? ''}/${ib.metadata.generation ?? 0}/${tag}${request ? `/${request}` : ''}`)
    .digest('hex')
    .slice(0, 10);
  const suffix = `-build-${h}`;
  return `${shortenName(ib.metadata.name, 63 - suffix.length)}${suffix}`;
}

export function buildPodLabels(ib: ImageBuild): Record<string, string> {
  return {
    [LABELS.managedBy]: MANAGED_BY,
    [LABELS.imageBuild]: shortenName(ib.metadata.name),
    [LABELS.component]: BUILD_POD_COMPONENT,
  };
}

/** Spec problems no retry can fix (→ Stalled InvalidSpec). Undefined when the spec is buildable. */
export function validateBuildSpec(ib: ImageBuild): string | undefined {
  const df = ib.spec.dockerfile || 'Dockerfile';
  if (df.startsWith('/') || df.split('/').includes('..')) return `dockerfile must be a relative path inside the context, got ${df}`;
  if (/[\n\r]/.test(df)) return 'dockerfile must not contain line breaks';
  if (!ib.spec.context.upload === !ib.spec.context.git) return 'exactly one of context.upload or context.git must be set';
  if (/[:@]/.test(ib.spec.image.split('/').pop() ?? '')) return `image must be a repository without tag or digest, got ${ib.spec.image}`;
  for (const k of Object.keys(ib.spec.buildArgs ?? {})) if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(k)) return `invalid build arg name ${k}`;
  // Secret names are names in the build's own namespace: a `ns/name` or other form never reaches another one.
  for (const [field, v] of [['registry.pushSecret', ib.spec.registry?.pushSecret], ['registry.pullSecret', ib.spec.registry?.pullSecret]] as const) {
    if (v && !SECRET_NAME.test(v)) return `${field} must be the name of a Secret in the build's namespace, got ${JSON.stringify(v)}`;
  }
  return undefined;
}

const SECRET_NAME = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/**
 * What the install refuses (→ Stalled, naming it): a builder image outside the allowlist, extra executor args
 * outside the flag allowlist (confinement/build-policy.ts). Undefined when allowed.
 */
export function policyViolation(ib: ImageBuild, cfg: BuildPodConfig): string | undefined {
  const image = ib.spec.builder?.image;
  if (image && image !== cfg.kanikoImage && !builderImageAllowed(image, cfg.allowedBuilderImages ?? [])) {
    return `builder.image ${image} is not allowed by the operator (allowed: ${[cfg.kanikoImage, ...(cfg.allowedBuilderImages ?? [])].join(', ')}; the chart's builder.allowedImages)`;
  }
  return refusedBuilderArg(ib.spec.builder?.args ?? []);
}

/** All references pushed: the content-addressed tag first, then the extra tags (deduplicated). */
export function destinations(ib: ImageBuild, tag: string): string[] {
  const tags = [tag, ...(ib.spec.tags ?? []).filter((t) => t !== tag)];
  return [...new Set(tags)].map((t) => `${ib.spec.image}:${t}`);
}

/** spec.builder.resources with the default ephemeral-storage request/limit where the spec sets none. */
function withEphemeralStorage(r: BuildRequest['resources']): NonNullable<BuildRequest['resources']> {
  const requests = { ...(r?.requests ?? {}) };
  const limits = { ...(r?.limits ?? {}) };
  if (requests['ephemeral-storage'] === undefined) requests['ephemeral-storage'] = DEFAULT_BUILD_EPHEMERAL_STORAGE.request;
  if (limits['ephemeral-storage'] === undefined) limits['ephemeral-storage'] = DEFAULT_BUILD_EPHEMERAL_STORAGE.limit;
  return { ...(r ?? {}), requests, limits };
}

export function desiredBuildPod(ib: ImageBuild, cfg: BuildPodConfig, plan: BuildPlan): V1Pod {
  const builder = cfg.builder ?? new KanikoBuilder();
  const maxContext = cfg.maxContextBytes ?? DEFAULT_MAX_CONTEXT_BYTES;
  const dockerfile = ib.spec.dockerfile || 'Dockerfile';
  const append = dockerfileAppend(ib.spec.entrypoint, ib.spec.cmd);
  const pushSecret = ib.spec.registry?.pushSecret || ib.spec.registry?.pullSecret || undefined;
  const req: BuildRequest = {
    image: ib.spec.builder?.image || cfg.kanikoImage,
    destinations: destinations(ib, plan.tag),
    contextDir: CONTEXT_DIR,
    dockerfile: append ? APPENDED_DOCKERFILE : `${CONTEXT_DIR}/${dockerfile}`,
    buildArgs: ib.spec.buildArgs ?? {},
    target: ib.spec.target || undefined,
    insecure: ib.spec.registry?.insecure === true,
    cache: ib.spec.builder?.cache === true,
    extraArgs: ib.spec.builder?.args ?? [],
    resources: withEphemeralStorage(ib.spec.builder?.resources as BuildRequest['resources']),
    registryFlags: insecureRegistryFlags(ib.spec.image, [], cfg.insecureRegistries ?? []),
    ...(ib.spec.secretVars?.names.length ? { secretVars: ib.spec.secretVars } : {}),
    pushSecret,
    workspaceVolume: WORKSPACE_VOLUME,
    workspaceMountPath: WORKSPACE_DIR,
  };

  const upload: V1Container = {
    name: UPLOAD_CONTAINER,
    image: cfg.helperImage,
    command: ['sh', '-c', MAIN_SCRIPT],
    env: [
      { name: 'DSA_CONTEXT_DIGEST', value: plan.tarDigest },
      { name: 'DSA_RECEIVE_SCRIPT', value: receiveScript(plan.tarDigest) },
      { name: 'DSA_UPLOAD_TIMEOUT', value: String(cfg.uploadTimeoutSeconds ?? 600) },
      { name: 'DSA_UPLOAD_DIR', value: UPLOAD_DIR },
      { name: 'DSA_CONTEXT_DIR', value: CONTEXT_DIR },
      { name: 'DSA_DOCKERFILE', value: dockerfile },
      { name: 'DSA_DOCKERFILE_APPEND', value: append },
      { name: 'DSA_APPENDED_DOCKERFILE', value: APPENDED_DOCKERFILE },
      { name: 'DSA_MAX_UPLOAD_BYTES', value: String(maxContext) },
    ],
    volumeMounts: [
      { name: WORKSPACE_VOLUME, mountPath: WORKSPACE_DIR },
      { name: UPLOAD_VOLUME, mountPath: UPLOAD_DIR },
    ],
    // Its own writable layer holds nothing but the scripts; the tar and the context are on the sized volumes.
    resources: { requests: { cpu: '10m', memory: '16Mi', 'ephemeral-storage': '16Mi' }, limits: { 'ephemeral-storage': '64Mi' } },
    terminationMessagePolicy: 'FallbackToLogsOnError',
  };

  return {
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      name: buildPodName(ib, plan.tag, plan.request),
      namespace: ib.metadata.namespace,
      labels: buildPodLabels(ib),
      annotations: {
        [ANNOTATION_TAG]: plan.tag,
        [ANNOTATION_GENERATION]: String(ib.metadata.generation ?? 0),
        [ANNOTATION_CONTEXT_DIGEST]: plan.tarDigest,
        ...(plan.request ? { [ANNOTATION_REQUESTED_AT]: plan.request } : {}),
      },
      ownerReferences: [
        {
          apiVersion: ib.apiVersion,
          kind: ib.kind,
          name: ib.metadata.name,
          uid: ib.metadata.uid ?? '',
          controller: true,
          blockOwnerDeletion: true,
        },
      ],
    },
    spec: {
      restartPolicy: 'Never',
      activeDeadlineSeconds: cfg.activeDeadlineSeconds ?? 3600,
      // The build needs no API access; not mounting a token keeps a malicious Dockerfile from using it.
      automountServiceAccountToken: false,
      enableServiceLinks: false,
      ...(cfg.serviceAccountName ? { serviceAccountName: cfg.serviceAccountName } : {}),
      initContainers: [upload],
      containers: [builder.container(req)],
      // Sized from the context limit: the upload holds the tar (and scripts), the workspace the unpacked context.
      volumes: [
        { name: WORKSPACE_VOLUME, emptyDir: { sizeLimit: mi(maxContext + 64 * MiB) } },
        { name: UPLOAD_VOLUME, emptyDir: { sizeLimit: mi(maxContext + 16 * MiB) } },
        ...builder.volumes(req),
      ],
    },
  };
}

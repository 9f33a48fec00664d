// The deploy pipeline: an ordered list of named transforms over the objects one `spec.deployments[]` entry
// rendered, between render and apply. The reconciler only drives the list; a new step joins by adding one
// entry to DEFAULT_TRANSFORMS (or to the list a test passes in).
//
//   render → tag-replacement → decorate → dev-overrides → sync-sidecar → confinement → apply
//
// A transform gets the objects (never mutates them; returns new ones) and a DeployContext. Everything a
// transform needs from the outside world is in the context behind an interface (discovery, the registry's
// image configs, the cluster's capabilities), so each transform is unit-tested alone with plain values.
// Throwing a StallError stalls the session with the transform's message (naming the object); anything else
// is transient and retried with backoff.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { DevSession, SessionDeployment, SessionImage } from '@dsa/api';
import type { Logger } from '../log.js';
import type { BuiltImageIndex } from './tag-replacement.js';

/** What the cluster can do, detected once from the apiserver (see capabilities.ts). */
export interface ClusterCapabilities {
  /** The apiserver's version; undefined when it could not be read. */
  serverVersion?: { major: number; minor: number; gitVersion: string };
  /**
   * Native sidecars (`initContainers[].restartPolicy: Always`): beta and on by default since Kubernetes 1.29,
   * GA in 1.33. Without them a sidecar has to be a plain container.
   */
  nativeSidecars: boolean;
}

/** The parts of an image's config (OCI image config `config` object) a transform may need. */
export interface ImageConfig {
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  user?: string;
  env?: string[];
}

/** Image configs from the registry (the command an image runs, its working directory, its user). */
export interface ImageConfigLookup {
  /**
   * The config of `image` (`repo:tag` or `repo@sha256:…`), or undefined when the registry has no such image.
   * Credentials and `insecure` come from the session's spec.images entry for that repository, if any.
   * Throws a RegistryError (transient: true) when the registry is unreachable.
   */
  config(image: string): Promise<ImageConfig | undefined>;
}

/** Where a session may put objects (issue 8 "Confinement"; the chart decides). */
export interface ConfinementPolicy {
  /** Objects whose namespace is not the session's are refused unless true. */
  allowCrossNamespace: boolean;
  /** Cluster-scoped kinds (Namespace, ClusterRole, CRDs, …) are refused unless true. */
  allowClusterScoped: boolean;
}

/** No namespace or kind checks (unconfined installs; the default is confined: confinement/confinement.ts). */
export const PERMISSIVE_CONFINEMENT: ConfinementPolicy = { allowCrossNamespace: true, allowClusterScoped: true };

export interface DeployContext {
  session: DevSession;
  deployment: SessionDeployment;
  /** The session's namespace. */
  sessionNamespace: string;
  /** Namespace for namespaced objects that do not set one: deployment.namespace, else the session's. */
  targetNamespace: string;
  /** Built images (repository → tag) of this session, for tag replacement and devImage. */
  built: BuiltImageIndex;
  /** spec.images of the session, by name (`api`) — the image config a dev pod's imageName points at. */
  image(name: string): SessionImage | undefined;
  /** Image configs from the registry (command, working directory) for images the pod spec leaves implicit. */
  imageConfigs: ImageConfigLookup;
  capabilities: ClusterCapabilities;
  /** Discovery: whether a kind is namespaced; undefined when the apiserver does not serve it. Cached. */
  isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined>;
  confinement: ConfinementPolicy;
  /** The dev sidecar image (operator flag --sidecar-image); sessions with sync or reverse ports need it. */
  sidecarImage?: string;
  log: Logger;
  /** Aborted when the operator stops; long IO should honour it. */
  signal?: AbortSignal;
}

/** `(objects, ctx) => objects`: returns new objects (or the same ones untouched), never mutates its input. */
export type ObjectTransform = (objects: readonly KubernetesObject[], ctx: DeployContext) => Promise<KubernetesObject[]>;

export interface Transform {
  /** Short name for logs, errors and the README (`tag-replacement`, `sync-sidecar`, …). */
  readonly name: string;
  readonly run: ObjectTransform;
}

/** Which transform failed, for the logs; the StallError it threw is rethrown unchanged for the status. */
export class TransformError extends Error {
  override readonly name = 'TransformError';
}

/** Run `transforms` in order over `objects`. */
export async function runTransforms(transforms: readonly Transform[], objects: readonly KubernetesObject[], ctx: DeployContext): Promise<KubernetesObject[]> {
  let current: KubernetesObject[] = [...objects];
  for (const t of transforms) {
    try {
      current = await t.run(current, ctx);
    } catch (e) {
      ctx.log.debug({ transform: t.name, deployment: ctx.deployment.name, err: e instanceof Error ? e.message : String(e) }, 'transform failed');
      throw e;
    }
    if (!Array.isArray(current)) throw new TransformError(`transform ${t.name} returned no object list`);
  }
  return current;
}

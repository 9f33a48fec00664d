// The seam between the ImageBuild controller and the tool that builds: the controller decides WHAT to
// build (context, destinations, args); a Builder decides HOW (container, flags, where the result is).
// kaniko is the only implementation; its upstream was archived in 2025, so keeping it behind this
// interface lets a BuildKit/Buildah builder replace it without touching the reconciler.
import type { V1Container, V1ContainerStatus, V1ResourceRequirements, V1Volume } from '@kubernetes/client-node';

export interface BuildRequest {
  /** Builder image (kaniko executor). */
  image: string;
  /** Full references to push, the content-addressed tag first. */
  destinations: string[];
  /** Directory inside the pod holding the unpacked context. */
  contextDir: string;
  /** Absolute path of the Dockerfile inside the pod. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  target?: string;
  /** Plain-HTTP / unverified-TLS registry. */
  insecure: boolean;
  /** Layer cache in the registry. */
  cache: boolean;
  /** Extra builder args (already checked against the allowlist: confinement/build-policy.ts), appended last. */
  extraArgs: string[];
  /** Flags the install's insecure-registry list implies (confinement/build-policy.ts insecureRegistryFlags). */
  registryFlags?: string[];
  /**
   * Secret build args: `${dsa.secret.NAME}` in a build arg value becomes a reference to an environment variable
   * filled from this Secret by the kubelet, so the value never appears in the pod spec.
   */
  secretVars?: { secretName: string; names: readonly string[] };
  resources?: V1ResourceRequirements;
  /** docker-registry Secret (kubernetes.io/dockerconfigjson) with push credentials. */
  pushSecret?: string;
  /** Volume holding the workspace (the context lives below it). */
  workspaceVolume: string;
  workspaceMountPath: string;
}

export interface Builder {
  readonly name: string;
  /** The build container. */
  container(req: BuildRequest): V1Container;
  /** Volumes the container needs besides the workspace. */
  volumes(req: BuildRequest): V1Volume[];
  /** `sha256:…` digest of the pushed image, from the terminated build container's status. */
  resultDigest(status: V1ContainerStatus | undefined): string | undefined;
}

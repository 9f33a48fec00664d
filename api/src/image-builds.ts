// The one derivation DevSession → ImageBuild[], shared by the operator (to create them) and by
// `dsa render` (to show them). Pure.
import { API_VERSION, DEVSESSION, IMAGEBUILD, LABELS, MANAGED_BY } from './constants.js';
import { PLACEHOLDER_DIGEST, buildTag, gitContextDigest, shortenName } from './hash.js';
import { secretPlaceholderNames } from './secret-vars.js';
import type { ContextSource, OwnerReference } from './v1alpha1/common.js';
import type { DevSession, SessionImage } from './v1alpha1/devsession.js';
import type { ImageBuild, ImageBuildSpec } from './v1alpha1/imagebuild.js';

export const IMAGE_BUILD_COMPONENT = 'image-build';
const COMMIT = /^[0-9a-f]{40}$/;

/** `<session>-<image>`, shortened with a hash suffix when it exceeds 63 characters (it is used as a label value). */
export function imageBuildName(sessionName: string, imageName: string): string {
  return shortenName(`${sessionName}-${imageName}`);
}

/**
 * The digest the tag is computed from, when it can be known without the cluster: the upload digest,
 * or a git context pinned to a full commit. Undefined → the operator resolves it.
 */
export function knownContextDigest(context: ContextSource | undefined): string | undefined {
  if (context?.upload) return context.upload.digest === PLACEHOLDER_DIGEST ? undefined : context.upload.digest;
  if (context?.git?.ref !== undefined && COMMIT.test(context.git.ref)) {
    return gitContextDigest(context.git.url, context.git.ref, context.git.subPath ?? '');
  }
  return undefined;
}

/** Copy only the fields that are set, so server-side apply does not claim fields we leave open. */
function defined<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}

export function desiredImageBuildSpec(image: SessionImage & { context: ContextSource }): ImageBuildSpec {
  const digest = knownContextDigest(image.context);
  return defined<ImageBuildSpec>({
    image: image.image,
    tag:
      digest === undefined
        ? undefined
        : buildTag({
            contextDigest: digest,
            dockerfile: image.dockerfile,
            buildArgs: image.buildArgs,
            target: image.target,
            entrypoint: image.entrypoint,
            cmd: image.cmd,
          }),
    tags: image.tags,
    context: image.context,
    dockerfile: image.dockerfile,
    buildArgs: image.buildArgs,
    target: image.target,
    entrypoint: image.entrypoint,
    cmd: image.cmd,
    registry: image.registry,
    builder: image.builder,
  });
}

/** One ImageBuild per image of the session that is not `skip`ped, in spec order. */
export function desiredImageBuilds(session: DevSession): ImageBuild[] {
  const sessionName = session.metadata.name;
  const sessionNs = session.metadata.namespace;
  const out: ImageBuild[] = [];
  for (const image of session.spec.images ?? []) {
    if (image.skip === true || image.context === undefined) continue;
    const buildNs = image.builder?.namespace || sessionNs;
    // ownerReferences cannot point across namespaces (the GC would delete the child as orphaned);
    // cross-namespace builds are found through the session labels instead.
    const sameNamespace = buildNs === sessionNs;
    const ownerReferences: OwnerReference[] | undefined =
      session.metadata.uid !== undefined && sameNamespace
        ? [{ apiVersion: API_VERSION, kind: DEVSESSION.kind, name: sessionName, uid: session.metadata.uid, controller: true, blockOwnerDeletion: true }]
        : undefined;
    const labels: Record<string, string> = {
      [LABELS.managedBy]: MANAGED_BY,
      // Label values are limited to 63 characters; shortenName is stable, so selectors can use it too.
      [LABELS.session]: shortenName(sessionName),
      [LABELS.image]: image.name,
      [LABELS.component]: IMAGE_BUILD_COMPONENT,
    };
    if (sessionNs !== undefined) labels[LABELS.sessionNamespace] = shortenName(sessionNs);
    const spec = desiredImageBuildSpec({ ...image, context: image.context });
    // The build acts as the session's ServiceAccount (of the build's namespace, for a cross-namespace build).
    if (session.spec.serviceAccountName) spec.serviceAccountName = session.spec.serviceAccountName;
    // Secret build args: only the variables the build args use, and only where the Secret is (same namespace).
    const secretVars = session.spec.secretVars;
    if (secretVars && sameNamespace) {
      const used = new Set(Object.values(image.buildArgs ?? {}).flatMap((v) => secretPlaceholderNames(v)));
      const names = secretVars.names.filter((n) => used.has(n));
      if (names.length) spec.secretVars = { secretName: secretVars.secretName, names };
    }
    out.push({
      apiVersion: API_VERSION,
      kind: IMAGEBUILD.kind,
      metadata: defined({ name: imageBuildName(sessionName, image.name), namespace: buildNs, labels, ownerReferences }),
      spec,
    });
  }
  return out;
}

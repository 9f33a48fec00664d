// Registry trouble, as containerd (pulls on a node) and kaniko or the operator (builds, pushes, tag
// lookups) report it: the reason a person can act on, pulled out of the nested error text, and what to
// do about it. Pure.

export type RegistryTrouble = 'http-registry' | 'untrusted-certificate' | 'unauthorized' | 'not-found' | 'unreachable' | 'invalid-name' | 'other';

/**
 * The innermost useful part of a pull error. containerd nests its errors
 * (`Back-off pulling image "x": ErrImagePull: rpc error: code = NotFound desc = failed to pull and
 * unpack image "x": failed to resolve reference "x": x: not found`): the last step says what happened.
 */
export function pullReason(message: string): string {
  let m = message.trim();
  m = m.replace(/^Back-off pulling image "[^"]*":\s*/, '');
  m = m.replace(/^Failed to pull image "[^"]*":\s*/, '');
  m = m.replace(/^(ErrImagePull|ImagePullBackOff):\s*/, '');
  m = m.replace(/^rpc error: code = \w+ desc = /, '');
  const resolve = m.lastIndexOf('failed to resolve reference "');
  if (resolve >= 0) {
    const end = m.indexOf('": ', resolve);
    if (end >= 0) m = m.slice(end + 3);
  } else {
    m = m.replace(/^failed to pull and unpack image "[^"]*":\s*/, '');
  }
  m = m.replace(/^failed to do request:\s*/, '');
  return m || message.trim();
}

/** What kind of registry trouble a message describes (pull, push, or lookup). */
export function classifyRegistryError(message: string): RegistryTrouble {
  if (/server gave HTTP response to HTTPS client|wrong version number|first record does not look like a TLS handshake|packet length too long|ssl3_get_record/i.test(message)) return 'http-registry';
  if (/x509|certificate signed by unknown authority|certificate is not valid|self[- ]signed certificate|unable to verify the first certificate|UNABLE_TO_VERIFY|DEPTH_ZERO_SELF_SIGNED|tls: failed to verify/i.test(message)) return 'untrusted-certificate';
  if (/invalid reference format|InvalidImageName|couldn't parse image reference/i.test(message)) return 'invalid-name';
  if (/\b401\b|\b403\b|unauthorized|authentication required|access denied|pull access denied|denied:|no basic auth credentials|authorization failed/i.test(message)) return 'unauthorized';
  if (/connection refused|no such host|i\/o timeout|network is unreachable|no route to host|dial tcp|ECONNREFUSED|ENOTFOUND|EHOSTUNREACH|ETIMEDOUT|ECONNRESET|timeout awaiting|TLS handshake timeout/i.test(message)) return 'unreachable';
  if (/not found|manifest unknown|NotFound|\b404\b|name unknown/i.test(message)) return 'not-found';
  return 'other';
}

/** `host[:port]` of an image reference (Docker Hub when the first part is not a host). */
export function registryHost(image: string): string {
  const first = image.split('/')[0] ?? '';
  if (image.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost')) return first;
  return 'docker.io';
}

/** The registry a message talks about: from a `Head "https://host/v2/…"` URL, else from `image`. */
export function registryOf(message: string, image?: string): string | undefined {
  const url = /"(https?):\/\/([^/"]+)\/v2\//.exec(message) ?? /\b(https?):\/\/([^/\s"]+)\/v2\//.exec(message);
  if (url) return url[2];
  return image ? registryHost(image) : undefined;
}

/** The chart value the operator engineer's chart reads: registries that speak plain HTTP or use a self-signed certificate. */
export const INSECURE_REGISTRIES_VALUE = 'registries.insecure';

/**
 * What to do when a node cannot pull `image`. The node's container runtime pulls, not dsa: its
 * registry configuration is what has to change for plain-HTTP or self-signed registries.
 */
export function pullHint(trouble: RegistryTrouble, image: string, host = registryHost(image)): string {
  switch (trouble) {
    case 'http-registry':
      return `the registry ${host} speaks plain HTTP but the node pulls over HTTPS: configure the nodes' container runtime to use HTTP for it (containerd: a hosts.toml with server = "http://${host}"; kind: containerdConfigPatches), or serve the registry with TLS`;
    case 'untrusted-certificate':
      return `the node does not trust the certificate of ${host}: add its CA to the nodes' container runtime (containerd hosts.toml ca = …, or skip_verify for a dev registry)`;
    case 'unauthorized':
      return `${host} refused the pull: give the pod an imagePullSecret with credentials for ${host} (kubectl create secret docker-registry …, imagePullSecrets in the pod spec)`;
    case 'not-found':
      return `${image} is not in the registry: check the image name and tag in the manifest (images dsa builds are pushed under the repository of their images.*.image)`;
    case 'unreachable':
      return `the node cannot reach the registry ${host}: the registry must be reachable from the cluster's nodes, not only from your machine (check the host name, port and the node's network)`;
    case 'invalid-name':
      return `"${image}" is not a valid image reference: fix the image in the manifest`;
    default:
      return `the node cannot pull ${image}: see the registry's reason above; kubectl describe pod shows the kubelet's attempts`;
  }
}

/**
 * What to do when an in-cluster build (kaniko's push or base-image pull, the operator's tag lookup)
 * fails against `host`: the operator's `registries.insecure` chart value fixes plain-HTTP and
 * self-signed registries for every project of the cluster; `kaniko.insecure` fixes it for one image.
 */
export function buildRegistryHint(trouble: RegistryTrouble, host: string | undefined, imageKey?: string): string | undefined {
  const where = host ?? 'the registry';
  const perImage = imageKey ? ` or set images.${imageKey}.kaniko.insecure: true in devspace.yaml` : ' or set kaniko.insecure: true on the image in devspace.yaml';
  switch (trouble) {
    case 'http-registry':
      return `${where} speaks plain HTTP, not HTTPS: list it in the operator's chart value ${INSECURE_REGISTRIES_VALUE} (helm upgrade <release> charts/dsa-operator --reuse-values --set '${INSECURE_REGISTRIES_VALUE}={${host ?? 'host:port'}}'),${perImage}`;
    case 'untrusted-certificate':
      return `the certificate of ${where} is not trusted: list it in the operator's chart value ${INSECURE_REGISTRIES_VALUE} (self-signed registries),${perImage}`;
    case 'unauthorized':
      return `${where} refused the build's credentials: check the image's pull/push secret (kaniko.pullSecret) or the registry's permissions`;
    case 'unreachable':
      return `${where} is unreachable from the cluster: check its host name and port as seen from the build pods (the registry must be reachable in-cluster)`;
    default:
      return undefined;
  }
}

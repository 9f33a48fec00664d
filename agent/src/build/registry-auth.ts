// Push credentials as the docker CLI keeps them: `~/.docker/config.json` → `auths[<registry>]`
// (`auth` = base64 "user:password", or username/password). Credential helpers (`credsStore`,
// `credHelpers`) run programs dsa does not run; such registries are pushed to anonymously. Pure.

export interface RegistryAuth {
  username: string;
  password: string;
  serveraddress: string;
}

/** The registry host of an image reference, as Docker decides it (`docker.io` when the first part is not a host). */
export function registryOf(image: string): string {
  const slash = image.indexOf('/');
  if (slash < 0) return 'docker.io';
  const first = image.slice(0, slash);
  return first.includes('.') || first.includes(':') || first === 'localhost' ? first : 'docker.io';
}

const DOCKER_HUB_KEYS = ['https://index.docker.io/v1/', 'index.docker.io', 'docker.io', 'registry-1.docker.io'];

/** Credentials for `registry` from the text of a docker config.json; undefined when there are none. */
export function registryAuth(configText: string | undefined, registry: string): RegistryAuth | undefined {
  if (!configText) return undefined;
  let cfg: { auths?: Record<string, { auth?: unknown; username?: unknown; password?: unknown }> };
  try {
    cfg = JSON.parse(configText) as typeof cfg;
  } catch {
    return undefined;
  }
  const auths = cfg.auths ?? {};
  const keys = registry === 'docker.io' ? DOCKER_HUB_KEYS : [registry, `https://${registry}`, `http://${registry}`, `https://${registry}/v1/`, `https://${registry}/v2/`];
  for (const k of keys) {
    const a = auths[k];
    if (!a) continue;
    if (typeof a.auth === 'string' && a.auth !== '') {
      const decoded = Buffer.from(a.auth, 'base64').toString('utf8');
      const colon = decoded.indexOf(':');
      if (colon > 0) return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1), serveraddress: registry };
    }
    if (typeof a.username === 'string' && typeof a.password === 'string') return { username: a.username, password: a.password, serveraddress: registry };
  }
  return undefined;
}

// Where the Docker daemon is, as the docker CLI finds it: DOCKER_HOST (unix://, tcp://, http(s)://),
// with DOCKER_TLS_VERIFY/DOCKER_CERT_PATH for TLS, else the default socket. With `preferMinikube` and
// the kube context `minikube`, minikube's daemon (`minikube docker-env`), as DevSpace does. Pure but
// for the certificate files, which are read by the caller.
import path from 'node:path';

export type DockerEndpoint =
  | { kind: 'socket'; socketPath: string }
  | { kind: 'tcp'; host: string; port: number; tls: boolean; certPath?: string };

export const DEFAULT_DOCKER_SOCKET = '/var/run/docker.sock';

/** A one-line error naming the variable, for a DOCKER_HOST dsa cannot use. */
export class DockerHostError extends Error {
  override readonly name = 'DockerHostError';
}

/** DOCKER_HOST & co. → endpoint. `env` holds at least DOCKER_HOST, DOCKER_TLS_VERIFY, DOCKER_CERT_PATH, HOME. */
export function dockerEndpoint(env: Readonly<Record<string, string | undefined>>): DockerEndpoint {
  const host = env.DOCKER_HOST?.trim();
  if (!host) return { kind: 'socket', socketPath: DEFAULT_DOCKER_SOCKET };
  if (host.startsWith('unix://')) {
    const p = host.slice('unix://'.length);
    if (!p.startsWith('/')) throw new DockerHostError(`DOCKER_HOST=${host}: a unix socket path must be absolute`);
    return { kind: 'socket', socketPath: p };
  }
  const m = /^(tcp|http|https):\/\/\[?([^\]/]+?)\]?(?::(\d+))?\/?$/.exec(host);
  if (!m) throw new DockerHostError(`DOCKER_HOST=${host}: expected unix:///path or tcp://host:port (ssh:// and npipe:// are not supported by dsa)`);
  const tlsVerify = env.DOCKER_TLS_VERIFY !== undefined && env.DOCKER_TLS_VERIFY !== '' && env.DOCKER_TLS_VERIFY !== '0';
  const tls = m[1] === 'https' || tlsVerify;
  const port = m[3] ? Number(m[3]) : tls ? 2376 : 2375;
  const certPath = env.DOCKER_CERT_PATH || (tls && env.HOME ? path.join(env.HOME, '.docker') : undefined);
  return { kind: 'tcp', host: m[2]!, port, tls, ...(tls && certPath ? { certPath } : {}) };
}

/** `minikube docker-env --shell none` output (KEY=VALUE lines) → the variables it sets. */
export function parseDockerEnv(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split(/\r?\n/)) {
    const m = /^\s*(?:export\s+)?([A-Z_][A-Z0-9_]*)=("?)(.*)\2\s*$/.exec(line);
    if (m && m[1]) out[m[1]] = m[3] ?? '';
  }
  return out;
}

/** Where the endpoint is, for messages. */
export function describeEndpoint(e: DockerEndpoint): string {
  return e.kind === 'socket' ? `unix://${e.socketPath}` : `${e.tls ? 'https' : 'tcp'}://${e.host}:${e.port}`;
}

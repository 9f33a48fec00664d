// Minimal Docker Registry HTTP API v2 client: "does <image>:<tag> exist, and what is its digest?".
// That is all the ImageBuild controller needs to skip a build whose content-addressed tag was pushed
// already (AlreadyBuilt). Plain fetch; `insecure` registries are spoken to over plain HTTP (as kaniko's
// --insecure does); credentials come from a kubernetes.io/dockerconfigjson Secret (basic auth, and the
// Bearer-token handshake registries such as Docker Hub/Harbor/GHCR require).
import { createHash } from 'node:crypto';
import { BlockedAddressError, DEFAULT_ADDRESS_POLICY, type AddressPolicy } from '../net/address-guard.js';
import { guardedFetch } from '../net/guarded-http.js';

export interface ImageRef {
  /** host[:port] as used in URLs. */
  registry: string;
  /** Repository path within the registry, e.g. `team/api` or `library/nginx`. */
  repository: string;
}

const DOCKER_HUB = 'registry-1.docker.io';

/** Split a repository reference (no tag/digest) into registry host and repository path. */
export function parseImageRef(image: string): ImageRef {
  const i = image.indexOf('/');
  const first = i < 0 ? '' : image.slice(0, i);
  // Docker's rule: the first component is a registry host if it has a '.' or ':' or is localhost.
  if (i >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) {
    const registry = first === 'docker.io' || first === 'index.docker.io' ? DOCKER_HUB : first;
    const repository = image.slice(i + 1);
    return { registry, repository: registry === DOCKER_HUB && !repository.includes('/') ? `library/${repository}` : repository };
  }
  return { registry: DOCKER_HUB, repository: image.includes('/') ? image : `library/${image}` };
}

export interface Credentials {
  username: string;
  password: string;
}

/** Credentials for `registry` from a .dockerconfigjson document (auths[host].auth or username/password). */
export function credentialsFromDockerConfig(json: string, registry: string): Credentials | undefined {
  let doc: { auths?: Record<string, { auth?: string; username?: string; password?: string }> };
  try {
    doc = JSON.parse(json);
  } catch {
    return undefined;
  }
  const auths = doc.auths ?? {};
  const hostOf = (k: string) => k.replace(/^https?:\/\//, '').replace(/\/.*$/, '');
  const candidates = registry === DOCKER_HUB ? [DOCKER_HUB, 'index.docker.io', 'docker.io'] : [registry];
  for (const [key, entry] of Object.entries(auths)) {
    if (!candidates.includes(hostOf(key))) continue;
    if (entry.username !== undefined && entry.password !== undefined) return { username: entry.username, password: entry.password };
    if (entry.auth) {
      const decoded = Buffer.from(entry.auth, 'base64').toString('utf8');
      const j = decoded.indexOf(':');
      if (j > 0) return { username: decoded.slice(0, j), password: decoded.slice(j + 1) };
    }
  }
  return undefined;
}

/** Registry trouble: `transient` (network, 5xx, 429) is worth a retry; otherwise it is a configuration problem. */
export class RegistryError extends Error {
  override readonly name = 'RegistryError';
  constructor(
    message: string,
    readonly status: number | undefined,
    readonly transient: boolean,
  ) {
    super(message);
  }
}

export interface ManifestLookup {
  image: string;
  tag: string;
  insecure?: boolean;
  credentials?: Credentials;
  signal?: AbortSignal;
}

export interface RegistryClientOptions {
  /** Default: node's http(s) behind the address guard (net/guarded-http.ts): registry names are tenant input. */
  fetch?: typeof fetch;
  /** Internal addresses lookups may still reach (--allow-internal-hosts). */
  addressPolicy?: AddressPolicy;
  /** Per-request timeout (default 10 s), so a dead registry cannot hold a reconcile worker. */
  timeoutMs?: number;
}

const MANIFEST_ACCEPT = [
  'application/vnd.oci.image.index.v1+json',
  'application/vnd.oci.image.manifest.v1+json',
  'application/vnd.docker.distribution.manifest.list.v2+json',
  'application/vnd.docker.distribution.manifest.v2+json',
].join(', ');

/** Parse `Bearer realm="…",service="…",scope="…"`. */
export function parseChallenge(header: string | null): { scheme: string; params: Record<string, string> } | undefined {
  if (!header) return undefined;
  const m = /^(\w+)\s+(.*)$/.exec(header.trim());
  if (!m) return undefined;
  const params: Record<string, string> = {};
  for (const p of m[2]!.matchAll(/(\w+)="([^"]*)"/g)) params[p[1]!] = p[2]!;
  return { scheme: m[1]!.toLowerCase(), params };
}

/** The parts of an OCI/Docker image config the operator reads (command, working directory, user, env). */
export interface ImageConfigFields {
  entrypoint?: string[];
  cmd?: string[];
  workingDir?: string;
  user?: string;
  env?: string[];
}

export interface ConfigLookup {
  /** Repository without tag, e.g. `registry.local:5000/team/api`. */
  image: string;
  /** Tag or `sha256:` digest. */
  reference: string;
  insecure?: boolean;
  credentials?: Credentials;
  /** Platform picked from a multi-arch index (default linux/<this process's arch>). */
  platform?: { os: string; architecture: string };
  signal?: AbortSignal;
}

/** Caps on what a registry may send us: manifests and configs are small; anything bigger is not one. */
export const MAX_MANIFEST_BYTES = 4 * 1024 * 1024;
export const MAX_CONFIG_BYTES = 8 * 1024 * 1024;

const GO_ARCH: Record<string, string> = { x64: 'amd64', arm64: 'arm64', arm: 'arm', ppc64: 'ppc64le', s390x: 's390x' };

type Json = Record<string, unknown>;
const strings = (v: unknown): string[] | undefined => (Array.isArray(v) && v.every((x) => typeof x === 'string') ? (v as string[]) : undefined);

/** The fields of an image config document (`{ config: { Entrypoint, Cmd, WorkingDir, User, Env } }`). Pure. */
export function imageConfigFields(doc: unknown): ImageConfigFields {
  const c = (doc && typeof doc === 'object' ? ((doc as Json).config as Json | undefined) : undefined) ?? {};
  const out: ImageConfigFields = {};
  const entrypoint = strings(c.Entrypoint);
  const cmd = strings(c.Cmd);
  const env = strings(c.Env);
  if (entrypoint) out.entrypoint = entrypoint;
  if (cmd) out.cmd = cmd;
  if (env) out.env = env;
  if (typeof c.WorkingDir === 'string' && c.WorkingDir !== '') out.workingDir = c.WorkingDir;
  if (typeof c.User === 'string' && c.User !== '') out.user = c.User;
  return out;
}

export class RegistryClient {
  private readonly fetch: typeof fetch;
  private readonly timeoutMs: number;

  constructor(opts: RegistryClientOptions = {}) {
    this.fetch = opts.fetch ?? guardedFetch({ policy: opts.addressPolicy ?? DEFAULT_ADDRESS_POLICY });
    this.timeoutMs = opts.timeoutMs ?? 10_000;
  }

  /** The manifest digest of `image:tag`, or undefined when the tag does not exist (404). */
  async manifestDigest(q: ManifestLookup): Promise<string | undefined> {
    const ref = parseImageRef(q.image);
    const url = `${q.insecure ? 'http' : 'https'}://${ref.registry}/v2/${ref.repository}/manifests/${encodeURIComponent(q.tag)}`;
    let auth = q.credentials ? `Basic ${Buffer.from(`${q.credentials.username}:${q.credentials.password}`).toString('base64')}` : undefined;
    let res = await this.request(url, 'HEAD', auth, q.signal);
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get('www-authenticate'));
      if (challenge?.scheme === 'bearer' && challenge.params.realm) {
        auth = `Bearer ${await this.token(challenge.params, ref, q)}`;
        res = await this.request(url, 'HEAD', auth, q.signal);
      }
    }
    if (res.status === 404) return undefined;
    if (res.ok) {
      const header = res.headers.get('docker-content-digest');
      if (header) return header;
      // Some registries omit the header on HEAD: the digest is the sha256 of the manifest bytes.
      const body = await this.request(url, 'GET', auth, q.signal);
      if (!body.ok) throw this.error(body.status, url);
      return body.headers.get('docker-content-digest') ?? `sha256:${createHash('sha256').update(Buffer.from(await body.arrayBuffer())).digest('hex')}`;
    }
    throw this.error(res.status, url);
  }

  /**
   * The config of `image:reference` (following a multi-arch index to the platform's manifest), or undefined
   * when the registry has no such image. Bodies are capped (MAX_MANIFEST_BYTES / MAX_CONFIG_BYTES) and every
   * request has the client's timeout, so a hostile or broken registry cannot hold a reconcile.
   */
  async imageConfig(q: ConfigLookup): Promise<ImageConfigFields | undefined> {
    const ref = parseImageRef(q.image);
    const base = `${q.insecure ? 'http' : 'https'}://${ref.registry}/v2/${ref.repository}`;
    const auth = { value: q.credentials ? `Basic ${Buffer.from(`${q.credentials.username}:${q.credentials.password}`).toString('base64')}` : undefined };
    const platform = q.platform ?? { os: 'linux', architecture: GO_ARCH[process.arch] ?? process.arch };
    // A digest is URL-safe and some registries do not decode an escaped `:` in it.
    const refPath = (r: string) => (/^sha256:[a-f0-9]{64}$/.test(r) ? r : encodeURIComponent(r));
    let manifest = await this.getJson(`${base}/manifests/${refPath(q.reference)}`, ref, q, auth, MAX_MANIFEST_BYTES);
    if (manifest === undefined) return undefined;
    for (let hops = 0; Array.isArray((manifest as Json).manifests); hops++) {
      if (hops > 1) throw new RegistryError(`${q.image}:${q.reference}: nested image indexes`, undefined, false);
      const entries = (manifest as Json).manifests as Array<{ digest?: string; platform?: { os?: string; architecture?: string } }>;
      const pick = entries.find((m) => m.platform?.os === platform.os && m.platform?.architecture === platform.architecture);
      if (!pick?.digest) return undefined;
      if (!/^sha256:[a-f0-9]{64}$/.test(pick.digest)) return undefined;
      manifest = await this.getJson(`${base}/manifests/${pick.digest}`, ref, q, auth, MAX_MANIFEST_BYTES);
      if (manifest === undefined) return undefined;
    }
    const digest = ((manifest as Json).config as { digest?: unknown } | undefined)?.digest;
    if (typeof digest !== 'string' || !/^sha256:[a-f0-9]{64}$/.test(digest)) return undefined;
    const config = await this.getJson(`${base}/blobs/${digest}`, ref, q, auth, MAX_CONFIG_BYTES);
    return config === undefined ? undefined : imageConfigFields(config);
  }

  /** GET a JSON document with the auth handshake; undefined on 404; size-capped. */
  private async getJson(url: string, ref: ImageRef, q: { credentials?: Credentials; signal?: AbortSignal }, auth: { value: string | undefined }, max: number): Promise<unknown> {
    let res = await this.request(url, 'GET', auth.value, q.signal);
    if (res.status === 401) {
      const challenge = parseChallenge(res.headers.get('www-authenticate'));
      if (challenge?.scheme === 'bearer' && challenge.params.realm) {
        auth.value = `Bearer ${await this.token(challenge.params, ref, q)}`;
        res = await this.request(url, 'GET', auth.value, q.signal);
      }
    }
    if (res.status === 404) return undefined;
    if (!res.ok) throw this.error(res.status, url);
    const declared = Number(res.headers.get('content-length') ?? '0');
    if (declared > max) throw new RegistryError(`registry sent ${declared} bytes for ${url}, more than the ${max} allowed`, res.status, false);
    const text = await readCapped(res, max, url);
    try {
      return JSON.parse(text);
    } catch {
      throw new RegistryError(`registry sent invalid JSON for ${url}`, res.status, false);
    }
  }

  private async token(params: Record<string, string>, ref: ImageRef, q: { credentials?: Credentials; signal?: AbortSignal }): Promise<string> {
    const u = new URL(params.realm!);
    if (params.service) u.searchParams.set('service', params.service);
    u.searchParams.set('scope', params.scope ?? `repository:${ref.repository}:pull`);
    const basic = q.credentials ? `Basic ${Buffer.from(`${q.credentials.username}:${q.credentials.password}`).toString('base64')}` : undefined;
    const res = await this.request(u.toString(), 'GET', basic, q.signal);
    if (!res.ok) throw this.error(res.status, u.origin + u.pathname);
    const body = (await res.json()) as { token?: string; access_token?: string };
    const token = body.token ?? body.access_token;
    if (!token) throw new RegistryError(`token endpoint ${u.origin}${u.pathname} returned no token`, res.status, false);
    return token;
  }

  private async request(url: string, method: 'HEAD' | 'GET', auth: string | undefined, signal?: AbortSignal): Promise<Response> {
    const timeout = AbortSignal.timeout(this.timeoutMs);
    // Blobs are negotiated by digest; the manifest media types are harmless there.
    const headers: Record<string, string> = { Accept: MANIFEST_ACCEPT };
    if (auth) headers.Authorization = auth;
    try {
      return await this.fetch(url, { method, headers, redirect: 'follow', signal: signal ? AbortSignal.any([signal, timeout]) : timeout });
    } catch (e) {
      // A refused address is configuration, not an outage: retrying will not help.
      const blocked = e instanceof BlockedAddressError || (e as { code?: unknown }).code === 'EDSABLOCKED';
      throw new RegistryError(`registry request ${method} ${url} failed: ${(e as Error).message}`, undefined, !blocked);
    }
  }

  private error(status: number, url: string): RegistryError {
    const transient = status === 429 || status >= 500;
    const hint = status === 401 || status === 403 ? ' (check registry.pushSecret)' : '';
    return new RegistryError(`registry answered ${status} for ${url}${hint}`, status, transient);
  }
}

/** The body as text, failing once more than `max` bytes arrived (the header may lie or be absent). */
async function readCapped(res: Response, max: number, url: string): Promise<string> {
  if (!res.body) return '';
  const chunks: Uint8Array[] = [];
  let n = 0;
  const reader = res.body.getReader();
  for (;;) {
    const { done, value } = await reader.read();
    if (done) break;
    n += value.byteLength;
    if (n > max) {
      await reader.cancel().catch(() => undefined);
      throw new RegistryError(`registry sent more than ${max} bytes for ${url}`, res.status, false);
    }
    chunks.push(value);
  }
  return Buffer.concat(chunks).toString('utf8');
}

// ImageConfigLookup for one session: which registry options (insecure, pull/push Secret) apply to an image
// comes from the session's spec.images entry for its repository; the answers are cached across sessions.
import type { SessionImage } from '@dsa/api';
import { credentialsFromDockerConfig, parseImageRef as registryRef, type ConfigLookup, type Credentials, type ImageConfigFields } from '../registry/client.js';
import { normalizeRepository, parseImageRef } from './image-ref.js';
import { isInsecureRegistry } from '../confinement/build-policy.js';
import type { ImageConfig, ImageConfigLookup } from './pipeline.js';

/** What the lookup needs from the registry client (RegistryClient satisfies it). */
export interface ImageConfigSource {
  imageConfig(q: ConfigLookup): Promise<ImageConfigFields | undefined>;
}

/** `.dockerconfigjson` of a Secret in `namespace`, or undefined (the ImageBuild clients have one). */
export type DockerConfigReader = (namespace: string, name: string) => Promise<string | undefined>;

/**
 * Process-wide cache of image configs by full reference. A digest reference never changes; dsa's own tags are
 * content-addressed; other tags may move, so entries expire. Bounded (oldest evicted first).
 */
export class ImageConfigCache {
  private readonly entries = new Map<string, { at: number; value: ImageConfig | undefined }>();

  constructor(
    private readonly maxEntries = 512,
    private readonly ttlMs = 10 * 60_000,
    private readonly now: () => number = Date.now,
  ) {}

  get(ref: string): { value: ImageConfig | undefined } | undefined {
    const e = this.entries.get(ref);
    if (!e) return undefined;
    if (!ref.includes('@') && this.now() - e.at > this.ttlMs) {
      this.entries.delete(ref);
      return undefined;
    }
    return { value: e.value };
  }

  set(ref: string, value: ImageConfig | undefined): void {
    this.entries.delete(ref);
    this.entries.set(ref, { at: this.now(), value });
    if (this.entries.size > this.maxEntries) {
      const oldest = this.entries.keys().next().value;
      if (oldest !== undefined) this.entries.delete(oldest);
    }
  }
}

export interface SessionImageConfigLookupOptions {
  source: ImageConfigSource;
  cache: ImageConfigCache;
  /** The session's spec.images (registry options per repository). */
  images: readonly SessionImage[];
  /** Namespace whose Secrets the session's images name. */
  namespace: string;
  readDockerConfig?: DockerConfigReader;
  signal?: AbortSignal;
  /** Who reads the Secrets (the session's impersonated account), for the cache key. */
  identity?: string;
  /** The install's insecure registries (--insecure-registries): plain HTTP without a per-image insecure: true. */
  insecureRegistries?: readonly string[];
}

export class SessionImageConfigLookup implements ImageConfigLookup {
  constructor(private readonly o: SessionImageConfigLookupOptions) {}

  async config(image: string): Promise<ImageConfig | undefined> {
    const p = parseImageRef(image);
    const reference = p.digest ?? p.tag ?? 'latest';
    const spec = this.o.images.find((i) => normalizeRepository(parseImageRef(i.image).repository) === normalizeRepository(p.repository));
    // What was fetched with a Secret's credentials is served only to lookups naming the same Secret as the same
    // identity (a private image's config is not another tenant's business).
    const secret = spec?.registry?.pullSecret || spec?.registry?.pushSecret;
    const who = secret && this.o.readDockerConfig ? `#${spec?.builder?.namespace || this.o.namespace}/${secret}@${this.o.identity ?? ''}` : '';
    const full = `${p.digest ? `${p.repository}@${p.digest}` : `${p.repository}:${reference}`}${who}`;
    const cached = this.o.cache.get(full);
    if (cached) return cached.value;
    const credentials = await this.credentials(spec, p.repository);
    const value = await this.o.source.imageConfig({
      image: p.repository,
      reference,
      insecure: spec?.registry?.insecure === true || (this.o.insecureRegistries ? isInsecureRegistry(registryRef(p.repository).registry, this.o.insecureRegistries) : false),
      ...(credentials ? { credentials } : {}),
      ...(this.o.signal ? { signal: this.o.signal } : {}),
    });
    this.o.cache.set(full, value);
    return value;
  }

  private async credentials(spec: SessionImage | undefined, repository: string): Promise<Credentials | undefined> {
    const secret = spec?.registry?.pullSecret || spec?.registry?.pushSecret;
    if (!secret || !this.o.readDockerConfig) return undefined;
    const json = await this.o.readDockerConfig(spec?.builder?.namespace || this.o.namespace, secret);
    return json ? credentialsFromDockerConfig(json, registryRef(repository).registry) : undefined;
  }
}

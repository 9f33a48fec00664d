// Docker image reference parsing, just enough for tag replacement and dev-pod image selection.
//
// The grammar (distribution/reference) is `[host[:port]/]path[:tag][@digest]`. The pitfall is the
// colon: in `host:5000/repo` it separates a port, not a tag. A colon only starts a tag when it comes
// after the last `/`.

export interface ImageRef {
  /** Everything before the tag/digest, as written (`registry.local:5000/team/api`). */
  repository: string;
  tag?: string;
  /** `sha256:…` when the reference is pinned by digest. */
  digest?: string;
}

export function parseImageRef(ref: string): ImageRef {
  let rest = ref.trim();
  let digest: string | undefined;
  const at = rest.indexOf('@');
  if (at >= 0) {
    digest = rest.slice(at + 1);
    rest = rest.slice(0, at);
  }
  let tag: string | undefined;
  const lastSlash = rest.lastIndexOf('/');
  const colon = rest.indexOf(':', lastSlash + 1);
  if (colon >= 0) {
    tag = rest.slice(colon + 1);
    rest = rest.slice(0, colon);
  }
  const out: ImageRef = { repository: rest };
  if (tag !== undefined) out.tag = tag;
  if (digest !== undefined) out.digest = digest;
  return out;
}

/** True when the reference names neither a tag nor a digest (so it means `:latest` to a runtime). */
export function isUntagged(ref: string): boolean {
  const p = parseImageRef(ref);
  return p.tag === undefined && p.digest === undefined;
}

/**
 * Canonical repository for comparisons: Docker Hub spellings collapse (`nginx`, `library/nginx`,
 * `docker.io/library/nginx`, `index.docker.io/library/nginx` are one repository). Other registries are
 * compared as written (lower-cased host, since hostnames are case-insensitive).
 */
export function normalizeRepository(repository: string): string {
  let r = repository;
  const slash = r.indexOf('/');
  const first = slash < 0 ? '' : r.slice(0, slash);
  const hasHost = first.includes('.') || first.includes(':') || first === 'localhost';
  if (!hasHost) {
    r = `docker.io/${r.includes('/') ? r : `library/${r}`}`;
  } else {
    r = `${first.toLowerCase()}${r.slice(slash)}`;
    if (r.startsWith('index.docker.io/')) r = `docker.io/${r.slice('index.docker.io/'.length)}`;
    if (r.startsWith('docker.io/') && !r.slice('docker.io/'.length).includes('/')) {
      r = `docker.io/library/${r.slice('docker.io/'.length)}`;
    }
  }
  return r;
}

export function sameRepository(a: string, b: string): boolean {
  return normalizeRepository(a) === normalizeRepository(b);
}

// What an ImageBuild may ask of its build pod (docs/security.md, "Builds"). Pure.
//
//  - builder images: only those the install allows (default: the operator's own kaniko image). A builder image
//    is code the operator runs with the push credentials mounted; a tenant must not pick it.
//  - extra executor args: an ALLOWLIST of kaniko flags that change how a build runs, never where it pushes or
//    with which credentials. kaniko has ~60 flags and each release adds some; a denylist would have to know
//    every way to redirect a push (`--destination`, `-d`, `--registry-map`, `--cache-repo`, `--oci-layout-path`,
//    `--tar-path`, `--no-push` with our digest file…) and would silently let the next new one through.
//  - registries listed as insecure (chart `registries.insecure`) get kaniko's plain-HTTP / skip-verify flags
//    without a per-image `insecure: true`.

/** kaniko flags a build may add (`--name` or `--name=value`; nothing else is accepted). */
export const ALLOWED_KANIKO_FLAGS: ReadonlySet<string> = new Set([
  'build-arg',
  'label',
  'verbosity',
  'log-format',
  'log-timestamp',
  'snapshot-mode',
  'snapshotMode',
  'single-snapshot',
  'use-new-run',
  'reproducible',
  'cache-ttl',
  'cache-copy-layers',
  'cache-run-layers',
  'compressed-caching',
  'compression',
  'compression-level',
  'cleanup',
  'custom-platform',
  'customPlatform',
  'skip-unused-stages',
  'push-retry',
  'image-fs-extract-retry',
  'image-download-retry',
  'skip-push-permission-check',
  'push-ignore-immutable-tag-errors',
  // Transport security of this build's own connections (spec.registry.insecure sets the same).
  'insecure',
  'insecure-pull',
  'skip-tls-verify',
  'skip-tls-verify-pull',
]);

const FLAG = /^--([A-Za-z][A-Za-z-]*)(=[\s\S]*)?$/;

/** The first extra arg the allowlist refuses, with why; undefined when all are allowed. */
export function refusedBuilderArg(args: readonly string[]): string | undefined {
  for (const a of args) {
    const m = FLAG.exec(a);
    if (!m) return `builder arg ${JSON.stringify(a)} is not a --flag or --flag=value (separate values and short flags are not accepted)`;
    if (!ALLOWED_KANIKO_FLAGS.has(m[1]!)) {
      return `builder arg --${m[1]} is not allowed: extra args may not change the destination, the credentials or what the build writes (allowed: ${[...ALLOWED_KANIKO_FLAGS].map((f) => `--${f}`).join(', ')})`;
    }
  }
  return undefined;
}

/** `repo@sha256:…` and `repo:tag` compare as written; `*` allows any image (unconfined installs). */
export function builderImageAllowed(image: string, allowed: readonly string[]): boolean {
  return allowed.includes('*') || allowed.includes(image);
}

/** Host (and port) of an image reference's registry, Docker's rule: a first component with `.` or `:` or `localhost`. */
export function registryHost(image: string): string {
  const i = image.indexOf('/');
  const first = i < 0 ? '' : image.slice(0, i);
  if (i >= 0 && (first.includes('.') || first.includes(':') || first === 'localhost')) return first === 'index.docker.io' ? 'docker.io' : first;
  return 'docker.io';
}

/** Whether `host[:port]` is in the install's insecure-registry list (entries `host` match any port). */
export function isInsecureRegistry(host: string, insecure: readonly string[]): boolean {
  if (insecure.length === 0) return false;
  const h = host.toLowerCase();
  const bare = h.replace(/:\d+$/, '');
  return insecure.some((e) => {
    const x = e.toLowerCase();
    return x === h || (!/:\d+$/.test(x) && x === bare);
  });
}

/** `image` repositories (destination, base images) → the kaniko flags an insecure registry list implies. */
export function insecureRegistryFlags(destination: string, baseRegistries: readonly string[], insecure: readonly string[]): string[] {
  const flags: string[] = [];
  const dest = registryHost(destination);
  if (isInsecureRegistry(dest, insecure)) flags.push('--insecure', '--skip-tls-verify');
  // kaniko's per-registry pull flag (base images, cache) for every listed registry, so a FROM on the local
  // registry works whatever the destination is.
  for (const r of [...new Set([dest, ...baseRegistries, ...insecure])].filter((r) => isInsecureRegistry(r, insecure))) flags.push(`--insecure-registry=${r}`, `--skip-tls-verify-registry=${r}`);
  return flags;
}

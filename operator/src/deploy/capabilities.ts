// What the cluster can do, for transforms that must produce different objects on different Kubernetes
// versions (a native sidecar needs 1.29+). Read once from /version and cached; a failed read is not cached,
// so the next pass asks again, and meanwhile the conservative answer (no native sidecars) is used.
import type { ClusterCapabilities } from './pipeline.js';

export interface VersionInfo {
  major: string;
  minor: string;
  gitVersion: string;
}

/** client-node's VersionApi satisfies this. */
export interface VersionSource {
  getCode(): Promise<VersionInfo>;
}

/** "1", "33+" (GKE/EKS append "+") → numbers; undefined when unparsable. */
export function parseVersion(v: VersionInfo): { major: number; minor: number } | undefined {
  const major = Number.parseInt(v.major, 10);
  const minor = Number.parseInt(v.minor, 10);
  if (Number.isFinite(major) && Number.isFinite(minor)) return { major, minor };
  // Some distributions leave major/minor empty; gitVersion is "v1.33.1-gke.100".
  const m = /^v?(\d+)\.(\d+)/.exec(v.gitVersion ?? '');
  return m ? { major: Number(m[1]), minor: Number(m[2]) } : undefined;
}

export function capabilitiesOf(v: VersionInfo | undefined): ClusterCapabilities {
  const p = v ? parseVersion(v) : undefined;
  if (!v || !p) return { nativeSidecars: false };
  return {
    serverVersion: { ...p, gitVersion: v.gitVersion },
    // SidecarContainers: beta and enabled by default from 1.29.
    nativeSidecars: p.major > 1 || (p.major === 1 && p.minor >= 29),
  };
}

export class CapabilitiesProbe {
  private known: ClusterCapabilities | undefined;
  private inflight: Promise<ClusterCapabilities> | undefined;

  constructor(private readonly source: VersionSource) {}

  async get(): Promise<ClusterCapabilities> {
    if (this.known) return this.known;
    this.inflight ??= this.source.getCode().then(
      (v) => (this.known = capabilitiesOf(v)),
      () => capabilitiesOf(undefined),
    ).finally(() => (this.inflight = undefined));
    return this.inflight;
  }
}

// What the DevSession reconciler reads, all from the shared informer cache (no GET/LIST per pass):
// the session itself, other sessions (dependencies), and ImageBuilds. Our own writes are served until the
// cache shows them (FreshReader), so a pass right after a status write never sees the status before it.
import type { KubernetesObject } from '@kubernetes/client-node';
import type { DevSession, ImageBuild } from '@dsa/api';
import { FreshReader, coversNamespace, type Clock, type SharedInformer } from '../../runtime/index.js';
import type { ScopeFilter } from '../../scope/scope.js';

export interface DevSessionReads {
  /** The session to reconcile; undefined when gone — or not this operator's (scope). */
  session(namespace: string, name: string): DevSession | undefined;
  /** Any session, in scope or not (a dependency may belong to another operator). */
  anySession(namespace: string, name: string): DevSession | undefined;
  /** Whether ImageBuilds of `namespace` are in the cache at all. */
  coversImageBuilds(namespace: string): boolean;
  imageBuild(namespace: string, name: string): ImageBuild | undefined;
  /** ImageBuilds of `namespace` carrying every label in `labels`. */
  imageBuilds(namespace: string, labels: Readonly<Record<string, string>>): ImageBuild[];
  /** Record what a write of ours returned (status, finalizers). */
  sessionWritten(obj: DevSession | undefined): void;
  imageBuildWritten(obj: ImageBuild | undefined): void;
}

export class InformerDevSessionReads implements DevSessionReads {
  private readonly sessions: FreshReader<KubernetesObject>;
  private readonly builds: FreshReader<KubernetesObject>;

  constructor(
    private readonly sessionInformer: SharedInformer<KubernetesObject>,
    private readonly buildInformer: SharedInformer<KubernetesObject>,
    private readonly scope?: ScopeFilter,
    clock?: Clock,
  ) {
    this.sessions = new FreshReader(sessionInformer, { clock });
    this.builds = new FreshReader(buildInformer, { clock });
  }

  session(namespace: string, name: string): DevSession | undefined {
    const s = this.sessions.get(namespace, name);
    if (!s || (this.scope && !this.scope.inScope(s))) return undefined;
    return s as unknown as DevSession;
  }

  anySession(namespace: string, name: string): DevSession | undefined {
    return this.sessions.get(namespace, name) as unknown as DevSession | undefined;
  }

  coversImageBuilds(namespace: string): boolean {
    return coversNamespace(this.buildInformer, namespace);
  }

  imageBuild(namespace: string, name: string): ImageBuild | undefined {
    return this.builds.get(namespace, name) as unknown as ImageBuild | undefined;
  }

  imageBuilds(namespace: string, labels: Readonly<Record<string, string>>): ImageBuild[] {
    const want = Object.entries(labels);
    return this.buildInformer
      .list(namespace)
      .filter((o) => want.every(([k, v]) => o.metadata?.labels?.[k] === v))
      .map((o) => (this.builds.get(namespace, o.metadata?.name ?? '') ?? o) as unknown as ImageBuild);
  }

  sessionWritten(obj: DevSession | undefined): void {
    this.sessions.recordWrite(obj as unknown as KubernetesObject | undefined);
  }

  imageBuildWritten(obj: ImageBuild | undefined): void {
    this.builds.recordWrite(obj as unknown as KubernetesObject | undefined);
  }
}

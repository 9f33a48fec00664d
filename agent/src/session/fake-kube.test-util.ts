// In-memory SessionKube for the session and dev-loop unit tests (not a test file itself).
import type { V1Pod } from '@kubernetes/client-node';
import { ANNOTATIONS, type DevSession, type ImageBuild } from '@dsa/api';
import type { AgentStatus, SecretForApply, SessionKube, SessionRef, SessionWatchOptions } from './kube.js';

const key = (r: SessionRef) => `${r.namespace}/${r.name}`;

export class FakeKube implements SessionKube {
  namespaces = new Set<string>(['default']);
  sessions = new Map<string, DevSession>();
  builds = new Map<string, ImageBuild>();
  pods: V1Pod[] = [];
  calls: string[] = [];
  /** Called on each getSession (advance the fake operator). */
  onGetSession?: (ref: SessionRef, s: DevSession | undefined) => DevSession | undefined;
  applyError?: unknown;

  async ensureNamespace(name: string) {
    this.calls.push(`ns ${name}`);
    if (this.namespaces.has(name)) return false;
    this.namespaces.add(name);
    return true;
  }
  async applySession(s: DevSession) {
    this.calls.push(`apply ${s.metadata.namespace}/${s.metadata.name}`);
    if (this.applyError) throw this.applyError;
    const prev = this.sessions.get(key({ namespace: s.metadata.namespace!, name: s.metadata.name }));
    const changed = !prev || JSON.stringify(prev.spec) !== JSON.stringify(s.spec);
    const stored: DevSession = { ...structuredClone(s), metadata: { ...s.metadata, uid: prev?.metadata.uid ?? `uid-${s.metadata.name}`, generation: (prev?.metadata.generation ?? 0) + (changed ? 1 : 0) }, ...(prev?.status ? { status: prev.status } : {}) };
    this.sessions.set(key({ namespace: s.metadata.namespace!, name: s.metadata.name }), stored);
    return structuredClone(stored);
  }
  /** Secrets as last applied, by namespace/name. */
  secrets = new Map<string, SecretForApply>();
  async applySecret(s: SecretForApply) {
    this.calls.push(`secret ${s.metadata.namespace}/${s.metadata.name}${s.metadata.ownerReferences?.length ? ` owner ${s.metadata.ownerReferences[0]!.name}` : ''}`);
    if (this.applyError) throw this.applyError;
    this.secrets.set(`${s.metadata.namespace}/${s.metadata.name}`, structuredClone(s));
  }
  /** Agent status writes, in order (undefined = detached). */
  agentStatus: Array<AgentStatus | undefined> = [];
  async applyAgentStatus(ref: SessionRef, status: AgentStatus | undefined) {
    this.calls.push(`agent-status ${key(ref)} ${status ? status.sync : '-'}`);
    this.agentStatus.push(status && { ...status });
  }
  async getSession(ref: SessionRef) {
    const s = this.sessions.get(key(ref));
    const next = this.onGetSession ? this.onGetSession(ref, s) : s;
    if (next) this.sessions.set(key(ref), next);
    else this.sessions.delete(key(ref));
    return next ? structuredClone(next) : undefined;
  }
  /** Open watches; `push` and `remove` feed them. */
  watchers: Array<{ ref: SessionRef; opts: SessionWatchOptions; end: (err?: unknown) => void }> = [];
  /** Thrown by every watchSession call while set (a watch the user may not open, a broken apiserver). */
  watchError?: unknown;
  /** The resourceVersion each watch started from, in order. */
  watchFrom: Array<string | undefined> = [];
  private rv = 100;
  async watchSession(ref: SessionRef, opts: SessionWatchOptions) {
    this.watchFrom.push(opts.resourceVersion);
    if (this.watchError) throw this.watchError;
    if (opts.signal.aborted) return;
    await new Promise<void>((resolve, reject) => {
      const w = {
        ref,
        opts,
        end: (err?: unknown) => {
          this.watchers = this.watchers.filter((x) => x !== w);
          opts.signal.removeEventListener('abort', onAbort);
          if (err === undefined) resolve();
          else reject(err);
        },
      };
      const onAbort = () => w.end();
      opts.signal.addEventListener('abort', onAbort, { once: true });
      this.watchers.push(w);
    });
  }
  /** Store a new version of a session (a fresh resourceVersion) and tell the watches. */
  push(s: DevSession): DevSession {
    const stored = structuredClone(s);
    stored.metadata.resourceVersion = String(++this.rv);
    this.sessions.set(key({ namespace: stored.metadata.namespace!, name: stored.metadata.name }), stored);
    for (const w of [...this.watchers]) if (key(w.ref) === key({ namespace: stored.metadata.namespace!, name: stored.metadata.name })) w.opts.onEvent('MODIFIED', structuredClone(stored));
    return stored;
  }
  /** Delete a session outright and tell the watches. */
  remove(ref: SessionRef): void {
    const s = this.sessions.get(key(ref));
    this.sessions.delete(key(ref));
    for (const w of [...this.watchers]) if (key(w.ref) === key(ref) && s) w.opts.onEvent('DELETED', structuredClone(s));
  }
  /** End every open watch, as the apiserver does after timeoutSeconds (or with an error). */
  endWatches(err?: unknown): void {
    for (const w of [...this.watchers]) w.end(err);
  }
  async setKeepDeployments(ref: SessionRef, keep: boolean) {
    this.calls.push(`keep ${key(ref)} ${keep}`);
    const s = this.sessions.get(key(ref));
    if (s) s.spec.keepDeployments = keep;
  }
  async deleteSession(ref: SessionRef) {
    this.calls.push(`delete ${key(ref)}`);
    const s = this.sessions.get(key(ref));
    if (!s) return false;
    s.metadata.deletionTimestamp = '2026-01-01T00:00:00Z';
    return true;
  }
  /** Called on each getImageBuild (advance the fake operator). */
  onGetImageBuild?: (ref: SessionRef, b: ImageBuild | undefined) => ImageBuild | undefined;
  async getImageBuild(ref: SessionRef) {
    const b = this.builds.get(key(ref));
    const next = this.onGetImageBuild ? this.onGetImageBuild(ref, b) : b;
    if (next) this.builds.set(key(ref), next);
    return next ? structuredClone(next) : undefined;
  }
  async requestBuild(ref: SessionRef, requestedAt: string) {
    this.calls.push(`request-build ${key(ref)} ${requestedAt}`);
    const b = this.builds.get(key(ref));
    if (!b) return false;
    b.metadata.annotations = { ...(b.metadata.annotations ?? {}), [ANNOTATIONS.requestedAt]: requestedAt };
    return true;
  }
  async listPods(namespace: string, labelSelector?: string) {
    const want = (labelSelector ?? '').split(',').filter(Boolean).map((kv) => kv.split('=') as [string, string]);
    return this.pods.filter((p) => (p.metadata?.namespace ?? 'default') === namespace && want.every(([k, v]) => p.metadata?.labels?.[k] === v));
  }
  async getPod(namespace: string, name: string) {
    return this.pods.find((p) => p.metadata?.name === name && (p.metadata?.namespace ?? 'default') === namespace);
  }
}

export function session(name: string, spec: Partial<DevSession['spec']> = {}, namespace = 'dev'): DevSession {
  return { apiVersion: 'dsa.dev/v1alpha1', kind: 'DevSession', metadata: { name, namespace }, spec: { project: name, ...spec } };
}

export function pod(name: string, opts: { namespace?: string; labels?: Record<string, string>; containers?: Array<{ name: string; image?: string }>; phase?: string; ready?: boolean; created?: string } = {}): V1Pod {
  return {
    metadata: { name, namespace: opts.namespace ?? 'dev', labels: opts.labels ?? {}, creationTimestamp: new Date(opts.created ?? '2026-01-01T00:00:00Z') },
    spec: { containers: (opts.containers ?? [{ name: 'app', image: 'reg/app:1' }]).map((c) => ({ name: c.name, image: c.image ?? 'reg/app:1' })) },
    status: { phase: opts.phase ?? 'Running', conditions: [{ type: 'Ready', status: opts.ready === false ? 'False' : 'True' }] },
  };
}

/** A clock + sleep pair where sleeping advances the clock instantly. */
export function fakeTime(start = 0) {
  let t = start;
  return {
    now: () => t,
    sleep: async (ms: number) => {
      t += ms;
    },
  };
}

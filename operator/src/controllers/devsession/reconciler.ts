// DevSession reconciler: a short driver over ordered sub-steps (Flux style), each returning either
// "continue" or an Outcome that ends the pass, and ONE summarize step that turns the outcome into
// conditions/phase/message and writes status through /status with server-side apply.
//
//   finalizer → (deletion: remove inventory, drop finalizer) → dependencies → images → deployments
//   (render → tag replacement → labels/namespace → dev overrides → apply → prune → rollout) → dev pods
//
// Error policy: a StallError (the spec cannot be satisfied as written) sets Stalled=True; without a
// retryAfter it ends in a TerminalError (the controller records a Warning and does not retry; a new
// generation does), with one it requeues after ≥ 1 minute. Anything else is transient and thrown to
// the controller's rate-limited backoff. Nothing here loops hot.
import type { KubernetesObject, V1Pod } from '@kubernetes/client-node';
import {
  API_VERSION,
  DEVSESSION,
  FINALIZER,
  LABELS,
  Reason,
  SessionPhase,
  desiredImageBuilds,
  shortenName,
  type DevSession,
  type DevSessionStatus,
  type ImageBuild,
  type InventoryEntry,
  type SessionDeploymentStatus,
  type SessionImageStatus,
  type DependencyStatus,
  type DevPodStatus,
} from '@dsa/api';
import {
  TerminalError,
  apiErrorMessage,
  ensureFinalizer,
  hasFinalizer,
  realClock,
  removeFinalizer,
  statusCode,
  type Clock,
  type EventRecorder,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
  type Condition,
} from '../../runtime/index.js';
import { decorateObjects } from '../../deploy/decorate.js';
import { SLOW_RETRY_MS, StallError } from '../../deploy/errors.js';
import type { GitFetcher } from '../../deploy/git-source.js';
import { HelmRenderer } from '../../deploy/helm.js';
import { deletionOrder, duplicates, inventoryEntry, inventoryKey, toPrune } from '../../deploy/inventory.js';
import { KustomizeRenderer } from '../../deploy/kustomize.js';
import { renderDeployment } from '../../deploy/render.js';
import { objectReadiness, summarizeReadiness, type Readiness } from '../../deploy/rollout.js';
import { BuiltImageIndex } from '../../deploy/tag-replacement.js';
import { parseImageRef } from '../../deploy/image-ref.js';
import { DependencyCycleError, dependencyOrder } from './deps/dependency-order.js';
import { applyDevOverrides } from './dev-overrides.js';
import { pickDevPod, selectorString } from './dev-pods.js';
import { isUnknownKind, type DevSessionKube } from './kube.js';
import { statusEqual, summarize, type Outcome } from './status.js';

export interface DevSessionReconcilerDeps {
  kube: DevSessionKube;
  /** Informer-cache lookup of DevSessions: the dependency graph is walked here, not through the API. */
  sessions: { get(namespace: string, name: string): DevSession | undefined };
  events?: EventRecorder;
  helm?: HelmRenderer;
  kustomize?: KustomizeRenderer;
  /** Git checkouts for kubectl.git / helm.chart.git; without it those deployments stall with a message. */
  git?: GitFetcher;
  clock?: Clock;
  /** Scratch dir for charts and values files (default: os.tmpdir()). */
  workDir?: string;
  /** Poll interval while rollouts are in progress (default 5 s; 30 s after the first 2 minutes). */
  rolloutPollMs?: number;
}

type Step = { kind: 'continue' } | Outcome;
const CONTINUE: Step = { kind: 'continue' };

/** `ns/name` for a DevSession. */
export const sessionKey = (namespace: string, name: string) => `${namespace}/${name}`;

export class DevSessionReconciler implements Reconciler<KubernetesObject> {
  private readonly kube: DevSessionKube;
  private readonly clock: Clock;
  private readonly helm: HelmRenderer;
  private readonly kustomize: KustomizeRenderer;
  /** uid/generation → when we started waiting for its rollout (poll faster at first). */
  private readonly rolloutSince = new Map<string, number>();

  constructor(private readonly deps: DevSessionReconcilerDeps) {
    this.kube = deps.kube;
    this.clock = deps.clock ?? realClock;
    this.helm = deps.helm ?? new HelmRenderer();
    this.kustomize = deps.kustomize ?? KustomizeRenderer.fromEnv();
  }

  async reconcile(req: Request, ctx: ReconcileContext<KubernetesObject>): Promise<Result | void> {
    const session = await this.kube.getSession(req.namespace, req.name);
    if (!session) {
      this.forgetRollouts(ctx.cached?.metadata?.uid);
      return;
    }
    if (session.metadata.deletionTimestamp) return this.finalize(session, ctx);

    // The finalizer goes on before anything exists that would need cleaning up.
    await ensureFinalizer(session as KubernetesObject, FINALIZER, this.kube.sessionPatcher(req.namespace, req.name));

    const st = this.initialStatus(session);
    let outcome: Outcome;
    if (session.spec.suspend) {
      outcome = { kind: 'suspended' };
    } else {
      let step = this.dependencies(session, st);
      let built = new BuiltImageIndex({});
      if (step.kind === 'continue') ({ step, built } = await this.images(session, st));
      if (step.kind === 'continue') step = await this.deployments(session, st, built, ctx);
      outcome = step.kind === 'continue' ? { kind: 'done', message: `${st.deploymentsReady ?? '0/0'} deployments ready` } : step;
    }
    return this.finish(session, st, outcome, ctx);
  }

  // ── status plumbing ───────────────────────────────────────────────────────────────────────────────

  /** What carries over from the last status when a step does not get to recompute it. */
  private initialStatus(s: DevSession): DevSessionStatus {
    const prev = s.status ?? {};
    const st: DevSessionStatus = {};
    for (const k of ['images', 'imagesBuilt', 'deployments', 'deploymentsReady', 'inventory', 'pods', 'dependencies'] as const) {
      if (prev[k] !== undefined) (st as Record<string, unknown>)[k] = prev[k];
    }
    st.imagesBuilt ??= '0/0';
    st.deploymentsReady ??= `0/${s.spec.deployments?.length ?? 0}`;
    return st;
  }

  private async finish(s: DevSession, st: DevSessionStatus, outcome: Outcome, ctx: ReconcileContext<KubernetesObject>): Promise<Result | void> {
    const status = summarize(s, st, outcome, this.clock.now());
    // An unchanged status is not written: no watch event, no reconcile triggered by our own write.
    if (!statusEqual(s.status, status)) await this.kube.applySessionStatus(s, status);
    await this.transitionEvents(s, outcome);
    if (outcome.kind !== 'wait') this.forgetRollouts(s.metadata.uid);
    switch (outcome.kind) {
      case 'wait':
        return outcome.requeueAfterMs ? { requeueAfter: outcome.requeueAfterMs } : undefined;
      case 'stall':
        if (outcome.retryAfterMs !== undefined) return { requeueAfter: Math.max(outcome.retryAfterMs, SLOW_RETRY_MS) };
        ctx.log.info({ reason: outcome.reason }, outcome.message);
        throw new TerminalError(outcome.reason, outcome.message);
      default:
        return undefined;
    }
  }

  private async transitionEvents(s: DevSession, outcome: Outcome): Promise<void> {
    const ev = this.deps.events;
    if (!ev) return;
    const obj = s as KubernetesObject;
    const wasReady = (s.status?.conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready')?.status === 'True';
    if (outcome.kind === 'done' && !wasReady) {
      await ev.recordOnce(obj, 'Ready', { type: 'Normal', reason: 'Deployed', action: 'Deploy', note: outcome.message });
    } else if (outcome.kind === 'stall' && outcome.retryAfterMs !== undefined) {
      // Terminal stalls get their Warning from the controller (TerminalError); slow-retry ones from here.
      await ev.recordOnce(obj, 'Ready', { type: 'Warning', reason: outcome.reason, action: 'Reconcile', note: outcome.message });
    }
  }

  private forgetRollouts(uid: string | undefined): void {
    if (!uid) return;
    for (const k of [...this.rolloutSince.keys()]) if (k.startsWith(`${uid}/`)) this.rolloutSince.delete(k);
  }

  // ── deletion ──────────────────────────────────────────────────────────────────────────────────────

  private async finalize(s: DevSession, ctx: ReconcileContext<KubernetesObject>): Promise<Result | void> {
    if (!hasFinalizer(s as KubernetesObject, FINALIZER)) return;
    const ns = s.metadata.namespace ?? '';
    const inventory = s.status?.inventory ?? [];
    if (s.status?.phase !== SessionPhase.Deleting) {
      const status = summarize(s, { ...(s.status ?? {}), phase: SessionPhase.Deleting }, { kind: 'wait', reason: Reason.Deleting, message: 'deleting', phase: SessionPhase.Deleting }, this.clock.now());
      await this.kube.applySessionStatus(s, status).catch((e: unknown) => ctx.log.debug({ err: apiErrorMessage(e) }, 'status before deletion not written'));
    }
    if (!s.spec.keepDeployments) {
      for (const e of deletionOrder(inventory)) {
        await this.kube.delete(e);
      }
    }
    // ImageBuilds in the session's namespace go with the ownerReference; cross-namespace ones have none.
    for (const ib of desiredImageBuilds(s)) {
      if ((ib.metadata.namespace ?? ns) !== ns) await this.kube.delete({ apiVersion: API_VERSION, kind: 'ImageBuild', namespace: ib.metadata.namespace, name: ib.metadata.name });
    }
    await removeFinalizer(s as KubernetesObject, FINALIZER, this.kube.sessionPatcher(ns, s.metadata.name));
    ctx.log.info({ deleted: s.spec.keepDeployments ? 0 : inventory.length, kept: s.spec.keepDeployments ? inventory.length : 0 }, 'session cleaned up');
    this.deps.events?.forget(s as KubernetesObject);
    this.forgetRollouts(s.metadata.uid);
  }

  // ── dependencies ──────────────────────────────────────────────────────────────────────────────────

  private dependencies(s: DevSession, st: DevSessionStatus): Step {
    const ns = s.metadata.namespace ?? '';
    const direct = s.spec.dependencies ?? [];
    if (direct.length === 0) {
      delete st.dependencies;
      return CONTINUE;
    }
    const root = sessionKey(ns, s.metadata.name);
    const edgesOf = (x: DevSession) => (x.spec.dependencies ?? []).map((d) => sessionKey(d.namespace || (x.metadata.namespace ?? ''), d.name));
    try {
      dependencyOrder([root], (key) => {
        if (key === root) return edgesOf(s);
        const [n, name] = splitKey(key);
        const other = this.deps.sessions.get(n, name);
        return other ? edgesOf(other) : undefined;
      });
    } catch (e) {
      if (e instanceof DependencyCycleError) {
        // Same-namespace cycles read better without the namespace.
        const pretty = e.cycle.map((k) => (splitKey(k)[0] === ns ? splitKey(k)[1] : k));
        return { kind: 'stall', reason: Reason.DependencyCycle, message: `dependency cycle: ${pretty.join(' -> ')}` };
      }
      throw e;
    }
    const statuses: DependencyStatus[] = [];
    const waiting: string[] = [];
    const failed: string[] = [];
    let missing = false;
    for (const d of direct) {
      const dns = d.namespace || ns;
      const other = this.deps.sessions.get(dns, d.name);
      const entry: DependencyStatus = { name: d.name, ready: false };
      if (d.namespace) entry.namespace = d.namespace;
      if (!other) {
        missing = true;
        entry.message = 'not found';
      } else {
        const conds = (other.status?.conditions ?? []) as Condition[];
        const ready = conds.find((c) => c.type === 'Ready');
        const stalled = conds.find((c) => c.type === 'Stalled' && c.status === 'True');
        // Ready for the dependency's CURRENT spec, not a previous one.
        entry.ready = ready?.status === 'True' && ready.observedGeneration === other.metadata.generation;
        entry.message = entry.ready ? 'ready' : stalled ? `stalled: ${stalled.message}` : (other.status?.message ?? 'not ready yet');
        if (stalled && !entry.ready) failed.push(`${d.name} (${stalled.message})`);
      }
      if (!entry.ready) waiting.push(`${d.name} (${entry.message})`);
      statuses.push(entry);
    }
    st.dependencies = statuses;
    if (failed.length > 0) {
      // Wakes up through the dependents watch when the dependency changes.
      return { kind: 'stall', reason: Reason.DependencyFailed, message: `dependency failed: ${failed.join(', ')}` };
    }
    if (waiting.length > 0) {
      return {
        kind: 'wait',
        reason: Reason.WaitingForDependencies,
        phase: SessionPhase.Pending,
        message: `waiting for dependencies: ${waiting.join(', ')}`,
        // A missing session appears through the informer too; the poll is a safety net only.
        ...(missing ? { requeueAfterMs: SLOW_RETRY_MS } : {}),
      };
    }
    return CONTINUE;
  }

  // ── images ────────────────────────────────────────────────────────────────────────────────────────

  /** Ensures the ImageBuild children and collects what they built (repo → tag) for tag replacement. */
  private async images(s: DevSession, st: DevSessionStatus): Promise<{ step: Step; built: BuiltImageIndex }> {
    const ns = s.metadata.namespace ?? '';
    const desired = desiredImageBuilds(s);
    const builtTags: Record<string, string> = {};
    // Never-built images with an explicit tag still get it substituted (devspace `build.disabled`).
    for (const img of s.spec.images ?? []) if (img.skip && img.tags?.[0]) builtTags[img.image] = img.tags[0];

    const statuses: SessionImageStatus[] = [];
    const pending: string[] = [];
    let succeeded = 0;
    for (const ib of desired) {
      const live = (await this.kube.apply(ib as KubernetesObject)) as ImageBuild;
      const imageName = ib.metadata.labels?.[LABELS.image] ?? ib.metadata.name;
      const current = live.status?.observedGeneration === undefined || live.status.observedGeneration === live.metadata.generation;
      const phase = current ? live.status?.phase : undefined;
      const entry: SessionImageStatus = { name: imageName, imageBuild: ib.metadata.name };
      if (phase) entry.phase = phase;
      if (phase === 'Succeeded') {
        const tag = live.status?.tag ?? live.spec.tag ?? (live.status?.image ? parseImageRef(live.status.image).tag : undefined);
        if (tag) {
          builtTags[live.spec.image] = tag;
          entry.image = live.status?.image ?? `${live.spec.image}:${tag}`;
          if (live.status?.digest) entry.digest = live.status.digest;
          succeeded++;
        } else pending.push(`${imageName} (succeeded without a tag)`);
      } else if (phase === 'Failed') {
        st.images = [...statuses, entry];
        st.imagesBuilt = `${succeeded}/${desired.length}`;
        const message = `image ${imageName} failed to build: ${live.status?.message ?? 'no message'}`;
        return { step: { kind: 'stall', reason: Reason.ImageBuildFailed, message }, built: new BuiltImageIndex(builtTags) };
      } else {
        pending.push(`${imageName} (${phase ?? 'Pending'})`);
      }
      statuses.push(entry);
    }
    await this.pruneImageBuilds(s, new Set(desired.map((d) => `${d.metadata.namespace ?? ns}/${d.metadata.name}`)));
    if (statuses.length) st.images = statuses;
    else delete st.images;
    st.imagesBuilt = `${succeeded}/${desired.length}`;
    const built = new BuiltImageIndex(builtTags);
    if (pending.length > 0) {
      // ImageBuild status changes wake us through the watch; no polling.
      return { step: { kind: 'wait', reason: Reason.WaitingForImages, phase: SessionPhase.Building, message: `building images: ${pending.join(', ')}` }, built };
    }
    return { step: CONTINUE, built };
  }

  /** ImageBuilds of this session whose image was removed from the spec. */
  private async pruneImageBuilds(s: DevSession, keep: Set<string>): Promise<void> {
    const ns = s.metadata.namespace ?? '';
    const namespaces = new Set([ns, ...(s.spec.images ?? []).map((i) => i.builder?.namespace || ns)]);
    const selector = selectorString({ [LABELS.session]: shortenName(s.metadata.name), [LABELS.sessionNamespace]: shortenName(ns) });
    for (const n of namespaces) {
      for (const ib of await this.kube.listImageBuilds(n, selector)) {
        if (!keep.has(`${n}/${ib.metadata.name}`)) await this.kube.delete({ apiVersion: API_VERSION, kind: 'ImageBuild', namespace: n, name: ib.metadata.name });
      }
    }
  }

  // ── deployments ───────────────────────────────────────────────────────────────────────────────────

  private async deployments(s: DevSession, st: DevSessionStatus, built: BuiltImageIndex, ctx: ReconcileContext<KubernetesObject>): Promise<Step> {
    const ns = s.metadata.namespace ?? '';
    const deployments = s.spec.deployments ?? [];
    const previous = s.status?.inventory ?? [];
    const inventory: InventoryEntry[] = [];
    const depStatuses: SessionDeploymentStatus[] = [];
    const namespacedCache = new Map<string, boolean | undefined>();
    let stall: Extract<Outcome, { kind: 'stall' }> | undefined;
    let blockedBy: string | undefined;

    for (const dep of deployments) {
      if (stall || blockedBy) {
        depStatuses.push({ name: dep.name, ready: false, message: stall ? 'not applied: an earlier deployment failed' : `waiting for ${blockedBy} (helm wait)` });
        continue;
      }
      const target = dep.namespace || ns;
      try {
        const rendered = await renderDeployment(dep, {
          namespace: target,
          built,
          helm: this.helm,
          kustomize: this.kustomize,
          git: this.deps.git,
          workDir: this.deps.workDir,
          signal: ctx.signal,
        });
        if (rendered.replaced.length) ctx.log.debug({ deployment: dep.name, replaced: rendered.replaced }, 'tag replacement');
        for (const o of rendered.objects) {
          const k = `${o.apiVersion}\0${o.kind}`;
          if (!namespacedCache.has(k)) namespacedCache.set(k, await this.kube.isNamespaced(o.apiVersion ?? '', o.kind ?? ''));
        }
        const decorated = decorateObjects(rendered.objects, {
          session: s.metadata.name,
          sessionNamespace: ns,
          deployment: dep.name,
          defaultNamespace: target,
          isNamespaced: (a, k) => namespacedCache.get(`${a}\0${k}`),
        });
        const { objects } = applyDevOverrides(decorated, {
          devPods: s.spec.dev?.pods ?? [],
          images: s.spec.images ?? [],
          interactive: s.spec.dev?.interactive ?? false,
          sessionNamespace: ns,
          built,
        });
        const entries = objects.map((o) => inventoryEntry(o, dep.name));
        const dups = duplicates([...inventory, ...entries]);
        if (dups.length) throw new StallError(Reason.InvalidSpec, `the same object is rendered twice: ${dups.join('; ')}`);

        const readiness: Readiness[] = [];
        for (const obj of objects) {
          const live = await this.applyOne(dep.name, obj);
          inventory.push(inventoryEntry(obj, dep.name));
          readiness.push(objectReadiness(live));
        }
        let summary = summarizeReadiness(readiness);
        if (dep.helm && dep.helm.wait === false && !summary.failed) summary = { ready: true, message: `applied ${objects.length} objects (helm wait: false)` };
        const ds: SessionDeploymentStatus = { name: dep.name, ready: summary.ready, message: summary.message, resources: objects.length };
        depStatuses.push(ds);
        if (summary.failed) {
          stall = { kind: 'stall', reason: Reason.DeployFailed, message: `deployment ${dep.name}: ${summary.message}`, retryAfterMs: SLOW_RETRY_MS };
        } else if (!summary.ready && dep.helm?.wait === true) {
          blockedBy = dep.name;
        }
      } catch (e) {
        if (!(e instanceof StallError)) throw e;
        depStatuses.push({ name: dep.name, ready: false, message: e.message });
        stall = { kind: 'stall', reason: e.reason, message: e.message, ...(e.retryAfterMs !== undefined ? { retryAfterMs: e.retryAfterMs } : {}) };
      }
    }

    const complete = !stall && !blockedBy;
    if (complete) {
      const gone = toPrune(previous, inventory);
      for (const e of gone) await this.kube.delete(e);
      if (gone.length) {
        ctx.log.info({ pruned: gone.map((e) => `${e.kind}/${e.name}`) }, 'pruned objects no longer rendered');
        await this.deps.events?.event(s as KubernetesObject, { type: 'Normal', reason: 'Pruned', action: 'Prune', note: `deleted ${gone.map((e) => `${e.kind} ${e.name}`).join(', ')}`.slice(0, 1000) });
      }
      st.inventory = inventory;
    } else {
      // Keep what we could not re-render in the inventory, so a later prune or the deletion still finds it.
      const now = new Set(inventory.map(inventoryKey));
      st.inventory = [...inventory, ...previous.filter((e) => !now.has(inventoryKey(e)))];
    }
    if (st.inventory.length === 0) delete st.inventory;
    if (depStatuses.length) st.deployments = depStatuses;
    else delete st.deployments;
    const ready = depStatuses.filter((d) => d.ready).length;
    st.deploymentsReady = `${ready}/${deployments.length}`;
    st.pods = await this.devPods(s);
    if (st.pods.length === 0) delete st.pods;

    if (stall) return stall;
    if (ready < deployments.length) {
      const first = depStatuses.find((d) => !d.ready);
      return {
        kind: 'wait',
        reason: Reason.RolloutInProgress,
        phase: SessionPhase.Deploying,
        message: `${st.deploymentsReady} deployments ready; ${first?.name}: ${first?.message ?? 'in progress'}`,
        requeueAfterMs: this.rolloutPoll(s),
      };
    }
    return CONTINUE;
  }

  /** SSA one object; apiserver rejections become stalls that name the object. */
  private async applyOne(deployment: string, obj: KubernetesObject): Promise<KubernetesObject> {
    const what = `${obj.kind} ${obj.metadata?.namespace ? `${obj.metadata.namespace}/` : ''}${obj.metadata?.name}`;
    try {
      return await this.kube.apply(obj);
    } catch (e) {
      const code = statusCode(e);
      if (code === 400 || code === 422 || code === 415) {
        throw new StallError(Reason.ManifestRejected, `deployment ${deployment}: ${what} rejected by the apiserver: ${apiErrorMessage(e)}`, undefined, { cause: e });
      }
      if (isUnknownKind(e) || code === 404) {
        // Maybe a CRD that another deployment or an admin installs later: retry slowly.
        throw new StallError(Reason.ManifestRejected, `deployment ${deployment}: ${what}: the apiserver does not serve ${obj.apiVersion} ${obj.kind}`, SLOW_RETRY_MS, { cause: e });
      }
      if (code === 403) {
        throw new StallError(Reason.DeployFailed, `deployment ${deployment}: ${what}: forbidden: ${apiErrorMessage(e)}`, SLOW_RETRY_MS, { cause: e });
      }
      throw e;
    }
  }

  private rolloutPoll(s: DevSession): number {
    const base = this.deps.rolloutPollMs ?? 5_000;
    const key = `${s.metadata.uid ?? s.metadata.name}/${s.metadata.generation ?? 0}`;
    const now = this.clock.now();
    const since = this.rolloutSince.get(key) ?? now;
    this.rolloutSince.set(key, since);
    return now - since < 120_000 ? base : Math.max(base, 30_000);
  }

  private async devPods(s: DevSession): Promise<DevPodStatus[]> {
    const ns = s.metadata.namespace ?? '';
    const out: DevPodStatus[] = [];
    const byNamespace = new Map<string, V1Pod[]>();
    for (const dp of s.spec.dev?.pods ?? []) {
      const pns = dp.selector.namespace || ns;
      let pods: V1Pod[];
      if (dp.selector.labelSelector) pods = await this.kube.listPods(pns, selectorString(dp.selector.labelSelector));
      else {
        if (!byNamespace.has(pns)) byNamespace.set(pns, await this.kube.listPods(pns));
        pods = byNamespace.get(pns)!;
      }
      const picked = pickDevPod(dp, s.spec.images ?? [], pods, pns);
      if (picked) out.push(picked);
    }
    return out;
  }
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

/** apiVersion/kind of the primary resource, for owner mapping. */
export const DEVSESSION_TYPE = { apiVersion: API_VERSION, kind: DEVSESSION.kind } as const;

// DevSession reconciler: ordered sub-steps (Flux style), each returning either "continue" or an Outcome that
// ends the pass, and the one deferred summarize-and-patch of runtime/reconcile-pass.ts that turns the outcome
// (or a thrown error) into conditions/phase/message and writes status through /status with server-side apply.
//
//   finalizer → (deletion: remove inventory, drop finalizer) → dependencies → images → deployments
//   (render → the deploy pipeline's transforms → apply → prune → rollout)
//
// Reads come from the informer cache (DevSessionReads); children are applied only when what we would apply
// changed (deploy/applied.ts), so a pass over a converged session writes nothing.
//
// Confinement (docs/security.md): what a session deploys, reads back, prunes and deletes, and the Secrets it
// reads, go through `kube.as(user)` — the session's ServiceAccount, impersonated — unless the install is
// unconfined. Pruning and cleanup trust an object's live labels (name, namespace, uid), never status.inventory.
//
// Error policy (reconcile-pass.ts): a StallError sets Stalled=True; without a retryAfter it ends in a
// TerminalError (no retry; a new generation does), with one it requeues after ≥ 1 minute. Anything else is
// transient: status says so (Reconciling=True, ProgressingWithRetry), then the controller's backoff retries.
import type { KubernetesObject } from '@kubernetes/client-node';
import {
  ANNOTATIONS,
  API_VERSION,
  DEVSESSION,
  FINALIZER,
  LABELS,
  OPERATOR_FIELD_MANAGER,
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
} from '@dsa/api';
import {
  apiErrorMessage,
  describeForbidden,
  ensureFinalizer,
  ImpersonationError,
  isForbidden,
  isRbacDenied,
  hasFinalizer,
  realClock,
  reconcilePass,
  removeFinalizer,
  silentLogger,
  statusCode,
  type Clock,
  type Condition,
  type EventRecorder,
  type JsonPatcher,
  type Logger,
  type Outcome,
  type ReconcileContext,
  type Reconciler,
  type Request,
  type Result,
} from '../../runtime/index.js';
import { AppliedMemory, appliedHash, decideApply, ownedFieldsFingerprint, withAppliedHash } from '../../deploy/applied.js';
import { SLOW_RETRY_MS, StallError } from '../../deploy/errors.js';
import type { GitFetcher } from '../../deploy/git-source.js';
import { HelmRenderer } from '../../deploy/helm.js';
import { ImageConfigCache, SessionImageConfigLookup, type ImageConfigSource } from '../../deploy/image-config.js';
import { deletionOrder, duplicates, inventoryEntry, inventoryKey, ownedBySession, toPrune } from '../../deploy/inventory.js';
import { KustomizeRenderer } from '../../deploy/kustomize.js';
import { runTransforms, type ClusterCapabilities, type DeployContext, type Transform } from '../../deploy/pipeline.js';
import { CONFINED, actingUser, type Confinement } from '../../confinement/confinement.js';
import { resolveSecretVars, type SecretVarValues } from '../../deploy/secret-vars.js';
import { renderDeployment } from '../../deploy/render.js';
import { objectReadiness, summarizeReadiness, type Readiness } from '../../deploy/rollout.js';
import { BuiltImageIndex } from '../../deploy/tag-replacement.js';
import { DEFAULT_TRANSFORMS, describeObject } from '../../deploy/transforms.js';
import { parseImageRef } from '../../deploy/image-ref.js';
import { RegistryClient } from '../../registry/client.js';
import type { ScopeFilter } from '../../scope/scope.js';
import { DependencyCycleError, dependencyOrder } from './deps/dependency-order.js';
import { isUnknownKind, type DevSessionKube, type ObjectRef, type SessionObjects } from './kube.js';
import type { DevSessionReads } from './reads.js';
import { done, sessionFields, sessionStatusEqual, summarize, withoutDevPods } from './status.js';

export interface DevSessionReconcilerDeps {
  kube: DevSessionKube;
  /** The informer cache: this session, its dependencies, its ImageBuilds. */
  reads: DevSessionReads;
  events?: EventRecorder;
  helm?: HelmRenderer;
  kustomize?: KustomizeRenderer;
  /** Git checkouts for kubectl.git / helm.chart.git; without it those deployments stall with a message. */
  git?: GitFetcher;
  clock?: Clock;
  logger?: Logger;
  /** Scratch dir for charts and values files (default: os.tmpdir()). */
  workDir?: string;
  /** Poll interval while rollouts are in progress (default 5 s; 30 s after the first 2 minutes). */
  rolloutPollMs?: number;
  /** The deploy pipeline (default DEFAULT_TRANSFORMS). */
  transforms?: readonly Transform[];
  /** What the cluster supports (native sidecars, …); default: nothing beyond the basics. */
  capabilities?: { get(): Promise<ClusterCapabilities> };
  /** Registry access for image configs (default: a RegistryClient). */
  imageConfigSource?: ImageConfigSource;
  /** Tenant confinement (confinement/confinement.ts); default CONFINED. */
  confinement?: Confinement;
  /** The install's insecure registries (--insecure-registries), for image-config lookups. */
  insecureRegistries?: readonly string[];
  /** The dev sidecar image for the sync-sidecar transform; undefined = no sidecars. */
  sidecarImage?: string;
  /** Scope labels stamped on ImageBuild children (see scope/scope.ts). */
  scope?: ScopeFilter;
}

type Step = { kind: 'continue' } | Outcome;
const CONTINUE: Step = { kind: 'continue' };

/**
 * Who a session acts as: `user` (the impersonated ServiceAccount; undefined = the operator itself) and the
 * object calls sent as that identity.
 */
interface Actor {
  user: string | undefined;
  objects: SessionObjects;
}

/** `ns/name` for a DevSession. */
export const sessionKey = (namespace: string, name: string) => `${namespace}/${name}`;

/** apiVersion/kind of the primary resource, for owner mapping. */
export const DEVSESSION_TYPE = { apiVersion: API_VERSION, kind: DEVSESSION.kind } as const;

const wait = (reason: string, phase: string, message: string, st: DevSessionStatus, requeueAfterMs?: number): Outcome => {
  st.phase = phase as DevSessionStatus['phase'];
  return { kind: 'wait', reason, message, ...(requeueAfterMs ? { requeueAfterMs } : {}) };
};

export class DevSessionReconciler implements Reconciler<KubernetesObject> {
  private readonly kube: DevSessionKube;
  private readonly reads: DevSessionReads;
  private readonly clock: Clock;
  private readonly log: Logger;
  private readonly helm: HelmRenderer;
  private readonly kustomize: KustomizeRenderer;
  private readonly transforms: readonly Transform[];
  private readonly imageConfigSource: ImageConfigSource;
  private readonly imageConfigCache = new ImageConfigCache();
  /** uid/generation → when we started waiting for its rollout (poll faster at first). */
  private readonly rolloutSince = new Map<string, number>();
  /** What we applied per object (uid-prefixed keys), to skip unchanged objects. */
  private readonly applied = new AppliedMemory();
  /** Discovery answers, for the life of the process (a kind's scope never changes while it is served). */
  private readonly namespaced = new Map<string, boolean>();
  private readonly confinement: Confinement;

  constructor(private readonly deps: DevSessionReconcilerDeps) {
    this.kube = deps.kube;
    this.reads = deps.reads;
    this.clock = deps.clock ?? realClock;
    this.log = deps.logger ?? silentLogger();
    this.helm = deps.helm ?? new HelmRenderer();
    this.kustomize = deps.kustomize ?? KustomizeRenderer.fromEnv();
    this.transforms = deps.transforms ?? DEFAULT_TRANSFORMS;
    this.imageConfigSource = deps.imageConfigSource ?? new RegistryClient();
    this.confinement = deps.confinement ?? CONFINED;
  }

  /** The identity the session acts as; throws a StallError for a ServiceAccount name that cannot be one. */
  private actor(s: DevSession): Actor {
    let user: string | undefined;
    try {
      user = actingUser(this.confinement, s.metadata.namespace ?? '', s.spec.serviceAccountName);
    } catch (e) {
      if (e instanceof ImpersonationError) throw new StallError(Reason.InvalidSpec, `spec.serviceAccountName: ${e.message}`);
      throw e;
    }
    return { user, objects: user ? this.kube.as(user) : this.kube };
  }

  async reconcile(req: Request, ctx: ReconcileContext<KubernetesObject>): Promise<Result | void> {
    const session = this.reads.session(req.namespace, req.name);
    if (!session) {
      this.forget(ctx.cached?.metadata?.uid);
      return;
    }
    if (session.metadata.deletionTimestamp) return this.finalize(session, ctx);

    const st = this.initialStatus(session);
    // `current` is what the session looked like before this pass — after the finalizer patch, the cache
    // (through the FreshReader) serves the patched object, which carries the same status.
    let current: DevSession = session;
    return reconcilePass<DevSessionStatus>({
      generation: session.metadata.generation,
      log: ctx.log,
      now: () => this.clock.now(),
      current: () => current.status,
      status: (outcome) => sessionFields(current, st, outcome),
      equal: sessionStatusEqual,
      patch: async (next) => {
        const stored = await this.kube.applySessionStatus(current, next);
        this.reads.sessionWritten(stored);
      },
      afterPatch: (outcome, written) => this.afterPatch(current, outcome, written),
      steps: async () => {
        // The finalizer goes on before anything exists that would need cleaning up.
        const patched = await ensureFinalizer(session as KubernetesObject, FINALIZER, this.recordingPatcher(req.namespace, req.name));
        if (patched) current = this.reads.session(req.namespace, req.name) ?? session;
        if (session.spec.suspend) return { kind: 'suspended', message: 'reconciliation is suspended (spec.suspend)' };
        const actor = this.actor(session);
        const deps = this.dependencies(session, st);
        if (deps.kind !== 'continue') return deps;
        const { step, built } = await this.images(session, st, actor);
        if (step.kind !== 'continue') return step;
        const deployed = await this.deployments(session, st, built, ctx, actor);
        if (deployed.kind !== 'continue') return deployed;
        return done(`${st.deploymentsReady ?? '0/0'} deployments ready`);
      },
    });
  }

  // ── status plumbing ───────────────────────────────────────────────────────────────────────────────

  /** What carries over from the last status when a step does not get to recompute it. */
  private initialStatus(s: DevSession): DevSessionStatus {
    const prev = s.status ?? {};
    const st: DevSessionStatus = {};
    // status.pods is the dev-pods controller's (its own field manager): never carried, never written here.
    for (const k of ['images', 'imagesBuilt', 'deployments', 'deploymentsReady', 'inventory', 'dependencies'] as const) {
      if (prev[k] !== undefined) (st as Record<string, unknown>)[k] = prev[k];
    }
    st.imagesBuilt ??= '0/0';
    st.deploymentsReady ??= `0/${s.spec.deployments?.length ?? 0}`;
    return st;
  }

  /** Finalizer patches go through the cache's write record, so the next read sees them. */
  private recordingPatcher(namespace: string, name: string): JsonPatcher {
    const patch = this.kube.sessionPatcher(namespace, name);
    return async (ops) => {
      const stored = await patch(ops);
      this.reads.sessionWritten(stored as DevSession | undefined);
      return stored;
    };
  }

  private async afterPatch(s: DevSession, outcome: Outcome, written: boolean): Promise<void> {
    if (outcome.kind !== 'wait') this.forgetRollouts(s.metadata.uid);
    if (outcome.kind === 'stall' && outcome.retryAfterMs === undefined) this.log.child({ namespace: s.metadata.namespace, name: s.metadata.name }).info({ reason: outcome.reason }, outcome.message);
    // Events mark transitions, i.e. passes that changed the status: a restart over converged sessions records none.
    const ev = this.deps.events;
    if (!ev || !written) return;
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

  private forget(uid: string | undefined): void {
    this.forgetRollouts(uid);
    if (uid) this.applied.forgetPrefix(`${uid}|`);
  }

  // ── deletion ──────────────────────────────────────────────────────────────────────────────────────

  private async finalize(s: DevSession, ctx: ReconcileContext<KubernetesObject>): Promise<Result | void> {
    if (!hasFinalizer(s as KubernetesObject, FINALIZER)) return;
    const ns = s.metadata.namespace ?? '';
    const inventory = s.status?.inventory ?? [];
    if (s.status?.phase !== SessionPhase.Deleting) {
      const st: DevSessionStatus = { ...(withoutDevPods(s.status) ?? {}), phase: SessionPhase.Deleting };
      const status = summarize(s, st, { kind: 'wait', reason: Reason.Deleting, message: 'deleting' }, this.clock.now());
      await this.kube.applySessionStatus(s, status).then(
        (stored) => this.reads.sessionWritten(stored),
        (e: unknown) => ctx.log.debug({ err: apiErrorMessage(e) }, 'status before deletion not written'),
      );
    }
    let actor: Actor | undefined;
    try {
      actor = this.actor(s);
    } catch (e) {
      // An invalid ServiceAccount name: nothing was ever applied as it.
      ctx.log.info({ err: (e as Error).message }, 'no identity to clean up as');
    }
    let deleted = 0;
    const kept: string[] = [];
    if (!s.spec.keepDeployments && actor) {
      for (const e of deletionOrder(inventory)) {
        const r = await this.deleteOwned(s, e, actor, 'Cleanup');
        if (r === 'deleted') deleted++;
        else if (r === 'forbidden') kept.push(describeEntry(e));
      }
    }
    if (kept.length && actor?.user) {
      // As Flux: a session whose account lost its rights (or is gone) must still be deletable; say what stays.
      await this.deps.events?.event(s as KubernetesObject, {
        type: 'Warning',
        reason: Reason.Forbidden,
        action: 'Cleanup',
        note: `left in place, ${actor.user} may not delete them: ${kept.join(', ')}`.slice(0, 1000),
      });
    }
    // ImageBuilds in the session's namespace go with the ownerReference; cross-namespace ones have none.
    for (const ib of desiredImageBuilds(s)) {
      const ibNs = ib.metadata.namespace ?? ns;
      if (ibNs !== ns && actor) {
        await actor.objects.delete({ apiVersion: API_VERSION, kind: 'ImageBuild', namespace: ibNs, name: ib.metadata.name }).catch((e: unknown) => {
          if (!isForbidden(e)) throw e;
        });
      }
    }
    await removeFinalizer(s as KubernetesObject, FINALIZER, this.recordingPatcher(ns, s.metadata.name));
    ctx.log.info({ deleted, kept: s.spec.keepDeployments ? inventory.length : inventory.length - deleted }, 'session cleaned up');
    this.deps.events?.forget(s as KubernetesObject);
    this.forget(s.metadata.uid);
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
        const other = this.reads.anySession(n, name);
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
      const other = this.reads.anySession(dns, d.name);
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
      // A missing session appears through the informer too; the poll is a safety net only.
      return wait(Reason.WaitingForDependencies, SessionPhase.Pending, `waiting for dependencies: ${waiting.join(', ')}`, st, missing ? SLOW_RETRY_MS : undefined);
    }
    return CONTINUE;
  }

  // ── images ────────────────────────────────────────────────────────────────────────────────────────

  /** Ensures the ImageBuild children and collects what they built (repo → tag) for tag replacement. */
  private async images(s: DevSession, st: DevSessionStatus, actor: Actor): Promise<{ step: Step; built: BuiltImageIndex }> {
    const ns = s.metadata.namespace ?? '';
    const scopeLabels = this.deps.scope?.childLabels(s as KubernetesObject) ?? {};
    const desired = desiredImageBuilds(s).map((ib) => ({ ...ib, metadata: { ...ib.metadata, labels: { ...(ib.metadata.labels ?? {}), ...scopeLabels } } }));
    // ImageBuilds run in the session's namespace only, unless the install allows otherwise: a build elsewhere
    // would use that namespace's push secret and quota.
    const elsewhere = desired.find((ib) => (ib.metadata.namespace ?? ns) !== ns);
    if (elsewhere && !this.confinement.allowCrossNamespace) {
      const image = elsewhere.metadata.labels?.[LABELS.image] ?? elsewhere.metadata.name;
      return {
        step: { kind: 'stall', reason: Reason.ObjectNotAllowed, message: `image ${image}: builds outside the session's namespace ${ns} are not allowed (builder.namespace ${elsewhere.metadata.namespace}; the operator's allowCrossNamespace is off)` },
        built: new BuiltImageIndex({}),
      };
    }
    const builtTags: Record<string, string> = {};
    // Never-built images with an explicit tag still get it substituted (devspace `build.disabled`).
    for (const img of s.spec.images ?? []) if (img.skip && img.tags?.[0]) builtTags[img.image] = img.tags[0];

    const statuses: SessionImageStatus[] = [];
    const pending: string[] = [];
    let succeeded = 0;
    for (const ib of desired) {
      const live = await this.ensureImageBuild(ib, (ib.metadata.namespace ?? ns) === ns ? this.kube : actor.objects, actor.user);
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
    await this.pruneImageBuilds(s, new Set(desired.map((d) => `${d.metadata.namespace ?? ns}/${d.metadata.name}`)), actor);
    if (statuses.length) st.images = statuses;
    else delete st.images;
    st.imagesBuilt = `${succeeded}/${desired.length}`;
    const built = new BuiltImageIndex(builtTags);
    if (pending.length > 0) {
      // ImageBuild status changes wake us through the watch; no polling.
      return { step: wait(Reason.WaitingForImages, SessionPhase.Building, `building images: ${pending.join(', ')}`, st), built };
    }
    return { step: CONTINUE, built };
  }

  /**
   * The ImageBuild as in the cache when it already is what we would apply, else applied: by the operator in the
   * session's namespace (its own kind), as the session's account in another one (allowCrossNamespace).
   */
  private async ensureImageBuild(ib: ImageBuild, via: SessionObjects, user: string | undefined): Promise<ImageBuild> {
    const hash = appliedHash(ib as unknown as KubernetesObject);
    const ns = ib.metadata.namespace ?? '';
    if (this.reads.coversImageBuilds(ns)) {
      const cached = this.reads.imageBuild(ns, ib.metadata.name);
      if (cached && !cached.metadata.deletionTimestamp && cached.metadata.annotations?.[ANNOTATIONS.appliedHash] === hash) return cached;
    }
    let live: ImageBuild;
    try {
      live = (await via.apply(withAppliedHash(ib as unknown as KubernetesObject, hash))) as unknown as ImageBuild;
    } catch (e) {
      if (isRbacDenied(e) && user && via !== this.kube) throw new StallError(Reason.Forbidden, `ImageBuild ${ns}/${ib.metadata.name}: ${describeForbidden(e, user)}`, SLOW_RETRY_MS, { cause: e });
      throw e;
    }
    this.reads.imageBuildWritten(live);
    return live;
  }

  /** ImageBuilds of this session whose image was removed from the spec. */
  private async pruneImageBuilds(s: DevSession, keep: Set<string>, actor: Actor): Promise<void> {
    const ns = s.metadata.namespace ?? '';
    const namespaces = new Set([ns, ...(this.confinement.allowCrossNamespace ? (s.spec.images ?? []).map((i) => i.builder?.namespace || ns) : [])]);
    const labels = { [LABELS.session]: shortenName(s.metadata.name), [LABELS.sessionNamespace]: shortenName(ns) };
    for (const n of namespaces) {
      const via = n === ns ? this.kube : actor.objects;
      const existing = this.reads.coversImageBuilds(n)
        ? this.reads.imageBuilds(n, labels)
        : await via.listImageBuilds(n, Object.entries(labels).map(([k, v]) => `${k}=${v}`).join(','));
      for (const ib of existing) {
        if (!keep.has(`${n}/${ib.metadata.name}`) && !ib.metadata.deletionTimestamp) await via.delete({ apiVersion: API_VERSION, kind: 'ImageBuild', namespace: n, name: ib.metadata.name });
      }
    }
  }

  // ── deployments ───────────────────────────────────────────────────────────────────────────────────

  private deployContext(s: DevSession, dep: NonNullable<DevSession['spec']['deployments']>[number], built: BuiltImageIndex, capabilities: ClusterCapabilities, ctx: ReconcileContext<KubernetesObject>, actor: Actor): DeployContext {
    const ns = s.metadata.namespace ?? '';
    const images = s.spec.images ?? [];
    return {
      session: s,
      deployment: dep,
      sessionNamespace: ns,
      targetNamespace: dep.namespace || ns,
      built,
      image: (name) => images.find((i) => i.name === name),
      imageConfigs: new SessionImageConfigLookup({
        source: this.imageConfigSource,
        cache: this.imageConfigCache,
        images,
        namespace: ns,
        readDockerConfig: (n, secret) => actor.objects.readDockerConfig(n, secret),
        ...(actor.user ? { identity: actor.user } : {}),
        ...(this.deps.insecureRegistries?.length ? { insecureRegistries: this.deps.insecureRegistries } : {}),
        signal: ctx.signal,
      }),
      capabilities,
      isNamespaced: (apiVersion, kind) => this.isNamespaced(apiVersion, kind),
      confinement: this.confinement,
      ...(this.deps.sidecarImage ? { sidecarImage: this.deps.sidecarImage } : {}),
      log: ctx.log,
      signal: ctx.signal,
    };
  }

  private async isNamespaced(apiVersion: string, kind: string): Promise<boolean | undefined> {
    const k = `${apiVersion}\0${kind}`;
    const known = this.namespaced.get(k);
    if (known !== undefined) return known;
    const v = await this.kube.isNamespaced(apiVersion, kind);
    // An unknown kind is not remembered: its CRD may be installed by the next deployment.
    if (v !== undefined) this.namespaced.set(k, v);
    return v;
  }

  private async deployments(s: DevSession, st: DevSessionStatus, built: BuiltImageIndex, ctx: ReconcileContext<KubernetesObject>, actor: Actor): Promise<Step> {
    const deployments = s.spec.deployments ?? [];
    const previous = s.status?.inventory ?? [];
    const previousKeys = new Set(previous.map(inventoryKey));
    const inventory: InventoryEntry[] = [];
    const depStatuses: SessionDeploymentStatus[] = [];
    let stall: Extract<Outcome, { kind: 'stall' }> | undefined;
    let blockedBy: string | undefined;
    const capabilities = (await this.deps.capabilities?.get()) ?? { nativeSidecars: false };
    // Secret variables are read once per pass, as the session's account (undefined: the session has none).
    let secrets: SecretVarValues | undefined;

    for (const dep of deployments) {
      if (stall || blockedBy) {
        depStatuses.push({ name: dep.name, ready: false, message: stall ? 'not applied: an earlier deployment failed' : `waiting for ${blockedBy} (helm wait)` });
        continue;
      }
      const dctx = this.deployContext(s, dep, built, capabilities, ctx, actor);
      try {
        secrets ??= await resolveSecretVars(s, actor.objects, actor.user);
        const rendered = await renderDeployment(secrets.apply(dep), {
          namespace: dctx.targetNamespace,
          built,
          helm: this.helm,
          kustomize: this.kustomize,
          git: this.deps.git,
          workDir: this.deps.workDir,
          signal: ctx.signal,
        });
        // Placeholders are replaced before the transforms: confinement judges the objects as they will be applied.
        const objects = await runTransforms(this.transforms, secrets.applyObjects(rendered.objects), { ...dctx, session: secrets.applySession(s) });
        const entries = objects.map((o) => inventoryEntry(o, dep.name));
        const dups = duplicates([...inventory, ...entries]);
        if (dups.length) throw new StallError(Reason.InvalidSpec, `the same object is rendered twice: ${dups.join('; ')}`);

        const readiness: Readiness[] = [];
        for (const obj of objects) {
          const live = await this.applyOne(s, dep.name, obj, previousKeys, ctx.log, actor);
          inventory.push(inventoryEntry(obj, dep.name));
          readiness.push(objectReadiness(live));
        }
        let summary = summarizeReadiness(readiness);
        if (dep.helm && dep.helm.wait === false && !summary.failed) summary = { ready: true, message: `applied ${objects.length} objects (helm wait: false)` };
        depStatuses.push({ name: dep.name, ready: summary.ready, message: summary.message, resources: objects.length });
        if (summary.failed) {
          stall = { kind: 'stall', reason: Reason.DeployFailed, message: `deployment ${dep.name}: ${summary.message}`, retryAfterMs: SLOW_RETRY_MS };
        } else if (!summary.ready && dep.helm?.wait === true) {
          blockedBy = dep.name;
        }
      } catch (caught) {
        let e = caught;
        // A refusal of the session's account anywhere in the pipeline (Secret reads for registries, …) is
        // for a person to fix: stall with who and what, and look again slowly.
        if (!(e instanceof StallError) && isRbacDenied(e) && actor.user) e = new StallError(Reason.Forbidden, `deployment ${dep.name}: ${describeForbidden(e, actor.user)}`, SLOW_RETRY_MS, { cause: e });
        if (!(e instanceof StallError)) {
          // Transient: the deployments' status stays as it was, but what this pass applied already joins the
          // inventory, so a deletion before the next successful pass still finds it.
          const now = new Set(inventory.map(inventoryKey));
          if (inventory.length) st.inventory = [...inventory, ...previous.filter((e) => !now.has(inventoryKey(e)))];
          throw e;
        }
        depStatuses.push({ name: dep.name, ready: false, message: e.message });
        stall = { kind: 'stall', reason: e.reason, message: e.message, retryAfterMs: e.retryAfterMs === undefined ? undefined : Math.max(e.retryAfterMs, SLOW_RETRY_MS) };
        if (stall.retryAfterMs === undefined) delete stall.retryAfterMs;
      }
    }

    const complete = !stall && !blockedBy;
    if (complete) {
      const gone = toPrune(previous, inventory);
      const pruned: InventoryEntry[] = [];
      for (const e of gone) if ((await this.deleteOwned(s, e, actor, 'Prune')) === 'deleted') pruned.push(e);
      if (pruned.length) {
        ctx.log.info({ pruned: pruned.map((e) => `${e.kind}/${e.name}`) }, 'pruned objects no longer rendered');
        await this.deps.events?.event(s as KubernetesObject, { type: 'Normal', reason: 'Pruned', action: 'Prune', note: `deleted ${pruned.map((e) => `${e.kind} ${e.name}`).join(', ')}`.slice(0, 1000) });
      }
    }
    const ready = this.recordDeployments(st, deployments.length, depStatuses, inventory, previous, complete);

    if (stall) return stall;
    if (ready < deployments.length) {
      const first = depStatuses.find((d) => !d.ready);
      return wait(Reason.RolloutInProgress, SessionPhase.Deploying, `${st.deploymentsReady} deployments ready; ${first?.name}: ${first?.message ?? 'in progress'}`, st, this.rolloutPoll(s));
    }
    return CONTINUE;
  }

  /** status.deployments/deploymentsReady/inventory from this pass; returns the number of ready deployments. */
  private recordDeployments(st: DevSessionStatus, total: number, depStatuses: SessionDeploymentStatus[], inventory: InventoryEntry[], previous: readonly InventoryEntry[], complete: boolean): number {
    if (complete) st.inventory = [...inventory];
    else {
      // Keep what we could not re-render in the inventory, so a later prune or the deletion still finds it.
      const now = new Set(inventory.map(inventoryKey));
      st.inventory = [...inventory, ...previous.filter((e) => !now.has(inventoryKey(e)))];
    }
    if (st.inventory.length === 0) delete st.inventory;
    if (depStatuses.length) st.deployments = depStatuses;
    else delete st.deployments;
    const ready = depStatuses.filter((d) => d.ready).length;
    st.deploymentsReady = `${ready}/${total}`;
    return ready;
  }

  private appliedKey(s: DevSession, e: Pick<InventoryEntry, 'apiVersion' | 'kind' | 'namespace' | 'name'>): string {
    return `${s.metadata.uid ?? `${s.metadata.namespace}/${s.metadata.name}`}|${inventoryKey(e)}`;
  }

  /**
   * Deletes an inventory entry's object — only when its LIVE labels say it is this session's (name, namespace
   * and uid). status.inventory is writable by whoever may update the session's status, so an entry alone
   * proves nothing: a forged one is ignored with a Warning event naming it. 'forbidden': the session's
   * account may not delete it (left in place).
   */
  private async deleteOwned(s: DevSession, e: InventoryEntry, actor: Actor, action: 'Prune' | 'Cleanup'): Promise<'deleted' | 'gone' | 'foreign' | 'forbidden'> {
    this.applied.delete(this.appliedKey(s, e));
    const ns = s.metadata.namespace ?? '';
    const ignore = async (why: string): Promise<'foreign'> => {
      await this.deps.events?.event(s as KubernetesObject, { type: 'Warning', reason: 'InventoryEntryIgnored', action, note: `status.inventory lists ${describeEntry(e)}, ${why}: not deleted`.slice(0, 1000) });
      return 'foreign';
    };
    // What this install never lets a session apply cannot be its own: not even looked at.
    if (e.namespace ? e.namespace !== ns && !this.confinement.allowCrossNamespace : !this.confinement.allowClusterScoped && (await this.isNamespaced(e.apiVersion, e.kind)) === false) {
      return ignore(e.namespace ? `outside the session's namespace ${ns}` : 'a cluster-scoped object');
    }
    try {
      const live = await actor.objects.get(e);
      if (!live || live.metadata?.deletionTimestamp) return 'gone';
      if (!ownedBySession(live, { name: s.metadata.name, namespace: ns, uid: s.metadata.uid })) {
        return ignore('but its labels do not name this session (name, namespace and uid)');
      }
      return (await actor.objects.delete(e)) ? 'deleted' : 'gone';
    } catch (err) {
      if (isForbidden(err) && actor.user) {
        // Cleanup reports what it left in one event; a prune names each entry.
        if (action === 'Prune') await ignore(`which ${actor.user} may not read or delete`);
        return 'forbidden';
      }
      throw err;
    }
  }

  /**
   * SSA one object — unless the live object already is what we would apply (see deploy/applied.ts). Returns
   * the live object (for readiness). Apiserver rejections become stalls that name the object.
   */
  private async applyOne(s: DevSession, deployment: string, obj: KubernetesObject, previousKeys: ReadonlySet<string>, log: Logger, actor: Actor): Promise<KubernetesObject> {
    const ref: ObjectRef = { apiVersion: obj.apiVersion ?? '', kind: obj.kind ?? '', namespace: obj.metadata?.namespace, name: obj.metadata?.name ?? '' };
    const key = this.appliedKey(s, ref);
    const hash = appliedHash(obj, s.metadata.annotations?.[ANNOTATIONS.requestedAt]);
    const known = this.applied.get(key);
    // Worth a read only when the object may already be what we would apply: we applied it before (this
    // process knows the same hash, or the status inventory lists it — a restart). A new object, or a changed
    // one, goes straight to the apply.
    const maybeCurrent = known ? known.hash === hash : previousKeys.has(inventoryKey(ref));
    if (maybeCurrent) {
      // Probably unchanged: one read decides (a changed object skips it and goes straight to the apply).
      let live: KubernetesObject | undefined;
      try {
        live = await actor.objects.get(ref);
      } catch (e) {
        log.debug({ object: describeObject(obj), err: apiErrorMessage(e) }, 'live read failed; applying');
      }
      const decision = decideApply(hash, known, live, OPERATOR_FIELD_MANAGER);
      if (!decision.apply && live) {
        this.applied.set(key, { hash, fields: ownedFieldsFingerprint(live, OPERATOR_FIELD_MANAGER) });
        return live;
      }
      if (decision.apply && known) log.debug({ object: describeObject(obj), why: decision.why }, 're-applying');
    }
    try {
      const live = await actor.objects.apply(withAppliedHash(obj, hash));
      this.applied.set(key, { hash, fields: ownedFieldsFingerprint(live, OPERATOR_FIELD_MANAGER) });
      return live;
    } catch (e) {
      this.applied.delete(key);
      const what = describeObject(obj);
      const code = statusCode(e);
      if (code === 400 || code === 422 || code === 415) {
        throw new StallError(Reason.ManifestRejected, `deployment ${deployment}: ${what} rejected by the apiserver: ${apiErrorMessage(e)}`, undefined, { cause: e });
      }
      if (isUnknownKind(e) || code === 404) {
        // Maybe a CRD that another deployment or an admin installs later: retry slowly.
        throw new StallError(Reason.ManifestRejected, `deployment ${deployment}: ${what}: the apiserver does not serve ${obj.apiVersion} ${obj.kind}`, SLOW_RETRY_MS, { cause: e });
      }
      if (code === 403) {
        // Impersonating: the session's account lacks the right (an admin grants it: retry slowly).
        if (actor.user && isRbacDenied(e)) throw new StallError(Reason.Forbidden, `deployment ${deployment}: ${what}: ${describeForbidden(e, actor.user)}`, SLOW_RETRY_MS, { cause: e });
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
}

/** `Kind ns/name` of an inventory entry. */
function describeEntry(e: InventoryEntry): string {
  return `${e.kind} ${e.namespace ? `${e.namespace}/` : ''}${e.name}`;
}

function splitKey(key: string): [string, string] {
  const i = key.indexOf('/');
  return [key.slice(0, i), key.slice(i + 1)];
}

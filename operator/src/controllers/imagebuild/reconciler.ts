// ImageBuild reconciler: ordered sub-steps, Flux style, ending in the one deferred summarize-and-patch
// both kinds share (runtime/reconcile-pass.ts): phase + Ready/Reconciling/Stalled with observedGeneration.
//
//   validate → settled? → tag → already in the registry? → build pod (create once) → observe pod
//   → (git: upload the context ourselves) → finish (digest, GC) → summarize
//
// Rules that keep it calm:
//  - the pod name is a pure function of (uid, generation, tag, request in effect): a restarted operator
//    finds its pod; creating it twice is an AlreadyExists no-op;
//  - a Failed generation is final: nothing is retried until the spec changes (generation bump); the
//    failed pod is kept `failedPodTtlMs` for `kubectl logs`, then deleted (one delayed requeue);
//  - while a build runs we requeue every `pollIntervalMs` as a safety net; pod events (owned pods are
//    watched) normally wake us first;
//  - status is written only when it changed, so our own status update does not cause another write;
//  - a step that fails transiently (registry, git, pod creation) says so in status.message with
//    Reconciling=True and a RetryReason, then rethrows for the controller's backoff.
//
// Forced builds (`dsa deploy -b`): a `dsa.dev/requested-at` annotation newer than status.lastRequestedAt
// skips both "already built" shortcuts (settled Succeeded/Failed, registry lookup) once and builds again
// in a pod named after the request. lastRequestedAt is recorded together with the first status that
// names that pod — not earlier, so a pod creation that fails and is retried still builds, and not later,
// so the agent can tell the pod awaiting its upload is the one for its request.
import { mkdtemp } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import type { V1Pod } from '@kubernetes/client-node';
import {
  ANNOTATIONS,
  BuildPhase,
  LABELS,
  Reason,
  buildTag,
  gitContextDigest,
  shortenName,
  type GitContext,
  type ImageBuild,
  type ImageBuildStatus,
} from '@dsa/api';
import type { Builder } from '../../builders/builder.js';
import { KanikoBuilder } from '../../builders/kaniko.js';
import { UPLOAD_CONTAINER } from '../../builders/receiver.js';
import { GitNotFoundError, checkoutSubPath, removeCheckout, resolveRef } from '../../git/git.js';
import { CONFINED, actingUser, type Confinement } from '../../confinement/confinement.js';
import { DEFAULT_ADDRESS_POLICY, type AddressPolicy } from '../../net/address-guard.js';
import { ImpersonationError, describeForbidden, isForbiddenError, isRbacDenied } from '../../runtime/impersonation.js';
import { RegistryClient, RegistryError, credentialsFromDockerConfig, parseImageRef, type Credentials } from '../../registry/client.js';
import { isInsecureRegistry } from '../../confinement/build-policy.js';
import { formatTime } from '../../runtime/conditions.js';
import { isAlreadyExists } from '../../runtime/api-errors.js';
import { realClock, type Clock } from '../../runtime/clock.js';
import { RetryableError } from '../../runtime/errors.js';
import type { ReconcileContext, Request, Result } from '../../runtime/controller.js';
import { reconcilePass, type Outcome } from '../../runtime/reconcile-pass.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { OperatorMetrics } from '../../server/metrics.js';
import { silentLogger, type Logger } from '../../log.js';
// Git contexts go through exactly the same canonical tar + exec upload as the agent's uploads.
import { prepareContext, type PreparedContext, type UploadTarget } from '@dsa/api/build-context';
import { describeRetry, isNewerRequest, observeBuildPod, reasonForPhase, tailLines, type BuildPhaseName, type RetryStep } from './build-state.js';
import { ANNOTATION_GENERATION, buildPodName, desiredBuildPod, policyViolation, validateBuildSpec, type BuildPodConfig } from './desired-build-pod.js';
import type { ImageBuildActions, ImageBuildClients } from './clients.js';

export interface RegistryLookup {
  manifestDigest(q: { image: string; tag: string; insecure?: boolean; credentials?: Credentials }): Promise<string | undefined>;
}

/** Git access for git contexts (operator/src/git by default). `signal`: the reconcile's abort. */
export interface GitSource {
  resolve(git: GitContext, signal?: AbortSignal): Promise<string>;
  /** Check out `git.subPath` at `commit` into a fresh folder; returns the folder. */
  checkout(git: GitContext, commit: string, signal?: AbortSignal): Promise<string>;
  dispose(dir: string): Promise<void>;
}

/**
 * Streams a tar into the build pod's upload container (uploadContext from @dsa/api/build-context by default),
 * as `user` (the impersonated ServiceAccount; undefined = the operator).
 */
export type ContextUploader = (target: UploadTarget, tar: AsyncIterable<Buffer | Uint8Array>, user?: string) => Promise<void>;

export interface ImageBuildReconcilerDeps {
  clients: ImageBuildClients;
  pod: BuildPodConfig;
  registry?: RegistryLookup;
  git?: GitSource;
  /** Needed for git contexts only. */
  uploader?: ContextUploader;
  builder?: Builder;
  events?: EventRecorder;
  metrics?: OperatorMetrics;
  clock?: Clock;
  logger?: Logger;
  /** Failed build pods are kept this long for `kubectl logs` (default 1 h). */
  failedPodTtlMs?: number;
  /** Safety-net poll while a build runs (default 10 s). */
  pollIntervalMs?: number;
  /** Lines of build log kept in status.logTail (default 20). */
  logTailLines?: number;
  /** Tenant confinement: builds act as the ImageBuild's ServiceAccount (default CONFINED). */
  confinement?: Pick<Confinement, 'impersonate' | 'defaultServiceAccount'>;
  /** Internal hosts git contexts may reach (--allow-internal-hosts). */
  addressPolicy?: AddressPolicy;
}

/** Git contexts on operator/src/git: guarded addresses, deadline and byte caps, the reconcile's abort signal. */
export function gitSource(policy: AddressPolicy = DEFAULT_ADDRESS_POLICY): GitSource {
  return {
    resolve: (g, signal) => resolveRef({ url: g.url, ref: g.ref, net: { policy, ...(signal ? { signal } : {}) } }),
    checkout: async (g, commit, signal) => {
      const dest = await mkdtemp(path.join(tmpdir(), 'dsa-gitctx-'));
      try {
        await checkoutSubPath({ url: g.url, ref: g.ref, commit, subPath: g.subPath, dest: path.join(dest, 'ctx'), net: { policy, ...(signal ? { signal } : {}) } });
      } catch (e) {
        await removeCheckout(dest);
        throw e;
      }
      return path.join(dest, 'ctx');
    },
    dispose: (dir) => removeCheckout(path.dirname(dir)),
  };
}

export const defaultGitSource: GitSource = gitSource();

/** What one pass decided: the status fields, and work that must wait until the status records them. */
interface Pass {
  status?: ImageBuildStatus;
  after: Array<() => Promise<void>>;
}

/** The fields summarize owns are recomputed each pass; everything else carries over. */
function stripSummary(s: ImageBuildStatus | undefined): ImageBuildStatus {
  const { conditions: _c, observedGeneration: _g, message: _m, ...rest } = s ?? {};
  return rest;
}

interface GitPrepared {
  dir: string;
  prepared: PreparedContext;
}

export class ImageBuildReconciler {
  private readonly d: ImageBuildReconcilerDeps;
  private readonly clock: Clock;
  private readonly builder: Builder;
  private readonly registry: RegistryLookup;
  private readonly git: GitSource;
  private readonly log: Logger;
  /** Git contexts checked out for a pod (by pod name), kept until the upload is done. */
  private readonly gitContexts = new Map<string, Promise<GitPrepared>>();
  /** The pod names with a git context, per ImageBuild (`ns/name`): dropped on spec change and deletion. */
  private readonly gitPods = new Map<string, Set<string>>();
  private readonly confinement: Pick<Confinement, 'impersonate' | 'defaultServiceAccount'>;
  /** Uploads in flight, by pod name (so a requeue never starts a second one). */
  private readonly uploads = new Set<string>();

  constructor(deps: ImageBuildReconcilerDeps) {
    this.d = deps;
    this.clock = deps.clock ?? realClock;
    this.builder = deps.builder ?? deps.pod.builder ?? new KanikoBuilder();
    this.registry = deps.registry ?? new RegistryClient({ ...(deps.addressPolicy ? { addressPolicy: deps.addressPolicy } : {}) });
    this.git = deps.git ?? gitSource(deps.addressPolicy);
    this.log = deps.logger ?? silentLogger();
    this.confinement = deps.confinement ?? CONFINED;
  }

  async reconcile(req: Request, ctx?: ReconcileContext<any>): Promise<Result | void> {
    const log = ctx?.log ?? this.log.child({ namespace: req.namespace, name: req.name });
    const ib = await this.d.clients.getImageBuild(req.namespace, req.name);
    if (!ib || ib.metadata.deletionTimestamp) {
      // Build pods are garbage-collected through their ownerReference; git checkouts are ours to remove.
      this.forgetGitOf(`${req.namespace}/${req.name}`);
      return;
    }
    const pass: Pass = { after: [] };
    return reconcilePass<ImageBuildStatus>({
      generation: ib.metadata.generation ?? 0,
      log,
      now: () => this.clock.now(),
      current: () => ib.status,
      status: () => this.fields(ib, pass),
      equal: sameStatus,
      patch: async (next) => {
        await this.d.clients.applyStatus(ib, next);
        // Keep our copy current: later work of this pass compares against it.
        ib.status = next;
      },
      afterPatch: async () => {
        for (const fn of pass.after) await fn();
      },
      steps: () => this.steps(ib, pass, log, ctx?.signal),
    });
  }

  /**
   * The ImageBuild's own status fields for this pass. Status is applied whole: the honoured forced-build
   * request is carried unless this pass records a newer one. A pass that failed before deciding anything
   * (a transient error) keeps the previous fields; only conditions and message say why it is retrying.
   */
  private fields(ib: ImageBuild, pass: Pass): ImageBuildStatus {
    const base: ImageBuildStatus = pass.status ?? stripSummary(ib.status);
    const lastRequestedAt = base.lastRequestedAt ?? ib.status?.lastRequestedAt;
    return { ...base, ...(lastRequestedAt ? { lastRequestedAt } : {}) };
  }

  private async steps(ib: ImageBuild, pass: Pass, log: Logger, signal?: AbortSignal): Promise<Outcome> {
    const gen = ib.metadata.generation ?? 0;
    const prev = ib.status ?? {};
    const sameGen = prev.observedGeneration === gen;
    // A forced build (-b) not started yet; `request` is the one in effect (names the pod).
    const requested = ib.metadata.annotations?.[ANNOTATIONS.requestedAt];
    const forced = isNewerRequest(requested, prev.lastRequestedAt);
    const request = forced ? requested : prev.lastRequestedAt;
    const set = (status: ImageBuildStatus & { phase: BuildPhaseName }) => (pass.status = status);

    // 1. validate
    const invalid = validateBuildSpec(ib);
    if (invalid) {
      set({ phase: BuildPhase.Failed, message: invalid });
      return { kind: 'stall', reason: Reason.InvalidSpec, message: invalid };
    }
    const refused = policyViolation(ib, this.d.pod);
    if (refused) {
      set({ phase: BuildPhase.Failed, message: refused });
      return { kind: 'stall', reason: Reason.ObjectNotAllowed, message: refused };
    }
    let user: string | undefined;
    try {
      user = actingUser(this.confinement, ib.metadata.namespace ?? '', ib.spec.serviceAccountName);
    } catch (e) {
      if (!(e instanceof ImpersonationError)) throw e;
      const message = `spec.serviceAccountName: ${e.message}`;
      set({ phase: BuildPhase.Failed, message });
      return { kind: 'stall', reason: Reason.InvalidSpec, message };
    }
    // Everything this build does in its namespace, as its ServiceAccount (reads of the build pods: the cache).
    const acts: ImageBuildActions = user ? this.d.clients.as(user) : this.d.clients;

    // 2. settled for this generation: success is final; failure is final until the spec changes — or
    //    until a forced build is requested. Nothing new to say: the status stays as it is.
    const settledReason = (prev.conditions ?? []).find((c) => c.type === 'Ready')?.reason;
    if (!forced && sameGen && prev.phase === BuildPhase.Succeeded) {
      pass.after.push(() => this.deleteBuildPods(ib, acts, () => true));
      return { kind: 'done', reason: settledReason ?? Reason.Succeeded, message: prev.message ?? '' };
    }
    if (!forced && sameGen && prev.phase === BuildPhase.Failed) {
      const gc = await this.gcFailedPods(ib, acts);
      return { kind: 'stall', reason: settledReason ?? Reason.BuildFailed, message: prev.message ?? '', requeueAfterMs: gc?.requeueAfter ?? 0 };
    }

    // 3. tag (+ commit for git), pinned per generation so a moving branch does not restart a running
    //    build; a forced build resolves the ref again (a rebuild of a branch means its current head).
    let commit: string | undefined;
    let tag = ib.spec.tag;
    if (ib.spec.context.git) {
      const g = ib.spec.context.git;
      commit = sameGen && prev.commit && !forced ? prev.commit : undefined;
      if (!commit) {
        try {
          commit = await this.git.resolve(g, signal);
        } catch (e) {
          if (e instanceof GitNotFoundError) {
            set({ phase: BuildPhase.Failed, message: e.message });
            return { kind: 'stall', reason: Reason.GitFetchFailed, message: e.message };
          }
          throw this.retry(pass, { step: 'git', url: g.url }, e, {}, log); // transient: backoff
        }
      }
      tag ??= buildTag({ ...this.tagInputs(ib), contextDigest: gitContextDigest(g.url, commit, g.subPath ?? '') });
    } else {
      tag ??= buildTag({ ...this.tagInputs(ib), contextDigest: ib.spec.context.upload!.digest });
    }
    const image = `${ib.spec.image}:${tag}`;
    const base: ImageBuildStatus = { tag, image, ...(commit ? { commit } : {}) };
    const podName = buildPodName(ib, tag, request);
    // A spec change (or a new forced build) supersedes the checkouts of earlier pods.
    this.forgetGitOf(`${ib.metadata.namespace}/${ib.metadata.name}`, podName);
    let pod = await this.d.clients.getPod(ib.metadata.namespace ?? 'default', podName);

    // 4. already built? Only asked before we start a pod (once building, the pod is the source of
    //    truth), and not for a forced build: its point is to push the same tag again.
    if (!pod && !forced) {
      let digest: string | undefined;
      try {
        digest = await this.lookupRegistry(ib, tag, acts, log);
      } catch (e) {
        throw this.retry(pass, { step: 'registry', image }, e, base, log);
      }
      if (digest) {
        const now = formatTime(this.clock.now());
        await this.deleteBuildPods(ib, acts, (p) => !this.buildFailed(p));
        const message = `${image} exists in the registry`;
        set({ ...base, phase: BuildPhase.Succeeded, digest, completionTime: now, durationSeconds: 0, message });
        pass.after.push(async () => {
          this.d.metrics?.buildsTotal.inc({ result: 'already_built' });
          await this.d.events?.recordOnce(ib as never, 'Build', { type: 'Normal', reason: Reason.AlreadyBuilt, action: 'Build', note: `${image} already exists (${digest})` });
        });
        return { kind: 'done', reason: Reason.AlreadyBuilt, message };
      }
    }

    // 5. build pod: create once
    if (!pod) {
      let tarDigest = ib.spec.context.upload?.digest;
      if (ib.spec.context.git) {
        try {
          tarDigest = (await this.prepareGit(ib, podName, commit!, signal)).prepared.digest;
        } catch (e) {
          throw this.retry(pass, { step: 'git', url: ib.spec.context.git.url }, e, base, log);
        }
      }
      const desired = desiredBuildPod(ib, { ...this.d.pod, builder: this.builder }, { tag, tarDigest: tarDigest!, ...(request ? { request } : {}) });
      // Superseded generations and requests: stop their running pods (failed ones stay for their TTL).
      await this.deleteBuildPods(ib, acts, (p) => p.metadata?.name !== podName && !this.buildFailed(p));
      try {
        pod = await acts.createPod(desired);
        log.info({ pod: podName, image, ...(forced ? { requestedAt: request } : {}) }, forced ? 'build pod created (forced rebuild)' : 'build pod created');
      } catch (e) {
        if (isRbacDenied(e) && user) {
          // RBAC said no to the build's account: a person grants it (retry slowly), the status says who and what.
          const message = `cannot create build pod ${podName}: ${describeForbidden(e, user)}`;
          set({ ...base, phase: BuildPhase.Pending, message });
          return { kind: 'stall', reason: Reason.Forbidden, message, retryAfterMs: 60_000 };
        }
        if (!isAlreadyExists(e)) throw this.retry(pass, { step: 'pod', pod: podName }, e, base, log);
        pod = (await this.d.clients.getPod(desired.metadata!.namespace!, podName)) ?? desired;
      }
    }
    // From here on the status names this pod: the request it serves is honoured.
    const honoured: ImageBuildStatus = request ? { lastRequestedAt: request } : {};

    // 6. observe
    const obs = observeBuildPod(pod, this.builder);
    const startTime = prev.startTime && sameGen && !forced ? prev.startTime : formatTime(pod.metadata?.creationTimestamp ?? this.clock.now());
    const running: ImageBuildStatus = { ...base, ...honoured, podName, uploadContainer: UPLOAD_CONTAINER, startTime };

    if (obs.phase === 'AwaitingUpload' && ib.spec.context.git) this.startGitUpload(ib, pod, commit!, log, user);

    if (obs.phase === 'Succeeded') {
      const end = this.clock.now();
      const durationSeconds = Math.max(0, Math.round((end - Date.parse(startTime)) / 1000));
      const message = `built ${image} in ${durationSeconds}s`;
      set({ ...base, ...honoured, phase: BuildPhase.Succeeded, digest: obs.digest, startTime, completionTime: formatTime(end), durationSeconds, message });
      // Only once the status records the result: a crash before that finds the pod and reads it again.
      pass.after.push(async () => {
        this.d.metrics?.buildsTotal.inc({ result: 'succeeded' });
        await this.d.events?.recordOnce(ib as never, 'Build', { type: 'Normal', reason: Reason.Succeeded, action: 'Build', note: `built ${image} (${obs.digest}) in ${durationSeconds}s` });
        await this.deleteBuildPods(ib, acts, () => true);
        this.forgetGit(podName);
      });
      return { kind: 'done', reason: Reason.Succeeded, message };
    }

    if (obs.phase === 'Failed') {
      const end = this.clock.now();
      const logs = obs.container ? await acts.podLogTail(pod.metadata!.namespace!, podName, obs.container, this.d.logTailLines ?? 20) : '';
      const logTail = tailLines(logs || obs.terminationMessage, this.d.logTailLines ?? 20);
      const last = logTail.split('\n').pop() ?? '';
      const message = last ? `${obs.message}: ${last}` : obs.message;
      set({ ...running, phase: BuildPhase.Failed, completionTime: formatTime(end), durationSeconds: Math.max(0, Math.round((end - Date.parse(startTime)) / 1000)), message, ...(logTail ? { logTail } : {}) });
      pass.after.push(async () => {
        this.d.metrics?.buildsTotal.inc({ result: 'failed' });
        await this.d.events?.recordOnce(ib as never, 'Build', { type: 'Warning', reason: Reason.BuildFailed, action: 'Build', note: `${message}\n${logTail}` });
        this.forgetGit(podName);
      });
      // Final until the spec changes; the requeue only garbage-collects the failed pod after its TTL.
      return { kind: 'stall', reason: Reason.BuildFailed, message, requeueAfterMs: this.failedPodTtl() };
    }

    set({ ...running, phase: obs.phase, message: obs.message });
    return { kind: 'wait', reason: reasonForPhase[obs.phase], message: obs.message, requeueAfterMs: this.d.pollIntervalMs ?? 10_000 };
  }

  // ---- steps -------------------------------------------------------------------------------------

  /**
   * A step failed and will be retried with backoff: say why in status (Reconciling=True with a
   * RetryReason) so a slow build explains itself. Every retried step runs while no pod exists for the
   * current (generation, tag, request), so the phase is Pending and no pod is named (an agent must not
   * upload into a superseded one). Never records a forced-build request as honoured: the retry must
   * still force. Returns the error to throw; the controller retries the original one.
   */
  private retry(pass: Pass, step: RetryStep, e: unknown, base: ImageBuildStatus, log: Logger): RetryableError {
    const { reason, message } = describeRetry(step, e);
    log.warn({ reason, err: message }, 'build step failed; retrying with backoff');
    pass.status = { ...base, phase: BuildPhase.Pending, message };
    return new RetryableError(reason, message, { cause: e });
  }

  private tagInputs(ib: ImageBuild) {
    return { dockerfile: ib.spec.dockerfile, buildArgs: ib.spec.buildArgs, target: ib.spec.target, entrypoint: ib.spec.entrypoint, cmd: ib.spec.cmd };
  }

  private async lookupRegistry(ib: ImageBuild, tag: string, acts: ImageBuildActions, log: Logger): Promise<string | undefined> {
    const secret = ib.spec.registry?.pushSecret || ib.spec.registry?.pullSecret;
    let credentials: Credentials | undefined;
    if (secret) {
      let json: string | undefined;
      try {
        json = await acts.readDockerConfig(ib.metadata.namespace ?? 'default', secret);
      } catch (e) {
        // The account may not read its push Secret (the kubelet still mounts it for the build): look up anonymously.
        if (!isForbiddenError(e)) throw e;
        log.debug({ secret }, 'push secret not readable by the build account; registry lookup without credentials');
      }
      if (json) credentials = credentialsFromDockerConfig(json, parseImageRef(ib.spec.image).registry);
    }
    const registry = parseImageRef(ib.spec.image).registry;
    const insecure = ib.spec.registry?.insecure === true || isInsecureRegistry(registry, this.d.pod.insecureRegistries ?? []);
    try {
      return await this.registry.manifestDigest({ image: ib.spec.image, tag, insecure, credentials });
    } catch (e) {
      // Unreachable registry: retry with backoff rather than start a build whose push would fail.
      if (e instanceof RegistryError && e.transient) throw e;
      // Auth/config trouble on the lookup: the builder may still be able to push (its own secret).
      this.log.warn({ err: (e as Error).message }, 'registry lookup failed; building');
      return undefined;
    }
  }

  private async buildPods(ib: ImageBuild): Promise<V1Pod[]> {
    const pods = await this.d.clients.listPods(ib.metadata.namespace ?? 'default', `${LABELS.imageBuild}=${shortenName(ib.metadata.name)}`);
    // Label values are shortened names; the ownerReference uid is what identifies our pods.
    return pods.filter((p) => p.metadata?.ownerReferences?.some((r) => r.uid === ib.metadata.uid));
  }

  private async deleteBuildPods(ib: ImageBuild, acts: ImageBuildActions, which: (p: V1Pod) => boolean): Promise<void> {
    for (const p of await this.buildPods(ib)) if (which(p)) await this.deletePod(acts, p);
  }

  private async deletePod(acts: ImageBuildActions, p: V1Pod): Promise<void> {
    try {
      await acts.deletePod(p.metadata!.namespace!, p.metadata!.name!);
    } catch (e) {
      // A pod the build's account may not delete is left to its activeDeadlineSeconds and ownerReference.
      if (!isForbiddenError(e)) throw e;
      this.log.warn({ pod: p.metadata?.name }, 'build pod not deleted: forbidden for the build account');
    }
  }

  /**
   * A failed build pod, by what its containers say. The pod phase alone is not enough: the kubelet
   * keeps a pod `Running` until it has finished tearing it down, a few seconds after the build container
   * terminated non-zero (when the build already counts as Failed), and a pod GCed in that window would
   * lose the log the user needs.
   */
  private buildFailed(p: V1Pod): boolean {
    return p.status?.phase === 'Failed' || observeBuildPod(p, this.builder).phase === 'Failed';
  }

  private failedPodTtl(): number {
    return this.d.failedPodTtlMs ?? 60 * 60_000;
  }

  /** Delete failed build pods older than the TTL; requeue once for the next one due. */
  private async gcFailedPods(ib: ImageBuild, acts: ImageBuildActions): Promise<Result | void> {
    const now = this.clock.now();
    let next: number | undefined;
    for (const p of await this.buildPods(ib)) {
      const finished = this.finishedAt(p) ?? now;
      const due = finished + this.failedPodTtl();
      const current = p.metadata?.annotations?.[ANNOTATION_GENERATION] === String(ib.metadata.generation ?? 0);
      if (!current || !this.buildFailed(p) || due <= now) await this.deletePod(acts, p);
      else next = Math.min(next ?? Infinity, due - now);
    }
    return next === undefined ? undefined : { requeueAfter: Math.max(1000, next) };
  }

  private finishedAt(p: V1Pod): number | undefined {
    const times = [...(p.status?.initContainerStatuses ?? []), ...(p.status?.containerStatuses ?? [])]
      .map((s) => s.state?.terminated?.finishedAt)
      .filter((t): t is Date => t !== undefined && t !== null)
      .map((t) => new Date(t).getTime());
    return times.length ? Math.max(...times) : undefined;
  }

  private prepareGit(ib: ImageBuild, podName: string, commit: string, signal?: AbortSignal): Promise<GitPrepared> {
    let p = this.gitContexts.get(podName);
    if (!p) {
      const g = ib.spec.context.git!;
      const key = `${ib.metadata.namespace}/${ib.metadata.name}`;
      p = (async () => {
        const dir = await this.git.checkout(g, commit, signal);
        try {
          return { dir, prepared: await prepareContext(dir, ib.spec.dockerfile || 'Dockerfile') };
        } catch (e) {
          await this.git.dispose(dir).catch(() => undefined);
          throw e;
        }
      })();
      this.gitContexts.set(podName, p);
      const pods = this.gitPods.get(key) ?? new Set<string>();
      pods.add(podName);
      this.gitPods.set(key, pods);
      p.catch(() => {
        this.gitContexts.delete(podName);
        pods.delete(podName);
      });
    }
    return p;
  }

  private forgetGit(podName: string): void {
    const p = this.gitContexts.get(podName);
    if (!p) return;
    this.gitContexts.delete(podName);
    for (const pods of this.gitPods.values()) pods.delete(podName);
    void p.then((g) => this.git.dispose(g.dir)).catch(() => undefined);
  }

  /** Removes the checkouts of an ImageBuild's pods, except `keep` (the current one). */
  private forgetGitOf(key: string, keep?: string): void {
    const pods = this.gitPods.get(key);
    if (!pods) return;
    for (const pod of [...pods]) if (pod !== keep) this.forgetGit(pod);
    if (pods.size === 0) this.gitPods.delete(key);
  }

  /**
   * The operator is the uploader for git contexts. Runs in the background (a reconcile worker must not
   * be held for the transfer); the pod watch wakes the reconciler when the receiver finishes. A lost
   * upload (operator restart) is simply redone: the receiver accepts uploads until one verifies.
   */
  private startGitUpload(ib: ImageBuild, pod: V1Pod, commit: string, log: Logger, user: string | undefined): void {
    const podName = pod.metadata!.name!;
    if (this.uploads.has(podName) || !this.d.uploader) return;
    this.uploads.add(podName);
    void (async () => {
      try {
        const g = await this.prepareGit(ib, podName, commit);
        if (g.prepared.digest !== pod.metadata?.annotations?.['dsa.dev/context-digest']) {
          throw new Error(`git context digest changed since the pod was created (${g.prepared.digest})`);
        }
        await this.d.uploader!({ namespace: pod.metadata!.namespace!, pod: podName, container: UPLOAD_CONTAINER }, g.prepared.open(), user);
        log.info({ pod: podName, bytes: g.prepared.size }, 'git context uploaded');
      } catch (e) {
        log.warn({ pod: podName, err: user && isForbiddenError(e) ? describeForbidden(e, user) : (e as Error).message }, 'git context upload failed; the next reconcile retries');
      } finally {
        this.uploads.delete(podName);
      }
    })();
  }
}

/** Equal ignoring condition transition times and key order. */
export function sameStatus(a: ImageBuildStatus | undefined, b: ImageBuildStatus): boolean {
  const norm = (s: ImageBuildStatus | undefined) =>
    JSON.stringify(
      Object.entries({ ...(s ?? {}), conditions: (s?.conditions ?? []).map(({ lastTransitionTime: _t, ...c }) => c).sort((x, y) => x.type.localeCompare(y.type)) })
        .filter(([, v]) => v !== undefined)
        .sort(([x], [y]) => x.localeCompare(y)),
    );
  return norm(a) === norm(b);
}

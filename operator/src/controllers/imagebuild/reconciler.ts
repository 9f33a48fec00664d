// ImageBuild reconciler: a short driver over ordered sub-steps, Flux style, ending in one summarize
// step that writes phase + Ready/Reconciling/Stalled with observedGeneration.
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
import { RegistryClient, RegistryError, credentialsFromDockerConfig, parseImageRef, type Credentials } from '../../registry/client.js';
import { formatTime } from '../../runtime/conditions.js';
import { isAlreadyExists } from '../../runtime/api-errors.js';
import { realClock, type Clock } from '../../runtime/clock.js';
import { TerminalError } from '../../runtime/errors.js';
import type { ReconcileContext, Request, Result } from '../../runtime/controller.js';
import type { EventRecorder } from '../../runtime/events.js';
import type { OperatorMetrics } from '../../server/metrics.js';
import { silentLogger, type Logger } from '../../log.js';
// Git contexts go through exactly the same canonical tar + exec upload as the agent's uploads.
import { prepareContext, type PreparedContext, type UploadTarget } from '@dsa/api/build-context';
import { describeRetry, isNewerRequest, observeBuildPod, reasonForPhase, summarize, tailLines, type BuildPhaseName, type RetryStep } from './build-state.js';
import { ANNOTATION_GENERATION, buildPodName, desiredBuildPod, validateBuildSpec, type BuildPodConfig } from './desired-build-pod.js';
import type { ImageBuildClients } from './clients.js';

export interface RegistryLookup {
  manifestDigest(q: { image: string; tag: string; insecure?: boolean; credentials?: Credentials }): Promise<string | undefined>;
}

/** Git access for git contexts (operator/src/git by default). */
export interface GitSource {
  resolve(git: GitContext): Promise<string>;
  /** Check out `git.subPath` at `commit` into a fresh folder; returns the folder. */
  checkout(git: GitContext, commit: string): Promise<string>;
  dispose(dir: string): Promise<void>;
}

/** Streams a tar into the build pod's upload container (uploadContext from @dsa/api/build-context by default). */
export type ContextUploader = (target: UploadTarget, tar: AsyncIterable<Buffer | Uint8Array>) => Promise<void>;

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
}

export const defaultGitSource: GitSource = {
  resolve: (g) => resolveRef({ url: g.url, ref: g.ref }),
  checkout: async (g, commit) => {
    const dest = await mkdtemp(path.join(tmpdir(), 'dsa-gitctx-'));
    await checkoutSubPath({ url: g.url, ref: g.ref, commit, subPath: g.subPath, dest: path.join(dest, 'ctx') });
    return path.join(dest, 'ctx');
  },
  dispose: (dir) => removeCheckout(path.dirname(dir)),
};

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
  /** Uploads in flight, by pod name (so a requeue never starts a second one). */
  private readonly uploads = new Set<string>();

  constructor(deps: ImageBuildReconcilerDeps) {
    this.d = deps;
    this.clock = deps.clock ?? realClock;
    this.builder = deps.builder ?? deps.pod.builder ?? new KanikoBuilder();
    this.registry = deps.registry ?? new RegistryClient();
    this.git = deps.git ?? defaultGitSource;
    this.log = deps.logger ?? silentLogger();
  }

  async reconcile(req: Request, ctx?: ReconcileContext<any>): Promise<Result | void> {
    const log = ctx?.log ?? this.log.child({ namespace: req.namespace, name: req.name });
    const ib = await this.d.clients.getImageBuild(req.namespace, req.name);
    if (!ib || ib.metadata.deletionTimestamp) return; // build pods are garbage-collected through their ownerReference
    const gen = ib.metadata.generation ?? 0;
    const prev = ib.status ?? {};
    const sameGen = prev.observedGeneration === gen;
    // A forced build (-b) not started yet; `request` is the one in effect (names the pod).
    const requested = ib.metadata.annotations?.[ANNOTATIONS.requestedAt];
    const forced = isNewerRequest(requested, prev.lastRequestedAt);
    const request = forced ? requested : prev.lastRequestedAt;

    // 1. validate
    const invalid = validateBuildSpec(ib);
    if (invalid) {
      await this.write(ib, { phase: BuildPhase.Failed, message: invalid }, Reason.InvalidSpec);
      throw new TerminalError(Reason.InvalidSpec, invalid);
    }

    // 2. settled for this generation: success is final; failure is final until the spec changes — or
    //    until a forced build is requested.
    if (!forced && sameGen && prev.phase === BuildPhase.Succeeded) {
      await this.deleteBuildPods(ib, () => true);
      return;
    }
    if (!forced && sameGen && prev.phase === BuildPhase.Failed) return this.gcFailedPods(ib);

    // 3. tag (+ commit for git), pinned per generation so a moving branch does not restart a running
    //    build; a forced build resolves the ref again (a rebuild of a branch means its current head).
    let commit: string | undefined;
    let tag = ib.spec.tag;
    if (ib.spec.context.git) {
      const g = ib.spec.context.git;
      commit = sameGen && prev.commit && !forced ? prev.commit : undefined;
      if (!commit) {
        try {
          commit = await this.git.resolve(g);
        } catch (e) {
          if (e instanceof GitNotFoundError) {
            await this.write(ib, { phase: BuildPhase.Failed, message: e.message }, Reason.GitFetchFailed);
            throw new TerminalError(Reason.GitFetchFailed, e.message);
          }
          await this.noteRetry(ib, { step: 'git', url: g.url }, e, {}, log);
          throw e; // transient: backoff
        }
      }
      tag ??= buildTag({ ...this.tagInputs(ib), contextDigest: gitContextDigest(g.url, commit, g.subPath ?? '') });
    } else {
      tag ??= buildTag({ ...this.tagInputs(ib), contextDigest: ib.spec.context.upload!.digest });
    }
    const image = `${ib.spec.image}:${tag}`;
    const base: ImageBuildStatus = { tag, image, ...(commit ? { commit } : {}) };
    const podName = buildPodName(ib, tag, request);
    let pod = await this.d.clients.getPod(ib.metadata.namespace ?? 'default', podName);

    // 4. already built? Only asked before we start a pod (once building, the pod is the source of
    //    truth), and not for a forced build: its point is to push the same tag again.
    if (!pod && !forced) {
      let digest: string | undefined;
      try {
        digest = await this.lookupRegistry(ib, tag);
      } catch (e) {
        await this.noteRetry(ib, { step: 'registry', image }, e, base, log);
        throw e;
      }
      if (digest) {
        const now = formatTime(this.clock.now());
        await this.deleteBuildPods(ib, (p) => !this.buildFailed(p));
        await this.write(ib, { ...base, phase: BuildPhase.Succeeded, digest, completionTime: now, durationSeconds: 0, message: `${image} exists in the registry` }, Reason.AlreadyBuilt);
        this.d.metrics?.buildsTotal.inc({ result: 'already_built' });
        await this.d.events?.recordOnce(ib as never, 'Build', { type: 'Normal', reason: Reason.AlreadyBuilt, action: 'Build', note: `${image} already exists (${digest})` });
        return;
      }
    }

    // 5. build pod: create once
    if (!pod) {
      let tarDigest = ib.spec.context.upload?.digest;
      if (ib.spec.context.git) {
        try {
          tarDigest = (await this.prepareGit(ib, podName, commit!)).prepared.digest;
        } catch (e) {
          await this.noteRetry(ib, { step: 'git', url: ib.spec.context.git.url }, e, base, log);
          throw e;
        }
      }
      const desired = desiredBuildPod(ib, { ...this.d.pod, builder: this.builder }, { tag, tarDigest: tarDigest!, ...(request ? { request } : {}) });
      // Superseded generations and requests: stop their running pods (failed ones stay for their TTL).
      await this.deleteBuildPods(ib, (p) => p.metadata?.name !== podName && !this.buildFailed(p));
      try {
        pod = await this.d.clients.createPod(desired);
        log.info({ pod: podName, image, ...(forced ? { requestedAt: request } : {}) }, forced ? 'build pod created (forced rebuild)' : 'build pod created');
      } catch (e) {
        if (!isAlreadyExists(e)) {
          await this.noteRetry(ib, { step: 'pod', pod: podName }, e, base, log);
          throw e;
        }
        pod = (await this.d.clients.getPod(desired.metadata!.namespace!, podName)) ?? desired;
      }
    }
    // From here on the status names this pod: the request it serves is honoured.
    const honoured: ImageBuildStatus = request ? { lastRequestedAt: request } : {};

    // 6. observe
    const obs = observeBuildPod(pod, this.builder);
    const startTime = prev.startTime && sameGen && !forced ? prev.startTime : formatTime(pod.metadata?.creationTimestamp ?? this.clock.now());
    const running: ImageBuildStatus = { ...base, ...honoured, podName, uploadContainer: UPLOAD_CONTAINER, startTime };

    if (obs.phase === 'AwaitingUpload' && ib.spec.context.git) this.startGitUpload(ib, pod, commit!, log);

    if (obs.phase === 'Succeeded') {
      const end = this.clock.now();
      const durationSeconds = Math.max(0, Math.round((end - Date.parse(startTime)) / 1000));
      await this.write(ib, { ...base, ...honoured, phase: BuildPhase.Succeeded, digest: obs.digest, startTime, completionTime: formatTime(end), durationSeconds, message: `built ${image} in ${durationSeconds}s` }, Reason.Succeeded);
      this.d.metrics?.buildsTotal.inc({ result: 'succeeded' });
      await this.d.events?.recordOnce(ib as never, 'Build', { type: 'Normal', reason: Reason.Succeeded, action: 'Build', note: `built ${image} (${obs.digest}) in ${durationSeconds}s` });
      await this.deleteBuildPods(ib, () => true);
      this.forgetGit(podName);
      return;
    }

    if (obs.phase === 'Failed') {
      const end = this.clock.now();
      const logs = obs.container ? await this.d.clients.podLogTail(pod.metadata!.namespace!, podName, obs.container, this.d.logTailLines ?? 20) : '';
      const logTail = tailLines(logs || obs.terminationMessage, this.d.logTailLines ?? 20);
      const last = logTail.split('\n').pop() ?? '';
      const message = last ? `${obs.message}: ${last}` : obs.message;
      await this.write(
        ib,
        { ...running, phase: BuildPhase.Failed, completionTime: formatTime(end), durationSeconds: Math.max(0, Math.round((end - Date.parse(startTime)) / 1000)), message, ...(logTail ? { logTail } : {}) },
        Reason.BuildFailed,
      );
      this.d.metrics?.buildsTotal.inc({ result: 'failed' });
      await this.d.events?.recordOnce(ib as never, 'Build', { type: 'Warning', reason: Reason.BuildFailed, action: 'Build', note: `${message}\n${logTail}` });
      this.forgetGit(podName);
      return { requeueAfter: this.failedPodTtl() };
    }

    await this.write(ib, { ...running, phase: obs.phase, message: obs.message }, reasonForPhase[obs.phase]);
    return { requeueAfter: this.d.pollIntervalMs ?? 10_000 };
  }

  // ---- steps -------------------------------------------------------------------------------------

  /**
   * A step failed and will be retried with backoff: say why in status (Reconciling=True with a
   * RetryReason) so a slow build explains itself. Every retried step runs while no pod exists for the
   * current (generation, tag, request), so the phase is Pending and no pod is named (an agent must not
   * upload into a superseded one). Never records a forced-build request as honoured: the retry must
   * still force. A failed status write is only logged; the caller rethrows the original error.
   */
  private async noteRetry(ib: ImageBuild, step: RetryStep, e: unknown, base: ImageBuildStatus, log: Logger): Promise<void> {
    const { reason, message } = describeRetry(step, e);
    log.warn({ reason, err: message }, 'build step failed; retrying with backoff');
    try {
      await this.write(ib, { ...base, phase: BuildPhase.Pending, message }, reason);
    } catch (we) {
      log.warn({ err: (we as Error).message }, 'could not write the retry status');
    }
  }

  private tagInputs(ib: ImageBuild) {
    return { dockerfile: ib.spec.dockerfile, buildArgs: ib.spec.buildArgs, target: ib.spec.target, entrypoint: ib.spec.entrypoint, cmd: ib.spec.cmd };
  }

  private async lookupRegistry(ib: ImageBuild, tag: string): Promise<string | undefined> {
    const secret = ib.spec.registry?.pushSecret || ib.spec.registry?.pullSecret;
    let credentials: Credentials | undefined;
    if (secret) {
      const json = await this.d.clients.readDockerConfig(ib.metadata.namespace ?? 'default', secret);
      if (json) credentials = credentialsFromDockerConfig(json, parseImageRef(ib.spec.image).registry);
    }
    try {
      return await this.registry.manifestDigest({ image: ib.spec.image, tag, insecure: ib.spec.registry?.insecure === true, credentials });
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

  private async deleteBuildPods(ib: ImageBuild, which: (p: V1Pod) => boolean): Promise<void> {
    for (const p of await this.buildPods(ib)) {
      if (which(p)) await this.d.clients.deletePod(p.metadata!.namespace!, p.metadata!.name!);
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
  private async gcFailedPods(ib: ImageBuild): Promise<Result | void> {
    const now = this.clock.now();
    let next: number | undefined;
    for (const p of await this.buildPods(ib)) {
      const finished = this.finishedAt(p) ?? now;
      const due = finished + this.failedPodTtl();
      const current = p.metadata?.annotations?.[ANNOTATION_GENERATION] === String(ib.metadata.generation ?? 0);
      if (!current || !this.buildFailed(p) || due <= now) await this.d.clients.deletePod(p.metadata!.namespace!, p.metadata!.name!);
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

  private prepareGit(ib: ImageBuild, podName: string, commit: string): Promise<GitPrepared> {
    let p = this.gitContexts.get(podName);
    if (!p) {
      const g = ib.spec.context.git!;
      p = (async () => {
        const dir = await this.git.checkout(g, commit);
        return { dir, prepared: await prepareContext(dir, ib.spec.dockerfile || 'Dockerfile') };
      })();
      this.gitContexts.set(podName, p);
      p.catch(() => this.gitContexts.delete(podName));
    }
    return p;
  }

  private forgetGit(podName: string): void {
    const p = this.gitContexts.get(podName);
    if (!p) return;
    this.gitContexts.delete(podName);
    void p.then((g) => this.git.dispose(g.dir)).catch(() => undefined);
  }

  /**
   * The operator is the uploader for git contexts. Runs in the background (a reconcile worker must not
   * be held for the transfer); the pod watch wakes the reconciler when the receiver finishes. A lost
   * upload (operator restart) is simply redone: the receiver accepts uploads until one verifies.
   */
  private startGitUpload(ib: ImageBuild, pod: V1Pod, commit: string, log: Logger): void {
    const podName = pod.metadata!.name!;
    if (this.uploads.has(podName) || !this.d.uploader) return;
    this.uploads.add(podName);
    void (async () => {
      try {
        const g = await this.prepareGit(ib, podName, commit);
        if (g.prepared.digest !== pod.metadata?.annotations?.['dsa.dev/context-digest']) {
          throw new Error(`git context digest changed since the pod was created (${g.prepared.digest})`);
        }
        await this.d.uploader!({ namespace: pod.metadata!.namespace!, pod: podName, container: UPLOAD_CONTAINER }, g.prepared.open());
        log.info({ pod: podName, bytes: g.prepared.size }, 'git context uploaded');
      } catch (e) {
        log.warn({ pod: podName, err: (e as Error).message }, 'git context upload failed; the next reconcile retries');
      } finally {
        this.uploads.delete(podName);
      }
    })();
  }

  /** Summarize + write, skipping writes that change nothing (our own update would wake us again). */
  private async write(ib: ImageBuild, status: ImageBuildStatus & { phase: BuildPhaseName }, reason: string): Promise<void> {
    const gen = ib.metadata.generation ?? 0;
    const message = status.message ?? '';
    const conditions = summarize(ib.status?.conditions as never, status.phase, reason, message, gen, this.clock.now());
    // Status is applied whole: carry the honoured request unless this write records a newer one.
    const lastRequestedAt = status.lastRequestedAt ?? ib.status?.lastRequestedAt;
    const next: ImageBuildStatus = { ...status, ...(lastRequestedAt ? { lastRequestedAt } : {}), observedGeneration: gen, conditions };
    if (sameStatus(ib.status, next)) return;
    await this.d.clients.applyStatus(ib, next);
    // Keep our copy current: later steps of this reconcile compare against it.
    ib.status = next;
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

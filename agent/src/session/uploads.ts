// Upload orchestration (docs/api/v1alpha1.md "Upload contract"): for every image whose context is an
// upload, wait until the operator's ImageBuild has a build pod waiting for it (AwaitingUpload) — or
// needs nothing (Succeeded: the content-addressed tag exists, AlreadyBuilt) — then stream the canonical
// context tar into the pod's `upload` init container through exec. Images go in parallel unless
// --build-sequential. When to upload is decided by upload/slot.ts (shared with waitForUploadSlot), which
// also checks that the ImageBuild's spec carries the digest we declared and, with -b, that the operator
// took up our forced-build request.
//
// -b/--force-build: each job sets the ImageBuild's `dsa.dev/requested-at` to the deploy's request time,
// once the ImageBuild carries the digest we declared (annotating the previous spec would force a build
// of the OLD context, and the new generation would then be free to take the registry shortcut). The
// operator builds again in a new pod even though the tag exists, so the same context is uploaded again.
// A forced job then waits for the rebuild to finish: the session may well be Ready already (same
// spec, same tag), so waiting for it would not wait for the build. Git-context images get a job too
// when forced (the operator uploads those; the job only requests and waits).
import { Reason, desiredImageBuilds, LABELS, type DevSession, type ImageBuild } from '@dsa/api';
import { RuntimeError } from '../errors.js';
import { BuildFailedError, SlotTimeoutError, abortableSleep, pollUploadSlot, type ImageBuildLike, type SlotExpectation, type UploadSlot } from '@dsa/api/build-context';
import { formatDuration } from './duration.js';
import type { SessionKube, SessionRef } from './kube.js';
import { refOf } from './apply.js';

export { abortableSleep } from '@dsa/api/build-context';

/** A local build context: what the renderer digested for one image of one session. */
export interface LocalContext {
  /** Absolute directory. */
  contextDir: string;
  /** Dockerfile path, absolute or relative to contextDir. */
  dockerfile: string;
}

export interface UploadJob {
  session: string;
  /** spec.images[].name */
  image: string;
  imageBuild: SessionRef;
  /**
   * The digest in the applied spec: the tar we stream must hash to it. Undefined for a git context
   * (only planned with -b): the operator uploads those, the job requests the rebuild and waits.
   */
  digest: string | undefined;
  local: LocalContext | undefined;
}

/**
 * One job per image with an upload context, across all sessions. `locals` maps `<session>/<spec image
 * name>` to the local folder; images of other origin (git contexts, skipped) need no upload — with
 * forceBuild, git contexts get a job too (to request the rebuild and wait for it).
 */
export function planUploads(sessions: readonly DevSession[], locals: ReadonlyMap<string, LocalContext>, opts: { forceBuild?: boolean } = {}): UploadJob[] {
  const jobs: UploadJob[] = [];
  for (const s of sessions) {
    const builds = new Map(desiredImageBuilds(s).map((ib) => [ib.metadata.labels?.[LABELS.image] ?? '', ib]));
    for (const image of s.spec.images ?? []) {
      const digest = image.context?.upload?.digest;
      const ib = builds.get(image.name);
      if (image.skip || !ib) continue;
      if (digest === undefined && !(opts.forceBuild && image.context?.git)) continue;
      jobs.push({ session: s.metadata.name, image: image.name, imageBuild: refOf(ib), digest, local: locals.get(`${s.metadata.name}/${image.name}`) });
    }
  }
  return jobs;
}

export interface PreparedTar {
  digest: string;
  size: number;
  open(): AsyncIterable<Buffer | Uint8Array>;
}

export interface UploadDeps {
  kube: Pick<SessionKube, 'getImageBuild' | 'requestBuild'>;
  prepare(local: LocalContext): Promise<PreparedTar>;
  upload(target: { namespace: string; pod: string; container: string }, tar: AsyncIterable<Buffer | Uint8Array>, signal: AbortSignal): Promise<{ bytes: number }>;
  sleep?: (ms: number, signal: AbortSignal) => Promise<void>;
  now?: () => number;
}

export interface RunUploadsOptions {
  sequential?: boolean;
  signal: AbortSignal;
  log: (line: string) => void;
  /** Error lines (a failed build's log tail). */
  logError?: (line: string) => void;
  /** Per image and per wait: how long its build pod may take to appear (and a forced build to finish). */
  timeoutMs?: number;
  pollMs?: number;
  /** -b: the requested-at (RFC 3339) every job sets on its ImageBuild. */
  requestedAt?: string;
}

const DEFAULT_TIMEOUT_MS = 10 * 60_000;

function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Reasons that only say "working on it": the others (registry unreachable, …) are worth a line. */
const ROUTINE_REASONS = new Set<string>([Reason.Progressing, Reason.Reconciling, Reason.AwaitingUpload, Reason.Building]);

/** Reports, once per new message, why the operator is retrying a build (status.message + Reconciling). */
function retryReporter(job: UploadJob, log: (line: string) => void): (ib: ImageBuildLike | undefined) => void {
  let last: string | undefined;
  return (ib) => {
    const rec = (ib as ImageBuild | undefined)?.status?.conditions?.find((c) => c.type === 'Reconciling' && c.status === 'True');
    if (!rec || ROUTINE_REASONS.has(rec.reason) || !ib?.status?.message || ib.status.message === last) return;
    last = ib.status.message;
    log(`image ${job.image}: ${last}`);
  };
}

/** Poll the ImageBuild of `job` through slot.ts's loop; timeouts become a RuntimeError saying what was awaited. */
async function awaitSlot(deps: UploadDeps, job: UploadJob, opts: RunUploadsOptions, expected: SlotExpectation, untilDone: boolean, what: string): Promise<UploadSlot> {
  const sleep = deps.sleep ?? abortableSleep;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  try {
    return await pollUploadSlot(() => deps.kube.getImageBuild(job.imageBuild), {
      expected,
      untilDone,
      timeoutMs,
      pollMs: opts.pollMs,
      signal: opts.signal,
      sleep: (ms) => sleep(ms, opts.signal),
      now: deps.now,
      onSnapshot: retryReporter(job, opts.log),
    });
  } catch (e) {
    if (e instanceof SlotTimeoutError) throw new RuntimeError(`image ${job.image}: timed out after ${formatDuration(timeoutMs)} waiting for ImageBuild ${job.imageBuild.name} ${what}`);
    if (opts.signal.aborted) throw new RuntimeError('aborted');
    throw e;
  }
}

/** Wait for the upload slot of one job (or "nothing to upload"). */
function waitForSlot(deps: UploadDeps, job: UploadJob, opts: RunUploadsOptions): Promise<UploadSlot> {
  return awaitSlot(deps, job, opts, expectation(job, opts), false, 'to be ready for the upload');
}

const expectation = (job: UploadJob, opts: RunUploadsOptions): SlotExpectation => ({
  ...(job.digest !== undefined ? { digest: job.digest } : {}),
  ...(opts.requestedAt ? { requestedAt: opts.requestedAt } : {}),
});

/**
 * -b: set requested-at on the job's ImageBuild once it carries our digest (it may not exist yet, or
 * still hold the previous spec, right after the apply).
 */
export async function requestRebuild(deps: UploadDeps, job: UploadJob, opts: RunUploadsOptions & { requestedAt: string }): Promise<void> {
  const sleep = deps.sleep ?? abortableSleep;
  const now = deps.now ?? Date.now;
  const timeoutMs = opts.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const deadline = now() + timeoutMs;
  for (;;) {
    if (opts.signal.aborted) throw new RuntimeError('aborted');
    const ib = await deps.kube.getImageBuild(job.imageBuild);
    const current = ib && (job.digest === undefined || ib.spec.context?.upload?.digest === job.digest);
    if (current && (await deps.kube.requestBuild(job.imageBuild, opts.requestedAt))) return;
    if (now() >= deadline) throw new RuntimeError(`image ${job.image}: timed out after ${formatDuration(timeoutMs)} waiting for the operator to create ImageBuild ${job.imageBuild.name} with the new build context`);
    await sleep(opts.pollMs ?? 1000, opts.signal);
  }
}

async function runJob(deps: UploadDeps, job: UploadJob, opts: RunUploadsOptions): Promise<void> {
  const forced = opts.requestedAt;
  try {
    if (forced) {
      await requestRebuild(deps, job, { ...opts, requestedAt: forced });
      opts.log(`image ${job.image}: rebuild requested (-b)`);
    }
    // A git context is uploaded by the operator: its job never takes the upload slot.
    const slot = job.digest === undefined ? await awaitSlot(deps, job, opts, expectation(job, opts), true, 'to finish the rebuild') : await waitForSlot(deps, job, opts);
    if (slot.kind === 'done') {
      opts.log(forced ? `image ${job.image}: rebuilt ${slot.image ?? ''}`.trimEnd() : `image ${job.image}: ${slot.image ?? 'built'} is up to date`);
      return;
    }
    await uploadInto(deps, job, slot.target, opts);
    if (forced) {
      const done = await awaitSlot(deps, job, opts, expectation(job, opts), true, 'to finish the rebuild');
      opts.log(`image ${job.image}: rebuilt ${done.kind === 'done' ? (done.image ?? '') : ''}`.trimEnd());
    }
  } catch (e) {
    if (e instanceof BuildFailedError) {
      for (const line of (e.logTail ?? '').split('\n').filter(Boolean)) opts.logError?.(`  ${job.image} | ${line}`);
      throw new RuntimeError(`image ${job.image} failed to build: ${e.message}`, { cause: e, hint: 'a failed build is not retried for the same inputs; change them, or retry with -b' });
    }
    throw e;
  }
}

async function uploadInto(deps: UploadDeps, job: UploadJob, target: { namespace: string; pod: string; container: string }, opts: RunUploadsOptions): Promise<void> {
  if (!job.local) throw new RuntimeError(`image ${job.image}: the build pod waits for a context upload, but no local build context is known for it`);
  const started = (deps.now ?? Date.now)();
  const prepared = await deps.prepare(job.local);
  if (prepared.digest !== job.digest) {
    throw new RuntimeError(`image ${job.image}: the build context changed while deploying (${job.local.contextDir}); run the command again`);
  }
  opts.log(`uploading build context of ${job.image} (${humanBytes(prepared.size)})…`);
  try {
    await deps.upload(target, prepared.open(), opts.signal);
  } catch (e) {
    if (opts.signal.aborted) throw e;
    throw new RuntimeError(`image ${job.image}: uploading the build context failed: ${(e as Error).message.split('\n')[0]}`, { cause: e });
  }
  opts.log(`uploaded build context of ${job.image} in ${formatDuration((deps.now ?? Date.now)() - started)}; building ${job.image}…`);
}

/** Run every job; the first failure stops the others and is thrown. */
export async function runUploads(deps: UploadDeps, jobs: readonly UploadJob[], opts: RunUploadsOptions): Promise<void> {
  if (opts.sequential) {
    for (const job of jobs) await runJob(deps, job, opts);
    return;
  }
  const stop = new AbortController();
  const onAbort = () => stop.abort();
  opts.signal.addEventListener('abort', onAbort, { once: true });
  let first: unknown;
  try {
    await Promise.all(
      jobs.map((job) =>
        runJob(deps, job, { ...opts, signal: stop.signal }).catch((e: unknown) => {
          // Only the first failure is the cause; the others fail because we stopped them.
          if (first === undefined) {
            first = e;
            stop.abort();
          }
        }),
      ),
    );
  } finally {
    opts.signal.removeEventListener('abort', onAbort);
  }
  if (first !== undefined) throw first;
}

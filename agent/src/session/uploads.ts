// Upload orchestration (docs/api/v1alpha1.md "Upload contract"): for every image whose context is an
// upload, wait until the operator's ImageBuild has a build pod waiting for it (AwaitingUpload) — or
// needs nothing (Succeeded: the content-addressed tag exists, AlreadyBuilt) — then stream the canonical
// context tar into the pod's `upload` init container through exec. Images go in parallel unless
// --build-sequential.
//
// The waiter here (not upload/waitForUploadSlot) also checks that the ImageBuild's spec carries the
// digest we declared: right after `dsa deploy` applies a changed session, the operator has not yet
// re-applied the ImageBuild, and its status still says Succeeded for the OLD context. Trusting that
// would skip the upload the new generation needs and then wait forever.
import { desiredImageBuilds, LABELS, type DevSession, type ImageBuild } from '@dsa/api';
import { RuntimeError } from '../errors.js';
import { formatDuration } from './duration.js';
import type { SessionKube, SessionRef } from './kube.js';
import { refOf } from './apply.js';

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
  /** The digest in the applied spec: the tar we stream must hash to it. */
  digest: string;
  local: LocalContext | undefined;
}

/** The slot decision for one ImageBuild snapshot (the upload module's rules + the spec digest check). */
export type Slot = { kind: 'upload'; namespace: string; pod: string; container: string } | { kind: 'done'; image?: string; message?: string };

export class BuildFailed extends Error {
  override readonly name = 'BuildFailed';
  constructor(
    message: string,
    readonly logTail?: string,
  ) {
    super(message);
  }
}

/** Pure: what an ImageBuild snapshot means for the upload of `digest`; undefined = keep waiting. */
export function slotFor(ib: ImageBuild | undefined, digest: string): Slot | undefined {
  if (!ib) return undefined;
  // Not yet the spec we applied (the operator re-applies the ImageBuild when it reconciles the session).
  if (ib.spec.context?.upload?.digest !== digest) return undefined;
  const gen = ib.metadata.generation ?? 0;
  const st = ib.status;
  if (!st || (st.observedGeneration ?? -1) < gen) return undefined;
  switch (st.phase) {
    case 'AwaitingUpload':
      return st.podName ? { kind: 'upload', namespace: ib.metadata.namespace ?? 'default', pod: st.podName, container: st.uploadContainer || 'upload' } : undefined;
    case 'Succeeded':
      return { kind: 'done', ...(st.image ? { image: st.image } : {}), ...(st.message ? { message: st.message } : {}) };
    case 'Failed':
      throw new BuildFailed(st.message ?? 'build failed', st.logTail);
    default:
      return undefined;
  }
}

/**
 * One job per image with an upload context, across all sessions. `locals` maps `<session>/<spec image
 * name>` to the local folder; images of other origin (git contexts, skipped) need no upload.
 */
export function planUploads(sessions: readonly DevSession[], locals: ReadonlyMap<string, LocalContext>): UploadJob[] {
  const jobs: UploadJob[] = [];
  for (const s of sessions) {
    const builds = new Map(desiredImageBuilds(s).map((ib) => [ib.metadata.labels?.[LABELS.image] ?? '', ib]));
    for (const image of s.spec.images ?? []) {
      const digest = image.context?.upload?.digest;
      const ib = builds.get(image.name);
      if (image.skip || digest === undefined || !ib) continue;
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
  kube: Pick<SessionKube, 'getImageBuild'>;
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
  /** Per image: how long its build pod may take to appear. */
  timeoutMs?: number;
  pollMs?: number;
}

export const abortableSleep = (ms: number, signal: AbortSignal): Promise<void> =>
  new Promise((resolve) => {
    if (signal.aborted) return resolve();
    const t = setTimeout(done, ms);
    function done() {
      clearTimeout(t);
      signal.removeEventListener('abort', done);
      resolve();
    }
    signal.addEventListener('abort', done, { once: true });
  });

export function humanBytes(n: number): string {
  if (n < 1024) return `${n} B`;
  if (n < 1024 * 1024) return `${(n / 1024).toFixed(1)} KiB`;
  return `${(n / 1024 / 1024).toFixed(1)} MiB`;
}

/** Wait for the slot of one job, polling the ImageBuild (1 s: a watch can stall silently, a GET cannot). */
export async function waitForSlot(deps: UploadDeps, job: UploadJob, opts: RunUploadsOptions): Promise<Slot> {
  const sleep = deps.sleep ?? abortableSleep;
  const now = deps.now ?? Date.now;
  const deadline = now() + (opts.timeoutMs ?? 10 * 60_000);
  for (;;) {
    if (opts.signal.aborted) throw new RuntimeError('aborted');
    const slot = slotFor(await deps.kube.getImageBuild(job.imageBuild), job.digest);
    if (slot) return slot;
    if (now() >= deadline) {
      throw new RuntimeError(`image ${job.image}: timed out after ${formatDuration(opts.timeoutMs ?? 0)} waiting for ImageBuild ${job.imageBuild.name} to be ready for the upload`);
    }
    await sleep(opts.pollMs ?? 1000, opts.signal);
  }
}

async function runJob(deps: UploadDeps, job: UploadJob, opts: RunUploadsOptions): Promise<void> {
  let slot: Slot;
  try {
    slot = await waitForSlot(deps, job, opts);
  } catch (e) {
    if (e instanceof BuildFailed) {
      for (const line of (e.logTail ?? '').split('\n').filter(Boolean)) opts.logError?.(`  ${job.image} | ${line}`);
      throw new RuntimeError(`image ${job.image} failed to build: ${e.message}`, { cause: e, hint: 'a failed build is not retried for the same inputs; change them, or retry with -b' });
    }
    throw e;
  }
  if (slot.kind === 'done') {
    opts.log(`image ${job.image}: ${slot.image ?? 'built'} is up to date`);
    return;
  }
  if (!job.local) throw new RuntimeError(`image ${job.image}: the build pod waits for a context upload, but no local build context is known for it`);
  const started = (deps.now ?? Date.now)();
  const prepared = await deps.prepare(job.local);
  if (prepared.digest !== job.digest) {
    throw new RuntimeError(`image ${job.image}: the build context changed while deploying (${job.local.contextDir}); run the command again`);
  }
  opts.log(`uploading build context of ${job.image} (${humanBytes(prepared.size)})…`);
  try {
    await deps.upload({ namespace: slot.namespace, pod: slot.pod, container: slot.container }, prepared.open(), opts.signal);
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

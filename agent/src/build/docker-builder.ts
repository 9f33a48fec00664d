// `build.docker` / `docker:`: the image built by the local Docker daemon from the same canonical context
// tar the in-cluster build would receive (@dsa/api/build-context), so it gets the same content-addressed
// tag, then pushed to the registry. ENTRYPOINT/CMD overrides are appended to a copy of the Dockerfile,
// as the build pod does (operator/src/builders/receiver.ts); the copy travels in the tar under a name
// that `.dockerignore` then hides from COPY (the daemon drops an ignored Dockerfile after reading it).
import { Readable } from 'node:stream';
import tar from 'tar-stream';
import { dockerfileInContext, type PreparedContext } from '@dsa/api/build-context';
import type { DockerApi } from './docker-api.js';
import { ProgressReader, TailBuffer, registryHint } from './docker-progress.js';
import { LocalBuildError } from './errors.js';
import { registryOf, type RegistryAuth } from './registry-auth.js';

/** Name of the Dockerfile copy with appended instructions, inside the tar. */
export const APPENDED_DOCKERFILE = '.dsa.Dockerfile';

export interface DockerBuildJob {
  /** Key under images:, for messages. */
  name: string;
  /** Repository, no tag. */
  image: string;
  /** The first is the content-addressed tag deployed; the rest are the user's. */
  tags: string[];
  contextDir: string;
  /** Absolute, or relative to contextDir. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  target?: string;
  network?: string;
  entrypoint?: string[];
  cmd?: string[];
  skipPush: boolean;
}

export interface DockerBuildDeps {
  api: DockerApi;
  /** The canonical context tar (the same as the upload's). */
  prepare(contextDir: string, dockerfile: string): Promise<PreparedContext>;
  auth?: (registry: string) => RegistryAuth | undefined;
  /** Progress lines (`image api: …`). */
  log(line: string): void;
  /** The builder's own output, line by line. */
  output(line: string): void;
  signal: AbortSignal;
  timeoutMs: number;
}

/** ENTRYPOINT/CMD lines to append (exec form, JSON as Docker expects); '' for none. Same as the build pod's. */
export function dockerfileAppend(entrypoint?: readonly string[], cmd?: readonly string[]): string {
  const lines: string[] = [];
  if (entrypoint && entrypoint.length > 0) lines.push(`ENTRYPOINT ${JSON.stringify(entrypoint)}`);
  if (cmd && cmd.length > 0) lines.push(`CMD ${JSON.stringify(cmd)}`);
  return lines.join('\n');
}

/**
 * The tar to send and the Dockerfile to name: the canonical tar itself, or (with `append`) the same
 * entries plus a Dockerfile copy with the lines appended, hidden by a rule added to `.dockerignore`.
 */
export function dockerContext(prepared: Pick<PreparedContext, 'open'>, dockerfile: string, append: string): { stream: Readable; dockerfile: string } {
  if (append === '') return { stream: prepared.open(), dockerfile };
  const extract = tar.extract();
  const pack = tar.pack();
  let original: Buffer | undefined;
  let ignore: Buffer | undefined;
  const collect = (stream: NodeJS.ReadableStream): Promise<Buffer> =>
    new Promise((resolve, reject) => {
      const parts: Buffer[] = [];
      stream.on('data', (c: Buffer) => parts.push(c));
      stream.on('end', () => resolve(Buffer.concat(parts)));
      stream.on('error', reject);
    });
  extract.on('entry', (header, stream, next) => {
    if (header.name === dockerfile || header.name === '.dockerignore') {
      void collect(stream as unknown as NodeJS.ReadableStream).then((data) => {
        if (header.name === dockerfile) original = data;
        else ignore = data;
        // .dockerignore is written at the end, with the rule hiding the copy.
        if (header.name === '.dockerignore') return next();
        pack.entry(header, data, (err) => next(err ?? undefined));
      }, next);
      return;
    }
    // Next entry only once this one is written: a tar-stream pack takes one entry at a time.
    stream.pipe(pack.entry(header, (err) => next(err ?? undefined)) as unknown as NodeJS.WritableStream);
  });
  extract.on('finish', () => {
    const copy = Buffer.from(`${(original ?? Buffer.alloc(0)).toString('utf8').replace(/\n?$/, '\n')}${append}\n`);
    const rules = Buffer.from(`${(ignore ?? Buffer.alloc(0)).toString('utf8').replace(/\n?$/, ignore?.length ? '\n' : '')}${APPENDED_DOCKERFILE}\n`);
    const header = { mode: 0o644, mtime: new Date(0), uid: 0, gid: 0, uname: '', gname: '' };
    pack.entry({ ...header, name: '.dockerignore', size: rules.length }, rules);
    pack.entry({ ...header, name: APPENDED_DOCKERFILE, size: copy.length }, copy);
    pack.finalize();
  });
  extract.on('error', (e) => pack.destroy(e));
  const src = prepared.open();
  src.on('error', (e) => extract.destroy(e));
  src.pipe(extract as unknown as NodeJS.WritableStream);
  return { stream: Readable.from(pack as AsyncIterable<Buffer>, { objectMode: false }), dockerfile: APPENDED_DOCKERFILE };
}

/** Reads a progress stream to its end; throws with the daemon's error and the output's tail. */
async function follow(stream: AsyncIterable<Buffer | string>, what: string, deps: Pick<DockerBuildDeps, 'output'>, onMessage?: (m: { aux?: { ID?: string; Digest?: string } }) => void): Promise<string[]> {
  const reader = new ProgressReader();
  const tail = new TailBuffer(20);
  let error: string | undefined;
  const handle = (msgs: ReturnType<ProgressReader['feed']>) => {
    for (const m of msgs) {
      if (m.stream) {
        tail.push(m.stream);
        for (const l of m.stream.split('\n')) if (l.trim() !== '') deps.output(l.replace(/\r$/, ''));
      }
      if (m.status && m.status !== 'Waiting' && !/^(Pushing|Preparing|Downloading|Extracting)$/.test(m.status)) {
        const line = m.id ? `${m.id}: ${m.status}` : m.status;
        tail.push(line);
        deps.output(line);
      }
      if (m.error) error ??= m.error;
      onMessage?.(m);
    }
  };
  for await (const chunk of stream) handle(reader.feed(chunk));
  handle(reader.end());
  if (error !== undefined) throw new LocalBuildError(`${what}: ${error.trim().split('\n')[0]}`, tail.get());
  return tail.get();
}

/** Build `job` with the daemon (unless `build` is false), then push its tags unless skipPush. Returns the pushed digest. */
export async function dockerBuildAndPush(job: DockerBuildJob, deps: DockerBuildDeps, opts: { build: boolean }): Promise<{ digest?: string }> {
  const timeout = AbortSignal.timeout(deps.timeoutMs);
  const signal = AbortSignal.any([deps.signal, timeout]);
  const refs = job.tags.map((t) => `${job.image}:${t}`);
  try {
    if (opts.build) {
      const prepared = await deps.prepare(job.contextDir, job.dockerfile);
      const inCtx = dockerfileInContext(job.contextDir, job.dockerfile);
      const ctx = dockerContext(prepared, inCtx, dockerfileAppend(job.entrypoint, job.cmd));
      deps.log(`image ${job.name}: building ${refs[0]} with the Docker daemon at ${deps.api.endpoint}`);
      const progress = await deps.api.build(ctx.stream, { tags: refs, dockerfile: ctx.dockerfile, buildArgs: job.buildArgs, target: job.target, network: job.network }, signal);
      await follow(progress, `image ${job.name}: docker build failed`, deps);
    }
    if (job.skipPush) return {};
    const registry = registryOf(job.image);
    let digest: string | undefined;
    for (const tag of job.tags) {
      try {
        const progress = await deps.api.push(job.image, tag, deps.auth?.(registry), signal);
        await follow(progress, `image ${job.name}: pushing ${job.image}:${tag} failed`, { output: () => undefined }, (m) => {
          if (m.aux?.Digest && tag === job.tags[0]) digest = m.aux.Digest;
        });
      } catch (e) {
        if (e instanceof LocalBuildError) {
          const hint = registryHint(e.message, registry);
          throw new LocalBuildError(e.message, e.outputTail, hint ? { hint } : {});
        }
        throw e;
      }
    }
    deps.log(`image ${job.name}: pushed ${refs[0]}${digest ? ` (${digest})` : ''}`);
    return digest ? { digest } : {};
  } catch (e) {
    if (deps.signal.aborted) throw e;
    if (timeout.aborted) throw new LocalBuildError(`image ${job.name}: the Docker build and push did not finish within ${Math.round(deps.timeoutMs / 1000)}s`);
    if (e instanceof LocalBuildError) throw e;
    const msg = (e as Error).message?.split('\n')[0] ?? String(e);
    throw new LocalBuildError(`image ${job.name}: the Docker daemon at ${deps.api.endpoint} failed: ${msg}`, [], { cause: e });
  }
}

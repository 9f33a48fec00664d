// The few Docker Engine API calls the docker builder makes, behind an interface (the builder's tests and
// the benchmark use the real daemon through it; nothing else needs to know dockerode). dockerode is
// imported on first use: commands that build nothing locally never load it.
import { readFile } from 'node:fs/promises';
import path from 'node:path';
import type { Readable } from 'node:stream';
import { describeEndpoint, type DockerEndpoint } from './docker-host.js';
import type { RegistryAuth } from './registry-auth.js';

export interface DockerBuildRequest {
  /** `repo:tag` names given to the result. */
  tags: string[];
  /** Path of the Dockerfile inside the context tar. */
  dockerfile: string;
  buildArgs: Record<string, string>;
  target?: string;
  network?: string;
}

export interface DockerApi {
  /** Where the daemon is (`unix:///var/run/docker.sock`), for messages. */
  readonly endpoint: string;
  /** Rejects when the daemon does not answer within `timeoutMs`. */
  ping(timeoutMs: number): Promise<void>;
  /** Whether the daemon has an image of that name (`repo:tag`). */
  hasImage(ref: string): Promise<boolean>;
  /** POST /build with the context tar; resolves to the progress stream (JSON lines). */
  build(context: Readable, req: DockerBuildRequest, signal: AbortSignal): Promise<AsyncIterable<Buffer | string>>;
  /** POST /images/{repo}/push?tag=; resolves to the progress stream. */
  push(repo: string, tag: string, auth: RegistryAuth | undefined, signal: AbortSignal): Promise<AsyncIterable<Buffer | string>>;
}

interface DockerodeLike {
  ping(opts?: { abortSignal?: AbortSignal }): Promise<unknown>;
  getImage(name: string): { inspect(): Promise<unknown>; push(opts: Record<string, unknown>): Promise<NodeJS.ReadableStream> };
  buildImage(file: NodeJS.ReadableStream, opts: Record<string, unknown>): Promise<NodeJS.ReadableStream>;
}

async function readCert(dir: string, name: string): Promise<Buffer | undefined> {
  try {
    return await readFile(path.join(dir, name));
  } catch {
    return undefined;
  }
}

/** The real daemon at `endpoint`, through dockerode. */
export async function dockerodeApi(endpoint: DockerEndpoint): Promise<DockerApi> {
  const { default: Docker } = await import('dockerode');
  let opts: Record<string, unknown>;
  if (endpoint.kind === 'socket') opts = { socketPath: endpoint.socketPath };
  else {
    opts = { host: endpoint.host, port: endpoint.port, protocol: endpoint.tls ? 'https' : 'http' };
    if (endpoint.tls && endpoint.certPath) {
      const [ca, cert, key] = await Promise.all(['ca.pem', 'cert.pem', 'key.pem'].map((n) => readCert(endpoint.certPath!, n)));
      Object.assign(opts, { ...(ca ? { ca } : {}), ...(cert ? { cert } : {}), ...(key ? { key } : {}) });
    }
  }
  const docker = new Docker(opts) as unknown as DockerodeLike;
  return {
    endpoint: describeEndpoint(endpoint),
    async ping(timeoutMs) {
      const signal = AbortSignal.timeout(timeoutMs);
      await docker.ping({ abortSignal: signal });
    },
    async hasImage(ref) {
      try {
        await docker.getImage(ref).inspect();
        return true;
      } catch (e) {
        if ((e as { statusCode?: number }).statusCode === 404) return false;
        throw e;
      }
    },
    async build(context, req, signal) {
      const stream = await docker.buildImage(context, {
        // Several `t` values: the query string repeats the key (docker-modem passes arrays through).
        t: req.tags,
        dockerfile: req.dockerfile,
        buildargs: req.buildArgs,
        ...(req.target ? { target: req.target } : {}),
        ...(req.network ? { networkmode: req.network } : {}),
        rm: true,
        forcerm: true,
        abortSignal: signal,
      });
      return stream as unknown as AsyncIterable<Buffer>;
    },
    async push(repo, tag, auth, signal) {
      // The daemon wants an X-Registry-Auth header even for anonymous pushes: an empty config then.
      const stream = await docker.getImage(repo).push({ tag, authconfig: auth ?? { serveraddress: '' }, abortSignal: signal });
      return stream as unknown as AsyncIterable<Buffer>;
    },
  };
}

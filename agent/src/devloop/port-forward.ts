// Port-forwarding for dev pods: a local TCP server per port; every accepted connection opens its own
// client-node PortForward WebSocket (one port per call is all it supports) to the pod the session
// CURRENTLY publishes for the dev pod, so a restarted or replaced pod is picked up by the next
// connection. Peer closes are the crash source in client-node's examples (#187, #459): writes are
// guarded, both sides close each other, and errors never escape as exceptions.
import net from 'node:net';
import { Writable } from 'node:stream';
import type { KubeConfig } from '@kubernetes/client-node';
import type { DevSession } from '@dsa/api';
import type { PodTarget } from './pods.js';

export interface ForwardSpec {
  devPod: string;
  localPort: number;
  remotePort: number;
  bindAddress: string;
}

export const DEFAULT_BIND_ADDRESS = '127.0.0.1';

/**
 * The forwards of a session's dev pods, in spec order. A local port used twice is forwarded once
 * (the first wins) and reported. Pure.
 */
export function forwardsFor(session: DevSession): { forwards: ForwardSpec[]; conflicts: string[] } {
  const forwards: ForwardSpec[] = [];
  const conflicts: string[] = [];
  const used = new Map<string, string>();
  for (const pod of session.spec.dev?.pods ?? []) {
    for (const p of pod.ports ?? []) {
      const bindAddress = p.bindAddress || DEFAULT_BIND_ADDRESS;
      const key = `${bindAddress}:${p.localPort}`;
      const owner = used.get(key);
      if (owner !== undefined) {
        conflicts.push(`local port ${key} of dev pod ${pod.name} is already forwarded for ${owner}; skipped`);
        continue;
      }
      used.set(key, pod.name);
      forwards.push({ devPod: pod.name, localPort: p.localPort, remotePort: p.remotePort, bindAddress });
    }
  }
  return { forwards, conflicts };
}

/** `127.0.0.1:8080 → api:80`. Pure. */
export const describeForward = (f: ForwardSpec) => `${f.bindAddress}:${f.localPort} → ${f.devPod}:${f.remotePort}`;

/** The part of a WebSocket we touch. */
export interface ForwardSocket {
  close(): void;
  on(event: 'close', listener: () => void): unknown;
  on(event: 'error', listener: (err: Error) => void): unknown;
}

/** The part of client-node's PortForward we use; injectable for tests. */
export interface PortForwardLike {
  portForward(namespace: string, pod: string, ports: number[], output: Writable, err: Writable | null, input: NodeJS.ReadableStream): Promise<ForwardSocket | (() => ForwardSocket | null)>;
}

export async function makePortForward(kc: KubeConfig): Promise<PortForwardLike> {
  const { PortForward } = await import('@kubernetes/client-node');
  return new PortForward(kc, true) as unknown as PortForwardLike;
}

export interface PortForwarderDeps {
  portForward: PortForwardLike;
  /** The pod to connect to right now, or undefined when the dev pod has none running. */
  target(devPod: string): PodTarget | undefined;
  log: { info(m: string): void; warn(m: string): void; debug(m: string): void };
}

/** Guarded writes into a socket that may already be gone. */
function socketSink(socket: net.Socket): Writable {
  return new Writable({
    write(chunk: Buffer, _enc, cb) {
      if (!socket.destroyed && socket.writable) socket.write(chunk);
      cb();
    },
  });
}

export class PortForwarder {
  private readonly servers: net.Server[] = [];
  private readonly sockets = new Set<net.Socket>();
  private closed = false;

  constructor(private readonly deps: PortForwarderDeps) {}

  /** Listen for `spec`; rejects when the local port cannot be bound (EADDRINUSE, …). Returns the bound port. */
  async start(spec: ForwardSpec): Promise<number> {
    const server = net.createServer((socket) => this.onConnection(spec, socket));
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(spec.localPort, spec.bindAddress, () => {
        server.off('error', reject);
        resolve();
      });
    });
    server.on('error', (e) => this.deps.log.warn(`port-forward ${describeForward(spec)}: ${e.message}`));
    this.servers.push(server);
    const addr = server.address();
    return typeof addr === 'object' && addr ? addr.port : spec.localPort;
  }

  private onConnection(spec: ForwardSpec, socket: net.Socket): void {
    this.sockets.add(socket);
    socket.on('close', () => this.sockets.delete(socket));
    // ECONNRESET from the local client is routine; it must not become an uncaught exception.
    socket.on('error', (e) => this.deps.log.debug(`port-forward ${describeForward(spec)}: local connection: ${e.message}`));
    if (this.closed) {
      socket.destroy();
      return;
    }
    const target = this.deps.target(spec.devPod);
    if (!target) {
      this.deps.log.warn(`port-forward ${describeForward(spec)}: dev pod ${spec.devPod} has no running pod yet; connection closed`);
      socket.destroy();
      return;
    }
    let errText = '';
    const errSink = new Writable({
      write(chunk: Buffer, _enc, cb) {
        errText += chunk.toString('utf8');
        cb();
      },
    });
    this.deps.portForward
      .portForward(target.namespace, target.pod, [spec.remotePort], socketSink(socket), errSink, socket)
      .then((res) => {
        const ws = typeof res === 'function' ? res() : res;
        if (!ws) {
          socket.destroy();
          return;
        }
        ws.on('error', (e) => this.deps.log.debug(`port-forward ${describeForward(spec)}: ${e.message}`));
        ws.on('close', () => {
          if (errText.trim()) this.deps.log.warn(`port-forward ${describeForward(spec)} (pod ${target.pod}): ${errText.trim()}`);
          socket.end();
        });
        socket.on('close', () => ws.close());
        if (socket.destroyed) ws.close();
      })
      .catch((e: unknown) => {
        this.deps.log.warn(`port-forward ${describeForward(spec)}: cannot connect to pod ${target.pod}: ${(e as Error)?.message ?? String(e)}`);
        socket.destroy();
      });
  }

  /** Stop listening and drop open connections. */
  async close(): Promise<void> {
    this.closed = true;
    for (const s of this.sockets) s.destroy();
    await Promise.all(this.servers.map((srv) => new Promise<void>((resolve) => srv.close(() => resolve()))));
    this.servers.length = 0;
  }
}

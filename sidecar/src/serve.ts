// `dsa-sidecar serve`: the in-pod end of one agent connection, speaking the sync protocol on
// stdin/stdout (docs/sync.md, "Protocol"). It serves the sync paths listed in DSA_SYNC_PATHS: scans,
// a watch that pushes remote changes, reads, compare-and-swap writes, content hashes; plus reverse
// port forwarding, restart requests and the start signal. Exits when the agent goes (stdin EOF) or
// stops answering (idle timeout). Never prints to stdout: that is the protocol.
import { randomBytes } from 'node:crypto';
import * as fs from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { hostname } from 'node:os';
import path from 'node:path';
import type { Duplex } from 'node:stream';
import {
  CTL_FILES,
  Connection,
  INLINE_CONTENT_MAX,
  REFUSED_NOTICES_MAX,
  REFUSED_PATH_MAX,
  REPLICA_ID_PREFIX,
  RESULT_CHUNK,
  RecordReader,
  RecordWriter,
  Replica,
  UnsafePathError,
  entryProblem,
  isInternalPath,
  isWithin,
  matcherFor,
  parsePathRequest,
  pipeSocket,
  sameSide,
  showPath,
  symlinkStaysInside,
  toSig,
  watchTree,
  ChannelError,
  ProtocolError,
  type ApplyResult,
  type Channel,
  type ConnectionOptions,
  type Expect,
  type ExcludeMatcher,
  type ExcludeSpec,
  type FileSink,
  type OpenParams,
  type Rec,
  type RefusedNotice,
  type Sig,
  type SidecarPath,
  type TreeWatcher,
  type WireChange,
  type WriteResult,
} from '@dsa/api/sync';

export interface ServeOptions {
  stream: Duplex;
  paths: readonly SidecarPath[];
  ctlDir: string;
  software: string;
  log: (line: string) => void;
  /** Connection tuning (tests). */
  connection?: Partial<Pick<ConnectionOptions, 'pingIntervalMs' | 'idleTimeoutMs' | 'handshakeTimeoutMs' | 'protocolVersion'>>;
  /** Polling period for `polling: true` paths (default 1 s, DevSpace's is 1.7 s). */
  pollIntervalMs?: number;
}

/** Per-connection state of one sync path. */
interface PathState {
  index: number;
  /** Where the app container sees it (for our log lines). */
  containerPath: string;
  replica: Replica;
  upload: ExcludeMatcher;
  download: ExcludeMatcher;
  polling: boolean;
  /** throttleChangeDetection: pause (ms) after every 100 entries of a polling walk. */
  throttleMs: number;
  /** Names refused on this connection (each is told to the agent once, at most REFUSED_NOTICES_MAX). */
  refused: Set<string>;
  refusedMore: boolean;
  /**
   * What the agent knows about each remote path (from scans, pushes and writes on this connection):
   * a watch event whose current state equals it is an echo (our own write) or old news, not sent.
   */
  known: Map<string, Sig>;
}

/** Run one agent connection to its end. Resolves with the process exit code. */
export async function serve(opts: ServeOptions): Promise<number> {
  const states = new Map<number, PathState>();
  const cleanups = new Set<() => void>();
  // Observation counter (WireChange.q): lets the agent drop older news that overtook newer on another channel.
  let seq = 0;
  const q = () => ++seq;
  const find = (devPod: string, sync: number) => opts.paths.find((p) => p.devPod === devPod && p.sync === sync);
  let conn: Connection;
  try {
    conn = await Connection.establish(opts.stream, {
      role: 'sidecar',
      software: opts.software,
      ...opts.connection,
      onChannel: (ch) => handle(ch),
    });
  } catch (e) {
    opts.log(`dsa-sidecar: ${(e as Error).message}`);
    return 2;
  }
  opts.log(`dsa-sidecar: agent connected (${conn.peer.software}); serving ${opts.paths.map((p) => `${p.containerPath} (${p.mountPath})`).join(', ') || 'no sync paths'}`);

  async function handle(ch: Channel): Promise<void> {
    const params = ch.params;
    switch (params.kind) {
      case 'path':
        return openPath(ch, params);
      case 'scan':
        return scan(ch, need(params.path));
      case 'watch':
        return watch(ch, need(params.path));
      case 'read':
        return read(ch, need(params.path));
      case 'write':
        return write(ch, need(params.path));
      case 'hash':
        return hash(ch, need(params.path));
      case 'restart':
        return restart(ch);
      case 'start':
        return start(ch);
      case 'listen':
        return listen(ch, params.port, params.host);
      default:
        throw new Error(`the sidecar does not serve ${params.kind} channels`);
    }
  }

  function need(index: number): PathState {
    const s = states.get(index);
    if (!s) throw new Error(`sync path ${index} was not set up on this connection`);
    return s;
  }

  async function openPath(ch: Channel, params: Extract<OpenParams, { kind: 'path' }>): Promise<void> {
    const sp = find(params.devPod, params.sync);
    if (!sp) {
      const served = opts.paths.map((p) => `${p.devPod}[${p.sync}] ${p.containerPath}`).join(', ') || 'none';
      await ch.send({ ok: false, error: `this pod has no sync path ${params.sync} of dev pod ${params.devPod} (it serves ${served}); is the operator's pod template up to date?` });
      await ch.end();
      return;
    }
    let replica: Replica;
    try {
      replica = await Replica.open(sp.mountPath, { onWarning: (m) => opts.log(`dsa-sidecar: ${sp.containerPath}: ${m}`) });
    } catch (e) {
      await ch.send({ ok: false, error: (e as Error).message });
      await ch.end();
      return;
    }
    const m = compile(params.excludes);
    const before = states.get(params.path);
    states.set(params.path, {
      index: params.path,
      containerPath: sp.containerPath,
      replica,
      upload: m.upload,
      download: m.download,
      polling: params.polling === true,
      throttleMs: params.throttleMs ?? 0,
      refused: before?.refused ?? new Set(),
      refusedMore: before?.refusedMore ?? false,
      known: before?.known ?? new Map(),
    });
    await ch.send({ ok: true, replicaId: replicaId(opts.ctlDir, sp, replica.root) });
    await ch.end();
  }

  /**
   * A name in the container that cannot be synced safely (control characters, a backslash, too
   * long): skipped, said once on our stderr and once to the agent (the notice it returns), bounded.
   */
  function refuse(st: PathState, rel: string, why: string): RefusedNotice | undefined {
    const p = rel.slice(0, REFUSED_PATH_MAX);
    if (st.refused.has(p)) return undefined;
    if (st.refused.size >= REFUSED_NOTICES_MAX) {
      if (st.refusedMore) return undefined;
      st.refusedMore = true;
      opts.log(`dsa-sidecar: ${st.containerPath}: more names that cannot be synced; not listed`);
      return { refusedMore: true };
    }
    st.refused.add(p);
    opts.log(`dsa-sidecar: ${st.containerPath}: skipped ${showPath(rel)}: ${why}`);
    return { refused: { p, why } };
  }

  async function scan(ch: Channel, st: PathState): Promise<void> {
    const notices: RefusedNotice[] = [];
    const entries = await st.replica.scan(
      (rel, isDir) => st.download.ignores(rel, isDir),
      '',
      (rel, why) => {
        const n = refuse(st, rel, why);
        if (n) notices.push(n);
      },
    );
    const w = new RecordWriter(ch);
    for (const [p, sig] of entries) {
      st.known.set(p, sig);
      await w.stat({ p, ...sig, q: q() });
    }
    await w.flush();
    for (const n of notices) await ch.send(n);
    await ch.end();
    await drainUntilEnd(ch);
  }

  async function watch(ch: Channel, st: PathState): Promise<void> {
    const dirty = new Set<string>();
    let pushing = false;
    let closed = false;
    // Notices wait until the agent has the `ready` message (it reads that one first).
    let pending: RefusedNotice[] | undefined = [];
    const notify = (n: RefusedNotice | undefined) => {
      if (!n || closed) return;
      if (pending) pending.push(n);
      else ch.send(n).catch(() => undefined);
    };
    const w = new RecordWriter(ch);
    const push = async (): Promise<void> => {
      if (pushing || closed) return;
      pushing = true;
      try {
        while (dirty.size && !closed) {
          const batch = [...dirty].sort();
          dirty.clear();
          for (const p of batch) await pushOne(p);
          await w.flush();
        }
      } catch (e) {
        if (!closed) ch.reset(`watch: ${(e as Error).message}`);
      } finally {
        pushing = false;
      }
    };
    const pushOne = async (p: string): Promise<void> => {
      let sig: Sig | null;
      try {
        sig = st.replica.stat(p);
      } catch (e) {
        if (e instanceof UnsafePathError) return;
        throw e;
      }
      if (sig?.t === 'l' && !symlinkStaysInside(p, sig.l ?? '')) sig = null;
      const known = st.known.get(p) ?? null;
      if (sameSide(sig, known)) return;
      if (!sig) {
        if (!known) return;
        for (const k of [...st.known.keys()]) if (isWithin(k, p)) st.known.delete(k);
        await w.head({ p, t: '-', q: q() });
        return;
      }
      if (sig.t === 'f') {
        const small = sig.s <= INLINE_CONTENT_MAX ? st.replica.readSmall(p, INLINE_CONTENT_MAX) : null;
        if (small?.data && !small.changed) {
          st.known.set(p, small.sig);
          await w.head({ p, ...small.sig, q: q() });
          await w.content(small.data);
          await w.endFile(true);
          return;
        }
        if (small?.changed) {
          dirty.add(p); // still being written: the next round sends the final content
          return;
        }
      }
      st.known.set(p, sig);
      if (sig.t === 'f') await w.stat({ p, ...sig, q: q() });
      else await w.head({ p, ...sig, q: q() });
    };
    const watcher: TreeWatcher = watchTree(st.replica.root, {
      ignore: (rel, isDir) => {
        if (isInternalPath(rel) || st.download.ignores(rel, isDir)) return true;
        // Never watched nor entered: the agent could not use the name (or anything below it).
        const why = entryProblem(rel);
        if (why === undefined) return false;
        notify(refuse(st, rel, why));
        return true;
      },
      polling: st.polling,
      pollIntervalMs: opts.pollIntervalMs,
      throttleMs: st.throttleMs,
      onEvents: (events) => {
        for (const e of events) dirty.add(e.path);
        void push();
      },
      onError: (err) => opts.log(`dsa-sidecar: watching ${st.replica.root}: ${err.message}`),
      onWarning: (warning) => opts.log(`dsa-sidecar: ${warning.message}`),
    });
    const stop = () => {
      closed = true;
      void watcher.close();
    };
    cleanups.add(stop);
    try {
      await watcher.ready;
      await ch.send({ ready: true });
      const queued = pending;
      pending = undefined;
      for (const n of queued) await ch.send(n);
      await drainUntilEnd(ch);
      await ch.end();
    } finally {
      stop();
      cleanups.delete(stop);
    }
  }

  async function read(ch: Channel, st: PathState): Promise<void> {
    const w = new RecordWriter(ch);
    for (;;) {
      const msg = await ch.readMsg();
      if (msg === null) break;
      const req = parsePathRequest(msg);
      for (const p of req.paths) {
        if (isInternalPath(p) || st.download.ignores(p, false)) {
          await w.error(p, 'excluded from download');
          continue;
        }
        await sendPath(w, st, p);
        if (req.recursive && st.known.get(p)?.t === 'd') {
          const notices: RefusedNotice[] = [];
          const below = await st.replica.scan(
            (rel, isDir) => st.download.ignores(rel, isDir),
            p,
            (rel, why) => {
              const n = refuse(st, rel, why);
              if (n) notices.push(n);
            },
          );
          for (const q of below.keys()) await sendPath(w, st, q);
          for (const n of notices) await ch.send(n);
        }
      }
      await w.flush();
    }
    await w.flush();
    await ch.end();
  }

  /** One path as H (+ content) records; a delete record when it is gone. */
  async function sendPath(w: RecordWriter, st: PathState, p: string): Promise<void> {
    const small = st.replica.readSmall(p, INLINE_CONTENT_MAX);
    if (small?.data && !small.changed) {
      st.known.set(p, small.sig);
      await w.head({ p, ...small.sig, q: q() });
      await w.content(small.data);
      await w.endFile(true);
      return;
    }
    if (small && small.data === undefined) {
      const f = await st.replica.openFile(p);
      if (f) {
        try {
          await w.head({ p, ...f.sig, q: q() });
          const got = await w.contentFrom(f.read, f.sig.s);
          const intact = got === f.sig.s && !(await f.changed());
          if (got < f.sig.s) await w.content(Buffer.alloc(f.sig.s - got));
          await w.endFile(intact);
          if (intact) st.known.set(p, f.sig);
        } finally {
          await f.close();
        }
        return;
      }
    }
    const sig = st.replica.stat(p);
    if (!sig || (sig.t === 'l' && !symlinkStaysInside(p, sig.l ?? ''))) {
      st.known.delete(p);
      await w.head({ p, t: '-', q: q() });
      return;
    }
    if (sig.t === 'f') {
      // Changed while being read: say so; the watch sends the final version.
      await w.error(p, 'changed while being read');
      return;
    }
    st.known.set(p, sig);
    await w.head({ p, ...sig, q: q() });
  }

  async function write(ch: Channel, st: PathState): Promise<void> {
    const r = new RecordReader(ch);
    const results: WriteResult[] = [];
    const verified = new Set<string>();
    const flushResults = async (all: boolean) => {
      while (results.length >= RESULT_CHUNK || (all && results.length)) await ch.send({ results: results.splice(0, RESULT_CHUNK) });
    };
    for (;;) {
      const rec = await r.next();
      if (rec === null) break;
      if (rec.tag === 'H') {
        results.push(await applyOne(st, r, rec, verified));
        await flushResults(false);
      } else if (rec.tag !== 'msg') {
        throw new Error(`write: unexpected ${rec.tag} record`);
      }
    }
    await flushResults(true);
    await ch.end();
  }

  async function applyOne(st: PathState, r: RecordReader, rec: Extract<Rec, { tag: 'S' | 'H' }>, verified: Set<string>): Promise<WriteResult> {
    if (rec.change === null) {
      if (rec.isFile) await skipContent(r);
      return { p: '?', error: rec.message };
    }
    const c: WireChange = rec.change;
    const p = c.p;
    const isFile = c.t === 'f';
    let contentDone = false;
    const refuse = async (error: string): Promise<WriteResult> => {
      if (isFile) await skipContent(r);
      return { p, error };
    };
    if (isInternalPath(p)) return refuse('reserved name');
    if (st.upload.ignores(p, c.t === 'd')) return refuse('excluded from upload');
    const expect: Expect = c.e === undefined ? undefined : c.e;
    try {
      if (c.t === '-') {
        const res = st.replica.remove(p, { recursive: c.r === true, expect: expect === null ? undefined : expect });
        if (res.conflict) return { p, conflict: true, current: res.current, q: q() };
        for (const k of [...st.known.keys()]) if (isWithin(k, p)) st.known.delete(k);
        return { p, ok: true, sig: null, q: q() };
      }
      if (c.t === 'd') return recordApplied(st, p, st.replica.mkdir(p, c.x, expect, verified));
      if (c.t === 'l') return recordApplied(st, p, st.replica.symlink(p, c.l ?? '', expect, verified));
      // A large file: check the expectation before taking its content (and again at the rename);
      // a small one is checked once, when written.
      if (expect !== undefined && c.s > INLINE_CONTENT_MAX) {
        const current = st.replica.stat(p);
        if (!sameSide(current, expect) && !(current?.t === 'd' && expect?.t === 'd')) {
          await skipContent(r);
          return { p, conflict: true, current, q: q() };
        }
      }
      if (c.s <= INLINE_CONTENT_MAX) {
        const parts: Buffer[] = [];
        let ok: boolean;
        try {
          ok = await r.content((d) => void parts.push(d));
        } finally {
          contentDone = true;
        }
        if (!ok) return { p, error: 'changed while being read' };
        return recordApplied(st, p, st.replica.writeFile(p, parts.length === 1 ? parts[0]! : Buffer.concat(parts), c, expect, verified));
      }
      let sink: FileSink | undefined;
      try {
        sink = await st.replica.beginFile(p, c, verified);
        const s = sink;
        let ok: boolean;
        try {
          ok = await r.content((d) => s.write(d));
        } finally {
          contentDone = true;
        }
        if (!ok) {
          await sink.abort();
          return { p, error: 'changed while being read' };
        }
        return recordApplied(st, p, await sink.commit(expect));
      } catch (e) {
        await sink?.abort();
        throw e;
      }
    } catch (e) {
      // A broken stream ends the channel; a failed file operation is that path's result.
      if (e instanceof ProtocolError || e instanceof ChannelError) throw e;
      if (isFile && !contentDone) await skipContent(r);
      return { p, error: (e as Error).message };
    }
  }

  function recordApplied(st: PathState, p: string, res: ApplyResult): WriteResult {
    if (res.conflict) return { p, conflict: true, current: res.current, q: q() };
    if (res.sig) st.known.set(p, res.sig);
    return { p, ok: true, sig: res.sig ? toSig(res.sig) : null, q: q() };
  }

  async function hash(ch: Channel, st: PathState): Promise<void> {
    for (;;) {
      const msg = await ch.readMsg();
      if (msg === null) break;
      const { paths } = parsePathRequest(msg);
      const out: Array<[string, string | null]> = [];
      for (const p of paths) out.push([p, st.download.ignores(p, false) ? null : await st.replica.hash(p)]);
      for (let i = 0; i < out.length; i += RESULT_CHUNK) await ch.send({ hashes: out.slice(i, i + RESULT_CHUNK) });
    }
    await ch.end();
  }

  async function restart(ch: Channel): Promise<void> {
    await drainUntilEnd(ch);
    try {
      const counter = requestRestart(opts.ctlDir);
      await ch.send({ ok: true, counter, supervisor: readSupervisor(opts.ctlDir) });
    } catch (e) {
      await ch.send({ ok: false, error: `cannot request a restart: ${(e as Error).message}` });
    }
    await ch.end();
  }

  async function start(ch: Channel): Promise<void> {
    await drainUntilEnd(ch);
    try {
      const file = path.join(opts.ctlDir, CTL_FILES.start);
      fs.closeSync(fs.openSync(file, fs.constants.O_CREAT | fs.constants.O_WRONLY, 0o644));
      await ch.send({ ok: true });
    } catch (e) {
      await ch.send({ ok: false, error: `cannot write the start signal: ${(e as Error).message}` });
    }
    await ch.end();
  }

  async function listen(ch: Channel, port: number, host?: string): Promise<void> {
    const servers: Server[] = [];
    const sockets = new Set<Socket>();
    const addresses: string[] = [];
    const errors: string[] = [];
    const onConnection = (socket: Socket) => {
      sockets.add(socket);
      socket.on('close', () => sockets.delete(socket));
      let tunnel: Channel;
      try {
        tunnel = conn.open({ kind: 'tunnel', port });
      } catch {
        socket.destroy();
        return;
      }
      void pipeSocket(socket, tunnel);
    };
    // Loopback unless the session names an address (reversePorts[].bindAddress): only the dev
    // container's own processes reach the developer's machine by default.
    const hosts = !host || host === 'localhost' ? ['127.0.0.1', '::1'] : [host];
    for (const host of hosts) {
      const server = createServer(onConnection);
      const ok = await new Promise<boolean>((resolve) => {
        server.once('error', (e: NodeJS.ErrnoException) => {
          // No IPv6 in the pod is normal; anything else is worth telling.
          if (hosts.length === 1 || host !== '::1' || (e.code !== 'EADDRNOTAVAIL' && e.code !== 'EAFNOSUPPORT')) errors.push(`${host}:${port}: ${e.code ?? e.message}`);
          resolve(false);
        });
        server.listen({ host, port, exclusive: true }, () => resolve(true));
      });
      if (ok) {
        servers.push(server);
        addresses.push(host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`);
      }
    }
    const stop = () => {
      for (const s of servers) s.close();
      for (const s of sockets) s.destroy();
    };
    cleanups.add(stop);
    try {
      if (!servers.length) {
        await ch.send({ ok: false, error: `cannot listen on port ${port} in the pod: ${errors.join('; ')}` });
        await ch.end();
        return;
      }
      await ch.send({ ok: true, addresses, ...(errors.length ? { warning: errors.join('; ') } : {}) });
      await drainUntilEnd(ch);
      await ch.end().catch(() => undefined);
    } finally {
      stop();
      cleanups.delete(stop);
    }
  }

  const reason = await conn.closed;
  for (const c of [...cleanups]) c();
  const quiet = /closed the connection|connection closed/.test(reason.message);
  opts.log(`dsa-sidecar: agent ${quiet ? 'disconnected' : `connection ended: ${reason.message}`}`);
  return 0;
}

function compile(ex: ExcludeSpec): { upload: ExcludeMatcher; download: ExcludeMatcher } {
  return matcherFor({ exclude: ex.exclude, uploadExclude: ex.uploadExclude, downloadExclude: ex.downloadExclude });
}

/** Reads until the peer ends the channel, ignoring what comes (the channel's reply was sent or is pending). */
async function drainUntilEnd(ch: Channel): Promise<void> {
  for (;;) {
    const item = await ch.read();
    if (item === null) return;
  }
}

async function skipContent(r: RecordReader): Promise<void> {
  await r.content(() => undefined);
}

/**
 * A stable id of the remote replica: a random id kept in the pod's control volume (it lives exactly
 * as long as the pod's sync volumes), or, when that is not writable, the pod name and the mount's inode.
 */
export function replicaId(ctlDir: string, sp: SidecarPath, root: string): string {
  const file = path.join(ctlDir, `${REPLICA_ID_PREFIX}${sp.index}`);
  const read = () => fs.readFileSync(file, 'utf8').trim();
  try {
    const id = read();
    if (/^[0-9a-f]{32}$/.test(id)) return id;
  } catch {
    /* create it */
  }
  try {
    const id = randomBytes(16).toString('hex');
    const tmp = `${file}.${process.pid}`;
    fs.writeFileSync(tmp, id);
    fs.linkSync(tmp, file); // fails if another serve created it first: then theirs counts
    fs.rmSync(tmp, { force: true });
    return id;
  } catch {
    try {
      fs.rmSync(`${file}.${process.pid}`, { force: true });
      const id = read();
      if (/^[0-9a-f]{32}$/.test(id)) return id;
    } catch {
      /* fall back */
    }
  }
  const st = fs.statSync(root);
  return `${hostname()}:${st.dev}:${st.ino}`;
}

/** Write the next restart counter atomically; the supervisor restarts the app when the content changes. */
export function requestRestart(ctlDir: string): number {
  const file = path.join(ctlDir, CTL_FILES.restart);
  let current = 0;
  try {
    current = Number.parseInt(fs.readFileSync(file, 'utf8').trim(), 10) || 0;
  } catch {
    /* first request */
  }
  const next = current + 1;
  const tmp = `${file}.tmp-${process.pid}`;
  fs.writeFileSync(tmp, `${next}\n`);
  fs.renameSync(tmp, file);
  return next;
}

/** The supervisor's state file (JSON written by dsa-helper supervise), if present and small. */
export function readSupervisor(ctlDir: string): unknown {
  try {
    const text = fs.readFileSync(path.join(ctlDir, CTL_FILES.supervisorState), 'utf8');
    if (text.length > 64 * 1024) return undefined;
    return JSON.parse(text) as unknown;
  } catch {
    return undefined;
  }
}

// A transport to a real `dsa-sidecar serve` child process (tests and in-process benchmarks): the
// same program the pod runs, on the same kind of pipes, so the process boundary is exercised.
import { spawn, type ChildProcess } from 'node:child_process';
import path from 'node:path';
import { Duplex } from 'node:stream';
import { fileURLToPath } from 'node:url';
import type { SidecarPath } from '@dsa/api/sync';
import type { TransportFactory } from './session.js';

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const SIDECAR_MAIN = path.join(repo, 'sidecar/src/main.ts');

export interface SidecarProcesses {
  connect: TransportFactory;
  /** The child serving the current connection. */
  current(): ChildProcess | undefined;
  /** Every child started so far. */
  all: ChildProcess[];
  /** What the children wrote on stderr. */
  stderr: string[];
}

/** `paths`: one entry per sync path (index = position, devPod `api`, sync = position). */
export function sidecarProcesses(remoteRoots: readonly string[], ctlDir: string, extraEnv: Record<string, string> = {}, nodeArgs: readonly string[] = []): SidecarProcesses {
  const all: ChildProcess[] = [];
  const stderr: string[] = [];
  const paths: SidecarPath[] = remoteRoots.map((mountPath, i) => ({ index: i, mountPath, containerPath: `/app${i}`, container: 'app', devPod: 'api', sync: i }));
  return {
    all,
    stderr,
    current: () => all.at(-1),
    connect: async () => {
      const child = spawn(process.execPath, [...nodeArgs, '--import', 'tsx', SIDECAR_MAIN, 'serve'], {
        cwd: repo,
        stdio: ['pipe', 'pipe', 'pipe'],
        env: { ...process.env, DSA_SYNC_PATHS: JSON.stringify(paths), DSA_CTL_DIR: ctlDir, ...extraEnv },
      });
      child.stderr!.on('data', (c: Buffer) => stderr.push(c.toString()));
      all.push(child);
      const d = Duplex.from({ readable: child.stdout!, writable: child.stdin! });
      child.once('exit', () => d.destroy());
      return d;
    },
  };
}

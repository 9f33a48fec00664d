// kustomize, run by the agent before rendering (DevSpace runs it on the developer's machine too, in
// pkg/devspace/deploy/deployer/kubectl/builder.go): `kustomize build <dir> <kustomizeArgs…>`. The agent
// renders because a kustomization may reach outside its folder (`resources: [../base]`, patches in a
// shared folder, `--load-restrictor LoadRestrictionsNone`), which the operator cannot see; the DevSession
// carries the output as an inline manifest.
//
// Which binary: `kustomizeBinaryPath`, else $DSA_KUSTOMIZE, else `kustomize` on PATH, else
// `kubectl kustomize` (kubectl embeds kustomize and takes the same build flags).
import { execFile } from 'node:child_process';
import { accessSync, constants } from 'node:fs';
import path from 'node:path';
import type { KustomizeRequest } from './render-project.js';

export interface KustomizeCommand {
  file: string;
  args: string[];
}

/** A kustomization that cannot be rendered: no binary, or kustomize failed (its stderr, shortened). */
export class KustomizeError extends Error {
  override readonly name = 'KustomizeError';
}

/** `name` found on PATH (absolute), or undefined. */
export function onPath(name: string, envPath: string | undefined): string | undefined {
  for (const dir of (envPath ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, name);
    try {
      accessSync(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not here
    }
  }
  return undefined;
}

/** The command that renders `req`. `which` finds a program on PATH. Pure given `which`. */
export function kustomizeCommand(req: KustomizeRequest, env: Readonly<Record<string, string | undefined>>, which: (name: string) => string | undefined): KustomizeCommand {
  const explicit = req.binary ?? (env.DSA_KUSTOMIZE || undefined);
  if (explicit) return { file: explicit, args: ['build', req.dir, ...req.args] };
  const kustomize = which('kustomize');
  if (kustomize) return { file: kustomize, args: ['build', req.dir, ...req.args] };
  const kubectl = which('kubectl');
  if (kubectl) return { file: kubectl, args: ['kustomize', req.dir, ...req.args] };
  throw new KustomizeError(`cannot render the kustomization ${req.dir}: no kustomize binary (set kustomizeBinaryPath or DSA_KUSTOMIZE, or put kustomize or kubectl on PATH)`);
}

/** Largest rendered output accepted (a DevSession must stay far below etcd's object size limit). */
export const MAX_KUSTOMIZE_OUTPUT = 4 * 1024 * 1024;
const TIMEOUT_MS = 120_000;

/** Run kustomize for `req`; resolves to the YAML it printed. */
export function runKustomize(req: KustomizeRequest, env: Readonly<Record<string, string | undefined>> = process.env): Promise<string> {
  const cmd = kustomizeCommand(req, env, (n) => onPath(n, env.PATH));
  return new Promise((resolve, reject) => {
    execFile(cmd.file, cmd.args, { cwd: req.dir, env: { ...process.env, ...env }, timeout: TIMEOUT_MS, maxBuffer: MAX_KUSTOMIZE_OUTPUT, encoding: 'utf8' }, (err, stdout, stderr) => {
      if (!err) return resolve(stdout);
      const e = err as NodeJS.ErrnoException & { killed?: boolean };
      let why: string;
      if (e.code === 'ENOENT') why = `${cmd.file} not found`;
      else if (e.code === 'ERR_CHILD_PROCESS_STDIO_MAXBUFFER') why = `output larger than ${MAX_KUSTOMIZE_OUTPUT / 1024 / 1024} MiB`;
      else if (e.killed) why = `no result within ${TIMEOUT_MS / 1000}s`;
      else why = (stderr || e.message).trim().split('\n').filter(Boolean).slice(-3).join(' ');
      reject(new KustomizeError(`${path.basename(cmd.file)} ${cmd.args.join(' ')}: ${why}`));
    });
  });
}

// Shared by the deploy-kinds and local-builds suites: an in-process operator watching one scoped test
// namespace (as agent-deploy.test.ts starts it), and the real `dsa` CLI run as a user runs it.
import * as k8s from '@kubernetes/client-node';
import path from 'node:path';
import { GROUP, IMAGEBUILD, VERSION, type ImageBuild } from '@dsa/api';
import { buildOperator, createLogger, loadConfig } from '@dsa/operator';
import { REPO_ROOT, e2eOperatorArgs, run, type RunResult } from '../../lib/index.js';

export const DSA = path.join(REPO_ROOT, 'agent/bin/dsa.js');

/** The operator (both controllers) in this process, for `namespace` only. Returns its stop function. */
export function startOperator(
  kc: k8s.KubeConfig,
  namespace: string,
  images: { kanikoImage: string; testImage: string; registry?: string },
  opts: { logLevel?: 'fatal' | 'warn' } = {},
): () => Promise<void> {
  const cfg = loadConfig({ argv: e2eOperatorArgs(namespace, images), env: {} });
  const { manager } = buildOperator(cfg, { kc, log: createLogger({ level: opts.logLevel ?? 'warn' }), env: { POD_NAME: `e2e-${namespace}` } });
  const exited = manager.start();
  return async () => {
    await manager.stop();
    await exited;
  };
}

/** `dsa <args> --config <file> -n <ns>` with the harness's environment (+ `env`), from a folder with no devspace.yaml. */
export function dsa(cwd: string, configFile: string, namespace: string, args: string[], env: Record<string, string | undefined> = {}, timeoutMs = 540_000): Promise<RunResult> {
  return run(process.execPath, [DSA, '--config', configFile, '-n', namespace, '--no-color', ...args], { cwd, env, timeoutMs, allowFailure: true });
}

/** Exit code check that shows the CLI's output when it fails. */
export function expectExit(r: RunResult, code: number): void {
  if (r.code !== code) throw new Error(`expected exit ${code}, got ${r.code}\n--- stdout ---\n${r.stdout}\n--- stderr ---\n${r.stderr}`);
}

export async function imageBuilds(kc: k8s.KubeConfig, namespace: string): Promise<ImageBuild[]> {
  const custom = kc.makeApiClient(k8s.CustomObjectsApi);
  const list = (await custom.listNamespacedCustomObject({ group: GROUP, version: VERSION, plural: IMAGEBUILD.plural, namespace })) as { items: ImageBuild[] };
  return list.items;
}

/** Running, not terminating pods with label app=<app>. */
export async function runningPods(kc: k8s.KubeConfig, namespace: string, selector: string): Promise<k8s.V1Pod[]> {
  const core = kc.makeApiClient(k8s.CoreV1Api);
  return (await core.listNamespacedPod({ namespace, labelSelector: selector })).items.filter((p) => p.status?.phase === 'Running' && !p.metadata?.deletionTimestamp);
}

/** `repo:tag` → [repo, tag] (the tag after the last colon that follows the last slash). */
export function splitRef(ref: string): [string, string] {
  const slash = ref.lastIndexOf('/');
  const colon = ref.lastIndexOf(':');
  if (colon <= slash) throw new Error(`${ref} has no tag`);
  return [ref.slice(0, colon), ref.slice(colon + 1)];
}

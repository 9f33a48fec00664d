// `dsa enter` and `dsa logs`: which pod and container they talk to (the dev pod the operator
// publishes in status.pods, or what --pod/-l/--image-selector/-c/--pick select), and the exec or log
// streams themselves.
import { RuntimeError, UsageError } from '../errors.js';
import type { AgentEnv } from '../env.js';
import { execInContainer, withWorkdir } from '../devloop/exec.js';
import { streamLogs } from '../devloop/logs.js';
import { pickChoices } from '../devloop/pick.js';
import { containerIn, rankPods, resolvePodTarget, sessionPodSelector, type PodSelectionFlags, type PodTarget } from '../devloop/pods.js';
import type { ActionDeps, ProjectRef } from './action-deps.js';
import { projectSessions, type ProjectSessions } from './project-sessions.js';

export interface ContainerChoice {
  project: ProjectRef;
  /** --pod, -l, --image-selector, -c. */
  selection: PodSelectionFlags;
  /** --pick: let the user choose among the running containers. */
  pick?: boolean;
  /** Asks the user to choose one of `choices`; absent when no one can answer (no terminal, --no-input). */
  choose?: (choices: PodTarget[]) => Promise<PodTarget>;
}

/** A missing devspace.yaml is fine when the flags name the pod themselves. */
const explicitPod = (s: PodSelectionFlags) => Boolean(s.pod || s.labelSelector || s.imageSelector);

/** --pick: every container of the session's (or the namespace's) running pods. */
export async function pickTarget(ps: Pick<ProjectSessions, 'kube' | 'namespace' | 'root'>, choose: ContainerChoice['choose']): Promise<PodTarget> {
  if (!choose) throw new UsageError('--pick needs an interactive terminal (or pass --pod/-l/-c)');
  const pods = await ps.kube.listPods(ps.namespace, ps.root ? sessionPodSelector(ps.root) : undefined);
  const choices = pickChoices(pods, ps.namespace);
  if (choices.length === 0) throw new UsageError(`no running pods to pick from in namespace ${ps.namespace}`);
  return choose(choices);
}

/**
 * Without selection flags: every dev pod the session publishes, else every running pod it deployed
 * (first container each). With flags: the one pod they select.
 */
export async function logTargets(ps: Pick<ProjectSessions, 'kube' | 'namespace' | 'root'>, selection: PodSelectionFlags): Promise<PodTarget[]> {
  if (explicitPod(selection) || selection.container !== undefined || !ps.root) {
    return [await resolvePodTarget(ps.kube, ps.namespace, ps.root, selection, 'logs')];
  }
  const root = ps.root;
  const devPods = (root.status?.pods ?? []).filter((p) => root.spec.dev?.pods?.find((d) => d.name === p.devPod)?.logs?.enabled !== false);
  if (devPods.length > 0) {
    return devPods.map((p) => ({ namespace: p.namespace || root.metadata.namespace || ps.namespace, pod: p.pod, container: p.container ?? '', devPod: p.devPod }));
  }
  const pods = rankPods(await ps.kube.listPods(ps.namespace, sessionPodSelector(root)));
  if (pods.length === 0) return [await resolvePodTarget(ps.kube, ps.namespace, root, selection, 'logs')];
  return pods.map((p) => ({ namespace: p.metadata?.namespace ?? ps.namespace, pod: p.metadata?.name ?? '', container: containerIn(p, undefined) }));
}

export interface EnterOptions extends ContainerChoice {
  /** The command to run; empty: the dev pod's terminal command (default sh). */
  command: readonly string[];
  /** --workdir; default the dev pod's terminal workDir for its own command. */
  workdir?: string;
}

/** Run the command in the chosen container with the process's terminal; resolves with its exit code. */
export async function enterContainer(env: AgentEnv, deps: ActionDeps, opts: EnterOptions): Promise<number> {
  const ps = await projectSessions(env, deps, { project: opts.project, optionalConfig: explicitPod(opts.selection) });
  const target = opts.pick ? await pickTarget(ps, opts.choose) : await resolvePodTarget(ps.kube, ps.namespace, ps.root, opts.selection, 'terminal');
  const devPod = ps.root?.spec.dev?.pods?.find((p) => p.name === target.devPod);
  const own = opts.command.length > 0;
  const command = own ? [...opts.command] : (devPod?.terminal?.command ?? ['sh']);
  const workdir = opts.workdir ?? (own ? undefined : devPod?.terminal?.workDir);
  const tty = env.isTTY.stdin && env.isTTY.stdout;
  env.log.debug(`exec ${target.namespace}/${target.pod} -c ${target.container} (tty: ${tty}): ${command.join(' ')}`);
  const clients = deps.cluster.devClients(ps.kc);
  return execInContainer(await clients.exec(), target, withWorkdir(command, workdir), clients.terminal, { tty, stdin: true, signal: env.signal });
}

export interface LogsOptions extends ContainerChoice {
  follow: boolean;
  /** Past lines per container. */
  lines: number;
}

/** Print the chosen containers' logs on stdout, `[pod/container] `-prefixed when there are several. */
export async function printLogs(env: AgentEnv, deps: ActionDeps, opts: LogsOptions): Promise<void> {
  const ps = await projectSessions(env, deps, { project: opts.project, optionalConfig: explicitPod(opts.selection) });
  const targets = opts.pick ? [await pickTarget(ps, opts.choose)] : await logTargets(ps, opts.selection);
  if (targets.length === 0) throw new UsageError('nothing to show');
  const log = await deps.cluster.devClients(ps.kc).log();
  const prefix = targets.length > 1 ? undefined : '';
  const one = (t: PodTarget) =>
    streamLogs(log, t, env.stdout, { follow: opts.follow, tailLines: opts.lines, ...(prefix !== undefined ? { prefix } : {}), signal: env.signal }).catch((e: unknown) => {
      throw new RuntimeError(`logs of ${t.pod}/${t.container}: ${(e as { body?: { message?: string } })?.body?.message ?? (e as Error)?.message ?? String(e)}`);
    });
  if (opts.follow) await Promise.all(targets.map(one));
  else for (const t of targets) await one(t);
}

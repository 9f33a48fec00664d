// The first half of every project action: load devspace.yaml → resolve the namespace offline →
// render the DevSession/ImageBuild objects. Never contacts the cluster.
import type { ConfigWarning, ProjectConfig } from '@dsa/api';
import type { AgentEnv } from '../env.js';
import type { KubeTarget } from '../kube/kubeconfig.js';
import type { RenderResult } from '../project/project-services.js';
import type { ActionDeps, ProjectRef } from './action-deps.js';

export interface LoadedProject {
  /** What the agent runs itself (hooks, local builds, local commands): secret variables hold their values. */
  project: ProjectConfig;
  /**
   * What is rendered into DevSessions: secret variables are `${dsa.secret.NAME}` placeholders, their values in
   * `rendered.secrets` (render again from this one, never from `project`).
   */
  forRender: ProjectConfig;
  target: KubeTarget;
  rendered: RenderResult;
  /** Loader warnings then renderer warnings. */
  warnings: ConfigWarning[];
}

export interface LoadOptions {
  project: ProjectRef;
  /** false: do not require referenced files to exist (`--skip-file-checks`, or the files may be gone). */
  checkFiles: boolean;
}

export async function loadAndRender(env: AgentEnv, deps: ActionDeps, opts: LoadOptions): Promise<LoadedProject> {
  const { project: ref } = opts;
  // Flags are known before loading (DEVSPACE_NAMESPACE in the config uses them); resolving them
  // first also reports a bad --context/--kubeconfig before the loader is even imported.
  const early = deps.kube.target();
  const services = await deps.services();
  env.log.debug(`loading ${ref.configPath} (profiles: ${ref.profiles.join(', ') || 'none'})`);
  const project = await services.loadProject({
    configPath: ref.configPath,
    profiles: [...ref.profiles],
    vars: { ...ref.vars },
    env: { ...ref.processEnv },
    isTTY: ref.prompt !== undefined,
    ...(ref.prompt ? { prompt: ref.prompt } : {}),
    checkFiles: opts.checkFiles,
    namespace: early.namespace,
    username: ref.owner.user,
    // Secret-typed variables never reach a DevSession's spec in plain text (docs/api/v1alpha1.md, "Secret variables").
    secretVars: 'placeholder',
  });
  const target = deps.kube.target({ namespace: project.namespace, kubeContext: project.kubeContext });
  const rendered = await services.renderProject(project, { namespace: target.namespace, owner: ref.owner, checkFiles: opts.checkFiles });
  return { project: services.revealSecretVars(project), forRender: project, target, rendered, warnings: [...project.warnings, ...rendered.warnings] };
}

/** One line per warning, whatever the message quotes (multi-line commands, YAML snippets). Pure. */
export function formatWarning(w: ConfigWarning): string {
  const where = w.pos ? `${w.pos.file}:${w.pos.line}:${w.pos.col}: ` : '';
  return `${where}${w.path ? `${w.path}: ` : ''}${w.message}`.replace(/\r?\n/g, '\\n');
}

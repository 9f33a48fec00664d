// The pipeline `render`, `validate` (and later `up`/`deploy`) share: load devspace.yaml → resolve
// namespace offline → render DevSession/ImageBuild objects.
import { isAbsolute, relative, resolve } from 'node:path';
import type { ConfigWarning, ProjectConfig } from '@dsa/api';
import type { KubeTarget } from '../kube/kubeconfig.js';
import type { CommandContext } from './context.js';
import { promptLine } from './prompt.js';
import type { RenderResult } from './services.js';

export interface LoadedProject {
  project: ProjectConfig;
  target: KubeTarget;
  rendered: RenderResult;
  /** Loader warnings then renderer warnings. */
  warnings: ConfigWarning[];
}

export interface LoadOptions {
  /** false: do not require referenced files to exist (`--skip-file-checks`). */
  checkFiles: boolean;
}

export function configPath(ctx: CommandContext): string {
  return resolve(ctx.cwd, ctx.globals.config);
}

/** The config path as the user would like to read it: relative to cwd when inside it. */
export function displayPath(ctx: CommandContext, file: string): string {
  const rel = relative(ctx.cwd, file);
  return rel !== '' && !rel.startsWith('..') && !isAbsolute(rel) ? rel : file;
}

export async function loadAndRender(ctx: CommandContext, opts: LoadOptions): Promise<LoadedProject> {
  // Flags are known before loading (DEVSPACE_NAMESPACE in the config uses them); resolving them
  // first also reports a bad --context/--kubeconfig before the loader is even imported.
  const early = ctx.kube.target();
  const services = await ctx.services();
  const owner = ctx.owner();
  const file = configPath(ctx);
  ctx.log.debug(`loading ${file} (profiles: ${ctx.globals.profiles.join(', ') || 'none'})`);
  const project = await services.loadProject({
    configPath: file,
    profiles: ctx.globals.profiles,
    vars: ctx.globals.vars,
    env: { ...ctx.env },
    isTTY: ctx.interactive,
    ...(ctx.interactive ? { prompt: (question: string, o: { default?: string; options?: string[] }) => promptLine(ctx, question, o) } : {}),
    checkFiles: opts.checkFiles,
    namespace: early.namespace,
    username: owner.user,
  });
  const target = ctx.kube.target({ namespace: project.namespace, kubeContext: project.kubeContext });
  const rendered = await services.renderProject(project, { namespace: target.namespace, owner, checkFiles: opts.checkFiles });
  return { project, target, rendered, warnings: [...project.warnings, ...rendered.warnings] };
}

export function formatWarning(w: ConfigWarning): string {
  const where = w.pos ? `${w.pos.file}:${w.pos.line}:${w.pos.col}: ` : '';
  // One line per warning, whatever the message quotes (multi-line commands, YAML snippets).
  return `${where}${w.path ? `${w.path}: ` : ''}${w.message}`.replace(/\r?\n/g, '\\n');
}

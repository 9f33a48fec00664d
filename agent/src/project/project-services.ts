// The project pipeline's collaborators (loader, renderer, schema validators, context digests),
// injected into the actions (actions/) so their logic is tested with fakes instead of
// module mocks. The real implementations are imported lazily: `dsa --help` never loads them.
import { readFileSync, statSync } from 'node:fs';
import type { ConfigWarning, ProjectConfig } from '@dsa/api';
import { RuntimeError, ValidationError } from '../errors.js';
import { packChartDir, readChartArchive, stubChartArchive } from './chart-archive.js';
import type { KubeObject } from '../output/printer.js';

export interface LoadProjectOptions {
  configPath: string;
  profiles: string[];
  vars: Record<string, string>;
  env: NodeJS.ProcessEnv;
  /** Prompt for missing variables only when true (stdin is a terminal and --no-input was not given). */
  isTTY: boolean;
  prompt?: (question: string, opts: { name: string; options?: string[]; default?: string; password?: boolean }) => Promise<string>;
  checkFiles: boolean;
  namespace?: string;
  username?: string;
  /**
   * 'placeholder': secret-typed variables (DevSpace `password`) become `${dsa.secret.NAME}` in the spec and
   * their values go into a Secret (RenderResult.secrets). 'inline': substituted like other variables.
   */
  secretVars?: 'inline' | 'placeholder';
}

export interface RenderOptions {
  namespace: string;
  owner: { user: string; host: string };
  /** false (`--skip-file-checks`): a build context that cannot be read renders with a placeholder digest. */
  checkFiles: boolean;
}

export interface RenderResult {
  /** The root project's DevSession and one per dependency. */
  sessions: KubeObject[];
  imageBuilds: KubeObject[];
  warnings: ConfigWarning[];
  /** Secrets holding secret-typed variables, one per session with spec.secretVars: applied before the sessions. */
  secrets: KubeObject[];
}

export interface SchemaIssue {
  path: string;
  message: string;
}

export interface ProjectServices {
  loadProject(opts: LoadProjectOptions): Promise<ProjectConfig>;
  renderProject(project: ProjectConfig, opts: RenderOptions): Promise<RenderResult>;
  /** The project with its secret-variable placeholders replaced by their values, for what the agent runs itself. */
  revealSecretVars(project: ProjectConfig): ProjectConfig;
  /** Multi-document YAML of rendered objects. */
  renderToYaml(objects: readonly KubeObject[]): string;
  /** Schema + CEL-mirror issues of one rendered object; [] = valid. */
  validateObject(obj: KubeObject): SchemaIssue[];
}

type ContextDigest = (contextDir: string, dockerfile: string) => Promise<string>;

async function loadContextDigest(): Promise<ContextDigest> {
  return (await import('@dsa/api/build-context')).contextDigest;
}

/** The real collaborators, imported on first use. */
export async function defaultServices(): Promise<ProjectServices> {
  const [config, render, api, contextDigest] = await Promise.all([
    import('../config/index.js'),
    import('../render/render-project.js'),
    import('@dsa/api'),
    loadContextDigest(),
  ]);
  // One at a time after the others: jest's ESM runtime races on concurrent imports sharing a module.
  const kustomize = await import('../render/kustomize.js');
  const customTags = await import('../build/custom-tags.js');
  return {
    loadProject: (opts) => config.loadProject(opts),
    revealSecretVars: (project) => config.revealSecretVars(project),
    async renderProject(project, opts) {
      const uploadDigests = await digestsFor(project, opts, contextDigest, api.PLACEHOLDER_DIGEST, render.planSessions);
      // With --skip-file-checks the loader leaves paths it could not check (globs, missing files);
      // render stand-ins for them, each reported as a warning, instead of failing.
      const skipped: ConfigWarning[] = [];
      const unreadable = (file: string, err: unknown): void => {
        if (opts.checkFiles) throw new RuntimeError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
        skipped.push({ path: file, message: 'not read (--skip-file-checks); rendered as a stand-in' });
      };
      const prebuiltTags = await customTags.customBuildTags(project, opts.namespace, (image, err) => unreadable(`images.${image}`, err));
      // kustomize runs before the (synchronous) renderer: every kustomization once, in parallel.
      const kustomized = new Map<string, string>();
      await Promise.all(
        render.kustomizeRequests(project, opts.namespace).map(async (k) => {
          const key = render.kustomizeKey(k);
          if (kustomized.has(key)) return;
          kustomized.set(key, '');
          try {
            kustomized.set(key, await kustomize.runKustomize(k));
          } catch (err) {
            if (opts.checkFiles) throw new ValidationError(`kubectl.kustomize: ${(err as Error).message}`, { cause: err });
            skipped.push({ path: k.dir, message: `not rendered (--skip-file-checks): ${(err as Error).message}` });
            kustomized.set(key, `# ${k.dir}: kustomization not rendered (--skip-file-checks)\n`);
          }
        }),
      );
      try {
        const r = render.renderProject(project, {
          namespace: opts.namespace,
          owner: opts.owner,
          uploadDigests,
          prebuiltTags,
          kustomizeBuild: (k) => kustomized.get(render.kustomizeKey(k)) ?? '',
          inlineFiles: (file) => {
            try {
              return readFileSync(file, 'utf8');
            } catch (err) {
              unreadable(file, err);
              return `# ${file}: not read (--skip-file-checks)\n`;
            }
          },
          packChart: (dir) => {
            try {
              return statSync(dir).isFile() ? readChartArchive(dir) : packChartDir(dir);
            } catch (err) {
              unreadable(dir, err);
              return stubChartArchive(dir);
            }
          },
        });
        return { sessions: r.sessions as KubeObject[], imageBuilds: r.imageBuilds as KubeObject[], warnings: [...r.warnings, ...skipped], secrets: r.secrets as unknown as KubeObject[] };
      } catch (err) {
        if (err instanceof render.RenderError) throw new ValidationError(`${project.configPath}: ${err.message}`, { cause: err });
        throw err;
      }
    },
    renderToYaml: (objects) => render.renderToYaml(objects),
    validateObject: (obj) => {
      if (obj.kind === api.DEVSESSION.kind) return api.validateDevSession(obj);
      if (obj.kind === api.IMAGEBUILD.kind) return api.validateImageBuild(obj);
      return [{ path: 'kind', message: `unexpected kind ${String(obj.kind)}` }];
    },
  };
}

/** Upload digests keyed `<session>/<image>` for every image that will be built, as the renderer expects. */
async function digestsFor(
  project: ProjectConfig,
  opts: RenderOptions,
  contextDigest: ContextDigest,
  placeholder: string,
  planSessions: (p: ProjectConfig, ns: string) => { sessions: Array<{ name: string; project: ProjectConfig; skipBuild: boolean }> },
): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const plan of planSessions(project, opts.namespace).sessions) {
    // Every image the operator may build; never-built ones (disabled, dependency skipBuild) and custom
    // builds need no Dockerfile, and the renderer asks no digest for them.
    if (plan.skipBuild) continue;
    for (const image of plan.project.images) {
      if (image.disabled || image.requestedEngine === 'custom') continue;
      try {
        out[`${plan.name}/${image.name}`] = await contextDigest(image.context, image.dockerfile);
      } catch (err) {
        const e = err as NodeJS.ErrnoException;
        // --skip-file-checks on a bare file: its context is elsewhere; render with the placeholder.
        if (!opts.checkFiles && (e.code === 'ENOENT' || e.name === 'ContextError')) {
          out[`${plan.name}/${image.name}`] = placeholder;
          continue;
        }
        if (e.name === 'ContextError') throw new ValidationError(`images.${image.name}: ${e.message}`, { cause: err });
        throw err;
      }
    }
  }
  return out;
}

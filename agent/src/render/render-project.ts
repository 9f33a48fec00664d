// ProjectConfig (the normalized devspace model) → DevSession / ImageBuild objects. Pure: every file
// read, chart pack and digest is injected, so `dsa render`, `dsa up` and the tests share one mapping.
//
// Shape decisions:
// - One DevSession per project; each loaded dependency becomes its own DevSession named
//   `<root>-<dependency>` in the root's namespace (or the dependency's `namespace:`), and the
//   referencing session lists it in spec.dependencies. Sessions are returned leaves first.
// - A dependency reached twice (same devspace.yaml and profile) is rendered once, as DevSpace does.
// - Everything the operator cannot do without the agent (hooks, autoReload) is reported as a
//   warning instead of silently dropped. Fields dsa does not act on at all (custom commands,
//   dev.open, pod patches, applyArgs, …) are warned by the loader, from the schema markers.
import path from 'node:path';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import {
  ANNOTATIONS,
  API_VERSION,
  DEVSESSION,
  DOCKER_TAG,
  LABELS,
  MANAGED_BY,
  PLACEHOLDER_DIGEST,
  canonicalJson,
  desiredImageBuilds,
  sha256Hex,
  shortenName,
  type ConfigWarning,
  type DeploymentConfig,
  type DevConfig,
  type DevPod,
  type DevPodConfig,
  type DevSession,
  type HelmChart,
  type HelmDeploymentConfig,
  type ImageBuild,
  type ImageConfig,
  type KubectlDeploymentConfig,
  type ProjectConfig,
  type SessionDependency,
  type SessionDeployment,
  type SessionImage,
  type SyncCommandConfig,
  type SyncConfig,
  type SyncExec,
  type SyncPath,
} from '@dsa/api';

export interface RenderProjectOptions {
  /** Namespace of the root session (and of dependencies without their own `namespace:`). */
  namespace: string;
  owner: { user: string; host: string };
  /**
   * Upload digest of each image's build context. Keys: `<session>/<image>` for any session (see
   * planSessions() for the names), or just `<image>` for the root project. `'placeholder'` renders
   * PLACEHOLDER_DIGEST everywhere (no tags are derived then).
   */
  uploadDigests: Record<string, string> | 'placeholder';
  /** Reads a manifest or values file (absolute path). */
  inlineFiles: (absPath: string) => string;
  /** Packs a local chart folder into a base64 .tgz (a packed chart file: its bytes, base64). */
  packChart: (absPath: string) => string;
  /**
   * The rendered YAML of a kustomization (`kustomize build <dir> <args…>`, run before rendering: the
   * renderer is synchronous); without it, kustomize deployments are skipped with a warning.
   */
  kustomizeBuild?: (k: KustomizeRequest) => string;
  /**
   * Tags known before any build for images the agent builds itself with a custom command (content
   * addressed, agent/src/build): keys as uploadDigests. Missing → only the user's tags.
   */
  prebuiltTags?: Record<string, string>;
}

/** One kustomization to render, as a kubectl deployment asks for it. */
export interface KustomizeRequest {
  dir: string;
  args: string[];
  /** `kustomizeBinaryPath`, if set. */
  binary?: string;
}

/** Every kustomization the project's deployments (and its loaded dependencies') render. Pure. */
export function kustomizeRequests(project: ProjectConfig, namespace: string): KustomizeRequest[] {
  const out: KustomizeRequest[] = [];
  for (const plan of planSessions(project, namespace).sessions) {
    for (const d of plan.project.deployments) {
      if (d.kind !== 'kubectl' || !d.kustomize) continue;
      for (const dir of d.manifests) out.push({ dir, args: d.kustomizeArgs ?? [], ...(d.kustomizeBinaryPath ? { binary: d.kustomizeBinaryPath } : {}) });
    }
  }
  return out;
}

/** A stable key for a kustomize request (the same folder with other args renders differently). */
export function kustomizeKey(k: KustomizeRequest): string {
  return JSON.stringify([k.dir, k.args, k.binary ?? '']);
}

export interface RenderProjectResult {
  /** Dependencies first (leaves first), the root project's session last. */
  sessions: DevSession[];
  imageBuilds: ImageBuild[];
  warnings: ConfigWarning[];
  /**
   * The Secrets holding secret-typed variables (a project loaded with `secretVars: 'placeholder'`), one per
   * session that uses any, named in its spec.secretVars: to apply BEFORE the sessions (docs/api/v1alpha1.md).
   */
  secrets: SecretVarsSecret[];
}

/** A v1 Secret as the agent applies it (plain object, stringData). */
export interface SecretVarsSecret {
  apiVersion: 'v1';
  kind: 'Secret';
  metadata: { name: string; namespace: string; labels: Record<string, string> };
  type: 'Opaque';
  stringData: Record<string, string>;
}

/** The Secret a session's secret variables live in. */
export const secretVarsSecretName = (session: string): string => shortenName(`${session}-secret-vars`);

/** Changes when any value changes; not reversible to a value (sha256 over all of them, truncated). Pure. */
export function secretVarsHash(values: Record<string, string>): string {
  return sha256Hex(canonicalJson(values)).slice(0, 32);
}

/** The Secret for a session's secret variables (values as loaded). Pure. */
export function secretVarsSecret(session: DevSession, values: Record<string, string>): SecretVarsSecret {
  return {
    apiVersion: 'v1',
    kind: 'Secret',
    metadata: { name: secretVarsSecretName(session.metadata.name), namespace: session.metadata.namespace ?? 'default', labels: { [LABELS.managedBy]: MANAGED_BY, [LABELS.session]: shortenName(session.metadata.name) } },
    type: 'Opaque',
    stringData: { ...values },
  };
}

export type RenderErrorCode = 'MissingUploadDigest' | 'InvalidValuesFile';

export class RenderError extends Error {
  constructor(
    readonly code: RenderErrorCode,
    /** Field path as in ConfigWarning.path. */
    readonly path: string,
    message: string,
  ) {
    super(`${path}: ${message}`);
    this.name = 'RenderError';
  }
}

/** One session to render: which project, under which name, and how it was reached. */
export interface PlannedSession {
  name: string;
  namespace: string;
  project: ProjectConfig;
  /** Dependency `skipBuild`: images are referenced, never built. */
  skipBuild: boolean;
  /** Prefix for warning paths (`dependencies.auth.` for a dependency, '' for the root). */
  warningPrefix: string;
  dependencies: SessionDependency[];
}

/** Lowercase DNS-1123 label from any string (`My_App` → `my-app`); never empty. */
export function dnsLabel(s: string, fallback = 'x'): string {
  const cleaned = s
    .toLowerCase()
    .replace(/[^a-z0-9-]+/g, '-')
    .replace(/^-+|-+$/g, '');
  return shortenName(cleaned || fallback).replace(/-+$/g, '');
}

function identity(project: ProjectConfig, profile?: string): string {
  return `${project.configPath}#${profile ?? ''}`;
}

/**
 * Decide the sessions (names, namespaces, order) without rendering them: renderProjectFromDisk
 * needs the names to key the context digests it computes before calling renderProject.
 */
export function planSessions(root: ProjectConfig, namespace: string): { sessions: PlannedSession[]; warnings: ConfigWarning[] } {
  const warnings: ConfigWarning[] = [];
  const rootName = dnsLabel(root.name, 'project');
  const rootPlan: PlannedSession = { name: rootName, namespace, project: root, skipBuild: false, warningPrefix: '', dependencies: [] };
  const byKey = new Map<string, PlannedSession>([[identity(root), rootPlan]]);
  const usedNames = new Set([rootName]);
  const onStack = new Set<string>([identity(root)]);
  const order: PlannedSession[] = [];

  const visit = (parent: PlannedSession) => {
    parent.project.dependencies.forEach((dep) => {
      const wpath = `${parent.warningPrefix}dependencies.${dep.name}`;
      if (dep.project === undefined) {
        const what = 'git' in dep.source ? `git dependency ${dep.source.git.url}` : `dependency at ${dep.source.path}`;
        warnings.push({ path: wpath, message: `${what} was not loaded, so it has no DevSession; deploy it separately` });
        return;
      }
      const key = identity(dep.project, dep.profile);
      let planned = byKey.get(key);
      if (planned !== undefined) {
        if (onStack.has(key)) {
          warnings.push({ path: wpath, message: `dependency cycle through "${planned.name}": the operator will report DependencyCycle` });
        }
      } else {
        let name = dnsLabel(`${rootName}-${dep.name}`);
        if (usedNames.has(name)) name = dnsLabel(`${name.slice(0, 55)}-${sha256Hex(key).slice(0, 6)}`);
        usedNames.add(name);
        planned = {
          name,
          namespace: dep.namespace ?? namespace,
          project: dep.project,
          skipBuild: dep.skipBuild,
          warningPrefix: `${wpath}.`,
          dependencies: [],
        };
        byKey.set(key, planned);
        if (!dep.ignoreDependencies) {
          onStack.add(key);
          visit(planned);
          onStack.delete(key);
        }
        order.push(planned);
      }
      if (!parent.dependencies.some((d) => d.name === planned.name)) {
        parent.dependencies.push(planned.namespace === parent.namespace ? { name: planned.name } : { name: planned.name, namespace: planned.namespace });
      }
    });
  };
  visit(rootPlan);
  order.push(rootPlan);
  return { sessions: order, warnings };
}

/** Assigns DNS-1123 names to user keys, unique within one list, and remembers the mapping. */
class NameMap {
  private readonly map = new Map<string, string>();
  private readonly used = new Set<string>();
  constructor(
    private readonly what: string,
    private readonly warnings: ConfigWarning[],
    private readonly prefix: string,
  ) {}
  assign(key: string): string {
    const existing = this.map.get(key);
    if (existing !== undefined) return existing;
    let name = dnsLabel(key);
    if (this.used.has(name)) name = dnsLabel(`${name.slice(0, 54)}-${sha256Hex(key).slice(0, 8)}`);
    if (name !== key) this.warnings.push({ path: `${this.prefix}${this.what}.${key}`, message: `renamed to "${name}" (names must be DNS-1123 labels)` });
    this.map.set(key, name);
    this.used.add(name);
    return name;
  }
  get(key: string): string | undefined {
    return this.map.get(key);
  }
}

/** Helm's values merge: maps merge recursively, everything else (lists, scalars, null) replaces. */
export function deepMerge(base: Record<string, unknown>, over: Record<string, unknown>): Record<string, unknown> {
  const out: Record<string, unknown> = { ...base };
  for (const [k, v] of Object.entries(over)) {
    const prev = out[k];
    out[k] = isPlainObject(prev) && isPlainObject(v) ? deepMerge(prev, v) : v;
  }
  return out;
}

function isPlainObject(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function nonEmpty<T>(list: T[] | undefined): T[] | undefined {
  return list !== undefined && list.length > 0 ? list : undefined;
}

/** Drops undefined members (and empty objects) so the output has only what was set. */
function compact<T extends object>(obj: T): T {
  return Object.fromEntries(Object.entries(obj).filter(([, v]) => v !== undefined)) as T;
}
function compactOrUndefined<T extends object>(obj: T): T | undefined {
  const c = compact(obj);
  return Object.keys(c).length > 0 ? c : undefined;
}

/** Posix path of `abs` relative to `base`, `./`-prefixed as a user would write it. */
function relativePath(base: string, abs: string): string {
  const rel = path.relative(base, abs).split(path.sep).join('/');
  if (rel === '') return '.';
  return rel.startsWith('..') ? rel : `./${rel}`;
}

class SessionRenderer {
  readonly warnings: ConfigWarning[] = [];
  private readonly images: NameMap;
  private readonly deployments: NameMap;
  private readonly pods: NameMap;

  constructor(
    private readonly plan: PlannedSession,
    private readonly opts: RenderProjectOptions,
    private readonly isRoot: boolean,
  ) {
    this.images = new NameMap('images', this.warnings, plan.warningPrefix);
    this.deployments = new NameMap('deployments', this.warnings, plan.warningPrefix);
    this.pods = new NameMap('dev', this.warnings, plan.warningPrefix);
  }

  private warn(p: string, message: string): void {
    this.warnings.push({ path: `${this.plan.warningPrefix}${p}`, message });
  }

  render(): DevSession {
    const { project, name, namespace } = this.plan;
    const images = project.images.map((img) => this.image(img));
    const deployments = project.deployments.flatMap((d) => this.deployment(d));
    const dev = this.dev(project.dev);
    this.agentOnly(project);
    const owner = this.opts.owner;
    return {
      apiVersion: API_VERSION,
      kind: DEVSESSION.kind,
      metadata: {
        name,
        namespace,
        labels: { [LABELS.managedBy]: MANAGED_BY },
        annotations: { [ANNOTATIONS.owner]: `${owner.user}@${owner.host}` },
      },
      spec: {
        project: project.name,
        owner: { user: owner.user, host: owner.host },
        images,
        deployments,
        dev,
        dependencies: this.plan.dependencies,
        // Secret-typed variables: the spec carries placeholders; the values go into this Secret (never the spec).
        ...(project.secretVars && Object.keys(project.secretVars).length
          ? { secretVars: { secretName: secretVarsSecretName(name), names: Object.keys(project.secretVars).sort() } }
          : {}),
      },
    };
  }

  private prebuiltTag(imageName: string, specName: string): string | undefined {
    const t = this.opts.prebuiltTags;
    return t?.[`${this.plan.name}/${specName}`] ?? t?.[`${this.plan.name}/${imageName}`] ?? (this.isRoot ? t?.[imageName] : undefined);
  }

  private digestFor(imageName: string, specName: string): string {
    const digests = this.opts.uploadDigests;
    if (digests === 'placeholder') return PLACEHOLDER_DIGEST;
    const digest = digests[`${this.plan.name}/${specName}`] ?? digests[`${this.plan.name}/${imageName}`] ?? (this.isRoot ? digests[imageName] : undefined);
    if (digest === undefined) {
      throw new RenderError('MissingUploadDigest', `${this.plan.warningPrefix}images.${imageName}`, `no upload digest for image "${imageName}" of session "${this.plan.name}"`);
    }
    return digest;
  }

  private image(img: ImageConfig): SessionImage {
    const name = this.images.assign(img.name);
    const p = `images.${img.name}`;
    // A custom command runs on the developer's machine (agent/src/build): the operator only references its
    // result. Docker images render as their in-cluster fallback; `dsa deploy` replaces them once built locally.
    const custom = img.requestedEngine === 'custom' && img.custom !== undefined;
    const skip = img.disabled || this.plan.skipBuild || custom;
    const inCluster = img.requestedEngine === 'kaniko' || img.requestedEngine === 'buildkit';
    if (img.requestedEngine === 'buildkit' && !skip) this.warn(`${p}.build`, 'buildkit build: dsa builds in the cluster with kaniko');
    if (img.network !== undefined && inCluster) this.warn(`${p}.network`, 'build network is not configurable for in-cluster builds; ignored');
    if (img.skipPush && inCluster) this.warn(`${p}.skipPush`, 'in-cluster builds always push to the registry');
    const prebuilt = custom && !img.disabled && !this.plan.skipBuild ? this.prebuiltTag(img.name, name) : undefined;
    const tags = [...(prebuilt ? [prebuilt] : []), ...img.tags].filter((t) => {
      const ok = new RegExp(DOCKER_TAG).test(t);
      if (!ok) this.warn(`${p}.tags`, `"${t}" is not a valid image tag; ignored`);
      return ok;
    });
    const dockerfile = relativePath(img.context, img.dockerfile).replace(/^\.\//, '');
    if (dockerfile.startsWith('..')) this.warn(`${p}.dockerfile`, `the Dockerfile is outside the build context (${dockerfile})`);
    const k = img.kaniko;
    const args = [...(k.args ?? []), ...(k.snapshotMode ? [`--snapshot-mode=${k.snapshotMode}`] : [])];
    return compact<SessionImage>({
      name,
      image: img.image,
      tags: nonEmpty(tags),
      context: skip ? undefined : { upload: { digest: this.digestFor(img.name, name) } },
      dockerfile,
      buildArgs: Object.keys(img.buildArgs).length > 0 ? img.buildArgs : undefined,
      target: img.target,
      entrypoint: img.entrypoint,
      cmd: img.cmd,
      registry: compactOrUndefined({ insecure: k.insecure, pullSecret: k.pullSecret }),
      builder: compactOrUndefined({ image: k.image, cache: k.cache, args: nonEmpty(args), resources: k.resources, namespace: k.namespace }),
      skip: skip ? true : undefined,
    });
  }

  private deployment(d: DeploymentConfig): SessionDeployment[] {
    const name = this.deployments.assign(d.name);
    const base = { name, namespace: d.namespace, updateImageTags: d.updateImageTags };
    if (d.kind === 'kubectl') {
      const kubectl = this.kubectl(d);
      return kubectl === undefined ? [] : [compact<SessionDeployment>({ ...base, kubectl: { manifests: kubectl } })];
    }
    return [compact<SessionDeployment>({ ...base, helm: this.helm(d) })];
  }

  private kubectl(d: KubectlDeploymentConfig): string[] | undefined {
    const p = `deployments.${d.name}`;
    const manifests: string[] = [];
    for (const file of d.manifests) {
      if (d.kustomize) {
        if (!this.opts.kustomizeBuild) {
          this.warn(`${p}.kubectl.kustomize`, 'kustomize is not available to pre-render this deployment; it is skipped');
          return undefined;
        }
        // Rendered here, on the developer's machine: a kustomization may reach files outside its
        // folder (bases, patches) that the operator could not see.
        manifests.push(this.opts.kustomizeBuild({ dir: file, args: d.kustomizeArgs ?? [], ...(d.kustomizeBinaryPath ? { binary: d.kustomizeBinaryPath } : {}) }));
      } else {
        manifests.push(this.opts.inlineFiles(file));
      }
    }
    if (d.inlineManifest !== undefined) manifests.push(d.inlineManifest);
    return manifests;
  }

  private helm(d: HelmDeploymentConfig): NonNullable<SessionDeployment['helm']> {
    const p = `deployments.${d.name}.helm`;
    let values: Record<string, unknown> = {};
    for (const file of d.valuesFiles) {
      let parsed: unknown;
      try {
        parsed = parseYaml(this.opts.inlineFiles(file));
      } catch (err) {
        throw new RenderError('InvalidValuesFile', `${this.plan.warningPrefix}${p}.valuesFiles`, `${file}: ${(err as Error).message}`);
      }
      if (parsed === null || parsed === undefined) continue; // an empty values file
      if (!isPlainObject(parsed)) throw new RenderError('InvalidValuesFile', `${this.plan.warningPrefix}${p}.valuesFiles`, `${file} is not a YAML map`);
      values = deepMerge(values, parsed);
    }
    values = deepMerge(values, d.values);
    return compact({
      releaseName: d.releaseName,
      chart: this.chart(d),
      values: Object.keys(values).length > 0 ? values : undefined,
      wait: d.wait,
      timeoutSeconds: d.timeoutSeconds,
    });
  }

  /** Chart repository credentials never reach the DevSession (the loader warns about them). */
  private chart(d: HelmDeploymentConfig): HelmChart {
    const c = d.chart;
    if (c.component === true) return { component: true };
    if ('path' in c) return { archive: this.opts.packChart(c.path) };
    if ('git' in c) {
      return { git: compact({ url: c.git.url, ref: c.git.revision ?? c.git.tag ?? c.git.branch, path: c.git.subPath }) };
    }
    return compact({ name: c.name, repo: c.repo, version: c.version });
  }

  private dev(dev: DevConfig): NonNullable<DevSession['spec']['dev']> {
    return { interactive: dev.interactive, pods: dev.pods.map((pod) => this.devPod(pod)) };
  }

  private devPod(pod: DevPodConfig): DevPod {
    const p = `dev.${pod.name}`;
    const sel = pod.selector;
    let imageName: string | undefined;
    if (sel.imageName !== undefined) {
      imageName = this.images.get(sel.imageName);
      if (imageName === undefined) {
        this.warn(`${p}.imageSelector`, `image "${sel.imageName}" is not defined in images`);
        imageName = dnsLabel(sel.imageName);
      }
    }
    return compact<DevPod>({
      name: this.pods.assign(pod.name),
      selector: compact({
        imageName,
        imageSelector: sel.imageSelector,
        labelSelector: sel.labelSelector,
        containerName: sel.containerName,
        namespace: sel.namespace,
      }),
      devImage: pod.devImage,
      command: pod.command,
      args: pod.args,
      workingDir: pod.workingDir,
      env: pod.env,
      resources: pod.resources,
      ports: nonEmpty(pod.ports.map((m) => compact(m))),
      reversePorts: nonEmpty(pod.reversePorts.map((m) => compact(m))),
      sync: nonEmpty(pod.sync.map((s) => this.sync(s))),
      terminal: pod.terminal,
      logs: pod.logs,
    });
  }

  private sync(s: SyncConfig): SyncPath {
    const exec = (list: SyncCommandConfig[] | undefined): SyncExec[] | undefined =>
      nonEmpty(
        list?.map((c) =>
          compact<SyncExec>({
            name: c.name,
            command: c.command,
            args: c.shell ? undefined : nonEmpty(c.args),
            shell: c.shell || undefined,
            where: c.where === 'local' ? 'local' : undefined,
            trigger: c.trigger === 'batch' ? undefined : c.trigger,
            onChange: nonEmpty(c.onChange),
            once: c.once || undefined,
            failOnError: c.failOnError || undefined,
          }),
        ),
      );
    return compact<SyncPath>({
      name: s.name,
      localPath: relativePath(this.plan.project.dir, s.localPath),
      containerPath: s.containerPath,
      file: s.file || undefined,
      excludePaths: nonEmpty(s.excludePaths),
      downloadExcludePaths: nonEmpty(s.downloadExcludePaths),
      uploadExcludePaths: nonEmpty(s.uploadExcludePaths),
      initialSync: s.initialSync,
      initialSyncCompareBy: s.initialSyncCompareBy,
      waitInitialSync: s.waitInitialSync,
      disableDownload: s.disableDownload || undefined,
      disableUpload: s.disableUpload || undefined,
      startContainer: s.startContainer,
      polling: s.polling,
      throttleChangeDetection: s.throttleChangeDetection,
      noWatch: s.noWatch,
      printLogs: s.printLogs,
      bandwidthLimits: s.bandwidthLimits ? compactOrUndefined(s.bandwidthLimits) : undefined,
      onUpload: s.onUpload ? compactOrUndefined({ restartContainer: s.onUpload.restartContainer, exec: exec(s.onUpload.exec) }) : undefined,
      onDownload: s.onDownload ? compactOrUndefined({ exec: exec(s.onDownload.exec) }) : undefined,
    });
  }

  /** Parts of devspace.yaml that only the agent acts on: say so, they will not run for kubectl-applied sessions. */
  private agentOnly(project: ProjectConfig): void {
    project.hooks.forEach((h, i) => {
      this.warn(`hooks[${i}]`, `hook "${h.command}" (${h.events.join(', ') || 'no events'}) runs only when dsa drives the session, not when the DevSession is applied without the agent`);
    });
    if (project.dev.autoReload) this.warn('dev.autoReload', 'auto-reload is driven by `dsa up` only');
  }
}

/** Render a project and its loaded dependencies. Throws RenderError for a missing digest or a bad values file. */
export function renderProject(project: ProjectConfig, opts: RenderProjectOptions): RenderProjectResult {
  const planned = planSessions(project, opts.namespace);
  const warnings = [...planned.warnings];
  const sessions: DevSession[] = [];
  const root = planned.sessions[planned.sessions.length - 1];
  const secrets: SecretVarsSecret[] = [];
  for (const plan of planned.sessions) {
    const r = new SessionRenderer(plan, opts, plan === root);
    const session = r.render();
    sessions.push(session);
    if (session.spec.secretVars && plan.project.secretVars) {
      secrets.push(secretVarsSecret(session, plan.project.secretVars));
      session.metadata.annotations = { ...session.metadata.annotations, [ANNOTATIONS.secretVarsHash]: secretVarsHash(plan.project.secretVars) };
    }
    warnings.push(...r.warnings);
  }
  return { sessions, imageBuilds: sessions.flatMap((s) => desiredImageBuilds(s)), warnings, secrets };
}

/** Multi-document YAML, in the given order (`kubectl apply -f -` ready). */
export function renderToYaml(objects: readonly object[]): string {
  return objects.map((o) => `---\n${stringifyYaml(o, { lineWidth: 0 })}`).join('');
}

/** A kubectl `List` as JSON. */
export function renderToJson(objects: readonly object[]): string {
  return `${JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objects }, null, 2)}\n`;
}

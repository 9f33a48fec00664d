// The normalized devspace model: what a devspace.yaml means, independent of its config version.
//
// The loader (agent/src/config) turns DevSpace's v1beta2…v1beta11 and v2beta1 documents into this
// shape; `dsa render` turns it into DevSession/ImageBuild objects. Nothing downstream ever looks at
// raw YAML, so a new config version only needs a new normalizer.
//
// Conventions:
// - Paths are absolute (resolved against the folder of the config file that declared them).
// - Lists keep the order the user wrote (deployment order matters: DevSpace deploys in order).
// - Optional fields are absent when the user did not set them; defaults are applied by consumers,
//   except where a field documents its default here.

/** Where a value came from in the user's files, for errors and warnings (1-based line/col). */
export interface SourcePos {
  file: string;
  line: number;
  col: number;
}

/** A field that was parsed but that dsa does not act on (yet). Never dropped silently. */
export interface ConfigWarning {
  /** Dotted field path as the user wrote it, e.g. `images.api.build.docker.preferMinikube`. */
  path: string;
  message: string;
  pos?: SourcePos;
}

export interface ProjectConfig {
  /** Project name: v2beta1 `name`, else the config file's folder name (DNS-1123 sanitized). */
  name: string;
  /** Absolute path of the devspace.yaml this project came from. */
  configPath: string;
  /** Absolute folder of configPath; every relative path resolves against it. */
  dir: string;
  /** The `version:` the file declared, e.g. `v1beta2`, `v1beta9`, `v2beta1`. */
  sourceVersion: string;
  /** Profiles applied, in the order they were applied (parents first). */
  profiles: string[];
  /** Resolved variable values actually used while loading (secrets/password vars excluded). */
  vars: Record<string, string>;
  /**
   * Values of the secret-typed (DevSpace `password`) variables used, when loaded with `secretVars: 'placeholder'`:
   * the config then carries `${dsa.secret.NAME}` where each value was (api/src/secret-vars.ts).
   */
  secretVars?: Record<string, string>;
  images: ImageConfig[];
  deployments: DeploymentConfig[];
  dev: DevConfig;
  dependencies: DependencyConfig[];
  hooks: HookConfig[];
  commands: CommandConfig[];
  /** Namespace the project asked for, if any (v1beta2 `cluster.namespace`). */
  namespace?: string;
  /** Kube context the project asked for, if any (v1beta2 `cluster.kubeContext`). */
  kubeContext?: string;
  warnings: ConfigWarning[];
}

export type BuildEngine = 'kaniko' | 'docker' | 'buildkit' | 'custom';

export interface ImageConfig {
  /** The key under `images:`. */
  name: string;
  /** Image repository without tag, e.g. `registry.local:5000/team/api`. */
  image: string;
  /** Explicit tags the user asked for (`tag`/`tags`). Empty → dsa derives a content-addressed tag. */
  tags: string[];
  /** Absolute path of the Dockerfile (default `<dir>/Dockerfile`). */
  dockerfile: string;
  /** Absolute path of the build context (default `<dir>`). */
  context: string;
  /** v1beta3+ `entrypoint` / `cmd` overrides appended to the Dockerfile. */
  entrypoint?: string[];
  cmd?: string[];
  appendDockerfileInstructions?: string[];
  buildArgs: Record<string, string>;
  target?: string;
  network?: string;
  /**
   * The engine the config asked for. `kaniko` (also images with no build section) builds in the
   * cluster; `docker` and `custom` are built by the agent (agent/src/build); `buildkit` → kaniko, warned.
   */
  requestedEngine: BuildEngine;
  kaniko: KanikoOptions;
  createPullSecret: boolean;
  skipPush: boolean;
  /** `build.disabled: true` (v1beta) — the image is never built, only referenced. */
  disabled: boolean;
  /** v1beta `build.docker` / v2 `docker`: built with the local Docker daemon, else kaniko. */
  docker?: DockerBuildOptions;
  /** v1beta `build.custom` / v2 `custom`: a local command builds (and pushes) the image. */
  custom?: CustomBuildConfig;
}

export interface DockerBuildOptions {
  /** No reachable Docker daemon is an error instead of a fallback to the in-cluster kaniko build. */
  disableFallback: boolean;
  /** Build with minikube's daemon when the kube context is `minikube` (DevSpace's default: true). */
  preferMinikube: boolean;
}

export interface CustomBuildConfig {
  /**
   * The program, run with the assembled arguments; when there are none, a shell script (DevSpace 6's
   * multi-line `command`). `${runtime.images.<name>[.image|.tag]}` is resolved when it runs.
   */
  command: string;
  args: string[];
  appendArgs: string[];
  /** Put before each image argument, e.g. `--image`. */
  imageFlag?: string;
  /** Pass the tag alone instead of `image:tag`. */
  imageTagOnly: boolean;
  /**
   * Whether the image argument is added between args and appendArgs: v1beta unless `skipImageArg`,
   * v2beta1 only when `skipImageArg: false` is written (DevSpace 6's deprecated default).
   */
  imageArg: boolean;
  /** Absolute globs: rebuild only when a matching file (or folder) changed. Empty: every time. */
  onChange: string[];
}

export interface KanikoOptions {
  cache?: boolean;
  insecure?: boolean;
  /** Namespace the build pod should run in (default: the session's namespace). */
  namespace?: string;
  pullSecret?: string;
  /** Extra executor args. */
  args?: string[];
  /** Executor image override. */
  image?: string;
  snapshotMode?: string;
  resources?: ResourceRequirements;
}

export interface ResourceRequirements {
  requests?: Record<string, string>;
  limits?: Record<string, string>;
}

export type DeploymentConfig = KubectlDeploymentConfig | HelmDeploymentConfig;

interface DeploymentBase {
  name: string;
  namespace?: string;
  /** Replace untagged references to built images with the built tag (DevSpace default true). */
  updateImageTags: boolean;
}

export interface KubectlDeploymentConfig extends DeploymentBase {
  kind: 'kubectl';
  /**
   * Absolute paths of manifest files, or of kustomization folders when `kustomize` is true. With file
   * checks on, folders and globs are expanded as `kubectl -f` reads them (DevSpace passes them to it):
   * a folder's *.yaml/*.yml/*.json files, not recursive, in byte order of their names.
   */
  manifests: string[];
  /** v2beta1 `inlineManifest`: YAML text. */
  inlineManifest?: string;
  kustomize: boolean;
  applyArgs?: string[];
  kustomizeArgs?: string[];
  /** v2beta1 `kustomizeBinaryPath` (absolute, or a name looked up on PATH). */
  kustomizeBinaryPath?: string;
}

export interface HelmDeploymentConfig extends DeploymentBase {
  kind: 'helm';
  releaseName?: string;
  /**
   * Which chart. `component: true` means DevSpace's component chart (v1beta `component:` deployments,
   * `helm.componentChart: true`, and v2beta1 helm deployments with no chart): dsa ships its own.
   */
  chart: HelmChartRef;
  /** Inline values (component deployments put their whole spec here, as DevSpace's upgrade does). */
  values: Record<string, unknown>;
  /** Absolute paths, merged in order before `values`. */
  valuesFiles: string[];
  wait?: boolean;
  timeoutSeconds?: number;
  atomic?: boolean;
  upgradeArgs?: string[];
}

export type HelmChartRef =
  | { component: true }
  | { component?: false; path: string } // absolute path of a local chart folder or packed chart (.tgz)
  | { component?: false; name: string; repo?: string; version?: string; username?: string; password?: string }
  | { component?: false; git: GitSource; version?: string };

export interface GitSource {
  url: string;
  branch?: string;
  tag?: string;
  revision?: string;
  subPath?: string;
}

export interface DevConfig {
  /** Dev pods, v2beta1-style: one selection of pods with its ports, sync, terminal, logs, overrides. */
  pods: DevPodConfig[];
  /** v1beta `dev.interactive.defaultEnabled` / `overrideImages`: open a terminal instead of logs. */
  interactive: boolean;
  /** v1beta `dev.open` / v2 `open`: URLs to open once ready. */
  open: string[];
  /**
   * v1beta `dev.autoReload`: rebuild and redeploy when one of these changes. `paths` are absolute
   * globs; `deployments` / `images` name deployments whose manifests or charts, and images whose
   * Dockerfiles, are watched too (DevSpace's `GetPaths`).
   */
  autoReload?: { paths: string[]; deployments: string[]; images: string[] };
  /** Log streaming defaults (v1beta `dev.logs`). */
  logs?: { enabled: boolean; lastLines?: number; images?: string[] };
}

/** How a dev entry finds its pod and container. Exactly one of imageName/imageSelector/labelSelector is set. */
export interface PodSelector {
  /** A key of `images:` — pods running the image built from it (v1beta `imageName`, v2 `image(name)`). */
  imageName?: string;
  /** A full image reference to match (v2beta1 `imageSelector` that is not an images key). */
  imageSelector?: string;
  labelSelector?: Record<string, string>;
  namespace?: string;
  containerName?: string;
}

export interface DevPodConfig {
  /** v2beta1 key under `dev:`; for v1beta entries, derived (e.g. `sync-0`, `ports-api`). */
  name: string;
  selector: PodSelector;
  ports: PortMapping[];
  /** Local port reachable inside the container (v1beta `reverseForward`, v2 `reversePorts`). */
  reversePorts: PortMapping[];
  sync: SyncConfig[];
  terminal?: { enabled: boolean; command?: string[]; workDir?: string };
  logs?: { enabled: boolean; lastLines?: number };
  /** Dev overrides that patch the selected workload (v2beta1; v1beta interactive images map to command). */
  devImage?: string;
  command?: string[];
  args?: string[];
  workingDir?: string;
  env?: Array<{ name: string; value: string }>;
  resources?: ResourceRequirements;
  /** v2beta1 `dev.<name>.patches` against the pod spec. */
  patches?: Array<{ op: string; path: string; value?: unknown }>;
}

export interface PortMapping {
  /** Port on the developer's machine. */
  localPort: number;
  /** Port in the container. */
  remotePort: number;
  bindAddress?: string;
}

export type InitialSyncStrategy =
  | 'mirrorLocal'
  | 'mirrorRemote'
  | 'preferLocal'
  | 'preferRemote'
  | 'preferNewest'
  | 'keepAll'
  | 'disabled';

/** What the initial sync compares to find changed files (DevSpace: mtime and size by default, or size only). */
export type InitialSyncCompareBy = 'mtime' | 'size';

/**
 * A command a sync runs after changes. One shape for DevSpace's three spellings:
 * - v1beta `onUpload.execRemote` {command,args} / onFileChange / onDirCreate / onBatch: in the
 *   container, per uploaded file, per created directory or per batch (`{}` in args = the path in the
 *   container), argv without a shell, a failure stops the sync;
 * - v1beta `onDownload.execLocal`: the same, on the developer's machine after downloads;
 * - v1beta11/v2beta1 `onUpload.exec[]`: per batch, in the container or `local`, filtered by
 *   `onChange` globs, `once`, `failOnError`; without args the command is a shell line.
 */
export interface SyncCommandConfig {
  /** v2beta1 `name`, shown in logs. */
  name?: string;
  command: string;
  args: string[];
  /** `command` is a shell line (`sh -c`; v2beta1 exec without `args`). */
  shell: boolean;
  /** The app container, or the developer's machine (working dir: the local sync folder). */
  where: 'container' | 'local';
  /** After each batch of changes, or once per changed file / created directory. */
  trigger: 'batch' | 'file' | 'dir';
  /** Run only when a changed path matches one of these globs (relative to the sync root); empty = always. */
  onChange: string[];
  /** Only once in the container's life (v2beta1 `once`). */
  once: boolean;
  /** A failing command stops (and so restarts) the sync instead of being logged. */
  failOnError: boolean;
}

export interface SyncConfig {
  /** v1beta10+ `name` (DevSpace's logs and sync hooks). */
  name?: string;
  /** Absolute local path. */
  localPath: string;
  /** Path in the container (absolute, or relative to the working dir as DevSpace allows; default `.`). */
  containerPath: string;
  /**
   * Sync one file (v2beta1 `file: true`, or the local path is a file): localPath and containerPath
   * name the file itself, and their base names are equal (DevSpace requires it).
   */
  file?: boolean;
  /**
   * gitignore patterns, relative to the sync root. The lines of `excludeFile` /
   * `downloadExcludeFile` / `uploadExcludeFile` are appended after the inline ones, as DevSpace does.
   */
  excludePaths: string[];
  downloadExcludePaths: string[];
  uploadExcludePaths: string[];
  initialSync?: InitialSyncStrategy;
  initialSyncCompareBy?: InitialSyncCompareBy;
  waitInitialSync?: boolean;
  disableDownload: boolean;
  disableUpload: boolean;
  /** v2beta1 `startContainer`: the app's process starts only once the initial sync is done. */
  startContainer?: boolean;
  onUpload?: {
    restartContainer?: boolean;
    /** In order, after a batch (or per file/dir) has been uploaded and applied. */
    exec?: SyncCommandConfig[];
  };
  /** v1beta6–11 `onDownload.execLocal`. */
  onDownload?: { exec?: SyncCommandConfig[] };
  /** KB/s (DevSpace multiplies by 1024). */
  bandwidthLimits?: { download?: number; upload?: number };
  /** The container side polls the tree instead of using inotify. */
  polling?: boolean;
  /** v1beta9–11: with polling, milliseconds to pause after every 100 files checked. */
  throttleChangeDetection?: number;
  /** v2beta1: stop after the initial sync. */
  noWatch?: boolean;
  /** v2beta1 `printLogs` / v1beta `dev.logs.sync`: show per-file sync logs. */
  printLogs?: boolean;
}

export interface DependencyConfig {
  /** v1beta6+ `name`, v2beta1 key; otherwise derived from the path/repo name. */
  name: string;
  source: { path: string } | { git: GitSource };
  profile?: string;
  skipBuild: boolean;
  namespace?: string;
  /** Variables passed down (v2beta1 `vars`, v1beta `vars: [{name,value}]`). */
  vars: Record<string, string>;
  ignoreDependencies: boolean;
  /**
   * The loaded dependency project (recursively). Absent for git sources that were not fetched
   * (the operator fetches git dependencies itself).
   */
  project?: ProjectConfig;
}

export interface HookConfig {
  command: string;
  args: string[];
  /** `before:build`, `after:deploy:api`, …: v1beta `when` converted to v2beta1 event names. */
  events: string[];
}

export interface CommandConfig {
  name: string;
  command: string;
  description?: string;
}

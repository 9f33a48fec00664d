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
  /** The engine the config asked for. dsa always builds in-cluster with kaniko; others → warning. */
  requestedEngine: BuildEngine;
  kaniko: KanikoOptions;
  createPullSecret: boolean;
  skipPush: boolean;
  /** `build.disabled: true` (v1beta) — the image is never built, only referenced. */
  disabled: boolean;
  /** v1beta `build.custom` / v2 `custom`: kept for `analyze`/warnings; not executed in-cluster. */
  custom?: { command: string; args: string[] };
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
  /** Absolute paths of manifest files, or of kustomization folders when `kustomize` is true. Globs expanded. */
  manifests: string[];
  /** v2beta1 `inlineManifest`: YAML text. */
  inlineManifest?: string;
  kustomize: boolean;
  applyArgs?: string[];
  kustomizeArgs?: string[];
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
  | { component?: false; path: string } // absolute path of a local chart folder
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

export interface SyncConfig {
  /** Absolute local path. */
  localPath: string;
  /** Path in the container (absolute, or relative to the working dir as DevSpace allows; default `.`). */
  containerPath: string;
  excludePaths: string[];
  downloadExcludePaths: string[];
  uploadExcludePaths: string[];
  initialSync?: InitialSyncStrategy;
  waitInitialSync?: boolean;
  disableDownload: boolean;
  disableUpload: boolean;
  onUpload?: {
    restartContainer?: boolean;
    /** Commands run in the container after a batch of uploads (v1beta execRemote.onBatch, v2 exec). */
    exec?: Array<{ command: string; args: string[] }>;
  };
  bandwidthLimits?: { download?: number; upload?: number };
  polling?: boolean;
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

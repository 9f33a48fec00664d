// DevSession: one devspace project under development (docs/api/v1alpha1.md is the prose version).
import { Type, type Static } from '@sinclair/typebox';
import { API_VERSION, DEVSESSION, SessionPhase, BuildPhase } from '../constants.js';
import {
  BuildInputs,
  Conditions,
  ContextSource,
  DnsLabel,
  FreeFormObject,
  NamedList,
  ObjectMeta,
  SecretVars,
  ServiceAccountName,
  ResourceSpec,
  StringEnum,
  StringMap,
  Timestamp,
} from './common.js';

export const SESSION_PHASES = Object.values(SessionPhase) as Array<(typeof SessionPhase)[keyof typeof SessionPhase]>;
export const BUILD_PHASES = Object.values(BuildPhase) as Array<(typeof BuildPhase)[keyof typeof BuildPhase]>;
export const INITIAL_SYNC_STRATEGIES = [
  'mirrorLocal',
  'mirrorRemote',
  'preferLocal',
  'preferRemote',
  'preferNewest',
  'keepAll',
  'disabled',
] as const;

/**
 * Upper bound for spec lists. Generous for any devspace project; it keeps the apiserver's static
 * cost estimate of the per-item CEL rules (cost × list cardinality) far below its limit.
 */
export const MAX_LIST = 100;

// CEL rules (apiserver ≥ 1.25). validate.ts mirrors each one in TypeScript for the agent.
export const CEL = {
  imageContext: {
    rule: '(has(self.skip) && self.skip) || has(self.context)',
    message: 'context is required unless skip is true',
  },
  deploymentKind: {
    rule: 'has(self.kubectl) != has(self.helm)',
    message: 'exactly one of kubectl or helm must be set',
  },
  kubectlSource: {
    rule: 'has(self.manifests) != has(self.git)',
    message: 'exactly one of manifests or git must be set',
  },
  chartSource: {
    rule:
      '((has(self.component) && self.component) ? 1 : 0) + (has(self.name) ? 1 : 0) + (has(self.archive) ? 1 : 0) + (has(self.git) ? 1 : 0) == 1',
    message: 'exactly one of component: true, name, archive or git must be set',
  },
  podSelector: {
    rule: '(has(self.imageName) ? 1 : 0) + (has(self.imageSelector) ? 1 : 0) + (has(self.labelSelector) ? 1 : 0) == 1',
    message: 'exactly one of imageName, imageSelector or labelSelector must be set',
  },
} as const;

export const Owner = Type.Object(
  {
    user: Type.String({ minLength: 1 }),
    host: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type Owner = Static<typeof Owner>;

export const SessionImage = Type.Object(
  {
    /** Key under devspace `images:` (DNS-1123 label; the agent sanitizes other keys). */
    name: DnsLabel(),
    ...BuildInputs,
    context: Type.Optional(ContextSource),
    /** Never build; the image is only referenced (devspace `build.disabled`, dependency `skipBuild`). */
    skip: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, 'x-kubernetes-validations': [CEL.imageContext] },
);
export type SessionImage = Static<typeof SessionImage>;

export const KubectlGitSource = Type.Object(
  {
    url: Type.String({ minLength: 1 }),
    ref: Type.Optional(Type.String()),
    /** Files or folders inside the repository. */
    paths: Type.Optional(Type.Array(Type.String())),
    kustomize: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false },
);
export type KubectlGitSource = Static<typeof KubectlGitSource>;

export const KubectlDeployment = Type.Object(
  {
    /** Inline YAML documents (the agent inlines local files and pre-renders kustomize). */
    manifests: Type.Optional(Type.Array(Type.String())),
    git: Type.Optional(KubectlGitSource),
    kustomize: Type.Optional(Type.Boolean()),
  },
  { additionalProperties: false, 'x-kubernetes-validations': [CEL.kubectlSource] },
);
export type KubectlDeployment = Static<typeof KubectlDeployment>;

export const ChartGitSource = Type.Object(
  {
    url: Type.String({ minLength: 1 }),
    ref: Type.Optional(Type.String()),
    /** Chart folder inside the repository. */
    path: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type ChartGitSource = Static<typeof ChartGitSource>;

export const HelmChart = Type.Object(
  {
    /** dsa's built-in component chart (devspace component deployments, chart-less helm). */
    component: Type.Optional(Type.Boolean()),
    /** A repo chart: name, repo URL (or oci://), version. */
    name: Type.Optional(Type.String({ minLength: 1 })),
    repo: Type.Optional(Type.String()),
    version: Type.Optional(Type.String()),
    /**
     * A local chart packed by the agent: base64 of the .tgz. A pattern, not `format: byte`: the
     * 1.33 apiserver decodes `byte` fields touched by a CEL rule with the URL-safe alphabet and
     * rejects any archive containing `/` or `+` (seen on our control-plane tier).
     */
    archive: Type.Optional(Type.String({ pattern: '^[A-Za-z0-9+/]*={0,2}$' })),
    git: Type.Optional(ChartGitSource),
  },
  { additionalProperties: false, 'x-kubernetes-validations': [CEL.chartSource] },
);
export type HelmChart = Static<typeof HelmChart>;

export const HelmDeployment = Type.Object(
  {
    /** Default: the deployment name. */
    releaseName: Type.Optional(Type.String()),
    chart: HelmChart,
    /** valuesFiles already merged in order, then inline values on top. */
    values: Type.Optional(FreeFormObject()),
    wait: Type.Optional(Type.Boolean()),
    timeoutSeconds: Type.Optional(Type.Integer({ minimum: 1 })),
  },
  { additionalProperties: false },
);
export type HelmDeployment = Static<typeof HelmDeployment>;

export const SessionDeployment = Type.Object(
  {
    name: DnsLabel(),
    /** Default: the session's namespace. */
    namespace: Type.Optional(Type.String()),
    /** Replace untagged references to built images with the built tag (default true). */
    updateImageTags: Type.Optional(Type.Boolean()),
    kubectl: Type.Optional(KubectlDeployment),
    helm: Type.Optional(HelmDeployment),
  },
  { additionalProperties: false, 'x-kubernetes-validations': [CEL.deploymentKind] },
);
export type SessionDeployment = Static<typeof SessionDeployment>;

export const DevPodSelector = Type.Object(
  {
    /** A key of spec.images: pods running the image built from it. */
    imageName: Type.Optional(Type.String({ minLength: 1 })),
    /** A full image reference to match. */
    imageSelector: Type.Optional(Type.String({ minLength: 1 })),
    labelSelector: Type.Optional(StringMap()),
    containerName: Type.Optional(Type.String()),
    /** Default: the session's namespace. */
    namespace: Type.Optional(Type.String()),
  },
  { additionalProperties: false, 'x-kubernetes-validations': [CEL.podSelector] },
);
export type DevPodSelector = Static<typeof DevPodSelector>;

const Port = () => Type.Integer({ minimum: 1, maximum: 65535 });
export const DevPortMapping = Type.Object(
  {
    localPort: Port(),
    remotePort: Port(),
    bindAddress: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type DevPortMapping = Static<typeof DevPortMapping>;

export const EnvVar = Type.Object({ name: Type.String({ minLength: 1 }), value: Type.String() }, { additionalProperties: false });
export type EnvVar = Static<typeof EnvVar>;

/** Bounds of the sync options: generous for any project, small enough that a DevSession stays far below etcd's object size limit. */
export const SYNC_LIMITS = {
  /** Patterns per exclude list (inline patterns and exclude-file lines together). */
  excludes: 1000,
  patternLength: 1024,
  pathLength: 4096,
  commands: 32,
  args: 100,
  argLength: 4096,
  onChange: 100,
} as const;

const SyncPattern = () => Type.String({ minLength: 1, maxLength: SYNC_LIMITS.patternLength });
const ExcludeList = (description: string) => Type.Array(SyncPattern(), { maxItems: SYNC_LIMITS.excludes, description });

export const SYNC_COMMAND_WHERE = ['container', 'local'] as const;
export const SYNC_COMMAND_TRIGGER = ['batch', 'file', 'dir'] as const;
export const INITIAL_SYNC_COMPARE_BY = ['mtime', 'size'] as const;

export const SyncExec = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 253, description: 'Shown in logs instead of the command line (v2beta1 exec name).' })),
    command: Type.String({ minLength: 1, maxLength: SYNC_LIMITS.argLength, description: 'The program to run, or with shell: true a shell line.' }),
    args: Type.Optional(
      Type.Array(Type.String({ maxLength: SYNC_LIMITS.argLength }), {
        maxItems: SYNC_LIMITS.args,
        description: 'Arguments, no shell involved. With trigger: file|dir an argument "{}" is replaced by the path of the file or directory.',
      }),
    ),
    shell: Type.Optional(Type.Boolean({ description: 'Run command as a shell line (sh -c in the container); v2beta1 exec without args. Default false.' })),
    where: Type.Optional(StringEnum(SYNC_COMMAND_WHERE, { description: 'container (default): the synced container; local: the developer\'s machine, in the local sync folder.' })),
    trigger: Type.Optional(
      StringEnum(SYNC_COMMAND_TRIGGER, {
        description: 'batch (default): after each batch of changes is applied (also once after the initial sync); file: per created or changed file; dir: per created directory (v1beta execRemote onFileChange/onDirCreate, onDownload.execLocal).',
      }),
    ),
    onChange: Type.Optional(
      Type.Array(SyncPattern(), { maxItems: SYNC_LIMITS.onChange, description: 'Run only when a changed path matches one of these globs (doublestar, relative to the sync root). Default: always.' }),
    ),
    once: Type.Optional(Type.Boolean({ description: 'Run only once in the container\'s life (v2beta1 once).' })),
    failOnError: Type.Optional(Type.Boolean({ description: 'A failing command stops the sync (which then restarts) instead of being logged. Default false.' })),
  },
  { additionalProperties: false, description: 'A command run after sync changes.' },
);
export type SyncExec = Static<typeof SyncExec>;

export const SyncPath = Type.Object(
  {
    name: Type.Optional(Type.String({ maxLength: 253, description: 'v1beta10+ sync name, for logs.' })),
    /** Relative to the project folder (the agent resolves it on the developer's machine). */
    localPath: Type.String({ minLength: 1, maxLength: SYNC_LIMITS.pathLength, description: 'Local folder (or file), relative to the project folder: ./src, ., ../shared.' }),
    containerPath: Type.String({
      minLength: 1,
      maxLength: SYNC_LIMITS.pathLength,
      description: 'Folder (or file) in the container: absolute, or relative to the container\'s working directory (. = the working directory).',
    }),
    file: Type.Optional(Type.Boolean({ description: 'Sync a single file: localPath and containerPath name the file (same base name).' })),
    excludePaths: Type.Optional(ExcludeList('gitignore patterns, relative to the sync root, excluded both ways. Lines of the config\'s excludeFile are already appended.')),
    downloadExcludePaths: Type.Optional(ExcludeList('gitignore patterns never downloaded (container → local); downloadExcludeFile lines appended.')),
    uploadExcludePaths: Type.Optional(ExcludeList('gitignore patterns never uploaded (local → container); uploadExcludeFile lines appended.')),
    initialSync: Type.Optional(StringEnum(INITIAL_SYNC_STRATEGIES, { description: 'How the two sides are reconciled when the sync starts. Default mirrorLocal.' })),
    initialSyncCompareBy: Type.Optional(StringEnum(INITIAL_SYNC_COMPARE_BY, { description: 'What tells files apart in the initial sync: mtime (default: mtime and size) or size only.' })),
    waitInitialSync: Type.Optional(Type.Boolean({ description: 'Hold the terminal and logs until the initial sync is done. Default true.' })),
    disableDownload: Type.Optional(Type.Boolean({ description: 'Never copy container changes to the developer\'s machine.' })),
    disableUpload: Type.Optional(Type.Boolean({ description: 'Never copy local changes to the container.' })),
    startContainer: Type.Optional(Type.Boolean({ description: 'Start the app\'s process only after the initial sync (v2beta1 startContainer).' })),
    polling: Type.Optional(Type.Boolean({ description: 'Watch the container side by polling instead of inotify.' })),
    throttleChangeDetection: Type.Optional(Type.Integer({ minimum: 0, maximum: 60_000, description: 'With polling: milliseconds to pause after every 100 files checked (v1beta9–11).' })),
    noWatch: Type.Optional(Type.Boolean({ description: 'Stop after the initial sync.' })),
    printLogs: Type.Optional(Type.Boolean({ description: 'Print a log line per synced file.' })),
    bandwidthLimits: Type.Optional(
      Type.Object(
        {
          download: Type.Optional(Type.Integer({ minimum: 0, format: 'int64', description: 'KB/s (× 1024 bytes).' })),
          upload: Type.Optional(Type.Integer({ minimum: 0, format: 'int64', description: 'KB/s (× 1024 bytes).' })),
        },
        { additionalProperties: false, description: 'Transfer limits in KB/s.' },
      ),
    ),
    onUpload: Type.Optional(
      Type.Object(
        {
          restartContainer: Type.Optional(Type.Boolean({ description: 'Restart the app\'s process (not the pod) after changes were uploaded.' })),
          exec: Type.Optional(Type.Array(SyncExec, { maxItems: SYNC_LIMITS.commands, description: 'Run in order after uploads, before a restart.' })),
        },
        { additionalProperties: false },
      ),
    ),
    onDownload: Type.Optional(
      Type.Object(
        { exec: Type.Optional(Type.Array(SyncExec, { maxItems: SYNC_LIMITS.commands, description: 'Run locally after downloads (v1beta onDownload.execLocal).' })) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false, description: 'One two-way file sync between a local folder and a folder of the dev pod\'s container.' },
);
export type SyncPath = Static<typeof SyncPath>;

export const ReversePortMapping = Type.Object(
  {
    localPort: Port(),
    remotePort: Port(),
    bindAddress: Type.Optional(Type.String({ maxLength: 253 })),
  },
  {
    additionalProperties: false,
    description:
      'Reverse forwarding: a connection to remotePort in the pod (localhost:remotePort from the container) reaches localPort on the developer\'s machine. bindAddress: the address to listen on in the pod, an IP address (0.0.0.0 or :: for all of the pod\'s addresses); without it the pod\'s loopback only, so only the dev container\'s own processes reach the developer\'s machine. The agent connects to localhost:localPort.',
  },
);
export type ReversePortMapping = Static<typeof ReversePortMapping>;

export const DevPod = Type.Object(
  {
    name: DnsLabel(),
    selector: DevPodSelector,
    /** Dev overrides: patch the selected workload's pod template. */
    devImage: Type.Optional(Type.String()),
    command: Type.Optional(Type.Array(Type.String())),
    args: Type.Optional(Type.Array(Type.String())),
    workingDir: Type.Optional(Type.String()),
    env: Type.Optional(Type.Array(EnvVar)),
    resources: Type.Optional(ResourceSpec),
    /** What the agent connects to. */
    ports: Type.Optional(Type.Array(DevPortMapping)),
    reversePorts: Type.Optional(Type.Array(ReversePortMapping, { maxItems: MAX_LIST })),
    sync: Type.Optional(Type.Array(SyncPath, { maxItems: MAX_LIST })),
    terminal: Type.Optional(
      Type.Object(
        {
          enabled: Type.Optional(Type.Boolean()),
          command: Type.Optional(Type.Array(Type.String())),
          workDir: Type.Optional(Type.String()),
        },
        { additionalProperties: false },
      ),
    ),
    logs: Type.Optional(
      Type.Object(
        { enabled: Type.Optional(Type.Boolean()), lastLines: Type.Optional(Type.Integer({ minimum: 0 })) },
        { additionalProperties: false },
      ),
    ),
  },
  { additionalProperties: false },
);
export type DevPod = Static<typeof DevPod>;

export const DevSpec = Type.Object(
  {
    interactive: Type.Optional(Type.Boolean()),
    pods: Type.Optional(NamedList(DevPod, { maxItems: MAX_LIST })),
  },
  { additionalProperties: false },
);
export type DevSpec = Static<typeof DevSpec>;

export const SessionDependency = Type.Object(
  {
    /** Name of another DevSession. */
    name: Type.String({ minLength: 1, maxLength: 253 }),
    /** Default: this session's namespace. */
    namespace: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type SessionDependency = Static<typeof SessionDependency>;

export const DevSessionSpec = Type.Object(
  {
    /** devspace `name` / folder name. */
    project: Type.String({ minLength: 1 }),
    owner: Type.Optional(Owner),
    /** Stop reconciling, keep what exists. */
    suspend: Type.Optional(Type.Boolean()),
    /** Deleting the session leaves deployed objects in place. */
    keepDeployments: Type.Optional(Type.Boolean()),
    serviceAccountName: Type.Optional(ServiceAccountName()),
    secretVars: Type.Optional(SecretVars),
    images: Type.Optional(NamedList(SessionImage, { maxItems: MAX_LIST })),
    /** Applied in order, after all images are built. */
    deployments: Type.Optional(NamedList(SessionDeployment, { maxItems: MAX_LIST })),
    dev: Type.Optional(DevSpec),
    dependencies: Type.Optional(Type.Array(SessionDependency, { maxItems: MAX_LIST })),
  },
  { additionalProperties: false },
);
export type DevSessionSpec = Static<typeof DevSessionSpec>;

export const SessionImageStatus = Type.Object(
  {
    name: Type.String(),
    imageBuild: Type.Optional(Type.String()),
    /** Full reference that was pushed, `repo:tag`. */
    image: Type.Optional(Type.String()),
    digest: Type.Optional(Type.String()),
    phase: Type.Optional(StringEnum(BUILD_PHASES)),
  },
  { additionalProperties: false },
);
export type SessionImageStatus = Static<typeof SessionImageStatus>;

export const SessionDeploymentStatus = Type.Object(
  {
    name: Type.String(),
    ready: Type.Boolean(),
    message: Type.Optional(Type.String()),
    /** Number of objects applied for this deployment. */
    resources: Type.Optional(Type.Integer({ minimum: 0 })),
  },
  { additionalProperties: false },
);
export type SessionDeploymentStatus = Static<typeof SessionDeploymentStatus>;

export const InventoryEntry = Type.Object(
  {
    apiVersion: Type.String(),
    kind: Type.String(),
    namespace: Type.Optional(Type.String()),
    name: Type.String(),
    /** The spec.deployments[].name that produced it. */
    deployment: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type InventoryEntry = Static<typeof InventoryEntry>;

export const DevPodStatus = Type.Object(
  {
    devPod: Type.String(),
    pod: Type.String(),
    container: Type.Optional(Type.String()),
    namespace: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type DevPodStatus = Static<typeof DevPodStatus>;

export const DependencyStatus = Type.Object(
  {
    name: Type.String(),
    namespace: Type.Optional(Type.String()),
    ready: Type.Boolean(),
    message: Type.Optional(Type.String()),
  },
  { additionalProperties: false },
);
export type DependencyStatus = Static<typeof DependencyStatus>;

export const SYNC_STATES = ['connecting', 'initial', 'watching', 'error', 'stopped'] as const;

const Count = (description: string) => Type.Integer({ minimum: 0, format: 'int64', description });

/** One sync path as the agent sees it. Written only by the agent (field manager dsa-agent, /status). */
export const SyncPathStatus = Type.Object(
  {
    devPod: Type.String({ minLength: 1, maxLength: 63, description: 'spec.dev.pods[].name' }),
    pod: Type.Optional(Type.String({ maxLength: 253, description: 'The pod synced with.' })),
    localPath: Type.String({ maxLength: SYNC_LIMITS.pathLength }),
    containerPath: Type.String({ maxLength: SYNC_LIMITS.pathLength }),
    state: StringEnum(SYNC_STATES, { description: 'connecting, initial (initial sync running), watching (live two-way sync), error, stopped.' }),
    progress: Type.Optional(Type.Integer({ minimum: 0, maximum: 100, description: 'Percent of the initial sync done.' })),
    lastSyncTime: Type.Optional(Timestamp()),
    uploadedFiles: Type.Optional(Count('Files uploaded since the agent started.')),
    downloadedFiles: Type.Optional(Count('Files downloaded since the agent started.')),
    uploadedBytes: Type.Optional(Count('Bytes uploaded since the agent started.')),
    downloadedBytes: Type.Optional(Count('Bytes downloaded since the agent started.')),
    conflicts: Type.Optional(Count('Files both sides changed (conflict copies kept).')),
    lastError: Type.Optional(Type.String({ maxLength: 1024 })),
  },
  { additionalProperties: false },
);
export type SyncPathStatus = Static<typeof SyncPathStatus>;

export const DevSessionStatus = Type.Object(
  {
    observedGeneration: Type.Optional(Type.Integer({ minimum: 0, format: 'int64' })),
    phase: Type.Optional(StringEnum(SESSION_PHASES)),
    /** One line a person understands. */
    message: Type.Optional(Type.String()),
    /** `user@host`, copied from spec.owner for the printer column. */
    owner: Type.Optional(Type.String()),
    /** `built/total`, printer column. */
    imagesBuilt: Type.Optional(Type.String()),
    /** `ready/total`, printer column. */
    deploymentsReady: Type.Optional(Type.String()),
    /** Printer column; the agent reports `active`/`2 paths` via its own status patch. */
    sync: Type.Optional(Type.String()),
    /** When the agent last reported (heartbeat for `sync`). */
    agentHeartbeatTime: Type.Optional(Timestamp()),
    /** Each sync path's state; the agent's, like `sync` and `agentHeartbeatTime`. */
    syncPaths: Type.Optional(Type.Array(SyncPathStatus, { maxItems: MAX_LIST, description: 'Per sync path state, written by the developer\'s agent (field manager dsa-agent).' })),
    images: Type.Optional(NamedList(SessionImageStatus)),
    deployments: Type.Optional(NamedList(SessionDeploymentStatus)),
    /** Everything applied, for pruning. */
    inventory: Type.Optional(Type.Array(InventoryEntry)),
    /** What the agent should talk to. */
    pods: Type.Optional(Type.Array(DevPodStatus)),
    dependencies: Type.Optional(Type.Array(DependencyStatus)),
    conditions: Type.Optional(Conditions()),
  },
  { additionalProperties: false },
);
export type DevSessionStatus = Static<typeof DevSessionStatus>;

export const DevSession = Type.Object(
  {
    apiVersion: Type.Literal(API_VERSION),
    kind: Type.Literal(DEVSESSION.kind),
    metadata: ObjectMeta,
    spec: DevSessionSpec,
    status: Type.Optional(DevSessionStatus),
  },
  { additionalProperties: false },
);
export type DevSession = Static<typeof DevSession>;
/** Alias that reads better where the value (not the type) is meant. */
export const DevSessionSchema = DevSession;

// DevSpace v1beta2 … v1beta11 (DevSpace 3.5 – 5.18) as one schema with per-field version ranges
// (`since`/`until` = N of v1betaN). Source: devspace-reference.md §1 (schema.go at v3.5.18, v4.0.0,
// v4.14.0 and the per-version diffs). Field markers: a = acted on, w = parsed but warned, x = refused.
import { a, S, w, x, type Field, type Schema } from './schema.js';

const KANIKO_ONLY = 'dsa builds this in-cluster with kaniko';
const DOCKER_API = 'dsa builds through the Docker API (classic builder)';
const CHART_CREDENTIALS = 'chart repository credentials are not passed; the operator pulls the chart anonymously';
const SERVER_SIDE_APPLY = 'the operator applies with server-side apply';
const POD_PATCHES = 'pod patches are not applied';
const CUSTOM_COMMANDS = 'custom commands are not run (dsa has no run command)';

const buildOptions = S.obj({
  target: a(S.str()),
  network: a(S.str()),
  buildArgs: a(S.map(S.union(S.str(), S.any()))),
});
const kanikoBuildOptions = S.obj({
  target: a(S.str()),
  network: w(S.str(), 'the build network is not configurable for in-cluster builds'),
  buildArgs: a(S.map(S.union(S.str(), S.any()))),
});

const resources = S.obj({ requests: a(S.strMap()), limits: a(S.strMap()) });


const image = S.obj({
  image: a(S.str(), { required: true }),
  tag: a(S.str(), { until: 6 }),
  tags: a(S.strList(), { since: 7 }),
  dockerfile: a(S.str()),
  context: a(S.str()),
  createPullSecret: w(S.bool(), 'pull secrets are not created; registry credentials come from the cluster'),
  entrypoint: a(S.strList(), { since: 3 }),
  cmd: a(S.strList(), { since: 3 }),
  appendDockerfileInstructions: w(S.strList(), 'not supported: the Dockerfile is built as written', { since: 9 }),
  injectRestartHelper: w(S.bool(), 'dsa does not wrap the entrypoint with a restart helper; use sync onUpload.restartContainer with a dev command', { since: 9 }),
  restartHelperPath: w(S.str(), 'no restart helper is injected', { since: 10 }),
  preferSyncOverRebuild: w(S.bool(), 'dsa rebuilds when the build context changes', { since: 9 }),
  rebuildStrategy: w(S.en('default', 'always', 'ignoreContextChanges'), 'dsa rebuilds when the content-addressed tag changes', { since: 10 }),
  tagsAppendRandom: w(S.bool(), 'dsa derives a content-addressed tag', { since: 9 }),
  build: a(
    S.obj({
      disabled: a(S.bool()),
      docker: a(
        S.obj({
          preferMinikube: a(S.bool(), { note: 'minikube\'s daemon when the kube context is minikube' }),
          skipPush: a(S.bool()),
          disableFallback: a(S.bool()),
          useBuildKit: w(S.bool(), DOCKER_API, { since: 4 }),
          useCli: w(S.bool(), DOCKER_API, { since: 9 }),
          args: w(S.strList(), `docker CLI arguments are not used: ${DOCKER_API}`, { since: 6 }),
          options: a(buildOptions),
        }),
        { note: 'built by the agent with the local Docker daemon; kaniko when none answers' },
      ),
      kaniko: a(
        S.obj({
          cache: a(S.bool()),
          snapshotMode: a(S.str()),
          flags: a(S.strList(), { until: 7, note: 'becomes kaniko args' }),
          args: a(S.strList(), { since: 8 }),
          image: a(S.str(), { since: 8 }),
          namespace: a(S.str()),
          insecure: a(S.bool()),
          pullSecret: a(S.str()),
          additionalMounts: w(S.list(S.any()), 'extra mounts in the build pod are not supported yet', { since: 8 }),
          resources: a(resources, { since: 9 }),
          initImage: w(S.str(), 'the build pod has no init image', { since: 9 }),
          serviceAccount: w(S.str(), 'the build pod uses the operator-managed service account', { since: 9 }),
          nodeSelector: w(S.strMap(), 'build pod scheduling is not configurable yet', { since: 9 }),
          annotations: w(S.strMap(), 'build pod metadata is not configurable yet', { since: 9 }),
          labels: w(S.strMap(), 'build pod metadata is not configurable yet', { since: 9 }),
          env: w(S.strMap(), 'build pod env is not configurable yet', { since: 9 }),
          options: a(kanikoBuildOptions),
        }),
      ),
      buildKit: w(S.any(), `${KANIKO_ONLY}; buildKit options are ignored (buildArgs/target are used)`, { since: 9 }),
      custom: a(
        S.obj({
          command: a(S.str()),
          flags: a(S.strList(), { until: 5, note: 'becomes args' }),
          args: a(S.strList(), { since: 6 }),
          appendArgs: a(S.strList(), { since: 7 }),
          imageFlag: a(S.str()),
          imageTagOnly: a(S.bool(), { since: 9 }),
          skipImageArg: a(S.bool(), { since: 9 }),
          onChange: a(S.strList()),
        }),
        { note: 'run by the agent with the image and tag; no Dockerfile needed' },
      ),
    }),
  ),
});

const componentContainer = S.obj({
  name: a(S.str()),
  image: a(S.str()),
  command: a(S.strList()),
  args: a(S.strList()),
  stdin: a(S.bool(), { since: 3 }),
  tty: a(S.bool(), { since: 3 }),
  env: a(S.list(S.any())),
  volumeMounts: a(S.list(S.obj({ containerPath: a(S.str()), volume: a(S.obj({ name: a(S.str()), subPath: a(S.str()), readOnly: a(S.bool()) })) }))),
  resources: a(S.any()),
  livenessProbe: a(S.any()),
  readinessProbe: a(S.any()),
});

const component = S.obj({
  containers: a(S.list(componentContainer)),
  initContainers: a(S.list(componentContainer), { since: 3 }),
  replicas: a(S.int(0)),
  autoScaling: w(S.any(), 'no HorizontalPodAutoscaler is created'),
  rollingUpdate: a(S.any()),
  labels: a(S.strMap()),
  annotations: a(S.strMap()),
  volumes: a(S.list(S.any())),
  service: a(
    S.obj({
      name: a(S.str()),
      type: a(S.str()),
      ports: a(S.list(S.obj({ port: a(S.int(1, 65535)), containerPort: a(S.int(1, 65535)), protocol: a(S.str()) }))),
      externalIPs: a(S.strList()),
      labels: a(S.strMap()),
      annotations: a(S.strMap()),
    }),
  ),
  serviceName: a(S.str()),
  ingress: a(S.any()),
  podManagementPolicy: a(S.str()),
  pullSecrets: a(S.strList()),
  options: a(
    S.obj({
      wait: a(S.bool()),
      rollback: w(S.bool(), 'no rollback on failure (helm atomic is not used)'),
      force: w(S.bool(), 'helm --force is not used'),
      timeout: w(S.int(0), 'not used: the component chart is rendered without a helm timeout'),
      tillerNamespace: w(S.str(), 'Helm 2/Tiller is not supported; dsa uses Helm 3'),
      replaceImageTags: a(S.bool(), { since: 3 }),
    }),
  ),
});

const helm = S.obj({
  chart: a(
    S.obj({
      name: a(S.str(), { required: true }),
      version: a(S.str()),
      repo: a(S.str()),
      username: w(S.str(), CHART_CREDENTIALS),
      password: w(S.str(), CHART_CREDENTIALS),
    }),
  ),
  componentChart: a(S.bool(), { since: 4 }),
  values: a(S.map(S.any())),
  valuesFiles: a(S.strList()),
  wait: a(S.bool(), { note: 'true: later deployments wait until its objects are ready; false: ready once applied' }),
  timeout: a(S.int(0), { note: 'bounds the operator\'s `helm template` run (objects are applied, not installed by helm)' }),
  rollback: w(S.bool(), 'no rollback on failure (helm atomic is not used)', { until: 4 }),
  atomic: w(S.bool(), 'no rollback on failure', { since: 5 }),
  force: w(S.bool(), 'helm --force is not used'),
  cleanupOnFail: w(S.bool(), 'not passed to helm', { since: 5 }),
  recreate: w(S.bool(), 'not passed to helm', { since: 5 }),
  disableHooks: w(S.bool(), 'not passed to helm', { since: 5 }),
  tillerNamespace: w(S.str(), 'Helm 2/Tiller is not supported; dsa uses Helm 3'),
  devSpaceValues: w(S.bool(), 'DevSpace-specific values injection is not done', { until: 2 }),
  replaceImageTags: a(S.bool(), { since: 3 }),
  v2: w(S.bool(), 'Helm 2/Tiller is not supported; dsa uses Helm 3', { since: 5 }),
  driver: w(S.str(), 'dsa uses the default Helm storage driver', { since: 5 }),
  path: w(S.str(), 'dsa does not run a local helm binary', { since: 6 }),
  upgradeArgs: w(S.strList(), 'not used', { since: 9 }),
  templateArgs: w(S.strList(), 'not used', { since: 9 }),
  fetchArgs: w(S.strList(), 'not used', { since: 9 }),
  deleteArgs: w(S.strList(), 'not used', { since: 9 }),
  output: w(S.bool(), 'not used', { since: 9 }),
});

const kubectl = S.obj({
  manifests: a(S.strList(), { required: true }),
  kustomize: a(S.bool()),
  flags: w(S.strList(), SERVER_SIDE_APPLY, { until: 7 }),
  applyArgs: w(S.strList(), SERVER_SIDE_APPLY, { since: 8 }),
  kustomizeArgs: a(S.strList(), { since: 8 }),
  createArgs: w(S.strList(), 'dsa applies server-side', { since: 7 }),
  deleteArgs: w(S.strList(), 'not used', { since: 7 }),
  cmdPath: w(S.str(), 'dsa does not run a local kubectl'),
  replaceImageTags: a(S.bool(), { since: 3 }),
});

const deployment = S.obj({
  name: a(S.str(), { required: true }),
  namespace: a(S.str()),
  component: a(component, { until: 3, note: 'becomes helm with the component chart' }),
  helm: a(helm),
  kubectl: a(kubectl),
  concurrent: w(S.bool(), 'dsa applies deployments in order', { since: 10 }),
});

// v1beta10 still has imageName beside imageSelector on ports and sync (its upgrade turns it into
// `image(name):tag(name)`, the pods of that image).
const selectorFields = (sinceImage = 3): Record<string, Field> => ({
  selector: a(S.str(), { until: 2, note: 'name of a dev.selectors entry' }),
  imageName: a(S.str(), { since: sinceImage, until: 10 }),
  imageSelector: a(S.str(), { since: 10 }),
  labelSelector: a(S.strMap()),
  namespace: a(S.str()),
});

const portFwd = S.obj({ port: a(S.int(1, 65535), { required: true }), remotePort: a(S.int(1, 65535)), bindAddress: a(S.str()) });

const ARCH_NOTE = 'the sidecar image runs on the node\'s architecture';

const ports = S.obj({
  ...selectorFields(),
  containerName: a(S.str(), { since: 9 }),
  arch: w(S.en('amd64', 'arm64'), ARCH_NOTE, { since: 9 }),
  forward: a(S.list(portFwd)),
  reverseForward: a(S.list(portFwd), { since: 9 }),
});

const syncExec = S.obj({ command: a(S.str()), args: a(S.strList()) });

// onUpload.execRemote (v1beta6+) and onDownload.execLocal: command/args run per file and per created
// directory unless onFileChange/onDirCreate are given; onBatch (v1beta9+) after each batch.
const execCommands = S.obj({
  command: a(S.str(), { note: 'run per changed file and created directory (`{}` is its path)' }),
  args: a(S.strList()),
  onFileChange: a(syncExec),
  onDirCreate: a(syncExec),
  onBatch: a(syncExec, { since: 9 }),
});

// v1beta11 onUpload.exec: v2beta1's shape without `once`.
const uploadExec = S.obj({
  name: a(S.str()),
  command: a(S.str(), { required: true }),
  args: a(S.strList()),
  failOnError: a(S.bool()),
  local: a(S.bool()),
  onChange: a(S.strList()),
});

const sync = S.obj({
  ...selectorFields(),
  name: w(S.str(), 'sync names only label DevSpace\'s logs and hooks; kept in the DevSession', { since: 10 }),
  containerName: a(S.str()),
  arch: w(S.en('amd64', 'arm64'), ARCH_NOTE, { since: 9 }),
  localSubPath: a(S.str()),
  containerPath: a(S.str()),
  excludePaths: a(S.strList()),
  downloadExcludePaths: a(S.strList()),
  uploadExcludePaths: a(S.strList()),
  excludeFile: a(S.str(), { since: 10, note: 'its lines are added to excludePaths' }),
  downloadExcludeFile: a(S.str(), { since: 10 }),
  uploadExcludeFile: a(S.str(), { since: 10 }),
  waitInitialSync: a(S.bool()),
  bandwidthLimits: a(S.obj({ download: a(S.int(0)), upload: a(S.int(0)) })),
  downloadOnInitialSync: a(S.bool(), { note: 'true becomes initialSync: preferLocal (DevSpace\'s v1beta6 upgrade)', since: 3, until: 6 }),
  initialSync: a(S.en('mirrorLocal', 'mirrorRemote', 'preferLocal', 'preferRemote', 'preferNewest', 'keepAll'), { since: 7 }),
  initialSyncCompareBy: a(S.en('mtime', 'size'), { since: 9 }),
  disableDownload: a(S.bool(), { since: 6 }),
  disableUpload: a(S.bool(), { since: 6 }),
  polling: a(S.bool(), { since: 10 }),
  throttleChangeDetection: a(S.int(0, 60_000), { since: 9 }),
  onUpload: a(
    S.obj({
      restartContainer: a(S.bool(), { since: 9 }),
      exec: a(S.list(uploadExec), { since: 11 }),
      execRemote: a(execCommands),
    }),
    { since: 6 },
  ),
  onDownload: a(S.obj({ execLocal: a(execCommands) }), { since: 6 }),
});

// v1beta2 had a top-level dev.terminal; v1beta3 moved it into dev.interactive; v1beta10 brought
// it back at the top level with imageSelector/workDir.
const terminal = S.obj({
  disabled: a(S.bool()),
  selector: a(S.str(), { until: 2 }),
  imageSelector: a(S.str(), { since: 10 }),
  labelSelector: a(S.strMap()),
  namespace: a(S.str()),
  containerName: a(S.str()),
  command: a(S.strList()),
  workDir: a(S.str(), { since: 10 }),
});

const dev = S.obj({
  selectors: a(S.list(S.obj({ name: a(S.str(), { required: true }), labelSelector: a(S.strMap()), namespace: a(S.str()), containerName: a(S.str()) })), { until: 2 }),
  overrideImages: a(
    S.list(
      S.obj({
        name: a(S.str(), { required: true }),
        entrypoint: a(S.strList()),
        dockerfile: w(S.str(), 'a separate dev Dockerfile is not supported; use a profile'),
        context: w(S.str(), 'a separate dev build context is not supported; use a profile'),
      }),
    ),
    { until: 2, note: 'entrypoint becomes the dev command of pods running that image' },
  ),
  terminal: a(terminal, { ranges: [[2, 2], [10, 11]] }),
  ports: a(S.list(ports)),
  sync: a(S.list(sync)),
  autoReload: a(S.obj({ paths: a(S.strList()), deployments: a(S.strList()), images: a(S.strList()) })),
  interactive: a(
    S.obj({
      defaultEnabled: a(S.bool()),
      images: a(S.list(S.obj({ name: a(S.str(), { required: true }), entrypoint: a(S.strList()), cmd: a(S.strList()) }))),
      terminal: a(
        S.obj({
          imageName: a(S.str()),
          labelSelector: a(S.strMap()),
          containerName: a(S.str()),
          namespace: a(S.str()),
          command: a(S.strList()),
        }),
      ),
    }),
    { since: 3, until: 9 },
  ),
  open: w(S.list(S.obj({ url: a(S.str(), { required: true }) })), 'URLs are not opened', { since: 3 }),
  logs: a(
    S.obj({
      disabled: a(S.bool(), { note: 'no log streams for the dev pods' }),
      showLast: a(S.int(0), { note: 'lines of backlog per dev pod stream' }),
      images: a(S.strList(), { note: 'only dev pods selected by these images stream logs (dsa streams dev pods, not every deployed image)' }),
      sync: a(S.bool(), { since: 9 }),
      selectors: w(S.list(S.any()), 'logs follow the dev pods and images', { since: 10 }),
    }),
    { since: 3 },
  ),
  replacePods: a(
    S.list(
      S.obj({
        imageSelector: a(S.str()),
        labelSelector: a(S.strMap()),
        containerName: a(S.str()),
        namespace: a(S.str()),
        replaceImage: a(S.str(), { note: 'becomes devImage' }),
        patches: w(S.list(S.obj({ op: a(S.str(), { required: true }), path: a(S.str(), { required: true }), value: a(S.any()) })), POD_PATCHES),
        persistPaths: w(S.list(S.any()), 'persistent dev volumes are not supported yet', { since: 11 }),
      }),
    ),
    { since: 10 },
  ),
});
const dependency = S.obj({
  name: a(S.str(), { since: 6 }),
  source: a(
    S.obj({
      git: a(S.str()),
      path: a(S.str()),
      subPath: a(S.str()),
      branch: a(S.str()),
      tag: a(S.str()),
      revision: a(S.str()),
      cloneArgs: a(S.strList(), { since: 8 }),
      disableShallow: a(S.bool(), { since: 8 }),
    }),
    { required: true },
  ),
  config: a(S.str(), { until: 2, note: 'treated as a profile name' }),
  profile: a(S.str(), { since: 3 }),
  skipBuild: a(S.bool()),
  ignoreDependencies: a(S.bool()),
  namespace: a(S.str()),
  vars: a(S.list(S.obj({ name: a(S.str(), { required: true }), value: a(S.str()) })), { since: 9 }),
  dev: w(S.any(), 'dependencies are built and deployed only', { since: 9 }),
});

const variable = S.obj({
  name: a(S.str(), { required: true }),
  question: a(S.str()),
  options: a(S.strList()),
  default: a(S.str()),
  source: a(S.en('all', 'env', 'input', 'none')),
  validationPattern: a(S.str()),
  validationMessage: a(S.str()),
  password: a(S.bool(), { since: 3 }),
  noCache: a(S.bool(), { since: 9, note: 'dsa never caches answers' }),
});

const hookTarget = S.obj({ images: a(S.str()), deployments: a(S.str()) });
const hookContainerFields = (): Record<string, Field> => ({
  labelSelector: a(S.strMap()),
  pod: a(S.str()),
  namespace: a(S.str()),
  imageSelector: a(S.str()),
  containerName: a(S.str()),
  wait: a(S.bool()),
  timeout: a(S.int(0)),
});
// v1beta9–10 `where.container` has imageName; v1beta11 `container` dropped it and added once.
const whereContainer = S.obj({ ...hookContainerFields(), imageName: a(S.str()) });
const hookContainer = S.obj({ ...hookContainerFields(), once: a(S.bool()) });
const hook = S.obj({
  name: a(S.str(), { since: 11 }),
  disabled: a(S.bool(), { since: 11 }),
  command: a(S.str(), { required: true }),
  args: a(S.strList(), { note: 'without args the command is a shell line' }),
  when: a(S.obj({ before: a(hookTarget), after: a(hookTarget) })),
  events: a(S.strList(), { since: 11 }),
  os: a(S.str(), { since: 9 }),
  where: a(S.obj({ container: a(whereContainer) }), { since: 9, until: 10, note: 'the command runs in the container (exec)' }),
  container: a(hookContainer, { since: 11, note: 'the command runs in the container (exec)' }),
  wait: w(S.any(), 'wait hooks are not run; the command runs', { since: 9 }),
  logs: w(S.any(), 'log hooks are not run; the command runs', { since: 9 }),
  background: a(S.bool(), { since: 9 }),
  silent: a(S.bool(), { since: 9 }),
  upload: w(S.any(), 'upload hooks are not run', { since: 10 }),
  download: w(S.any(), 'download hooks are not run', { since: 10 }),
});

const sections = (): Record<string, Field> => ({
  images: a(S.map(image)),
  deployments: a(S.list(deployment)),
  dev: a(dev),
  dependencies: a(S.list(dependency)),
  hooks: a(S.list(hook)),
});

const profile = S.obj({
  name: a(S.str(), { required: true }),
  parent: a(S.str(), { since: 7 }),
  parents: a(S.list(S.obj({ profile: a(S.str(), { required: true }) })), { since: 10 }),
  description: a(S.str(), { since: 9 }),
  patches: a(S.list(S.obj({ op: a(S.en('add', 'remove', 'replace'), { required: true }), path: a(S.str(), { required: true }), value: a(S.any()), from: w(S.str(), 'copy/move patches are not supported') }))),
  replace: a(S.obj({ ...sections(), commands: a(S.list(S.any()), { since: 9 }), vars: a(S.list(S.any()), { since: 9 }) })),
  merge: a(S.map(S.any()), { since: 9 }),
  strategicMerge: x(S.map(S.any()), 'strategic merge profiles are not supported (DevSpace 6 dropped them too); use merge or patches', { since: 9 }),
  activation: a(S.list(S.obj({ env: a(S.strMap()), vars: a(S.strMap()) })), { since: 10 }),
});

export const V1BETA_SCHEMA: Schema = S.obj({
  version: a(S.str(), { required: true }),
  ...sections(),
  cluster: a(
    S.obj({
      kubeContext: a(S.str()),
      namespace: a(S.str()),
      apiServer: w(S.str(), 'dsa uses your kubeconfig'),
      caCert: w(S.str(), 'dsa uses your kubeconfig'),
      user: w(S.any(), 'dsa uses your kubeconfig'),
    }),
    { until: 2 },
  ),
  commands: w(S.list(S.obj({ name: a(S.str(), { required: true }), command: a(S.str(), { required: true }), description: a(S.str(), { since: 9 }) })), CUSTOM_COMMANDS, { since: 3 }),
  vars: a(S.list(variable), { since: 3 }),
  profiles: a(S.list(profile), { since: 3 }),
  pullSecrets: w(S.list(S.any()), 'registry credentials come from the cluster', { since: 9 }),
  require: w(S.any(), 'version requirements are not checked', { since: 10 }),
});

export const V1BETA_MIN = 2;
export const V1BETA_MAX = 11;

// DevSpace 6 (`version: v2beta1`). Source: devspace-reference.md §2 (latest/schema.go@v6.3.21).
// Field markers: a = acted on, w = parsed but warned, x = refused.
import { checkPortSpec } from './ports.js';
import { a, S, w, x, type Schema } from './schema.js';

const KANIKO_ONLY = 'dsa builds this in-cluster with kaniko';
const DOCKER_API = 'dsa builds through the Docker API (classic builder)';
const CHART_CREDENTIALS = 'chart repository credentials are not passed; the operator pulls the chart anonymously';

const resources = S.obj({ requests: a(S.strMap()), limits: a(S.strMap()) });

const image = S.obj({
  image: a(S.str(), { required: true }),
  tags: a(S.strList()),
  dockerfile: a(S.str()),
  context: a(S.str()),
  entrypoint: a(S.strList()),
  cmd: a(S.strList()),
  appendDockerfileInstructions: w(S.strList(), 'not supported: the Dockerfile is built as written'),
  buildArgs: a(S.map(S.union(S.str(), S.any()))),
  target: a(S.str()),
  network: a(S.str()),
  rebuildStrategy: w(S.en('default', 'always', 'ignoreContextChanges'), 'dsa rebuilds when the content-addressed tag changes'),
  skipPush: a(S.bool()),
  createPullSecret: w(S.bool(), 'pull secrets are not created; registry credentials come from the cluster'),
  injectRestartHelper: w(S.bool(), 'dsa does not inject a restart helper into images'),
  injectLegacyRestartHelper: w(S.bool(), 'dsa does not inject a restart helper into images'),
  restartHelperPath: w(S.str(), 'dsa does not inject a restart helper into images'),
  buildArgsFile: w(S.str(), 'build args files are not read yet'),
  docker: a(
    S.obj({
      disableFallback: a(S.bool()),
      preferMinikube: a(S.bool(), { note: 'minikube\'s daemon when the kube context is minikube' }),
      useCli: w(S.bool(), DOCKER_API),
      args: w(S.strList(), `docker CLI arguments are not used: ${DOCKER_API}`),
      useBuildKit: w(S.bool(), DOCKER_API),
    }),
    { note: 'built by the agent with the local Docker daemon; kaniko when none answers' },
  ),
  buildKit: w(S.map(S.any()), `${KANIKO_ONLY}; buildKit options are ignored`),
  kaniko: a(
    S.obj({
      cache: a(S.bool()),
      snapshotMode: a(S.str()),
      image: a(S.str()),
      initImage: w(S.str(), 'the build pod has no init image'),
      args: a(S.strList()),
      command: w(S.strList(), 'the kaniko executor command is fixed'),
      namespace: a(S.str()),
      insecure: a(S.bool()),
      pullSecret: a(S.str()),
      skipPullSecretMount: w(S.bool(), 'pull secrets are always mounted'),
      nodeSelector: w(S.strMap(), 'build pod scheduling is not configurable yet'),
      tolerations: w(S.list(S.any()), 'build pod scheduling is not configurable yet'),
      serviceAccount: w(S.str(), 'the build pod uses the operator-managed service account'),
      generateName: w(S.str(), 'build pods are named by the operator'),
      annotations: w(S.strMap(), 'build pod metadata is not configurable yet'),
      labels: w(S.strMap(), 'build pod metadata is not configurable yet'),
      initEnv: w(S.strMap(), 'the build pod has no init container'),
      env: w(S.strMap(), 'build pod env is not configurable yet'),
      envFrom: w(S.map(S.any()), 'build pod env is not configurable yet'),
      additionalMounts: w(S.list(S.any()), 'extra mounts in the build pod are not supported yet'),
      resources: a(resources),
    }),
  ),
  custom: a(
    S.obj({
      command: a(S.str(), { note: 'a multi-line script runs in sh when no argument results' }),
      onChange: a(S.strList()),
      commands: a(S.list(S.obj({ command: a(S.str(), { required: true }), os: a(S.str()) }))),
      args: a(S.strList()),
      appendArgs: a(S.strList()),
      imageFlag: a(S.str()),
      imageTagOnly: a(S.bool()),
      skipImageArg: a(S.bool(), { note: 'the image argument is added only when false is written (DevSpace 6)' }),
    }),
    { note: 'run by the agent with the image and tag; no Dockerfile needed' },
  ),
});

const chart = S.obj({
  name: a(S.str()),
  version: a(S.str()),
  repo: a(S.str()),
  username: w(S.str(), CHART_CREDENTIALS),
  password: w(S.str(), CHART_CREDENTIALS),
  path: a(S.str()),
  git: a(S.str()),
  branch: a(S.str()),
  tag: a(S.str()),
  revision: a(S.str()),
  subPath: a(S.str()),
  cloneArgs: w(S.strList(), 'the operator fetches git charts itself'),
  disableShallow: w(S.bool(), 'the operator fetches git charts itself'),
});

const deployment = S.obj({
  helm: a(
    S.obj({
      releaseName: a(S.str()),
      chart: a(chart),
      values: a(S.map(S.any())),
      valuesFiles: a(S.strList()),
      displayOutput: w(S.bool(), 'helm output is not shown'),
      upgradeArgs: w(S.strList(), 'not used'),
      templateArgs: w(S.strList(), 'not used'),
      disableDependencyUpdate: w(S.bool(), 'not used'),
    }),
  ),
  kubectl: a(
    S.obj({
      manifests: a(S.strList()),
      applyArgs: w(S.strList(), 'the operator applies with server-side apply'),
      createArgs: w(S.strList(), 'dsa applies server-side'),
      kubectlBinaryPath: w(S.str(), 'dsa does not run a local kubectl'),
      inlineManifest: a(S.str()),
      kustomize: a(S.bool()),
      kustomizeArgs: a(S.strList()),
      kustomizeBinaryPath: a(S.str()),
      patches: w(S.list(S.any()), 'kubectl patches are not applied yet'),
    }),
  ),
  updateImageTags: a(S.bool()),
  namespace: a(S.str()),
});

const syncExec = S.obj({
  name: a(S.str()),
  command: a(S.str(), { required: true }),
  args: a(S.strList()),
  failOnError: a(S.bool()),
  local: a(S.bool()),
  once: a(S.bool()),
  onChange: a(S.strList()),
});

const sync = S.obj({
  path: a(S.str()),
  file: a(S.bool()),
  excludePaths: a(S.strList()),
  excludeFile: a(S.str(), { note: 'its lines are added to excludePaths' }),
  downloadExcludePaths: a(S.strList()),
  downloadExcludeFile: a(S.str()),
  uploadExcludePaths: a(S.strList()),
  uploadExcludeFile: a(S.str()),
  startContainer: a(S.bool()),
  onUpload: a(
    S.obj({
      restartContainer: a(S.bool()),
      exec: a(S.list(syncExec)),
      execRemote: a(
        S.obj({
          command: a(S.str(), { note: 'run per changed file and created directory (`{}` is its path)' }),
          args: a(S.strList()),
          onFileChange: a(S.obj({ command: a(S.str()), args: a(S.strList()) })),
          onDirCreate: a(S.obj({ command: a(S.str()), args: a(S.strList()) })),
          onBatch: a(S.obj({ command: a(S.str()), args: a(S.strList()) })),
        }),
        { note: 'deprecated in DevSpace 6; prefer onUpload.exec' },
      ),
    }),
  ),
  initialSync: a(S.en('mirrorLocal', 'mirrorRemote', 'preferLocal', 'preferRemote', 'preferNewest', 'keepAll', 'disabled')),
  waitInitialSync: a(S.bool()),
  initialSyncCompareBy: a(S.en('mtime', 'size')),
  disableDownload: a(S.bool()),
  disableUpload: a(S.bool()),
  bandwidthLimits: a(S.obj({ download: a(S.int(0)), upload: a(S.int(0)) })),
  polling: a(S.bool()),
  noWatch: a(S.bool()),
  printLogs: a(S.bool()),
});

const portStr = S.str(checkPortSpec);

const container = {
  container: a(S.str()),
  arch: w(S.en('amd64', 'arm64'), 'the container architecture is not checked'),
  devImage: a(S.str()),
  command: a(S.strList()),
  args: a(S.strList()),
  workingDir: a(S.str()),
  env: a(S.list(S.obj({ name: a(S.str(), { required: true }), value: a(S.str()) }))),
  resources: a(resources),
  reversePorts: a(S.list(S.obj({ port: a(portStr, { required: true }), bindAddress: a(S.str()) }))),
  sync: a(S.list(sync)),
  persistPaths: w(S.list(S.any()), 'persistent dev volumes are not supported yet'),
  terminal: a(
    S.obj({
      command: a(S.str()),
      workDir: a(S.str()),
      enabled: a(S.bool()),
      disableReplace: w(S.bool(), 'the terminal always runs in the dev container'),
      disableScreen: w(S.bool(), 'no screen session is used'),
      disableTTY: w(S.bool(), 'the terminal always has a TTY'),
    }),
  ),
  logs: a(S.obj({ enabled: a(S.bool()), lastLines: a(S.int(0)) })),
  attach: w(S.any(), 'attach is not supported yet; use terminal'),
  ssh: w(S.any(), 'the in-container SSH server is not supported yet'),
  proxyCommands: w(S.list(S.any()), 'proxy commands are not supported yet'),
  restartHelper: w(S.any(), 'dsa does not inject a restart helper'),
};

const devPod = S.obj({
  imageSelector: a(S.str()),
  labelSelector: a(S.strMap()),
  namespace: a(S.str()),
  ports: a(S.list(S.obj({ port: a(portStr, { required: true }), bindAddress: a(S.str()) }))),
  open: w(S.list(S.obj({ url: a(S.str(), { required: true }) })), 'URLs are not opened'),
  patches: w(S.list(S.obj({ op: a(S.str(), { required: true }), path: a(S.str(), { required: true }), value: a(S.any()) })), 'pod patches are not applied'),
  persistenceOptions: w(S.any(), 'persistent dev volumes are not supported yet'),
  containers: a(S.map(S.obj(container))),
  ...container,
});

const variable = S.union(
  S.str(),
  S.obj({
    value: a(S.union(S.str(), S.any())),
    question: a(S.str()),
    default: a(S.union(S.str(), S.any())),
    options: a(S.strList()),
    password: a(S.bool()),
    validationPattern: a(S.str()),
    validationMessage: a(S.str()),
    noCache: a(S.bool(), { note: 'dsa never caches answers' }),
    alwaysResolve: w(S.bool(), 'dsa resolves variables only where they are used'),
    source: a(S.en('all', 'env', 'input', 'command', 'none')),
    command: x(S.str(), 'variables from commands are not supported; pass --var NAME=value'),
    args: x(S.strList(), 'variables from commands are not supported; pass --var NAME=value'),
    commands: x(S.list(S.any()), 'variables from commands are not supported; pass --var NAME=value'),
  }),
);

const dependency = S.obj({
  path: a(S.str()),
  git: a(S.str()),
  subPath: a(S.str()),
  branch: a(S.str()),
  tag: a(S.str()),
  revision: a(S.str()),
  cloneArgs: a(S.strList()),
  disableShallow: a(S.bool()),
  disablePull: a(S.bool()),
  pipeline: w(S.str(), 'dependencies are built and deployed only (the deploy pipeline)'),
  vars: a(S.map(S.str())),
  overwriteVars: w(S.bool(), 'dependency variables always come from vars'),
  ignoreDependencies: a(S.bool()),
  namespace: a(S.str()),
  disabled: a(S.bool()),
  profiles: a(S.strList()),
  disableProfileActivation: w(S.bool(), 'profile activation always runs in dependencies'),
});

const hook = S.obj({
  name: a(S.str()),
  disabled: a(S.bool()),
  events: a(S.strList(), { required: true }),
  command: a(S.str()),
  args: a(S.strList()),
  os: a(S.str()),
  upload: w(S.any(), 'upload hooks are not run'),
  download: w(S.any(), 'download hooks are not run'),
  logs: w(S.any(), 'log hooks are not run; the command runs'),
  wait: w(S.any(), 'wait hooks are not run; the command runs'),
  background: a(S.bool()),
  silent: a(S.bool()),
  container: a(
    S.obj({
      labelSelector: a(S.strMap()),
      pod: a(S.str()),
      namespace: a(S.str()),
      imageSelector: a(S.str()),
      containerName: a(S.str()),
      wait: a(S.bool()),
      timeout: a(S.int(0)),
      once: a(S.bool()),
    }),
    { note: 'the command runs in the container (exec)' },
  ),
});

const command = S.union(
  S.str(),
  S.obj({
    command: a(S.str(), { required: true }),
    args: w(S.strList(), 'command args are not passed yet'),
    appendArgs: w(S.bool(), 'command args are not passed yet'),
    description: a(S.str()),
    section: w(S.str(), 'not used'),
    internal: w(S.bool(), 'not used'),
    after: w(S.str(), 'not used'),
  }),
);

const sections = {
  images: a(S.map(image)),
  deployments: a(S.map(deployment)),
  dev: a(S.map(devPod)),
  dependencies: a(S.map(dependency)),
  hooks: a(S.list(hook)),
  commands: w(S.map(command), 'custom commands are not run (dsa has no run command)'),
  vars: a(S.map(variable)),
  pipelines: w(S.map(S.any()), 'dsa runs the default build/deploy/dev flow; custom pipelines are not run'),
  functions: w(S.map(S.any()), 'functions are only used by pipelines, which dsa does not run'),
  pullSecrets: w(S.map(S.any()), 'registry credentials come from the cluster'),
  localRegistry: w(S.any(), 'dsa pushes to the registry of the image name'),
};

const profile = S.obj({
  name: a(S.str(), { required: true }),
  description: a(S.str()),
  parent: a(S.str()),
  parents: x(S.list(S.any()), 'profiles from other sources are not supported; use parent'),
  patches: a(S.list(S.obj({ op: a(S.en('add', 'remove', 'replace'), { required: true }), path: a(S.str(), { required: true }), value: a(S.any()) }))),
  replace: a(S.obj({ ...sections })),
  merge: a(S.obj({ ...sections })),
  activation: a(S.list(S.obj({ env: a(S.strMap()), vars: a(S.strMap()) }))),
});

export const V2BETA1_SCHEMA: Schema = S.obj({
  version: a(S.str(), { required: true }),
  name: a(S.str()),
  imports: x(S.list(S.any()), 'imports are not supported yet; merge the imported config into devspace.yaml'),
  require: w(S.any(), 'version requirements are not checked'),
  ...sections,
  profiles: a(S.list(profile)),
});

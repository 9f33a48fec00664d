// Complete, valid example objects (the shapes in docs/api/v1alpha1.md), for tests across packages.
// Functions, not constants, so a test can mutate its copy.
import type { DevSession } from './devsession.js';
import type { ImageBuild } from './imagebuild.js';

export const EXAMPLE_DIGEST = `sha256:${'ab'.repeat(32)}`;

export function exampleDevSession(): DevSession {
  return {
    apiVersion: 'dsa.dev/v1alpha1',
    kind: 'DevSession',
    metadata: { name: 'quickstart', namespace: 'dev-alice', uid: '2f1c4a8e-0000-4000-8000-000000000001', generation: 3 },
    spec: {
      project: 'quickstart',
      owner: { user: 'alice', host: 'alice-laptop' },
      suspend: false,
      keepDeployments: false,
      images: [
        {
          name: 'api',
          image: 'registry.local:5000/team/api',
          tags: ['dev'],
          context: { upload: { digest: EXAMPLE_DIGEST } },
          dockerfile: 'Dockerfile',
          buildArgs: { NODE_ENV: 'development' },
          target: 'dev',
          entrypoint: ['node'],
          cmd: ['server.js'],
          registry: { insecure: true, pushSecret: 'regcred', pullSecret: 'regcred' },
          builder: { cache: true, args: ['--snapshot-mode=redo'], resources: { limits: { cpu: '1', memory: '2Gi' }, requests: { cpu: 1 } } },
        },
        { name: 'worker', image: 'registry.local:5000/team/worker', context: { git: { url: 'https://git.example/team/worker.git', ref: 'main', subPath: 'worker' } } },
        { name: 'base', image: 'registry.local:5000/team/base', skip: true },
      ],
      deployments: [
        { name: 'db', kubectl: { manifests: ['apiVersion: v1\nkind: Service\nmetadata:\n  name: db\n'] } },
        { name: 'api', updateImageTags: true, helm: { releaseName: 'api', chart: { component: true }, values: { containers: [{ image: 'registry.local:5000/team/api' }] }, wait: true, timeoutSeconds: 300 } },
        { name: 'nginx', namespace: 'web', helm: { chart: { name: 'nginx', repo: 'https://charts.example', version: '1.2.3' } } },
        { name: 'gitops', kubectl: { git: { url: 'https://git.example/team/k8s.git', ref: 'main', paths: ['k8s/'], kustomize: true } } },
      ],
      dev: {
        interactive: false,
        pods: [
          {
            name: 'api',
            selector: { imageName: 'api', containerName: 'api' },
            devImage: 'node:20',
            command: ['npm'],
            args: ['run', 'dev'],
            workingDir: '/app',
            env: [{ name: 'DEBUG', value: '1' }],
            ports: [{ localPort: 8080, remotePort: 80, bindAddress: '127.0.0.1' }],
            reversePorts: [{ localPort: 9229, remotePort: 9229 }],
            sync: [
              {
                localPath: './src',
                containerPath: '/app',
                excludePaths: ['node_modules/'],
                initialSync: 'preferLocal',
                disableDownload: false,
                onUpload: { restartContainer: false, exec: [{ command: 'npm', args: ['install'] }] },
              },
            ],
            terminal: { enabled: true, command: ['sh'], workDir: '/app' },
            logs: { enabled: true, lastLines: 50 },
          },
          { name: 'web', selector: { labelSelector: { app: 'web' } } },
        ],
      },
      dependencies: [{ name: 'quickstart-auth' }],
    },
    status: {
      observedGeneration: 3,
      phase: 'Ready',
      message: '4/4 deployments ready',
      owner: 'alice@alice-laptop',
      imagesBuilt: '2/2',
      deploymentsReady: '4/4',
      sync: '-',
      images: [{ name: 'api', imageBuild: 'quickstart-api', image: 'registry.local:5000/team/api:dsa-0123456789ab', digest: EXAMPLE_DIGEST, phase: 'Succeeded' }],
      deployments: [{ name: 'api', ready: true, message: 'rollout complete', resources: 3 }],
      inventory: [{ apiVersion: 'apps/v1', kind: 'Deployment', namespace: 'dev-alice', name: 'api', deployment: 'api' }],
      pods: [{ devPod: 'api', pod: 'api-7c9d-x', container: 'api', namespace: 'dev-alice' }],
      dependencies: [{ name: 'quickstart-auth', ready: true }],
      conditions: [
        { type: 'Ready', status: 'True', observedGeneration: 3, lastTransitionTime: '2025-01-01T00:00:00Z', reason: 'Succeeded', message: 'ready' },
        { type: 'Reconciling', status: 'False', lastTransitionTime: '2025-01-01T00:00:00Z', reason: 'Succeeded' },
      ],
    },
  };
}

export function exampleImageBuild(): ImageBuild {
  return {
    apiVersion: 'dsa.dev/v1alpha1',
    kind: 'ImageBuild',
    metadata: { name: 'quickstart-api', namespace: 'dev-alice' },
    spec: {
      image: 'registry.local:5000/team/api',
      tag: 'dsa-0123456789ab',
      tags: ['dev'],
      context: { upload: { digest: EXAMPLE_DIGEST } },
      dockerfile: 'Dockerfile',
      buildArgs: {},
      target: '',
      entrypoint: [],
      cmd: [],
      registry: { insecure: true, pushSecret: '', pullSecret: '' },
      builder: { image: '', cache: false, args: [], resources: {}, namespace: '' },
    },
    status: {
      observedGeneration: 1,
      phase: 'Succeeded',
      image: 'registry.local:5000/team/api:dsa-0123456789ab',
      digest: EXAMPLE_DIGEST,
      podName: 'quickstart-api-build-x1',
      uploadContainer: 'upload',
      startTime: '2025-01-01T00:00:00Z',
      completionTime: '2025-01-01T00:01:00.5+02:00',
      durationSeconds: 60,
      message: 'pushed',
      conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:01:00Z', reason: 'Succeeded', message: '' }],
    },
  };
}

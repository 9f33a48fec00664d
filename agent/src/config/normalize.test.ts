// Version-specific mappings not covered by the published examples.
import { describe, expect, it } from '@jest/globals';
import type { HelmDeploymentConfig } from '../../../api/src/model/project.js';
import { loadProject } from './load.js';
import { memFileReader } from './mem-fs.js';

const load = (yaml: string) => loadProject({ configPath: '/p/devspace.yaml', fs: memFileReader({ '/p/devspace.yaml': yaml }), env: {}, checkFiles: false });

describe('v1beta specifics', () => {
  it('v1beta2: named selectors, cluster, terminal command, dependency config → profile, component options', async () => {
    const p = await load(
      [
        'version: v1beta2',
        'cluster: {namespace: team, kubeContext: kind-dev}',
        'images: {api: {image: r/api, tag: v1, build: {docker: {skipPush: true, options: {buildArgs: {A: 1}}}}}}',
        'deployments:',
        '- name: db',
        '  component:',
        '    containers: [{image: mysql}]',
        '    options: {wait: true, rollback: true, timeout: 60}',
        'dev:',
        '  selectors:',
        '  - {name: api, labelSelector: {app: api}, containerName: main}',
        '  terminal: {selector: api, command: [bash]}',
        '  ports: [{selector: api, forward: [{port: 8080, remotePort: 80}]}]',
        'dependencies:',
        '- source: {path: ../lib}',
        '  config: staging',
        '',
      ].join('\n'),
    );
    expect(p.namespace).toBe('team');
    expect(p.kubeContext).toBe('kind-dev');
    // build.docker is built by the agent (agent/src/build): no warning; preferMinikube defaults to true as in DevSpace.
    expect(p.images[0]).toMatchObject({ tags: ['v1'], skipPush: true, requestedEngine: 'docker', buildArgs: { A: '1' }, docker: { disableFallback: false, preferMinikube: true } });
    expect(p.warnings.map((w) => w.path)).not.toContain('images.api.build.docker');
    expect(p.deployments[0] as HelmDeploymentConfig).toMatchObject({ chart: { component: true }, values: { containers: [{ image: 'mysql' }] }, wait: true, atomic: true, timeoutSeconds: 60 });
    expect((p.deployments[0] as HelmDeploymentConfig).values.options).toBeUndefined();
    expect(p.dev.pods).toEqual([
      expect.objectContaining({ name: 'api', selector: { labelSelector: { app: 'api' }, containerName: 'main' }, ports: [{ localPort: 8080, remotePort: 80 }], terminal: { enabled: true, command: ['bash'] } }),
    ]);
    expect(p.dependencies[0]).toMatchObject({ name: 'lib', profile: 'staging' });
  });

  it('v1beta11: imageSelector, replacePods → devImage, top-level terminal, events hooks, flags → args', async () => {
    const p = await load(
      [
        'version: v1beta11',
        'images: {api: {image: r/api, build: {kaniko: {args: [--a]}}}}',
        'dev:',
        '  replacePods: [{imageSelector: r/api, replaceImage: r/api-dev}]',
        '  terminal: {imageSelector: r/api, command: [sh], workDir: /app}',
        '  sync: [{imageSelector: r/api, polling: true, excludeFile: .gitignore}]',
        'hooks: [{command: echo, events: ["after:deploy:api"]}]',
        '',
      ].join('\n'),
    );
    expect(p.dev.pods).toEqual([
      expect.objectContaining({ name: 'api', selector: { imageName: 'api' }, devImage: 'r/api-dev', terminal: { enabled: true, command: ['sh'], workDir: '/app' } }),
    ]);
    expect(p.dev.pods[0]?.sync[0]?.polling).toBe(true);
    expect(p.dev.interactive).toBe(true);
    expect(p.hooks).toEqual([{ command: 'echo', args: [], events: ['after:deploy:api'], shell: true, os: [], background: false, silent: false }]);
    expect(p.images[0]?.kaniko.args).toEqual(['--a']);
    await expect(load('version: v1beta9\ndev:\n  terminal: {command: [sh]}\n')).rejects.toThrow('/p/devspace.yaml:3:3: dev.terminal: unknown field "terminal" in v1beta9 (DevSpace has it in v1beta2, v1beta10–v1beta11)');
  });

  it('v1beta5 dev.interactive.terminal picks its pod by imageName or labelSelector (+ namespace, containerName); v1beta7 kaniko flags → args', async () => {
    const head = ['version: v1beta5', 'images: {api: {image: r/api, build: {kaniko: {flags: [--cache-ttl=1h]}}}}', 'dev:', '  interactive:'];
    const byImage = await load([...head, '    terminal: {imageName: api, containerName: main, namespace: team, command: [bash]}', ''].join('\n'));
    expect(byImage.dev.pods).toEqual([
      expect.objectContaining({ selector: { imageName: 'api', namespace: 'team', containerName: 'main' }, terminal: { enabled: true, command: ['bash'] } }),
    ]);
    const byLabel = await load([...head, '    terminal: {labelSelector: {app: api}, containerName: main}', ''].join('\n'));
    expect(byLabel.dev.pods).toEqual([expect.objectContaining({ selector: { labelSelector: { app: 'api' }, containerName: 'main' }, terminal: { enabled: true } })]);
    expect(byImage.warnings).toEqual([]);
    const v7 = await load('version: v1beta7\nimages: {api: {image: r/api, build: {kaniko: {flags: [--cache-ttl=1h], pullSecret: regcred}}}}\n');
    expect(v7.images[0]?.kaniko).toEqual({ args: ['--cache-ttl=1h'], pullSecret: 'regcred' });
  });

  it('YAML anchors and merge keys work; alias bombs are refused cleanly', async () => {
    const p = await load('version: v2beta1\nx-base: &b {image: r/a, tags: [t]}\n'.replace('x-base: ', 'images:\n  a: ') + '  b:\n    <<: *b\n    image: r/b\n');
    expect(p.images.map((i) => [i.name, i.image, i.tags])).toEqual([
      ['a', 'r/a', ['t']],
      ['b', 'r/b', ['t']],
    ]);
    const bomb = ['version: v2beta1', 'a: &a [x, x, x, x, x, x, x, x, x, x]', ...Array.from({ length: 8 }, (_, i) => `${String.fromCharCode(98 + i)}: &${String.fromCharCode(98 + i)} [${Array(10).fill(`*${String.fromCharCode(97 + i)}`).join(', ')}]`)].join('\n');
    await expect(load(bomb)).rejects.toThrow(/^\/p\/devspace\.yaml:\d+:\d+: document too large/);
  });
});

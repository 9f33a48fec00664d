// Hooks from both schema families into HookSpecs: v1beta `when` → events, where/container, shell vs
// args, the fields the runner reads, and what is warned.
import { describe, expect, it } from '@jest/globals';
import { hookSpecs } from './hooks.js';
import { loadProject } from './load.js';
import { memFileReader } from './mem-fs.js';

const load = (yaml: string) => loadProject({ configPath: '/p/devspace.yaml', fs: memFileReader({ '/p/devspace.yaml': yaml }), env: {}, checkFiles: false });

describe('hooks', () => {
  it('v1beta: when.before/after.images|deployments (all or a name) become events; args keep argv, none is a shell line', async () => {
    const p = await load(
      [
        'version: v1beta9',
        'hooks:',
        '- {command: echo, args: [built], when: {after: {images: all}}}',
        '- {command: "npm run migrate", when: {before: {deployments: api}, after: {deployments: all}}}',
        '- command: ./notify.sh',
        '  os: linux,darwin',
        '  background: true',
        '  silent: true',
        '  when: {after: {deployments: web}}',
        '  where: {container: {labelSelector: {app: web}, containerName: main, timeout: 20, imageName: web, namespace: team}}',
        '',
      ].join('\n'),
    );
    const [a, b, c] = hookSpecs(p);
    expect(a).toEqual({ command: 'echo', args: ['built'], events: ['after:build'], shell: false, os: [], background: false, silent: false });
    expect(b).toMatchObject({ command: 'npm run migrate', args: [], shell: true, events: ['before:deploy:api', 'after:deploy'] });
    expect(c).toMatchObject({ os: ['linux', 'darwin'], background: true, silent: true, events: ['after:deploy:web'], container: { labelSelector: { app: 'web' }, containerName: 'main', timeoutSeconds: 20, imageName: 'web', namespace: 'team', wait: true, once: false } });
    expect(p.warnings).toEqual([]);
  });

  it('v2beta1: container hooks, disabled hooks dropped, kinds dsa does not run warned, a hook without events warned', async () => {
    const p = await load(
      [
        'version: v2beta1',
        'hooks:',
        '- name: seed',
        '  events: ["after:deploy:db"]',
        '  command: ./seed.sh',
        '  container: {imageSelector: reg/db, once: true, wait: false, namespace: db}',
        '- {events: [before:deploy], command: "true", disabled: true}',
        '- {events: [after:deploy], upload: {localPath: ./x}, container: {pod: a}}',
        '- {events: [], command: echo}',
        '',
      ].join('\n'),
    );
    const specs = hookSpecs(p);
    expect(specs).toHaveLength(2);
    expect(specs[0]).toMatchObject({ name: 'seed', command: './seed.sh', shell: true, container: { imageSelector: 'reg/db', once: true, wait: false, timeoutSeconds: 150, namespace: 'db' } });
    expect(p.warnings.map((w) => `${w.path}: ${w.message}`)).toEqual([
      'hooks[2].upload: parsed but not acted on: upload hooks are not run',
      'hooks[2]: has no command (hooks that only upload, download, wait or print logs are not run by dsa)',
      'hooks[3]: has no when/events, so it never runs',
    ]);
  });

  it('v1beta11: container, name and disabled exist there, not before', async () => {
    const p = await load('version: v1beta11\nhooks:\n- {name: x, command: echo, events: [after:deploy], container: {pod: p, once: true, namespace: other}}\n');
    expect(hookSpecs(p)[0]).toMatchObject({ name: 'x', container: { pod: 'p', once: true, namespace: 'other' } });
    await expect(load('version: v1beta10\nhooks:\n- {command: echo, container: {pod: p}}\n')).rejects.toThrow('unknown field "container" in v1beta10');
  });
});

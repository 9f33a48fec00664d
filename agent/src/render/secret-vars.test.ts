// Secret-typed variables end to end on the agent side: a devspace.yaml `password` var, loaded with placeholders,
// renders a DevSession whose spec names a Secret (and holds no value) plus that Secret; the operator side of the
// contract is operator/src/deploy/secret-vars.ts (and kaniko's secretKeyRef for build args).
import { describe, expect, it } from '@jest/globals';
import { validateDevSession, validateImageBuild, type HelmDeploymentConfig } from '@dsa/api';
import { loadProject } from '../config/load.js';
import { memFileReader } from '../config/mem-fs.js';
import { renderProject } from './render-project.js';

const F = '/p/devspace.yaml';
const V2 = `version: v2beta1
name: shop
vars:
  DB_PASSWORD:
    password: true
  NPM_TOKEN:
    source: env
    password: true
images:
  api:
    image: registry.local:5000/shop/api
    buildArgs:
      NPM_TOKEN: \${NPM_TOKEN}
deployments:
  db:
    helm:
      chart: {name: component-chart, repo: https://charts.devspace.sh}
      values:
        containers:
          - image: postgres
            env:
              - name: POSTGRES_PASSWORD
                value: \${DB_PASSWORD}
`;

const load = (secretVars?: 'inline' | 'placeholder') =>
  loadProject({ configPath: F, fs: memFileReader({ [F]: V2, '/p/Dockerfile': '' }), env: { NPM_TOKEN: 'npm-s3cret' }, vars: { DB_PASSWORD: 'hunter2' }, checkFiles: false, username: 'alice', ...(secretVars ? { secretVars } : {}) });

const render = (p: Awaited<ReturnType<typeof load>>) =>
  renderProject(p, { namespace: 'dev', owner: { user: 'alice', host: 'lap' }, uploadDigests: 'placeholder', inlineFiles: () => '', packChart: () => '' });

describe('secret variables', () => {
  it('inline (the default): values are substituted as before', async () => {
    const p = await load();
    expect(p.secretVars).toBeUndefined();
    expect(JSON.stringify((p.deployments[0] as HelmDeploymentConfig).values)).toContain('hunter2');
  });

  it('placeholder: the spec carries ${dsa.secret.NAME} and names the Secret; the Secret holds the values', async () => {
    const p = await load('placeholder');
    expect(p.secretVars).toEqual({ DB_PASSWORD: 'hunter2', NPM_TOKEN: 'npm-s3cret' });
    const r = render(p);
    const [session] = r.sessions;
    expect(JSON.stringify(session)).not.toMatch(/hunter2|npm-s3cret/);
    expect(JSON.stringify(session!.spec.deployments)).toContain('${dsa.secret.DB_PASSWORD}');
    expect(session!.spec.secretVars).toEqual({ secretName: 'shop-secret-vars', names: ['DB_PASSWORD', 'NPM_TOKEN'] });
    expect(validateDevSession(session)).toEqual([]);
    expect(r.secrets).toEqual([
      {
        apiVersion: 'v1',
        kind: 'Secret',
        metadata: { name: 'shop-secret-vars', namespace: 'dev', labels: { 'app.kubernetes.io/managed-by': 'dsa', 'dsa.dev/session': 'shop' } },
        type: 'Opaque',
        stringData: { DB_PASSWORD: 'hunter2', NPM_TOKEN: 'npm-s3cret' },
      },
    ]);
    // The ImageBuild names only what its build args use.
    const [ib] = r.imageBuilds;
    expect(ib!.spec.buildArgs).toEqual({ NPM_TOKEN: '${dsa.secret.NPM_TOKEN}' });
    expect(ib!.spec.secretVars).toEqual({ secretName: 'shop-secret-vars', names: ['NPM_TOKEN'] });
    expect(validateImageBuild(ib)).toEqual([]);
  });
});

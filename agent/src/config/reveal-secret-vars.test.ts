import { describe, expect, it } from '@jest/globals';
import { loadProject } from './load.js';
import { memFileReader } from './mem-fs.js';
import { revealSecretVars } from './reveal-secret-vars.js';

const F = '/p/devspace.yaml';
const V2 = `version: v2beta1
name: shop
vars:
  DB_PASSWORD:
    password: true
images:
  api:
    image: registry.local:5000/shop/api
    buildArgs:
      DB: \${DB_PASSWORD}
hooks:
  - command: echo \${DB_PASSWORD} > /tmp/x
    events: [before:deploy]
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

const load = (secretVars: 'inline' | 'placeholder') =>
  loadProject({ configPath: F, fs: memFileReader({ [F]: V2, '/p/Dockerfile': '' }), env: {}, vars: { DB_PASSWORD: 'hunter2' }, checkFiles: false, username: 'alice', secretVars });

describe('revealSecretVars', () => {
  it('gives back exactly the project an inline load gives, values in hooks, build args and deployments', async () => {
    const placeholder = await load('placeholder');
    const { secretVars, ...withoutValues } = placeholder;
    expect(secretVars).toEqual({ DB_PASSWORD: 'hunter2' });
    expect(JSON.stringify(withoutValues)).not.toContain('hunter2');
    expect(JSON.stringify(placeholder.images)).toContain('${dsa.secret.DB_PASSWORD}');
    const revealed = revealSecretVars(placeholder);
    const { secretVars: _s, ...rest } = revealed;
    expect(rest).toEqual(await load('inline'));
    expect(revealed.images[0]!.buildArgs).toEqual({ DB: 'hunter2' });
    // The placeholder project is not changed (it is what gets rendered).
    expect(JSON.stringify(placeholder.deployments)).toContain('${dsa.secret.DB_PASSWORD}');
  });

  it('returns the same object when there are no secret variables', async () => {
    const p = await load('inline');
    expect(revealSecretVars(p)).toBe(p);
  });
});

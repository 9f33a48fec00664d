// Full-node tier: secret-typed variables (DevSpace `password: true`) through the real `dsa` CLI and an
// in-process, confined operator. The DevSession's spec holds only `${dsa.secret.NAME}`; the value lives in a
// Secret the agent applies (owned by the session), and the operator puts it into the deployed objects, reading
// the Secret as the namespace's deployer account. A changed value redeploys; `dsa down` removes the Secret too.
//
// Env contract: eval "$(make -s cluster-env)".
import { afterAll, beforeAll, describe, expect, jest, test } from '@jest/globals';
import * as k8s from '@kubernetes/client-node';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { DEVSESSION, GROUP, VERSION } from '@dsa/api';
import { DSA_RESOURCES, applyCrds, createTestNamespace, kubeFromEnv, requireEnv, waitFor, type TestNamespace } from '../../lib/index.js';
import { dsa, expectExit, startOperator } from './cli-project.test-util.js';

jest.setTimeout(600_000);

const env = requireEnv('registry', 'testImage', 'kanikoImage');

let kc: k8s.KubeConfig;
let ns: TestNamespace;
let core: k8s.CoreV1Api;
let custom: k8s.CustomObjectsApi;
let stopOperator: (() => Promise<void>) | undefined;
let dir: string;
let config: string;

beforeAll(async () => {
  kc = kubeFromEnv();
  core = kc.makeApiClient(k8s.CoreV1Api);
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await applyCrds();
  ns = await createTestNamespace(kc, 'e2e-secretvars');
  dir = await mkdtemp(path.join(tmpdir(), 'dsa-e2e-secretvars-'));
  config = path.join(dir, 'devspace.yaml');
  await writeFile(
    config,
    `version: v2beta1
name: pw
vars:
  DB_PASSWORD:
    password: true
deployments:
  db:
    kubectl:
      inlineManifest: |-
        apiVersion: v1
        kind: ConfigMap
        metadata: {name: db-settings}
        data:
          url: "postgres://app:\${DB_PASSWORD}@db:5432/app"
`,
  );
  stopOperator = startOperator(kc, ns.name, env);
});

afterAll(async () => {
  await stopOperator?.();
  await ns?.cleanup({ stripFinalizers: DSA_RESOURCES });
  if (dir) await rm(dir, { recursive: true, force: true });
});

const configMapUrl = async () => (await core.readNamespacedConfigMap({ namespace: ns.name, name: 'db-settings' })).data?.url;
const getSession = async () => (await custom.getNamespacedCustomObject({ group: GROUP, version: VERSION, plural: DEVSESSION.plural, namespace: ns.name, name: 'pw' })) as { metadata: { uid: string }; spec: unknown };

describe('password variables', () => {
  test('deploy: the value reaches the ConfigMap, never the DevSession; the Secret is owned by the session', async () => {
    const r = await dsa(dir, config, ns.name, ['deploy', '--var', 'DB_PASSWORD=s3cret-one']);
    expectExit(r, 0);
    expect(await configMapUrl()).toBe('postgres://app:s3cret-one@db:5432/app');
    const session = await getSession();
    expect(JSON.stringify(session)).not.toContain('s3cret-one');
    expect(JSON.stringify(session.spec)).toContain('${dsa.secret.DB_PASSWORD}');
    const secret = await core.readNamespacedSecret({ namespace: ns.name, name: 'pw-secret-vars' });
    expect(Buffer.from(secret.data?.DB_PASSWORD ?? '', 'base64').toString()).toBe('s3cret-one');
    expect(secret.metadata?.ownerReferences?.map((o) => [o.kind, o.name, o.uid])).toEqual([['DevSession', 'pw', session.metadata.uid]]);
    // Nothing the agent printed carries the value either.
    expect(r.stdout + r.stderr).not.toContain('s3cret-one');
  });

  test('a changed value redeploys (the spec is the same; the annotation with the values\' hash is not)', async () => {
    expectExit(await dsa(dir, config, ns.name, ['deploy', '--var', 'DB_PASSWORD=s3cret-two']), 0);
    expect(await configMapUrl()).toBe('postgres://app:s3cret-two@db:5432/app');
  });

  test('down: the session, what it deployed, and its Secret are gone', async () => {
    // As DevSpace's purge, down loads the config, so its variables need values (no TTY here: no prompt).
    expectExit(await dsa(dir, config, ns.name, ['down', '--var', 'DB_PASSWORD=s3cret-two']), 0);
    await waitFor(
      'the secret-variable Secret to be garbage-collected',
      async () => {
        const left = await core.readNamespacedSecret({ namespace: ns.name, name: 'pw-secret-vars' }).then(
          () => true,
          () => false,
        );
        return !left;
      },
      { timeoutMs: 60_000 },
    );
    await expect(configMapUrl()).rejects.toBeDefined();
  });
});

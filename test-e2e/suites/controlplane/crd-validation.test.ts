// The generated CRDs (crds/*.yaml) on a REAL kube-apiserver: what it rejects and accepts, and that the agent's
// validators (validateDevSession / validateImageBuild) reach the same verdict on the same object — the agent
// validates before applying, so a disagreement means either a confusing late apiserver error or a false alarm.
// Also: printer columns, the `dsa` category and short names as kubectl shows them.
//
// Env: eval "$(test-e2e/cluster/ensure.sh controlplane)". The CRDs are applied server-side (idempotent) and
// never deleted: other suites share them. Objects are created with dryRun=All where possible (nothing to clean
// up, nothing an operator elsewhere could pick up); the few real ones live in a throwaway namespace.
import { afterAll, beforeAll, describe, expect, it, jest } from '@jest/globals';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';
import {
  API_VERSION,
  CEL,
  CEL_EXACTLY_ONE_CONTEXT,
  DEVSESSION,
  GROUP,
  IMAGEBUILD,
  VERSION,
  exampleDevSession,
  exampleImageBuild,
  validateDevSession,
  validateImageBuild,
  type ValidationIssue,
} from '@dsa/api';
import { apiErrorMessage, statusCode } from '../../../operator/src/runtime/api-errors.js';
import { applyCrds, createTestNamespace, CRD_NAMES, kubeFromEnv, kubectl, REPO_ROOT, waitFor, type TestNamespace } from '../../lib/index.js';

jest.setTimeout(120_000);

let kc: k8s.KubeConfig;
let custom: k8s.CustomObjectsApi;
let ns: TestNamespace;
/** kubectl's discovery cache: private, so a cache from before the CRDs existed cannot hide them. */
let cacheDir: string;

const DIGEST = `sha256:${'ab'.repeat(32)}`;
type Obj = Record<string, any>;
type Kind = 'DevSession' | 'ImageBuild';

const plural = (kind: Kind) => (kind === 'DevSession' ? DEVSESSION.plural : IMAGEBUILD.plural);

/**
 * `kubectl apply --server-side` (lib applyCrds), NOT client-node's KubernetesObjectApi: its typed serializer maps
 * V1JSONSchemaProps through property names like `_enum` / `x_kubernetes_list_type`, so a CRD parsed from YAML
 * loses every `enum`, `x-kubernetes-list-type/-map-keys` and part of the `x-kubernetes-validations` on the way
 * out — and since the schema is one atomic field for server-side apply, a forced apply replaces the good one.
 */
async function installCrds(): Promise<void> {
  await applyCrds();
  const ext = kc.makeApiClient(k8s.ApiextensionsV1Api);
  for (const name of CRD_NAMES) {
    await waitFor(
      `CRD ${name} established with accepted names`,
      async () => {
        const c = await ext.readCustomResourceDefinition({ name });
        const ok = (t: string) => c.status?.conditions?.some((x) => x.type === t && x.status === 'True');
        return ok('Established') && ok('NamesAccepted');
      },
      { timeoutMs: 30_000 },
    );
  }
}

beforeAll(async () => {
  kc = kubeFromEnv();
  custom = kc.makeApiClient(k8s.CustomObjectsApi);
  await installCrds();
  ns = await createTestNamespace(kc, 'dsa-crdval');
  cacheDir = mkdtempSync(join(tmpdir(), 'dsa-kubectl-cache-'));
});

afterAll(async () => {
  await ns?.cleanup();
  if (cacheDir) rmSync(cacheDir, { recursive: true, force: true });
});

// ── verdicts ────────────────────────────────────────────────────────────────────────────────────────

interface Verdict {
  accepted: boolean;
  message: string;
}

/** Create with dryRun=All and strict field validation (unknown fields are errors, as for the agent). */
async function serverCreate(kind: Kind, obj: Obj): Promise<Verdict> {
  try {
    await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: plural(kind), namespace: ns.name, body: obj, dryRun: 'All', fieldValidation: 'Strict' });
    return { accepted: true, message: '' };
  } catch (e) {
    const code = statusCode(e);
    // 400 = strict decoding, 422 = schema/CEL. Anything else (403, 5xx, network) is a broken test setup.
    if (code === 400 || code === 422) return { accepted: false, message: apiErrorMessage(e) };
    throw e;
  }
}

/** Write `status` through the /status subresource (dryRun): create drops status, so this is where it is checked. */
async function serverStatus(kind: Kind, name: string, status: Obj): Promise<Verdict> {
  try {
    await custom.patchNamespacedCustomObjectStatus(
      { group: GROUP, version: VERSION, plural: plural(kind), namespace: ns.name, name, body: { status }, dryRun: 'All', fieldValidation: 'Strict' },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    return { accepted: true, message: '' };
  } catch (e) {
    const code = statusCode(e);
    if (code === 400 || code === 422) return { accepted: false, message: apiErrorMessage(e) };
    throw e;
  }
}

function agent(kind: Kind, obj: Obj): ValidationIssue[] {
  return kind === 'DevSession' ? validateDevSession(obj) : validateImageBuild(obj);
}

// ── objects ─────────────────────────────────────────────────────────────────────────────────────────

const session = (spec: Obj | undefined, name = 'v'): Obj => ({ apiVersion: API_VERSION, kind: DEVSESSION.kind, metadata: { name }, ...(spec === undefined ? {} : { spec }) });
const build = (spec: Obj | undefined, name = 'v'): Obj => ({ apiVersion: API_VERSION, kind: IMAGEBUILD.kind, metadata: { name }, ...(spec === undefined ? {} : { spec }) });
const img = (over: Obj = {}): Obj => ({ name: 'api', image: 'registry.local:5000/team/api', context: { upload: { digest: DIGEST } }, ...over });
const cmDeploy = (name = 'cfg'): Obj => ({ name, kubectl: { manifests: ['apiVersion: v1\nkind: ConfigMap\nmetadata: {name: x}\n'] } });
const devPod = (over: Obj = {}): Obj => ({ name: 'api', selector: { imageName: 'api' }, ...over });
const withPorts = (ports: Obj[]) => session({ project: 'p', dev: { pods: [devPod({ ports })] } });

/** The example objects, moved into the test namespace. */
function example(kind: Kind): Obj {
  const o = (kind === 'DevSession' ? exampleDevSession() : exampleImageBuild()) as unknown as Obj;
  o.metadata = { name: o.metadata.name, namespace: ns.name };
  return o;
}

interface Case {
  name: string;
  kind: Kind;
  obj: () => Obj;
  accept: boolean;
  /** For CEL rules: the apiserver and the agent must both say this (the docs promise the same messages). */
  message?: string;
  /** Other rejections: what the apiserver's message must mention (proves it failed for the intended reason). */
  server?: RegExp;
}

const cases: Case[] = [
  // accepted
  { name: 'minimal DevSession', kind: 'DevSession', obj: () => session({ project: 'p' }), accept: true },
  { name: 'exampleDevSession()', kind: 'DevSession', obj: () => example('DevSession'), accept: true },
  { name: 'image with a git context', kind: 'DevSession', obj: () => session({ project: 'p', images: [img({ context: { git: { url: 'https://git.example/x.git', ref: 'main' } } })] }), accept: true },
  { name: 'skipped image without a context', kind: 'DevSession', obj: () => session({ project: 'p', images: [{ name: 'base', image: 'r/base', skip: true }] }), accept: true },
  { name: 'ports 1 and 65535', kind: 'DevSession', obj: () => withPorts([{ localPort: 1, remotePort: 65535 }]), accept: true },
  { name: 'chart component: false + name (only component: true counts)', kind: 'DevSession', obj: () => session({ project: 'p', deployments: [{ name: 'web', helm: { chart: { component: false, name: 'nginx' } } }] }), accept: true },
  { name: '100 deployments (the maximum)', kind: 'DevSession', obj: () => session({ project: 'p', deployments: Array.from({ length: 100 }, (_, i) => cmDeploy(`d${i}`)) }), accept: true },
  { name: 'minimal ImageBuild', kind: 'ImageBuild', obj: () => build({ image: 'r/api', context: { upload: { digest: DIGEST } } }), accept: true },
  { name: 'exampleImageBuild()', kind: 'ImageBuild', obj: () => example('ImageBuild'), accept: true },

  // required fields and types
  { name: 'DevSession without spec', kind: 'DevSession', obj: () => session(undefined), accept: false, server: /spec: Required value/ },
  { name: 'spec without project', kind: 'DevSession', obj: () => session({ owner: { user: 'a' } }), accept: false, server: /spec\.project: Required value/ },
  { name: 'owner without user', kind: 'DevSession', obj: () => session({ project: 'p', owner: { host: 'h' } }), accept: false, server: /spec\.owner\.user: Required value/ },
  { name: 'project is a number', kind: 'DevSession', obj: () => session({ project: 42 }), accept: false, server: /spec\.project: Invalid value: "integer"/ },
  { name: 'suspend is a string', kind: 'DevSession', obj: () => session({ project: 'p', suspend: 'yes' }), accept: false, server: /spec\.suspend: Invalid value: "string"/ },
  { name: 'images is a string', kind: 'DevSession', obj: () => session({ project: 'p', images: 'api' }), accept: false, server: /spec\.images: Invalid value: "string"/ },
  { name: 'localPort is a string', kind: 'DevSession', obj: () => withPorts([{ localPort: '8080', remotePort: 80 }]), accept: false, server: /localPort: Invalid value: "string"/ },
  { name: 'unknown field spec.bogus', kind: 'DevSession', obj: () => session({ project: 'p', bogus: true }), accept: false, server: /unknown field "spec\.bogus"/ },

  // ports
  { name: 'localPort 0', kind: 'DevSession', obj: () => withPorts([{ localPort: 0, remotePort: 80 }]), accept: false, server: /localPort: Invalid value: 0: .*greater than or equal to 1/ },
  { name: 'remotePort 70000', kind: 'DevSession', obj: () => withPorts([{ localPort: 80, remotePort: 70000 }]), accept: false, server: /remotePort: Invalid value: 70000: .*less than or equal to 65535/ },
  { name: 'reverse localPort 70000', kind: 'DevSession', obj: () => session({ project: 'p', dev: { pods: [devPod({ reversePorts: [{ localPort: 70000, remotePort: 9229 }] })] } }), accept: false, server: /reversePorts\[0\]\.localPort/ },

  // CEL exactly-one-of
  { name: 'image with upload AND git context', kind: 'DevSession', obj: () => session({ project: 'p', images: [img({ context: { upload: { digest: DIGEST }, git: { url: 'https://g/x.git' } } })] }), accept: false, message: CEL_EXACTLY_ONE_CONTEXT.message },
  { name: 'image with an empty context', kind: 'DevSession', obj: () => session({ project: 'p', images: [img({ context: {} })] }), accept: false, message: CEL_EXACTLY_ONE_CONTEXT.message },
  { name: 'image without context and not skipped', kind: 'DevSession', obj: () => session({ project: 'p', images: [{ name: 'api', image: 'r/api' }] }), accept: false, message: CEL.imageContext.message },
  { name: 'helm chart with component: true AND name', kind: 'DevSession', obj: () => session({ project: 'p', deployments: [{ name: 'web', helm: { chart: { component: true, name: 'nginx' } } }] }), accept: false, message: CEL.chartSource.message },
  { name: 'helm chart with name AND archive', kind: 'DevSession', obj: () => session({ project: 'p', deployments: [{ name: 'web', helm: { chart: { name: 'nginx', archive: 'H4sIAAAA' } } }] }), accept: false, message: CEL.chartSource.message },
  { name: 'helm chart with no source', kind: 'DevSession', obj: () => session({ project: 'p', deployments: [{ name: 'web', helm: { chart: { component: false } } }] }), accept: false, message: CEL.chartSource.message },
  { name: 'deployment with kubectl AND helm', kind: 'DevSession', obj: () => session({ project: 'p', deployments: [{ ...cmDeploy(), helm: { chart: { component: true } } }] }), accept: false, message: CEL.deploymentKind.message },
  { name: 'deployment with neither kubectl nor helm', kind: 'DevSession', obj: () => session({ project: 'p', deployments: [{ name: 'cfg' }] }), accept: false, message: CEL.deploymentKind.message },
  { name: 'kubectl with manifests AND git', kind: 'DevSession', obj: () => session({ project: 'p', deployments: [{ name: 'cfg', kubectl: { manifests: ['x: y'], git: { url: 'https://g/x.git' } } }] }), accept: false, message: CEL.kubectlSource.message },
  { name: 'dev pod selector with imageName AND labelSelector', kind: 'DevSession', obj: () => session({ project: 'p', dev: { pods: [devPod({ selector: { imageName: 'api', labelSelector: { app: 'api' } } })] } }), accept: false, message: CEL.podSelector.message },

  // names of list items (DNS-1123 labels)
  { name: 'image name with upper case and underscore', kind: 'DevSession', obj: () => session({ project: 'p', images: [img({ name: 'Bad_Name' })] }), accept: false, server: /spec\.images\[0\]\.name: Invalid value: "Bad_Name"/ },
  { name: 'deployment name starting with a dash', kind: 'DevSession', obj: () => session({ project: 'p', deployments: [cmDeploy('-cfg')] }), accept: false, server: /spec\.deployments\[0\]\.name: Invalid value: "-cfg"/ },
  { name: 'dev pod name with a dot', kind: 'DevSession', obj: () => session({ project: 'p', dev: { pods: [devPod({ name: 'a.b' })] } }), accept: false, server: /spec\.dev\.pods\[0\]\.name: Invalid value: "a\.b"/ },
  { name: 'image name of 64 characters', kind: 'DevSession', obj: () => session({ project: 'p', images: [img({ name: 'a'.repeat(64) })] }), accept: false, server: /spec\.images\[0\]\.name: Too long/ },
  { name: 'image name empty', kind: 'DevSession', obj: () => session({ project: 'p', images: [img({ name: '' })] }), accept: false, server: /spec\.images\[0\]\.name/ },

  // list-map keys
  { name: 'duplicate image names', kind: 'DevSession', obj: () => session({ project: 'p', images: [img(), img({ image: 'r/other' })] }), accept: false, server: /spec\.images\[1\]: Duplicate value/ },
  { name: 'duplicate deployment names', kind: 'DevSession', obj: () => session({ project: 'p', deployments: [cmDeploy('cfg'), cmDeploy('cfg')] }), accept: false, server: /spec\.deployments\[1\]: Duplicate value/ },
  { name: 'duplicate dev pod names', kind: 'DevSession', obj: () => session({ project: 'p', dev: { pods: [devPod(), devPod({ selector: { labelSelector: { a: 'b' } } })] } }), accept: false, server: /spec\.dev\.pods\[1\]: Duplicate value/ },
  { name: '101 deployments', kind: 'DevSession', obj: () => session({ project: 'p', deployments: Array.from({ length: 101 }, (_, i) => cmDeploy(`d${i}`)) }), accept: false, server: /spec\.deployments: Too many/ },

  // patterns
  { name: 'upload digest not sha256:<64 hex>', kind: 'DevSession', obj: () => session({ project: 'p', images: [img({ context: { upload: { digest: 'sha256:xyz' } } })] }), accept: false, server: /context\.upload\.digest: Invalid value/ },
  { name: 'extra tag with a space', kind: 'DevSession', obj: () => session({ project: 'p', images: [img({ tags: ['bad tag'] })] }), accept: false, server: /spec\.images\[0\]\.tags\[0\]: Invalid value/ },
  { name: 'chart archive not base64', kind: 'DevSession', obj: () => session({ project: 'p', deployments: [{ name: 'web', helm: { chart: { archive: 'not base64!' } } }] }), accept: false, server: /chart\.archive: Invalid value/ },

  // ImageBuild
  { name: 'ImageBuild without spec', kind: 'ImageBuild', obj: () => build(undefined), accept: false, server: /spec: Required value/ },
  { name: 'ImageBuild without context', kind: 'ImageBuild', obj: () => build({ image: 'r/api' }), accept: false, server: /spec\.context: Required value/ },
  { name: 'ImageBuild without image', kind: 'ImageBuild', obj: () => build({ context: { upload: { digest: DIGEST } } }), accept: false, server: /spec\.image: Required value/ },
  { name: 'ImageBuild image is a number', kind: 'ImageBuild', obj: () => build({ image: 5, context: { upload: { digest: DIGEST } } }), accept: false, server: /spec\.image: Invalid value: "integer"/ },
  { name: 'ImageBuild with upload AND git context', kind: 'ImageBuild', obj: () => build({ image: 'r/api', context: { upload: { digest: DIGEST }, git: { url: 'https://g/x.git' } } }), accept: false, message: CEL_EXACTLY_ONE_CONTEXT.message },
  { name: 'ImageBuild with an empty context', kind: 'ImageBuild', obj: () => build({ image: 'r/api', context: {} }), accept: false, message: CEL_EXACTLY_ONE_CONTEXT.message },
  { name: 'ImageBuild tag with a colon', kind: 'ImageBuild', obj: () => build({ image: 'r/api', tag: 'a:b', context: { upload: { digest: DIGEST } } }), accept: false, server: /spec\.tag: Invalid value/ },
  { name: 'ImageBuild unknown field', kind: 'ImageBuild', obj: () => build({ image: 'r/api', context: { upload: { digest: DIGEST } }, platform: 'arm64' }), accept: false, server: /unknown field "spec\.platform"/ },
];

describe('the installed CRDs', () => {
  // Every other test here is only as good as this: the apiserver must be enforcing exactly crds/*.yaml.
  it.each(['dsa.dev_devsessions.yaml', 'dsa.dev_imagebuilds.yaml'])('%s is served exactly as generated (schema, names, columns)', async (file) => {
    const want = parseAllDocuments(readFileSync(resolve(REPO_ROOT, 'crds', file), 'utf8'))[0]!.toJS() as k8s.V1CustomResourceDefinition;
    // Raw JSON (not the typed client): the typed deserializer has the same blind spots as its serializer.
    const live = JSON.parse((await kubectl(['get', 'crd', want.metadata!.name!, '-o', 'json'])).stdout) as k8s.V1CustomResourceDefinition;
    expect(live.spec.names).toMatchObject(want.spec.names as unknown as Record<string, unknown>);
    const [lv, wv] = [live.spec.versions[0]!, want.spec.versions[0]!];
    expect(lv.additionalPrinterColumns).toEqual(wv.additionalPrinterColumns);
    expect(lv.schema?.openAPIV3Schema).toEqual(wv.schema?.openAPIV3Schema);
  });
});

describe('apiserver and agent validators agree on spec validation', () => {
  it.each(cases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const obj = c.obj();
    const server = await serverCreate(c.kind, obj);
    const issues = agent(c.kind, obj);
    const verdicts = { server: server.accepted ? 'accepted' : `rejected: ${server.message}`, agent: issues.length === 0 ? 'accepted' : `rejected: ${JSON.stringify(issues)}` };
    const want = c.accept ? 'accepted' : 'rejected';
    // Both verdicts in one assertion, so a failure shows what each side said.
    expect({ server: verdicts.server.split(':')[0], agent: verdicts.agent.split(':')[0], detail: verdicts }).toMatchObject({ server: want, agent: want });
    if (c.message) {
      expect(server.message).toContain(c.message);
      expect(issues.map((i) => i.message)).toContain(c.message);
    }
    if (c.server) expect(server.message).toMatch(c.server);
  });
});

describe('status validation (through the /status subresource)', () => {
  beforeAll(async () => {
    // Real objects to write status on: create drops status, so status rules only bite on /status writes.
    for (const [kind, obj] of [
      ['DevSession', session({ project: 'p' }, 'st')],
      ['ImageBuild', build({ image: 'r/api', context: { upload: { digest: DIGEST } } }, 'st')],
    ] as const) {
      await custom.createNamespacedCustomObject({ group: GROUP, version: VERSION, plural: plural(kind), namespace: ns.name, body: obj });
    }
  });

  const cond = (over: Obj = {}) => ({ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z', reason: 'Succeeded', message: 'ok', ...over });
  const statusCases: Array<{ name: string; kind: Kind; status: () => Obj; accept: boolean; server?: RegExp }> = [
    { name: 'exampleDevSession() status', kind: 'DevSession', status: () => exampleDevSession().status as Obj, accept: true },
    { name: 'exampleImageBuild() status', kind: 'ImageBuild', status: () => exampleImageBuild().status as Obj, accept: true },
    { name: 'DevSession phase Ready', kind: 'DevSession', status: () => ({ phase: 'Ready', conditions: [cond()] }), accept: true },
    { name: 'DevSession phase not in the enum', kind: 'DevSession', status: () => ({ phase: 'Exploded' }), accept: false, server: /status\.phase: Unsupported value: "Exploded"/ },
    { name: 'DevSession image status phase not in the enum', kind: 'DevSession', status: () => ({ images: [{ name: 'api', phase: 'Done' }] }), accept: false, server: /status\.images\[0\]\.phase: Unsupported value: "Done"/ },
    { name: 'DevSession condition status Maybe', kind: 'DevSession', status: () => ({ conditions: [cond({ status: 'Maybe' })] }), accept: false, server: /status\.conditions\[0\]\.status: Unsupported value: "Maybe"/ },
    { name: 'DevSession duplicate condition types', kind: 'DevSession', status: () => ({ conditions: [cond(), cond({ status: 'False' })] }), accept: false, server: /status\.conditions\[1\]: Duplicate value/ },
    { name: 'DevSession duplicate status image names', kind: 'DevSession', status: () => ({ images: [{ name: 'api' }, { name: 'api', phase: 'Pending' }] }), accept: false, server: /status\.images\[1\]: Duplicate value/ },
    { name: 'ImageBuild duplicate condition types', kind: 'ImageBuild', status: () => ({ conditions: [cond(), cond({ status: 'False' })] }), accept: false, server: /status\.conditions\[1\]: Duplicate value/ },
    { name: 'DevSession observedGeneration negative', kind: 'DevSession', status: () => ({ observedGeneration: -1 }), accept: false, server: /status\.observedGeneration: Invalid value: -1/ },
    { name: 'ImageBuild phase AwaitingUpload', kind: 'ImageBuild', status: () => ({ phase: 'AwaitingUpload', podName: 'p' }), accept: true },
    { name: 'ImageBuild phase not in the enum', kind: 'ImageBuild', status: () => ({ phase: 'Done' }), accept: false, server: /status\.phase: Unsupported value: "Done"/ },
    { name: 'ImageBuild startTime not a date-time', kind: 'ImageBuild', status: () => ({ startTime: 'yesterday' }), accept: false, server: /status\.startTime/ },
  ];

  it.each(statusCases.map((c) => [c.name, c] as const))('%s', async (_name, c) => {
    const status = c.status();
    const server = await serverStatus(c.kind, 'st', status);
    const base = c.kind === 'DevSession' ? session({ project: 'p' }, 'st') : build({ image: 'r/api', context: { upload: { digest: DIGEST } } }, 'st');
    const issues = agent(c.kind, { ...base, status });
    const want = c.accept ? 'accepted' : 'rejected';
    expect({
      server: server.accepted ? 'accepted' : 'rejected',
      agent: issues.length === 0 ? 'accepted' : 'rejected',
      detail: { server: server.message, agent: issues },
    }).toMatchObject({ server: want, agent: want });
    if (c.server) expect(server.message).toMatch(c.server);
  });
});

// ── kubectl: printer columns, category, short names ─────────────────────────────────────────────────

/** kubectl's table output → rows keyed by header, split at the header's column starts (cells may contain spaces). */
function parseTable(out: string): Array<Record<string, string>> {
  const lines = out.split('\n').filter((l) => l.trim() !== '');
  const header = lines[0] ?? '';
  const starts = [...header.matchAll(/\S+/g)].map((m) => ({ name: m[0], at: m.index! }));
  return lines.slice(1).map((line) =>
    Object.fromEntries(starts.map((s, i) => [s.name, line.slice(s.at, i + 1 < starts.length ? starts[i + 1]!.at : undefined).trim()])),
  );
}

const headerOf = (out: string) => (out.split('\n')[0] ?? '').trim().split(/\s+/);

describe('kubectl view of the CRDs', () => {
  const k = (args: string[]) => kubectl(['--cache-dir', cacheDir, '-n', ns.name, ...args], { timeoutMs: 60_000 });

  beforeAll(async () => {
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: DEVSESSION.plural,
      namespace: ns.name,
      body: session({ project: 'cols', owner: { user: 'alice', host: 'laptop' } }, 'cols'),
    });
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: DEVSESSION.plural,
        namespace: ns.name,
        name: 'cols',
        body: {
          status: {
            phase: 'Ready',
            owner: 'alice@laptop',
            imagesBuilt: '1/1',
            deploymentsReady: '2/3',
            sync: 'active',
            message: '2/3 deployments ready so far',
            conditions: [{ type: 'Ready', status: 'True', lastTransitionTime: '2025-01-01T00:00:00Z', reason: 'Succeeded', message: 'ok' }],
          },
        },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
    await custom.createNamespacedCustomObject({
      group: GROUP,
      version: VERSION,
      plural: IMAGEBUILD.plural,
      namespace: ns.name,
      body: build({ image: 'registry.local:5000/team/api', tag: 'dsa-0123456789ab', context: { upload: { digest: DIGEST } } }, 'cols-api'),
    });
    await custom.patchNamespacedCustomObjectStatus(
      {
        group: GROUP,
        version: VERSION,
        plural: IMAGEBUILD.plural,
        namespace: ns.name,
        name: 'cols-api',
        body: { status: { phase: 'Succeeded', durationSeconds: 42, digest: DIGEST, message: 'built in 42s' } },
      },
      k8s.setHeaderOptions('Content-Type', k8s.PatchStrategy.MergePatch),
    );
  });

  it('kubectl get devsessions shows the printer columns (Message only with -o wide)', async () => {
    const plain = (await k(['get', 'devsessions'])).stdout;
    expect(headerOf(plain)).toEqual(['NAME', 'READY', 'PHASE', 'OWNER', 'IMAGES', 'DEPLOYS', 'SYNC', 'AGE']);
    const [row] = parseTable(plain);
    expect(row).toMatchObject({ NAME: 'cols', READY: 'True', PHASE: 'Ready', OWNER: 'alice@laptop', IMAGES: '1/1', DEPLOYS: '2/3', SYNC: 'active' });
    expect(row!.AGE).toMatch(/^\d+s$|^\d+m/);

    const wide = (await k(['get', 'devsessions', '-o', 'wide'])).stdout;
    expect(headerOf(wide)).toEqual(['NAME', 'READY', 'PHASE', 'OWNER', 'IMAGES', 'DEPLOYS', 'SYNC', 'AGE', 'MESSAGE']);
    expect(parseTable(wide)[0]).toMatchObject({ NAME: 'cols', PHASE: 'Ready', MESSAGE: '2/3 deployments ready so far' });
  });

  it('kubectl get imagebuilds -o wide shows Image, Tag, Phase, Duration, Age, Digest and Message', async () => {
    const plain = (await k(['get', 'imagebuilds'])).stdout;
    expect(headerOf(plain)).toEqual(['NAME', 'IMAGE', 'TAG', 'PHASE', 'DURATION', 'AGE']);
    const wide = (await k(['get', 'imagebuilds', '-o', 'wide'])).stdout;
    expect(headerOf(wide)).toEqual(['NAME', 'IMAGE', 'TAG', 'PHASE', 'DURATION', 'AGE', 'DIGEST', 'MESSAGE']);
    expect(parseTable(wide)[0]).toMatchObject({
      NAME: 'cols-api',
      IMAGE: 'registry.local:5000/team/api',
      TAG: 'dsa-0123456789ab',
      PHASE: 'Succeeded',
      DURATION: '42',
      DIGEST: DIGEST,
      MESSAGE: 'built in 42s',
    });
  });

  it('the dsa category lists both kinds', async () => {
    const names = (await k(['get', 'dsa', '-o', 'name'])).stdout.trim().split('\n').sort();
    expect(names).toEqual([`devsession.${GROUP}/cols`, `devsession.${GROUP}/st`, `imagebuild.${GROUP}/cols-api`, `imagebuild.${GROUP}/st`].sort());
    // The table form prints one table per kind.
    const table = (await k(['get', 'dsa'])).stdout;
    expect(table).toContain(`devsession.${GROUP}/cols`);
    expect(table).toContain(`imagebuild.${GROUP}/cols-api`);
  });

  it('short names devsess/dsess/ib/ibuild are ours; ds is still daemonsets', async () => {
    for (const short of ['devsess', 'dsess']) {
      expect((await k(['get', short, 'cols', '-o', 'name'])).stdout.trim()).toBe(`devsession.${GROUP}/cols`);
    }
    for (const short of ['ib', 'ibuild']) {
      expect((await k(['get', short, 'cols-api', '-o', 'name'])).stdout.trim()).toBe(`imagebuild.${GROUP}/cols-api`);
    }
    // `ds` resolves to apps/v1 DaemonSet, not to a DevSession (it would shadow a built-in otherwise).
    const explain = (await k(['explain', 'ds'])).stdout;
    expect(explain).toMatch(/KIND:\s+DaemonSet/);
    expect(explain).toMatch(/GROUP:\s+apps/);
    const ds = await k(['get', 'ds', 'cols', '-o', 'name']).catch((e: Error) => ({ stdout: '', stderr: e.message }));
    expect(ds.stdout).toBe('');
    expect(ds.stderr).toMatch(/daemonsets\.apps "cols" not found/);
    const resources = (await k(['api-resources', '--api-group', GROUP, '--no-headers'])).stdout;
    const rows = resources.trim().split('\n').map((l) => l.trim().split(/\s+/));
    expect(rows.map((r) => r[0]).sort()).toEqual([DEVSESSION.plural, IMAGEBUILD.plural]);
    expect(rows.find((r) => r[0] === DEVSESSION.plural)?.[1]).toBe('devsess,dsess');
    expect(rows.find((r) => r[0] === IMAGEBUILD.plural)?.[1]).toBe('ib,ibuild');
  });
});

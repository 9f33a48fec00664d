// Shell completion: the rules (cli/complete.ts) over the real command tree, the dynamic sources over real
// files and a loopback apiserver, and the bash script loaded in a real bash, completing through the real
// `dsa __complete`.
import { execFile } from 'node:child_process';
import { chmodSync, mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { complete, Directive, formatCompletion, type Candidate, type CompletionSources, type TypedFlags } from '../../src/cli/complete.js';
import { completionSources, namespaceCandidates, profileCandidates } from '../../src/cli/completion-sources.js';
import { completionScript } from '../../src/cli/completion-scripts.js';
import type { ContextIO } from '../../src/cli/context.js';
import { buildProgram, loadCommand } from '../../src/cli/program.js';
import { StringWriter } from '../../src/output/writer.js';
import { metadataList, startFakeApiserver, writeKubeconfig, type FakeApiserver } from './fake-apiserver.js';
import { DSA_BIN } from './helpers.js';

const tmp = mkdtempSync(join(tmpdir(), 'dsa-completion-'));

function io(): ContextIO {
  return {
    stdout: new StringWriter(),
    stderr: new StringWriter(),
    env: {},
    cwd: tmp,
    homeDir: join(tmp, 'home'),
    isTTY: { stdin: false, stdout: false, stderr: false },
    signal: new AbortController().signal,
    services: () => Promise.reject(new Error('not in this test')),
    owner: () => ({ user: 'u', host: 'h' }),
  };
}

/** Sources that answer fixed values and record what the words typed so far said. */
function fakeSources(): CompletionSources & { asked: Array<[string, TypedFlags]> } {
  const asked: Array<[string, TypedFlags]> = [];
  const answer = (name: string, values: Candidate[]) => async (typed: TypedFlags) => {
    asked.push([name, typed]);
    return values;
  };
  return {
    asked,
    profiles: answer('profiles', [{ value: 'dev' }, { value: 'debug', description: 'verbose logs' }, { value: 'prod' }]),
    contexts: answer('contexts', [{ value: 'kind-dev' }, { value: 'staging' }]),
    namespaces: answer('namespaces', [{ value: 'dev-alice', description: 'DevSessions: api' }, { value: 'default' }]),
    pods: answer('pods', [{ value: 'api-7d9f' }]),
  };
}

async function words(w: string[], sources: CompletionSources = fakeSources()) {
  const result = await complete(buildProgram(io(), {}, '0.0.0'), w, sources, loadCommand);
  return { values: result.candidates.map((c) => c.value), directive: result.directive, candidates: result.candidates };
}

describe('completion rules (in-process, the real command tree)', () => {
  it('commands, with their summaries; help; nothing hidden', async () => {
    const all = await words(['']);
    expect(all.values).toEqual(['up', 'deploy', 'enter', 'logs', 'analyze', 'down', 'purge', 'render', 'validate', 'version', 'completion', 'help']);
    expect(all.directive).toBe(Directive.NoFileComp);
    expect(all.candidates.find((c) => c.value === 'render')?.description).toMatch(/^print the DevSession/);
    expect((await words(['va'])).values).toEqual(['validate']);
    expect((await words(['-n', 'x', 'v'])).values).toEqual(['validate', 'version']);
  });

  it('flags: global and the command\'s own, long forms, hidden ones left out', async () => {
    const logs = await words(['logs', '--']);
    expect(logs.values).toEqual(expect.arrayContaining(['--follow', '--pod', '--container', '--lines', '--namespace', '--config', '--no-color']));
    expect(logs.values).not.toContain('--tail');
    expect(logs.values).not.toContain('--kube-context');
    expect((await words(['--con'])).values).toEqual(['--config', '--context']);
    expect((await words(['-'])).values).toEqual(expect.arrayContaining(['-p', '-n', '-o', '--profile']));
    expect((await words(['render', '--'])).values).not.toContain('--skip-file-checks');
  });

  it('flag values: choices, profiles, contexts, namespaces, pods', async () => {
    expect(await words(['-o', ''])).toMatchObject({ values: ['table', 'json', 'yaml'], directive: Directive.NoFileComp });
    expect((await words(['render', '--output=j'])).values).toEqual(['--output=json']);
    const s = fakeSources();
    expect((await words(['--config', 'svc/devspace.yaml', 'up', '-p', 'de'], s)).values).toEqual(['dev', 'debug']);
    expect(s.asked).toEqual([['profiles', { config: 'svc/devspace.yaml' }]]);
    expect((await words(['--profile=p'])).values).toEqual(['--profile=prod']);
    expect((await words(['--kube-context', ''])).values).toEqual(['kind-dev', 'staging']);
    const ns = fakeSources();
    expect((await words(['--context', 'staging', 'logs', '-n', ''], ns)).values).toEqual(['dev-alice', 'default']);
    expect(ns.asked).toEqual([['namespaces', { context: 'staging' }]]);
    expect((await words(['version', '--operator-namespace', 'd'])).values).toEqual(['dev-alice', 'default']);
    expect((await words(['enter', '--pod', ''])).values).toEqual(['api-7d9f']);
    // A value already attached (-ndev) is not completed again.
    expect((await words(['-ndev', 'lo'])).values).toEqual(['logs']);
  });

  it('file flags and positional arguments leave the completion to the shell', async () => {
    expect(await words(['--config', ''])).toMatchObject({ values: ['yaml', 'yml'], directive: Directive.FilterFileExt });
    expect(await words(['--kubeconfig', ''])).toMatchObject({ values: [], directive: Directive.Default });
    expect(await words(['enter', '--', ''])).toMatchObject({ values: [], directive: Directive.Default });
    expect(await words(['validate', ''])).toMatchObject({ values: [], directive: Directive.NoFileComp });
    expect((await words(['completion', ''])).values).toEqual(['bash', 'zsh', 'fish']);
    expect((await words(['help', 'lo'])).values).toEqual(['logs']);
    expect((await words(['help', 'logs', ''])).values).toEqual([]);
    // An optional value ([bool]) is only taken with `=`: the next word is not its value.
    expect((await words(['up', '--exit-after-deploy', '--f'])).values).toEqual(['--force-build', '--force-deploy']);
  });

  it('the protocol: value<TAB>description lines, then :directive; no tab or newline inside a field', () => {
    expect(formatCompletion({ candidates: [{ value: 'a', description: 'x\ty\nz' }, { value: 'b' }], directive: 4 })).toBe('a\tx y z\nb\n:4\n');
  });
});

describe('completion sources (real files, loopback apiserver)', () => {
  let api: FakeApiserver;
  let kubeconfig: string;
  beforeAll(async () => {
    api = await startFakeApiserver({
      '/api/v1/namespaces': { status: 200, body: metadataList([{ name: 'default' }, { name: 'dev-alice' }, { name: 'kube-system' }]) },
      '/apis/dsa.dev/v1alpha1/devsessions': {
        status: 200,
        body: metadataList([
          { name: 'api', namespace: 'dev-alice' },
          { name: 'web', namespace: 'dev-alice' },
          { name: 'shop', namespace: 'dev-bob' },
        ]),
      },
      '/api/v1/namespaces/dev-alice/pods': { status: 200, body: metadataList([{ name: 'api-7d9f', labels: { 'dsa.dev/session': 'api' } }, { name: 'db-0' }]) },
    });
    kubeconfig = writeKubeconfig(tmp, api.url, 'dev-alice');
  });
  afterAll(() => api.close());

  it('profiles of the devspace.yaml found from a sub-folder, or named by --config', async () => {
    mkdirSync(join(tmp, 'proj/src'), { recursive: true });
    writeFileSync(join(tmp, 'proj/devspace.yaml'), 'version: v2beta1\nname: p\nprofiles:\n  - name: dev\n    description: local\n  - name: prod\n    patches: []\n');
    writeFileSync(join(tmp, 'proj/other.yaml'), 'version: v1beta11\nprofiles:\n- name: legacy\n');
    const sources = completionSources({ env: {}, cwd: join(tmp, 'proj/src'), homeDir: join(tmp, 'home') });
    expect(await sources.profiles({})).toEqual([{ value: 'dev', description: 'local' }, { value: 'prod' }]);
    expect(await sources.profiles({ config: '../other.yaml' })).toEqual([{ value: 'legacy' }]);
    expect(await sources.profiles({ config: 'missing.yaml' })).toEqual([]);
    expect(profileCandidates({ profiles: [{ name: '' }, null, { name: 3 }, { name: 'ok' }] })).toEqual([{ value: 'ok' }]);
  });

  it('contexts of the kubeconfig, the current one marked', async () => {
    const sources = completionSources({ env: {}, cwd: tmp, homeDir: join(tmp, 'home') });
    expect(await sources.contexts({ kubeconfig })).toEqual([
      { value: 'fake', description: 'current, cluster fake-cluster, namespace dev-alice' },
      { value: 'other', description: 'cluster fake-cluster' },
    ]);
    expect(await sources.contexts({})).toEqual([]);
  });

  it('namespaces with their DevSessions, and pods of the namespace in use, asking for metadata only', async () => {
    const sources = completionSources({ env: { KUBECONFIG: kubeconfig }, cwd: tmp, homeDir: join(tmp, 'home') });
    expect(await sources.namespaces({})).toEqual([
      { value: 'default' },
      { value: 'dev-alice', description: 'current; DevSessions: api, web' },
      { value: 'dev-bob', description: 'DevSessions: shop' },
      { value: 'kube-system' },
    ]);
    expect(api.headers.get('/api/v1/namespaces')?.accept).toMatch(/as=PartialObjectMetadataList/);
    expect(api.headers.get('/api/v1/namespaces')?.authorization).toBe('Bearer secret-token');
    expect(api.requests).toContain('/api/v1/namespaces?limit=500');
    expect(await sources.pods({})).toEqual([{ value: 'api-7d9f', description: 'DevSession api' }, { value: 'db-0' }]);
    expect(await sources.pods({ namespace: 'nowhere' })).toEqual([]);
  }, 60_000); // the first test to load client-node (seconds under jest)

  it('namespaces: what the user may not list is left out; sessions and the current namespace remain', () => {
    expect(namespaceCandidates([], [{ namespace: 'team-a', name: 's1' }, { namespace: 'team-a', name: 's2' }, { namespace: 'team-a', name: 's3' }, { namespace: 'team-a', name: 's4' }], 'mine')).toEqual([
      { value: 'mine', description: 'current' },
      { value: 'team-a', description: 'DevSessions: s1, s2, s3, +1' },
    ]);
  });

  it('an apiserver that never answers costs at most the timeout, then nothing is offered', async () => {
    const slow = await startFakeApiserver({ '/api/v1/namespaces': { status: 200, hang: true }, '/apis/dsa.dev/v1alpha1/devsessions': { status: 200, hang: true } });
    try {
      const sources = completionSources({ env: { KUBECONFIG: writeKubeconfig(tmp, slow.url, 'here', 'slow.yaml') }, cwd: tmp, homeDir: join(tmp, 'home') });
      const started = Date.now();
      expect(await sources.namespaces({})).toEqual([{ value: 'here', description: 'current' }]);
      expect(Date.now() - started).toBeLessThan(6000);
    } finally {
      await slow.close();
    }
  }, 60_000);
});

describe('completion scripts', () => {
  it('refuse a program name that is not a plain word (it is pasted into shell code)', () => {
    expect(() => completionScript('bash', 'dsa; rm -rf /')).toThrow(/unsafe program name/);
  });

  it('zsh and fish hand the words to dsa __complete', () => {
    expect(completionScript('zsh')).toMatch(/^#compdef dsa\n[\s\S]*__complete "\$\{\(@\)args\}"[\s\S]*compdef _dsa dsa/);
    expect(completionScript('fish')).toMatch(/command dsa __complete \$args[\s\S]*complete -c dsa -f -a '\(__dsa_complete\)'/);
  });
});

describe('bash (real bash, real dsa __complete)', () => {
  const bin = join(tmp, 'bin');
  const project = join(tmp, 'bash-project');
  beforeAll(() => {
    mkdirSync(bin, { recursive: true });
    mkdirSync(project, { recursive: true });
    writeFileSync(join(project, 'devspace.yaml'), 'version: v2beta1\nname: p\nprofiles:\n  - name: staging\n  - name: stress\n');
    writeFileSync(join(project, 'app.yaml'), '');
    writeFileSync(join(project, 'notes.txt'), '');
    // `dsa` on PATH, as after npm install -g.
    writeFileSync(join(bin, 'dsa'), `#!/bin/sh\nexec "${process.execPath}" "${DSA_BIN}" "$@"\n`);
    chmodSync(join(bin, 'dsa'), 0o755);
  });

  /** Each case: the line up to the cursor and bash's COMP_WORDS for it. */
  function bashRun(cases: Array<{ line: string; words: string[] }>): Promise<string[]> {
    const q = (s: string) => `'${s.replace(/'/g, `'\\''`)}'`;
    const script = [
      'source <(dsa completion bash) || exit 3',
      'complete -p dsa',
      ...cases.map(
        (c) =>
          `COMP_LINE=${q(c.line)}; COMP_POINT=\${#COMP_LINE}; COMP_WORDS=(${c.words.map(q).join(' ')}); COMP_CWORD=${c.words.length - 1}; COMPREPLY=(); __dsa_complete; echo "@@"; printf '%s\\n' "\${COMPREPLY[@]}"`,
      ),
    ].join('\n');
    return new Promise((resolve, reject) => {
      execFile(
        'bash',
        ['--norc', '--noprofile', '-c', script],
        { cwd: project, env: { PATH: `${bin}:${dirname(process.execPath)}:/usr/bin:/bin`, HOME: join(tmp, 'home') }, timeout: 120_000 },
        (err, stdout, stderr) => (err ? reject(new Error(`${err.message}\n${stderr}`)) : resolve(stdout.split('@@\n'))),
      );
    });
  }

  it('loads (complete -p dsa) and offers commands, flags, flag values and profile names', async () => {
    const [registered, commands, flags, output, profiles, shells, config] = await bashRun([
      { line: 'dsa va', words: ['dsa', 'va'] },
      { line: 'dsa logs --fo', words: ['dsa', 'logs', '--fo'] },
      // bash splits `--output=js` at `=` (COMP_WORDBREAKS); the reply replaces only `js`.
      { line: 'dsa render --output=js', words: ['dsa', 'render', '--output', '=', 'js'] },
      { line: 'dsa up -p st', words: ['dsa', 'up', '-p', 'st'] },
      { line: 'dsa completion ', words: ['dsa', 'completion', ''] },
      { line: 'dsa --config ', words: ['dsa', '--config', ''] },
    ]);
    expect(registered).toBe('complete -o default -F __dsa_complete dsa\n');
    expect(commands).toBe('validate\n');
    expect(flags).toBe('--follow\n');
    expect(output).toBe('json\n');
    expect(profiles).toBe('staging\nstress\n');
    expect(shells).toBe('bash\nzsh\nfish\n');
    expect(config?.split('\n').filter(Boolean).sort()).toEqual(['app.yaml', 'devspace.yaml']);
  }, 180_000);
});

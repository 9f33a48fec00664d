// Every DevSpace sync option, both spellings, from devspace.yaml to the model: DevSpace's meaning
// (its upgrade converters and sync controller), exclude files, bounds and positioned errors.
import { describe, expect, it } from '@jest/globals';
import type { ProjectConfig, SyncCommandConfig, SyncConfig } from '../../../api/src/model/project.js';
import { ConfigError } from './errors.js';
import { loadProject } from './load.js';
import { memFileReader } from './mem-fs.js';
import { parseSyncPath } from './normalize-common.js';

const F = '/p/devspace.yaml';

function load(yaml: string, files: Record<string, string> = {}, checkFiles = true): Promise<ProjectConfig> {
  return loadProject({ configPath: F, fs: memFileReader({ [F]: yaml, ...files }, ['/p']), env: {}, checkFiles });
}

async function errOf(yaml: string, files: Record<string, string> = {}): Promise<string> {
  const e = await load(yaml, files).then(
    () => undefined,
    (x: unknown) => x,
  );
  expect(e).toBeInstanceOf(ConfigError);
  return String(e);
}

const syncOf = (p: ProjectConfig, pod = 0, i = 0): SyncConfig => p.dev.pods[pod]?.sync[i] as SyncConfig;

const cmd = (command: string, over: Partial<SyncCommandConfig> = {}): SyncCommandConfig => ({
  command,
  args: [],
  shell: false,
  where: 'container',
  trigger: 'batch',
  onChange: [],
  once: false,
  failOnError: true,
  ...over,
});

describe('v2beta1 sync path', () => {
  it.each([
    ['', '.', '.'],
    ['.', '.', '.'],
    ['./', './', './'],
    ['./src', './src', './src'],
    ['/abs', '/abs', '/abs'],
    ['src:/app', 'src', '/app'],
    [':/app', '.', '/app'],
    ['src:', 'src', '.'],
    [':', '.', '.'],
    // Windows: the last `:` separates, so a drive letter stays with the local side…
    ['C:\\src:/app', 'C:\\src', '/app'],
    // …and a lone drive path splits as DevSpace splits it.
    ['C:\\src', 'C', '\\src'],
  ])('%j → local %j, container %j (DevSpace ParseSyncPath)', (spec, local, remote) => {
    expect(parseSyncPath(spec)).toEqual({ local, remote });
  });
});

describe('v2beta1 sync options', () => {
  const base = (sync: string) => `version: v2beta1\ndev:\n  api:\n    labelSelector: {app: api}\n    sync:\n${sync}`;

  it('every option reaches the model', async () => {
    const p = await load(
      base(
        [
          '    - path: ./src:/app',
          '      excludePaths: [node_modules/, "!keep"]',
          '      excludeFile: .gitignore',
          '      downloadExcludePaths: [dist/]',
          '      downloadExcludeFile: .down',
          '      uploadExcludePaths: [tmp/]',
          '      uploadExcludeFile: .up',
          '      startContainer: true',
          '      initialSync: preferNewest',
          '      initialSyncCompareBy: size',
          '      waitInitialSync: false',
          '      disableDownload: true',
          '      disableUpload: false',
          '      bandwidthLimits: {download: 200, upload: 100}',
          '      polling: true',
          '      noWatch: true',
          '      printLogs: true',
          '      onUpload:',
          '        restartContainer: true',
          '        exec:',
          '        - {name: deps, command: npm install, onChange: [package.json], once: true, failOnError: true}',
          '        - {command: make, args: [build], local: true}',
          '        - {command: touch, args: []}',
          '        execRemote:',
          '          onFileChange: {command: chmod, args: [+x, "{}"]}',
          '          onDirCreate: {command: chown, args: ["1000", "{}"]}',
          '          onBatch: {command: kill, args: [-HUP, "1"]}',
          '',
        ].join('\n'),
      ),
      { '/p/src/.gitignore': '# deps\n/build/\n*.log  \n', '/p/src/.down': 'cache/\n', '/p/src/.up': '\\#notes\n' },
    );
    expect(syncOf(p)).toEqual({
      localPath: '/p/src',
      containerPath: '/app',
      excludePaths: ['node_modules/', '!keep', '/build/', '*.log'],
      downloadExcludePaths: ['dist/', 'cache/'],
      uploadExcludePaths: ['tmp/', '\\#notes'],
      startContainer: true,
      initialSync: 'preferNewest',
      initialSyncCompareBy: 'size',
      waitInitialSync: false,
      disableDownload: true,
      disableUpload: false,
      bandwidthLimits: { download: 200, upload: 100 },
      polling: true,
      noWatch: true,
      printLogs: true,
      onUpload: {
        restartContainer: true,
        exec: [
          cmd('npm install', { name: 'deps', shell: true, onChange: ['package.json'], once: true }),
          cmd('make', { args: ['build'], where: 'local', failOnError: false }),
          cmd('touch', { failOnError: false }),
          cmd('chmod', { args: ['+x', '{}'], trigger: 'file' }),
          cmd('chown', { args: ['1000', '{}'], trigger: 'dir' }),
          cmd('kill', { args: ['-HUP', '1'] }),
        ],
      },
    });
    // All acted on (test-e2e/suites/node/sync-*.test.ts: exec[].once and file in sync-gaps, execRemote
    // per file/directory/batch there through v1beta11): none of them is warned.
    expect(p.warnings).toEqual([]);
  });

  it('execRemote command/args run per file and per directory; an empty command is none', async () => {
    const p = await load(base('    - onUpload: {execRemote: {command: ./on-change.sh, args: ["{}"], onBatch: {command: ""}}}\n'));
    expect(syncOf(p).onUpload).toEqual({ exec: [cmd('./on-change.sh', { args: ['{}'], trigger: 'file' }), cmd('./on-change.sh', { args: ['{}'], trigger: 'dir' })] });
  });

  it('defaults: `.:.`, nothing else set', async () => {
    const p = await load(base('    - {}\n'));
    expect(syncOf(p)).toEqual({ localPath: '/p', containerPath: '.', excludePaths: [], downloadExcludePaths: [], uploadExcludePaths: [], disableDownload: false, disableUpload: false });
  });

  it('a local folder that does not exist yet is fine (DevSpace creates it)', async () => {
    const p = await load(base('    - path: ./generated:/app/generated\n      initialSync: mirrorRemote\n'));
    expect(syncOf(p)).toMatchObject({ localPath: '/p/generated', containerPath: '/app/generated', initialSync: 'mirrorRemote' });
  });

  it('a single file: file: true, or a local path that is a file; exclude files then resolve in its folder', async () => {
    const files = { '/p/conf/app.yaml': 'a: 1', '/p/conf/.ignore': 'x\n' };
    const auto = await load(base('    - path: ./conf/app.yaml:/etc/app/app.yaml\n      excludeFile: .ignore\n'), files);
    expect(syncOf(auto)).toMatchObject({ localPath: '/p/conf/app.yaml', containerPath: '/etc/app/app.yaml', file: true, excludePaths: ['x'] });
    const flagged = await load(base('    - path: ./conf/app.yaml:/etc/app.yaml\n      file: true\n'), {}, false);
    expect(syncOf(flagged)).toMatchObject({ file: true });
    expect(await errOf(base('    - path: ./conf/app.yaml:/etc/app/config.yaml\n'), files)).toBe(
      '/p/devspace.yaml:6:13: dev.api.sync[0].path: a single-file sync needs the same file name on both sides (local app.yaml, container "config.yaml"), e.g. ./config.yaml:/app/config.yaml',
    );
    expect(await errOf(base('    - path: ./conf:/etc/conf\n      file: true\n'), files)).toBe('/p/devspace.yaml:6:13: dev.api.sync[0].path: file: true, but /p/conf is a folder');
  });

  it('reversePorts in a container', async () => {
    const p = await load('version: v2beta1\ndev:\n  api:\n    labelSelector: {app: api}\n    containers:\n      app:\n        reversePorts: [{port: "9229"}, {port: "5000:5432", bindAddress: 0.0.0.0}]\n');
    expect(p.dev.pods[0]?.reversePorts).toEqual([
      { localPort: 9229, remotePort: 9229 },
      { localPort: 5000, remotePort: 5432, bindAddress: '0.0.0.0' },
    ]);
  });
});

describe('v1beta sync options', () => {
  it('v1beta9: every option, execRemote, onDownload.execLocal, reverseForward, logs.sync → printLogs', async () => {
    const p = await load(
      [
        'version: v1beta9',
        'images: {api: {image: r/api}}',
        'dev:',
        '  logs: {sync: false}',
        '  ports:',
        '  - imageName: api',
        '    arch: arm64',
        '    reverseForward: [{port: 9229}, {port: 5000, remotePort: 5432}]',
        '  sync:',
        '  - imageName: api',
        '    arch: arm64',
        '    localSubPath: ./src',
        '    containerPath: /app',
        '    excludePaths: [.git/]',
        '    uploadExcludePaths: [dist/]',
        '    downloadExcludePaths: [logs/]',
        '    initialSync: keepAll',
        '    initialSyncCompareBy: mtime',
        '    waitInitialSync: true',
        '    disableUpload: true',
        '    bandwidthLimits: {upload: 50}',
        '    throttleChangeDetection: 100',
        '    onUpload:',
        '      restartContainer: true',
        '      execRemote: {command: chmod, args: [+x, "{}"], onBatch: {command: make}}',
        '    onDownload:',
        '      execLocal: {onFileChange: {command: touch, args: ["{}"]}}',
        '',
      ].join('\n'),
      { '/p/Dockerfile': 'FROM x' },
    );
    expect(p.dev.pods).toHaveLength(1);
    expect(p.dev.pods[0]?.reversePorts).toEqual([
      { localPort: 9229, remotePort: 9229 },
      { localPort: 5000, remotePort: 5432 },
    ]);
    expect(syncOf(p)).toEqual({
      localPath: '/p/src',
      containerPath: '/app',
      excludePaths: ['.git/'],
      downloadExcludePaths: ['logs/'],
      uploadExcludePaths: ['dist/'],
      initialSync: 'keepAll',
      initialSyncCompareBy: 'mtime',
      waitInitialSync: true,
      disableDownload: false,
      disableUpload: true,
      bandwidthLimits: { upload: 50 },
      throttleChangeDetection: 100,
      printLogs: false,
      onUpload: { restartContainer: true, exec: [cmd('chmod', { args: ['+x', '{}'], trigger: 'file' }), cmd('chmod', { args: ['+x', '{}'], trigger: 'dir' }), cmd('make')] },
      onDownload: { exec: [cmd('touch', { args: ['{}'], trigger: 'file', where: 'local' })] },
    });
    // execRemote per file, onDownload and throttleChangeDetection are acted on (e2e sync-gaps.test.ts): not warned.
    expect(p.warnings.map((w) => w.path)).toEqual(['dev.ports[0].arch', 'dev.sync[0].arch']);
  });

  it('v1beta5: downloadOnInitialSync: true is preferLocal (DevSpace v1beta6 upgrade); false keeps the default', async () => {
    const yaml = (v: boolean) => `version: v1beta5\ndev:\n  sync:\n  - labelSelector: {app: a}\n    downloadOnInitialSync: ${v}\n`;
    expect(syncOf(await load(yaml(true))).initialSync).toBe('preferLocal');
    expect(syncOf(await load(yaml(false))).initialSync).toBeUndefined();
  });

  it('v1beta10: name, polling, exclude files relative to localSubPath, after the inline patterns', async () => {
    const p = await load(
      'version: v1beta10\ndev:\n  sync:\n  - name: web\n    labelSelector: {app: a}\n    localSubPath: web\n    polling: true\n    excludePaths: [a]\n    excludeFile: .gitignore\n    uploadExcludeFile: ../shared.ignore\n',
      { '/p/web/.gitignore': '\uFEFFb\r\n# c\r\n!/d\r\n', '/p/shared.ignore': 'e\n' },
    );
    expect(syncOf(p)).toMatchObject({ name: 'web', polling: true, excludePaths: ['a', 'b', '!/d'], uploadExcludePaths: ['e'] });
  });

  it('v1beta10 still takes imageName on sync and ports (its upgrade makes it an image selector); v1beta11 does not', async () => {
    const yaml = (v: number) => `version: v1beta${v}\nimages: {api: {image: r/api}}\ndev:\n  ports: [{imageName: api, reverseForward: [{port: 9229}]}]\n  sync: [{imageName: api, containerPath: /app}]\n`;
    const p = await load(yaml(10), { '/p/Dockerfile': 'FROM x' });
    expect(p.dev.pods.map((x) => [x.selector, x.reversePorts.length, x.sync.length])).toEqual([[{ imageName: 'api' }, 1, 1]]);
    expect(await errOf(yaml(11), { '/p/Dockerfile': 'FROM x' })).toBe('/p/devspace.yaml:4:12: dev.ports[0].imageName: unknown field "imageName" in v1beta11 (DevSpace has it in v1beta3–v1beta10)');
  });

  it('v1beta11: onUpload.exec (no `once` before v2beta1)', async () => {
    const p = await load('version: v1beta11\ndev:\n  sync:\n  - labelSelector: {app: a}\n    onUpload:\n      exec: [{command: go build, onChange: ["**/*.go"]}]\n');
    expect(syncOf(p).onUpload).toEqual({ exec: [cmd('go build', { shell: true, onChange: ['**/*.go'], failOnError: false })] });
    expect(await errOf('version: v1beta11\ndev:\n  sync:\n  - labelSelector: {app: a}\n    onUpload:\n      exec: [{command: x, once: true}]\n')).toBe(
      '/p/devspace.yaml:6:27: dev.sync[0].onUpload.exec[0].once: unknown field "once"',
    );
    expect(await errOf('version: v1beta10\ndev:\n  sync:\n  - labelSelector: {app: a}\n    onUpload:\n      exec: [{command: x}]\n')).toBe(
      '/p/devspace.yaml:6:7: dev.sync[0].onUpload.exec: unknown field "exec" in v1beta10 (DevSpace has it in v1beta11+)',
    );
  });

  it('dev.autoReload reaches the model, paths absolute', async () => {
    const p = await load('version: v1beta9\ndev:\n  autoReload: {paths: [./src/**, package.json], deployments: [api], images: [web]}\n');
    expect(p.dev.autoReload).toEqual({ paths: ['/p/src/**', '/p/package.json'], deployments: ['api'], images: ['web'] });
  });
});

describe('bounds and errors, positioned', () => {
  const v2 = (sync: string) => `version: v2beta1\ndev:\n  api:\n    labelSelector: {app: api}\n    sync:\n    - path: .:/app\n${sync}`;

  it('too many or too long patterns, inline or from an exclude file', async () => {
    const many = JSON.stringify(Array.from({ length: 1001 }, (_, i) => `p${i}`));
    expect(await errOf(v2(`      excludePaths: ${many}\n`))).toBe('/p/devspace.yaml:7:21: dev.api.sync[0].excludePaths: has 1001 patterns; at most 1000');
    expect(await errOf(v2(`      uploadExcludePaths: [ok, ${'x'.repeat(1025)}]\n`))).toBe('/p/devspace.yaml:7:32: dev.api.sync[0].uploadExcludePaths[1]: pattern is 1025 characters long; at most 1024');
    expect(await errOf(v2('      excludePaths: [a]\n      excludeFile: big\n'), { '/p/big': Array.from({ length: 1000 }, (_, i) => `q${i}`).join('\n') })).toBe(
      '/p/devspace.yaml:8:20: dev.api.sync[0].excludeFile: 1001 patterns with those of /p/big; at most 1000 per list',
    );
    expect(await errOf(v2('      excludeFile: long\n'), { '/p/long': `ok\n${'y'.repeat(1025)}\n` })).toBe(
      '/p/devspace.yaml:7:20: dev.api.sync[0].excludeFile: exclude file /p/long: pattern 2 is longer than 1024 characters',
    );
    expect(await errOf(v2('      excludeFile: huge\n'), { '/p/huge': 'z'.repeat(1024 * 1024 + 1) })).toBe('/p/devspace.yaml:7:20: dev.api.sync[0].excludeFile: exclude file /p/huge is larger than 1024 KiB');
    expect(await errOf(v2('      downloadExcludeFile: nope\n'))).toBe('/p/devspace.yaml:7:28: dev.api.sync[0].downloadExcludeFile: exclude file /p/nope does not exist');
  });

  it('bad values of options', async () => {
    expect(await errOf(v2('      initialSyncCompareBy: checksum\n'))).toBe('/p/devspace.yaml:7:29: dev.api.sync[0].initialSyncCompareBy: must be one of mtime, size, got the string "checksum"');
    expect(await errOf(v2('      initialSync: newest\n'))).toMatch(/^\/p\/devspace\.yaml:7:20: dev\.api\.sync\[0\]\.initialSync: must be one of mirrorLocal, .*disabled, got the string "newest"$/);
    expect(await errOf(v2('      bandwidthLimits: {upload: -1}\n'))).toMatch(/^\/p\/devspace\.yaml:7:33: dev\.api\.sync\[0\]\.bandwidthLimits\.upload: must be at least 0, got -1$/);
    expect(await errOf(v2('      onUpload: {exec: [{command: ""}]}\n'))).toBe('/p/devspace.yaml:7:35: dev.api.sync[0].onUpload.exec[0].command: must not be empty');
    expect(await errOf(v2(`      onUpload: {exec: [{command: x, args: ${JSON.stringify(Array(101).fill('a'))}}]}\n`))).toBe('/p/devspace.yaml:7:44: dev.api.sync[0].onUpload.exec[0].args: has 101 arguments; at most 100');
    expect(await errOf(v2(`      onUpload: {exec: ${JSON.stringify(Array.from({ length: 33 }, () => ({ command: 'x' })))}}\n`))).toBe('/p/devspace.yaml:7:24: dev.api.sync[0].onUpload.exec: has 33 commands; at most 32');
    expect(await errOf(`version: v1beta9\ndev:\n  sync:\n  - labelSelector: {app: a}\n    throttleChangeDetection: 70000\n`)).toMatch(/^\/p\/devspace\.yaml:5:30: dev\.sync\[0\]\.throttleChangeDetection: /);
  });
});

// The loader's view of docker and custom builds (both config families), as the agent's builders need it.
import { describe, expect, it } from '@jest/globals';
import { loadProject } from './load.js';
import { memFileReader } from './mem-fs.js';

const load = (yaml: string, files: Record<string, string> = {}) =>
  loadProject({ configPath: '/p/devspace.yaml', fs: memFileReader({ '/p/devspace.yaml': yaml, ...files }), env: {} });

describe('docker and custom builds in the model', () => {
  it('v1beta: custom flags → args, the image argument unless skipImageArg, no Dockerfile needed; docker options', async () => {
    const p = await load(
      [
        'version: v1beta9',
        'images:',
        '  a: {image: r/a, build: {custom: {command: ./b.sh, args: [x], appendArgs: [--push], imageFlag: -t, onChange: ["src/**"]}}}',
        '  b: {image: r/b, build: {custom: {command: ./b.sh, skipImageArg: true, imageTagOnly: true}}}',
        '  c: {image: r/c, build: {docker: {disableFallback: true, preferMinikube: false, skipPush: true, options: {network: host, target: t}}}}',
      ].join('\n'),
      { '/p/Dockerfile': 'FROM x\n' },
    );
    expect(p.images[0]).toMatchObject({ requestedEngine: 'custom', custom: { command: './b.sh', args: ['x'], appendArgs: ['--push'], imageFlag: '-t', imageTagOnly: false, imageArg: true, onChange: ['/p/src/**'] } });
    expect(p.images[1]!.custom).toMatchObject({ imageArg: false, imageTagOnly: true, args: [] });
    expect(p.images[2]).toMatchObject({ requestedEngine: 'docker', docker: { disableFallback: true, preferMinikube: false }, skipPush: true, network: 'host', target: 't' });
    expect(p.warnings).toEqual([]);
    const v5 = await load('version: v1beta5\nimages:\n  a: {image: r/a, build: {custom: {command: ./b.sh, flags: [--old]}}}\n');
    expect(v5.images[0]!.custom!.args).toEqual(['--old']);
  });

  it('v2beta1: the image argument only with skipImageArg: false; commands[] for this OS win; a missing command is an error', async () => {
    const p = await load(
      [
        'version: v2beta1',
        'name: x',
        'images:',
        '  a: {image: r/a, custom: {command: "echo hi"}}',
        '  b: {image: r/b, custom: {command: ./b.sh, skipImageArg: false}}',
        '  c: {image: r/c, custom: {command: ./fallback.sh, commands: [{command: ./win.bat, os: windows}, {command: ./unix.sh, os: "darwin, linux"}]}}',
        '  d: {image: r/d, docker: {useCli: true}}',
      ].join('\n'),
      { '/p/Dockerfile': 'FROM x\n' },
    );
    expect(p.images.map((i) => i.custom?.imageArg)).toEqual([false, true, false, undefined]);
    expect(p.images[2]!.custom!.command).toBe(process.platform === 'linux' || process.platform === 'darwin' ? './unix.sh' : './fallback.sh');
    expect(p.images[3]).toMatchObject({ requestedEngine: 'docker', docker: { disableFallback: false, preferMinikube: true } });
    expect(p.warnings.map((w) => w.path)).toEqual(['images.d.docker.useCli']);
    await expect(load('version: v2beta1\nname: x\nimages:\n  a: {image: r/a, custom: {onChange: [x]}}\n')).rejects.toThrow(/images\.a\.custom: needs a command/);
  });
});

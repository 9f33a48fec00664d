// The loader's bounds on hostile input (issue 8): a devspace.yaml, or a dependency's fetched from git, must not
// make the agent spend minutes and gigabytes — a 700-byte file of doubling variables took 27 s and 3.5 GB.
import { describe, expect, it } from '@jest/globals';
import { loadProject } from './load.js';
import { memFileReader } from './mem-fs.js';
import { MAX_CONFIG_FILE_BYTES, MAX_EXPANDED_TOTAL_BYTES, MAX_EXPANDED_VALUE_BYTES } from './vars.js';


const F = '/p/devspace.yaml';
const load = (yaml: string) => loadProject({ configPath: F, fs: memFileReader({ [F]: yaml, '/p/Dockerfile': '' }), env: {}, checkFiles: false, username: 'alice' });

/** v2beta1 vars where each doubles the one before: V27 would be 32 × 2^27 bytes (4 GiB). */
function doubling(levels: number): string {
  const lines = ['version: v2beta1', 'name: bomb', 'vars:', '  V0: "0123456789abcdef0123456789abcdef"'];
  for (let i = 1; i <= levels; i++) lines.push(`  V${i}: "\${V${i - 1}}\${V${i - 1}}"`);
  lines.push('deployments:', '  d:', '    helm:', '      chart: {name: c}', '      values:', `        x: "\${V${levels}}"`, '');
  return lines.join('\n');
}

describe('loader limits', () => {
  it('a 700-byte file of doubling variables is refused in well under a second, naming the variable', async () => {
    const text = doubling(27);
    expect(text.length).toBeLessThan(750);
    const heap = process.memoryUsage().heapUsed;
    const t = performance.now();
    await expect(load(text)).rejects.toThrow(/devspace.yaml:\d+:\d+: vars.V\d+: .*larger than 1 MiB after variable expansion/);
    expect(performance.now() - t).toBeLessThan(2_000);
    expect(process.memoryUsage().heapUsed - heap).toBeLessThan(256 * 1024 * 1024);
  });

  it('expansions below the cap still work', async () => {
    const p = await load(doubling(10));
    expect(JSON.stringify(p.deployments[0])).toContain('0123456789abcdef'.repeat(2048));
    expect(MAX_EXPANDED_VALUE_BYTES).toBe(1024 * 1024);
  });

  it('caps all expansions together: a 512 KiB value used 40 times', async () => {
    const lines = ['version: v2beta1', 'name: wide', 'vars:', '  V0: "0123456789abcdef0123456789abcdef"'];
    for (let i = 1; i <= 14; i++) lines.push(`  V${i}: "\${V${i - 1}}\${V${i - 1}}"`);
    lines.push('deployments:', '  d:', '    helm:', '      chart: {name: c}', '      values:');
    for (let i = 0; i < 40; i++) lines.push(`        x${i}: "\${V14}"`);
    await expect(load(lines.join('\n') + '\n')).rejects.toThrow(new RegExp(`variable expansions add up to more than ${MAX_EXPANDED_TOTAL_BYTES / 2 ** 20} MiB`));
  });

  it('refuses a config file larger than the cap before parsing it', async () => {
    const big = `version: v2beta1\nname: big\n# ${'x'.repeat(MAX_CONFIG_FILE_BYTES)}\n`;
    await expect(load(big)).rejects.toThrow(/devspace.yaml:1:1: config file is larger than 2 MiB/);
  });
});

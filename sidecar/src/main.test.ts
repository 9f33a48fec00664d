// The dsa-sidecar program as the pod runs it (a child process).
import { describe, expect, it } from '@jest/globals';
import { spawn } from 'node:child_process';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const main = path.join(path.dirname(fileURLToPath(import.meta.url)), 'main.ts');
const repo = path.resolve(path.dirname(main), '../..');

function run(args: string[], env: Record<string, string> = {}) {
  const child = spawn(process.execPath, ['--import', 'tsx', main, ...args], { cwd: repo, stdio: ['pipe', 'pipe', 'pipe'], env: { ...process.env, ...env } });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
  const exit = new Promise<number | null>((r) => child.once('exit', (code) => r(code)));
  return { child, exit, out: () => stdout, err: () => stderr };
}

describe('dsa-sidecar', () => {
  it('daemon: logs once, idles, exits 0 on SIGTERM', async () => {
    const p = run(['daemon']);
    const t0 = Date.now();
    while (!p.err().includes('waiting for an agent')) {
      if (Date.now() - t0 > 15_000) throw new Error(`no start line: ${p.err()}`);
      await new Promise((r) => setTimeout(r, 20));
    }
    p.child.kill('SIGTERM');
    expect(await p.exit).toBe(0);
    expect(p.out()).toBe('');
  }, 20_000);

  it('serve: exits cleanly when the agent goes before saying anything, and never writes text to stdout', async () => {
    const p = run(['serve'], { DSA_SYNC_PATHS: '[]' });
    p.child.stdin.end();
    expect(await p.exit).toBe(2);
    expect(p.out().startsWith('DSA-SYNC')).toBe(true);
    expect(p.err()).toMatch(/dsa-sidecar: the other side closed the connection/);
  }, 20_000);

  it('serve: a bad DSA_SYNC_PATHS is one line on stderr and exit 2', async () => {
    const p = run(['serve'], { DSA_SYNC_PATHS: '{' });
    expect(await p.exit).toBe(2);
    expect(p.err()).toBe('dsa-sidecar: DSA_SYNC_PATHS is not valid JSON\n');
    expect(p.out()).toBe('');
  }, 20_000);
});

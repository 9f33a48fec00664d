// The external renderers' output is tenant-controlled (a chart, a kustomization): bounded, and an overflow says
// so without quoting it. Real child processes.
import { describe, expect, it } from '@jest/globals';
import { runCommand, ToolFailedError } from './exec.js';

describe('runCommand', () => {
  it('stops a tool whose output exceeds the cap, with a message that does not carry the output', async () => {
    const e = (await runCommand('sh', ['-c', 'yes SECRET-LINE | head -c 3000000'], { maxBuffer: 1024 * 1024 }).catch((x: unknown) => x)) as ToolFailedError;
    expect(e).toBeInstanceOf(ToolFailedError);
    expect(e.message).toBe('sh failed: output larger than 1 MiB');
    expect(e.message).not.toContain('SECRET');
  });

  it('passes output under the cap through', async () => {
    expect(await runCommand('sh', ['-c', 'printf ok'])).toBe('ok');
  });
});

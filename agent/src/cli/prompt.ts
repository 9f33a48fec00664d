import { createInterface } from 'node:readline/promises';
import type { CommandContext } from './context.js';

/** Ask one question on stderr (stdout stays data-only). Only called when ctx.interactive. */
export async function promptLine(ctx: CommandContext, question: string, opts: { default?: string; options?: string[] }): Promise<string> {
  const rl = createInterface({ input: process.stdin, output: process.stderr, terminal: true });
  try {
    const choices = opts.options?.length ? ` [${opts.options.join('/')}]` : '';
    const def = opts.default !== undefined ? ` (${opts.default})` : '';
    const answer = await rl.question(`${ctx.color.cyan('?')} ${question}${choices}${def}: `, { signal: ctx.signal });
    return answer === '' && opts.default !== undefined ? opts.default : answer;
  } finally {
    rl.close();
  }
}

import { createInterface } from 'node:readline/promises';
import { Writable } from 'node:stream';
import { choose } from '../devloop/pick.js';
import type { PodTarget } from '../devloop/pods.js';
import type { Colors } from '../output/color.js';
import type { Writer } from '../output/writer.js';

/** Ask one question on stderr (stdout stays data-only). Only called when the context is interactive. */
export async function promptLine(ui: { color: Colors; signal: AbortSignal }, question: string, opts: { default?: string; options?: string[]; password?: boolean }): Promise<string> {
  // A password (DevSpace `password` var) is not echoed: readline writes the question, then its echo of each
  // key goes nowhere until the answer is in.
  let muted = false;
  const output = opts.password
    ? new Writable({
        write(chunk: Buffer | string, _enc, done) {
          if (!muted) process.stderr.write(chunk);
          done();
        },
      })
    : process.stderr;
  const rl = createInterface({ input: process.stdin, output, terminal: true });
  try {
    const choices = opts.options?.length ? ` [${opts.options.join('/')}]` : '';
    const def = opts.default !== undefined && !opts.password ? ` (${opts.default})` : '';
    const asked = rl.question(`${ui.color.cyan('?')} ${question}${choices}${def}: `, { signal: ui.signal });
    muted = opts.password === true;
    const answer = await asked;
    if (muted) process.stderr.write('\n');
    return answer === '' && opts.default !== undefined ? opts.default : answer;
  } finally {
    muted = false;
    rl.close();
  }
}

/** --pick: list the containers on stderr and ask for one (a number or `pod/container`). */
export async function chooseContainer(ui: { color: Colors; signal: AbortSignal; stderr: Writer }, choices: PodTarget[]): Promise<PodTarget> {
  choices.forEach((c, i) => ui.stderr.write(`  ${i + 1}) ${c.pod}/${c.container}\n`));
  return choose(choices, await promptLine(ui, 'container', { default: '1' }));
}

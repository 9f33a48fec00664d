// The import direction of the agent (cli → actions → session/devloop/sync/project → api) is an eslint
// rule (eslint.config.js); this pins down that the rule catches what it is meant to catch.
import { describe, expect, it } from '@jest/globals';
import { ESLint } from 'eslint';
import { REPO_ROOT } from './cli/helpers.js';

const eslint = new ESLint({ cwd: REPO_ROOT });

async function restricted(file: string, from: string): Promise<boolean> {
  const [result] = await eslint.lintText(`import { x } from '${from}';\nexport const y = x;\n`, { filePath: `${REPO_ROOT}/${file}` });
  return (result?.messages ?? []).some((m) => m.ruleId === 'no-restricted-imports');
}

describe('agent layering', () => {
  it.each([
    ['agent/src/session/zz.ts', '../cli/context.js'],
    ['agent/src/session/zz.ts', '../actions/index.js'],
    ['agent/src/devloop/zz.ts', '../cli/context.js'],
    ['agent/src/devloop/services/zz.ts', '../../actions/deploy.js'],
    ['agent/src/sync/zz.ts', '../cli/context.js'],
    ['agent/src/project/zz.ts', '../actions/index.js'],
    ['agent/src/actions/zz.ts', '../cli/context.js'],
    ['agent/src/kube/zz.ts', '../session/kube.js'],
    ['agent/src/cli/commands/zz.ts', './deploy.js'],
  ])('%s may not import %s', async (file, from) => {
    expect(await restricted(file, from)).toBe(true);
  });

  it.each([
    ['agent/src/cli/commands/zz.ts', '../../actions/index.js'],
    ['agent/src/cli/commands/zz.ts', '../flags.js'],
    ['agent/src/cli/commands/index.ts', './deploy.js'],
    ['agent/src/actions/zz.ts', '../session/kube.js'],
    ['agent/src/actions/zz.ts', '../devloop/runner.js'],
    ['agent/src/devloop/zz.ts', '../session/kube.js'],
    ['agent/src/devloop/zz.ts', '@dsa/api'],
  ])('%s may import %s', async (file, from) => {
    expect(await restricted(file, from)).toBe(false);
  });
});

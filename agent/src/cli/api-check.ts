// `dsa up` and `dsa deploy` check, next to their deploy, that this agent and the cluster's operator speak
// the same API (actions/cluster-version.ts), and warn once when they do not.
import { DEFAULT_OPERATOR_NAMESPACE, OPERATOR_NAMESPACE_ENV, warnOnApiSkew } from '../actions/cluster-version.js';
import { recordedApiDigest } from './build-info.js';
import type { CommandContext } from './context.js';

/** Starts the check; await the promise before the command ends (it never rejects, and is bounded). */
export function startApiCheck(ctx: CommandContext): Promise<void> {
  return warnOnApiSkew(ctx.env, ctx.deps, {
    recordedDigest: recordedApiDigest(),
    operatorNamespace: ctx.processEnv[OPERATOR_NAMESPACE_ENV] || DEFAULT_OPERATOR_NAMESPACE,
  });
}

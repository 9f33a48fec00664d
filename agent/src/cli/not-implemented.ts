import { RuntimeError } from '../errors.js';

/**
 * Commands listed in help whose behaviour lands with the dev-loop issue. The top-level handler
 * prefixes the command: `dsa up: not implemented yet (…)`, exit 1.
 */
export function notImplemented(): never {
  throw new RuntimeError('not implemented yet (coming in the dev-loop issue)');
}

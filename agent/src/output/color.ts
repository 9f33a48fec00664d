import pc from 'picocolors';

export type Colors = ReturnType<typeof pc.createColors>;

export interface ColorInputs {
  /** `--color` (false when `--no-color` was given). */
  flag: boolean;
  env: Readonly<Record<string, string | undefined>>;
  isTTY: boolean;
}

/**
 * Whether to colour one output stream. The order follows no-color.org and clig.dev: an explicit
 * `--no-color` always wins, then NO_COLOR (non-empty), then TERM=dumb, then FORCE_COLOR (anything
 * but "0"/"false"), then "is it a terminal". picocolors' own detection reads process globals at
 * import time, which tests cannot control, so we decide here and call createColors(enabled).
 */
export function colorEnabled({ flag, env, isTTY }: ColorInputs): boolean {
  if (!flag) return false;
  if (env.NO_COLOR !== undefined && env.NO_COLOR !== '') return false;
  if (env.TERM === 'dumb') return false;
  const force = env.FORCE_COLOR;
  if (force !== undefined) return force !== '0' && force !== 'false';
  return isTTY;
}

export function makeColors(inputs: ColorInputs): Colors {
  return pc.createColors(colorEnabled(inputs));
}

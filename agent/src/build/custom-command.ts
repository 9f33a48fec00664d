// DevSpace's custom builder, as an argument list (pkg/devspace/build/builder/custom/custom.go):
//   args  +  for each tag: [imageFlag] (image:tag | tag)  +  appendArgs
// with `${runtime.images.<name>}` (image:tag), `.image` and `.tag` filled in the command and every
// argument. With arguments the command is executed directly (no shell, as DevSpace's exec); without
// any it is a shell script (DevSpace 6's multi-line `command:`), run by `sh -c`. Pure.
import type { CustomBuildConfig } from '@dsa/api';
import { LocalBuildError } from './errors.js';

export interface CustomInvocation {
  /** The program (with args), or `sh` with `-c <script>`. */
  file: string;
  args: string[];
  /** The command is a shell script. */
  shell: boolean;
}

/** The runtime variables DevSpace sets before a custom build of image `name` (key under images:). */
export function runtimeImageVars(name: string, image: string, tag: string): Record<string, string> {
  const key = `runtime.images.${name}`;
  return { [key]: `${image}:${tag}`, [`${key}.image`]: image, [`${key}.tag`]: tag };
}

const VAR = /\$\{([^{}]+)\}/g;

/**
 * Fill `${runtime.…}` references from `vars`. Other `${…}` were resolved by the loader already, or are
 * left for the shell (`${HOME}` in a script). An unknown runtime variable is an error, as in DevSpace.
 */
export function fillRuntimeVars(text: string, vars: Readonly<Record<string, string>>, where: string): string {
  return text.replace(VAR, (whole, name: string) => {
    const n = name.trim();
    if (!n.startsWith('runtime.')) return whole;
    const v = vars[n];
    if (v === undefined) {
      const known = Object.keys(vars).map((k) => `\${${k}}`).join(', ');
      throw new LocalBuildError(`${where}: unknown runtime variable \${${n}} (this build knows ${known || 'none'})`);
    }
    return v;
  });
}

/** The command line of a custom build of `image` (key `name`) with `tags` (the first is the one deployed). */
export function customBuildInvocation(cfg: CustomBuildConfig, name: string, image: string, tags: readonly string[]): CustomInvocation {
  if (tags.length === 0) throw new LocalBuildError(`images.${name}: a custom build needs a tag`);
  const vars = runtimeImageVars(name, image, tags[0]!);
  const where = `images.${name}.custom`;
  const args = cfg.args.map((a) => fillRuntimeVars(a, vars, `${where}.args`));
  if (cfg.imageArg) {
    for (const tag of tags) {
      if (cfg.imageFlag) args.push(cfg.imageFlag);
      args.push(cfg.imageTagOnly ? tag : `${image}:${tag}`);
    }
  }
  args.push(...cfg.appendArgs.map((a) => fillRuntimeVars(a, vars, `${where}.appendArgs`)));
  const command = fillRuntimeVars(cfg.command, vars, `${where}.command`);
  if (args.length === 0) return { file: 'sh', args: ['-c', command], shell: true };
  return { file: command, args, shell: false };
}

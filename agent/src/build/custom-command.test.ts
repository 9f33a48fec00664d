// DevSpace's custom builder argument assembly (custom.go): args, per tag [imageFlag] image:tag|tag, appendArgs;
// runtime variables; a script when no argument results.
import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import type { CustomBuildConfig } from '@dsa/api';
import { customBuildInvocation, fillRuntimeVars, runtimeImageVars } from './custom-command.js';

const cfg = (over: Partial<CustomBuildConfig> = {}): CustomBuildConfig => ({ command: './build.sh', args: [], appendArgs: [], imageTagOnly: false, imageArg: true, onChange: [], ...over });

describe('custom build command line', () => {
  it('args, then each tag with imageFlag, then appendArgs (DevSpace order), executed without a shell', () => {
    const inv = customBuildInvocation(cfg({ args: ['--context', '.'], imageFlag: '--image', appendArgs: ['--push'] }), 'api', 'reg:5000/api', ['dsa-0123456789ab', 'dev']);
    expect(inv).toEqual({ file: './build.sh', args: ['--context', '.', '--image', 'reg:5000/api:dsa-0123456789ab', '--image', 'reg:5000/api:dev', '--push'], shell: false });
  });

  it('imageTagOnly passes the tag alone; no imageFlag passes the bare reference', () => {
    expect(customBuildInvocation(cfg({ imageTagOnly: true }), 'api', 'r/api', ['t1']).args).toEqual(['t1']);
    expect(customBuildInvocation(cfg(), 'api', 'r/api', ['t1']).args).toEqual(['r/api:t1']);
  });

  it('without the image argument and without args the command is a shell script (DevSpace 6 multi-line command)', () => {
    const script = '# a comment\ndocker build -t ${runtime.images.my-image.image}:${runtime.images.my-image.tag} . -f custom/Dockerfile\ndocker push ${runtime.images.my-image}';
    const inv = customBuildInvocation(cfg({ command: script, imageArg: false }), 'my-image', 'reg/app', ['dsa-aaaaaaaaaaaa']);
    expect(inv.shell).toBe(true);
    expect(inv.file).toBe('sh');
    expect(inv.args).toEqual(['-c', '# a comment\ndocker build -t reg/app:dsa-aaaaaaaaaaaa . -f custom/Dockerfile\ndocker push reg/app:dsa-aaaaaaaaaaaa']);
  });

  it('runtime variables are filled in args and appendArgs too; other ${…} are left for the shell', () => {
    const inv = customBuildInvocation(cfg({ args: ['--tag=${runtime.images.api.tag}'], appendArgs: ['${HOME}/x', '${runtime.images.api.image}'], imageArg: false }), 'api', 'r/api', ['t9']);
    expect(inv.args).toEqual(['--tag=t9', '${HOME}/x', 'r/api']);
  });

  it('an unknown runtime variable is a clear error naming it and the field', () => {
    expect(() => customBuildInvocation(cfg({ args: ['${runtime.images.other.tag}'] }), 'api', 'r/api', ['t'])).toThrow(/images\.api\.custom\.args: unknown runtime variable \$\{runtime\.images\.other\.tag\}/);
  });

  it('property: the image arguments are exactly one per tag, between args and appendArgs', () => {
    const word = fc.stringMatching(/^[a-z0-9-]{1,8}$/);
    fc.assert(
      fc.property(fc.array(word, { maxLength: 4 }), fc.array(word, { maxLength: 4 }), fc.array(word, { minLength: 1, maxLength: 4 }), fc.option(word, { nil: undefined }), (args, appendArgs, tags, flag) => {
        const inv = customBuildInvocation(cfg({ args, appendArgs, ...(flag ? { imageFlag: `--${flag}` } : {}) }), 'x', 'r/x', tags);
        const per = flag ? 2 : 1;
        expect(inv.args.slice(0, args.length)).toEqual(args);
        expect(inv.args.slice(args.length + tags.length * per)).toEqual(appendArgs);
        expect(inv.args.filter((a) => a.startsWith('r/x:'))).toEqual(tags.map((t) => `r/x:${t}`));
      }),
    );
  });

  it('runtimeImageVars: image:tag, .image and .tag, as DevSpace sets them', () => {
    expect(runtimeImageVars('a', 'r/a', 't')).toEqual({ 'runtime.images.a': 'r/a:t', 'runtime.images.a.image': 'r/a', 'runtime.images.a.tag': 't' });
    expect(fillRuntimeVars('${ runtime.images.a.tag }', runtimeImageVars('a', 'r/a', 't'), 'x')).toBe('t');
  });
});

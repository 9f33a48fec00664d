import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import path from 'node:path';
import { UnsafePathError, checkRelPath, conflictPath, entryProblem, isInternalPath, isSafeRelPath, pathProblem, printableText, showPath, symlinkStaysInside } from './paths.js';

describe('checkRelPath', () => {
  it.each([
    ['a', true],
    ['a/b/c.txt', true],
    ['.env', true],
    ['..a/b..', true],
    ['dir with spaces/ünïcödé', true],
    ['', false],
    ['/etc/passwd', false],
    ['../x', false],
    ['a/../../x', false],
    ['a/..', false],
    ['./a', false],
    ['a/./b', false],
    ['a//b', false],
    ['a/', false],
    ['a\0b', false],
    ['a\nb', false],
    ['a\x1bb', false],
    ['a\x7fb', false],
    ['csi\u009b31m', false],
    ['nbsp\u00a0ok', true],
    ['a\\..\\..\\x', false],
    ['x'.repeat(256), false],
    [`${'a/'.repeat(2100)}a`, false],
  ])('%j → %s', (p, ok) => {
    expect(isSafeRelPath(p, { windows: false })).toBe(ok);
  });

  it('names why, with the path escaped', () => {
    expect(() => checkRelPath('a\nb')).toThrow(new UnsafePathError('refusing path "a\\nb": contains a control character'));
    expect(() => checkRelPath('../../etc/passwd')).toThrow(/"\.\." component/);
    expect(() => checkRelPath(42)).toThrow(/not a string/);
  });

  it('on Windows also refuses drive letters, reserved characters and trailing dots', () => {
    for (const p of ['C:x', 'a/b:c', 'a?', 'x.', 'x ']) expect(isSafeRelPath(p, { windows: true })).toBe(false);
    expect(isSafeRelPath('a/b.c', { windows: true })).toBe(true);
  });

  it('anything it accepts stays under the root when joined', () => {
    fc.assert(
      fc.property(fc.array(fc.constantFrom('a', 'b', '..', '.', '', '/', '\\', '\0', 'c.d', ' '), { maxLength: 12 }), (parts) => {
        const p = parts.join('');
        if (!isSafeRelPath(p, { windows: false })) return;
        expect(path.posix.join('/root', p).startsWith('/root/')).toBe(true);
        expect(path.posix.relative('/root', path.posix.join('/root', p))).toBe(p);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('entryProblem (a name met while walking, its parents accepted)', () => {
  it('agrees with pathProblem on every path whose parent is safe', () => {
    fc.assert(
      fc.property(
        fc.array(fc.constantFrom('a', 'b.c', ' ', '\\', '\x01', '\x7f', '\u009b', 'é', 'x'.repeat(100)), { minLength: 1, maxLength: 4 }),
        (parts) => {
          const name = parts.join('');
          const rel = `safe/dir/${name}`;
          expect(entryProblem(rel) === undefined).toBe(pathProblem(rel, { windows: false }) === undefined);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('catches a path grown too long through safe names', () => {
    const rel = `${'d'.repeat(200)}/`.repeat(21) + 'f';
    expect(entryProblem(rel)).toBe('longer than 4096 bytes');
  });
});

describe('showing paths from the other side', () => {
  it('quotes and escapes what a terminal would act on, and cuts long ones', () => {
    expect(showPath('a\x1b[31mred')).toBe('"a\\u001b[31mred"');
    expect(showPath('c1\u009b31m')).toBe('"c1\\u009b31m"');
    expect(showPath('bidi\u202eevil')).toBe('"bidi\\u202eevil"');
    expect(showPath('x'.repeat(300))).toBe(`"${'x'.repeat(200)}…"`);
    expect(printableText('ok: ünïcödé')).toBe('ok: ünïcödé');
    expect(printableText('bell\x07')).toBe('bell\\u0007');
  });
});

describe('symlinks', () => {
  it('resolve lexically against the link directory', () => {
    expect(symlinkStaysInside('a/b/l', '../c')).toBe(true);
    expect(symlinkStaysInside('a/l', '../../c')).toBe(false);
    expect(symlinkStaysInside('l', '/etc')).toBe(false);
    expect(symlinkStaysInside('a/l', './x/../../y')).toBe(true);
    expect(symlinkStaysInside('l', '')).toBe(false);
    expect(symlinkStaysInside('l', '..')).toBe(false);
  });
});

describe('names dsa creates', () => {
  it('conflict copies keep the extension and are never synced', () => {
    const when = new Date('2026-03-04T05:06:07.999Z');
    expect(conflictPath('src/app.ts', 'remote', when)).toBe('src/app.dsa-conflict-remote-20260304T050607.ts');
    expect(conflictPath('Makefile', 'local', when)).toBe('Makefile.dsa-conflict-local-20260304T050607');
    expect(conflictPath('.env', 'remote', when)).toBe('.env.dsa-conflict-remote-20260304T050607');
    expect(isInternalPath(conflictPath('src/app.ts', 'remote', when))).toBe(true);
    expect(isInternalPath('a/.dsa-tmp-0123')).toBe(true);
    expect(isInternalPath('a/app.ts')).toBe(false);
  });
});

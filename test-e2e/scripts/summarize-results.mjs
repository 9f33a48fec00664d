#!/usr/bin/env node
// Reads every result file a `make test` run left in test-e2e/.out/ and prints one plain line,
// `N passed, N failed`, from the real numbers. Two formats are read:
//   *.jest.json  — jest --json output (numPassedTests / numFailedTests, plus suites that failed to run)
//   *.tap-lite   — lines "PASS <name>" / "FAIL <name>" written by shell suites (smoke.sh, helm lint)
// A tier that was expected but left no file counts as one failure, so a crash can't look green.
import { readdirSync, readFileSync, existsSync } from 'node:fs';
import { join } from 'node:path';

const dir = process.argv[2] ?? 'test-e2e/.out';
const expected = (process.argv[3] ?? '').split(',').filter(Boolean);
let passed = 0;
let failed = 0;
const lines = [];
const files = existsSync(dir) ? readdirSync(dir).sort() : [];
for (const f of files) {
  const p = join(dir, f);
  if (f.endsWith('.jest.json')) {
    try {
      const r = JSON.parse(readFileSync(p, 'utf8'));
      // A suite that fails to load (syntax error, import error) has no tests but is a failure.
      const brokenSuites = (r.testResults ?? []).filter((s) => s.status === 'failed' && (s.assertionResults ?? []).length === 0).length;
      passed += r.numPassedTests ?? 0;
      failed += (r.numFailedTests ?? 0) + brokenSuites;
      lines.push(`${f.replace('.jest.json', '')}: ${r.numPassedTests} passed, ${(r.numFailedTests ?? 0) + brokenSuites} failed`);
    } catch {
      failed += 1;
      lines.push(`${f}: unreadable result file`);
    }
  } else if (f.endsWith('.tap-lite')) {
    const text = readFileSync(p, 'utf8');
    const p1 = (text.match(/^PASS\b/gm) ?? []).length;
    const f1 = (text.match(/^FAIL\b/gm) ?? []).length;
    passed += p1;
    failed += f1;
    lines.push(`${f.replace('.tap-lite', '')}: ${p1} passed, ${f1} failed`);
  }
}
for (const tier of expected) {
  if (!files.some((f) => f.startsWith(tier + '.'))) {
    failed += 1;
    lines.push(`${tier}: no result file (the tier did not run)`);
  }
}
for (const l of lines) console.log(`  ${l}`);
console.log(`${passed} passed, ${failed} failed`);
process.exit(failed > 0 ? 1 : 0);

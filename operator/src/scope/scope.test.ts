import { describe, expect, it } from '@jest/globals';
import type { KubernetesObject, V1Namespace } from '@kubernetes/client-node';
import { ScopeFilter, validScope, watchSelector } from './scope.js';

const ns = (name: string, scope?: string): V1Namespace => ({ metadata: { name, ...(scope !== undefined ? { labels: { 'dsa.dev/operator-scope': scope } } : {}) } });
const session = (namespace: string, scope?: string): KubernetesObject => ({ metadata: { name: 's', namespace, ...(scope !== undefined ? { labels: { 'dsa.dev/operator-scope': scope } } : {}) } });
/** The labelled namespaces, as the scoped-namespaces informer holds them. */
const namespaces = (...list: V1Namespace[]) => ({ get: (_: string, name: string) => list.find((n) => n.metadata?.name === name) });

describe('operator scope', () => {
  const labelled = namespaces(ns('ci-1', 'ci'), ns('team', 'team-a'));

  it('an object\'s scope: its own label, else its namespace\'s, else none', () => {
    const f = new ScopeFilter('', labelled);
    expect(f.scopeOf(session('dev'))).toBe('');
    expect(f.scopeOf(session('ci-1'))).toBe('ci');
    expect(f.scopeOf(session('ci-1', 'other'))).toBe('other');
    // An empty value is no label: the namespace decides.
    expect(f.scopeOf(session('ci-1', ''))).toBe('ci');
    expect(f.scopeOf(session('dev', ''))).toBe('');
  });

  it('the default install and a scoped one never both take an object', () => {
    const byDefault = new ScopeFilter('', labelled);
    const ci = new ScopeFilter('ci', labelled);
    for (const o of [session('dev'), session('ci-1'), session('team'), session('dev', 'ci'), session('ci-1', 'team-a')]) {
      expect(Number(byDefault.inScope(o)) + Number(ci.inScope(o))).toBeLessThanOrEqual(1);
    }
    expect(byDefault.inScope(session('dev'))).toBe(true);
    expect(ci.inScope(session('ci-1'))).toBe(true);
    expect(ci.inScope(session('dev', 'ci'))).toBe(true);
    expect(byDefault.inScope(session('team'))).toBe(false);
  });

  it('the server-side selector and children\'s labels', () => {
    // The scope needs the namespace's labels: only --watch-label-selector goes to the apiserver.
    expect(watchSelector({ scope: '' })).toBeUndefined();
    expect(watchSelector({ scope: '', watchLabelSelector: ' team=a ' })).toBe('team=a');
    expect(watchSelector({ scope: 'ci' })).toBeUndefined();
    expect(watchSelector({ scope: 'ci', watchLabelSelector: 'team=a' })).toBe('team=a');
    expect(new ScopeFilter('ci', labelled).childLabels(session('ci-1'))).toEqual({ 'dsa.dev/operator-scope': 'ci' });
    expect(new ScopeFilter('', labelled).childLabels(session('dev'))).toEqual({});
  });

  it('scope names are label values', () => {
    expect(validScope('')).toBe(true);
    expect(validScope('e2e-1a2b')).toBe(true);
    expect(validScope('a'.repeat(63))).toBe(true);
    expect(validScope('a'.repeat(64))).toBe(false);
    expect(validScope('-x')).toBe(false);
    expect(validScope('x y')).toBe(false);
  });
});

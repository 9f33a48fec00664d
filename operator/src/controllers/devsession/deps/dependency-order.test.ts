import { describe, expect, it } from '@jest/globals';
import fc from 'fast-check';
import { DependencyCycleError, dependencyOrder, orderOf } from './dependency-order.js';

describe('dependencyOrder', () => {
  it('puts leaves first and the root last', () => {
    const { order } = orderOf({ app: ['api', 'web'], api: ['db'], web: ['api'], db: [] }, ['app']);
    expect(order).toEqual(['db', 'api', 'web', 'app']);
  });

  it('names the cycle', () => {
    expect(() => orderOf({ a: ['b'], b: ['a'] }, ['a'])).toThrow('dependency cycle: a -> b -> a');
    try {
      orderOf({ root: ['a'], a: ['b'], b: ['c'], c: ['a'] }, ['root']);
      throw new Error('expected a cycle');
    } catch (e) {
      expect(e).toBeInstanceOf(DependencyCycleError);
      expect((e as DependencyCycleError).cycle).toEqual(['a', 'b', 'c', 'a']);
    }
  });

  it('self-dependency is a cycle', () => {
    expect(() => orderOf({ a: ['a'] })).toThrow('a -> a');
  });

  it('reports missing nodes as leaves', () => {
    const r = dependencyOrder(['a'], (n) => (n === 'a' ? ['gone'] : undefined));
    expect(r).toEqual({ order: ['a'], missing: ['gone'] });
  });

  it('every node comes after its dependencies in random DAGs (property)', () => {
    fc.assert(
      fc.property(fc.array(fc.array(fc.nat(20), { maxLength: 4 }), { minLength: 1, maxLength: 20 }), (adj) => {
        // Only edges to lower indexes: acyclic by construction.
        const graph: Record<string, string[]> = {};
        adj.forEach((deps, i) => (graph[`n${i}`] = deps.filter((d) => d < i).map((d) => `n${d}`)));
        const { order } = orderOf(graph);
        expect(new Set(order).size).toBe(adj.length);
        const pos = new Map(order.map((n, i) => [n, i]));
        for (const [n, deps] of Object.entries(graph)) for (const d of deps) expect(pos.get(d)!).toBeLessThan(pos.get(n)!);
      }),
    );
  });

  it('any back edge in a chain is reported as a cycle starting at its target (property)', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 10 }), fc.nat(), (len, k) => {
        const back = k % len;
        const graph: Record<string, string[]> = {};
        for (let i = 0; i < len; i++) graph[`n${i}`] = i + 1 < len ? [`n${i + 1}`] : [`n${back}`];
        let err: unknown;
        try {
          orderOf(graph, ['n0']);
        } catch (e) {
          err = e;
        }
        expect(err).toBeInstanceOf(DependencyCycleError);
        const cycle = (err as DependencyCycleError).cycle;
        expect(cycle[0]).toBe(`n${back}`);
        expect(cycle[cycle.length - 1]).toBe(`n${back}`);
        expect(cycle).toHaveLength(len - back + 1);
      }),
    );
  });
});

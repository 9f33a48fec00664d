// Dependency order between DevSessions (devspace-reference §3f): leaves first, root last, and a cycle is
// an error that names the whole loop (`a -> b -> a`), as DevSpace v4's CyclicError did.
//
// Pure: the graph is handed in as a lookup function, so the reconciler can back it with the informer
// cache and tests with a plain object.

export class DependencyCycleError extends Error {
  override readonly name = 'DependencyCycleError';
  /** The loop, first node repeated at the end: ['a', 'b', 'a']. */
  readonly cycle: readonly string[];

  constructor(cycle: readonly string[]) {
    super(`dependency cycle: ${cycle.join(' -> ')}`);
    this.cycle = cycle;
  }
}

export interface DependencyOrder {
  /** Every node reachable from the roots, each after all of its dependencies (roots last). */
  order: string[];
  /** Nodes referenced as a dependency but unknown to `edges` (not found). */
  missing: string[];
}

/**
 * Depth-first topological sort from `roots`. `edges(node)` returns the node's direct dependencies, or
 * undefined when the node does not exist (it is then reported in `missing` and treated as a leaf).
 * Throws DependencyCycleError on the first cycle found. Order is deterministic: dependencies are
 * visited in the order given.
 */
export function dependencyOrder(roots: readonly string[], edges: (node: string) => readonly string[] | undefined): DependencyOrder {
  const done = new Set<string>();
  const order: string[] = [];
  const missing: string[] = [];
  const stack: string[] = [];
  const onStack = new Set<string>();

  const visit = (node: string): void => {
    if (done.has(node)) return;
    if (onStack.has(node)) {
      const start = stack.indexOf(node);
      throw new DependencyCycleError([...stack.slice(start), node]);
    }
    const deps = edges(node);
    if (deps === undefined) {
      done.add(node);
      missing.push(node);
      return;
    }
    stack.push(node);
    onStack.add(node);
    for (const d of deps) visit(d);
    stack.pop();
    onStack.delete(node);
    done.add(node);
    order.push(node);
  };

  for (const r of roots) visit(r);
  return { order, missing };
}

/** Convenience for a plain adjacency object. */
export function orderOf(graph: Readonly<Record<string, readonly string[]>>, roots: readonly string[] = Object.keys(graph)): DependencyOrder {
  return dependencyOrder(roots, (n) => (Object.hasOwn(graph, n) ? graph[n] : undefined));
}

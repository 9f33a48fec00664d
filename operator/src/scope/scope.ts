// Two operators, one cluster: which DevSessions/ImageBuilds this operator install reconciles.
//
// An object's scope is its `dsa.dev/operator-scope` label, else the label of the same name on its namespace,
// else "" (none). An operator started with `--scope X` reconciles exactly the objects whose scope is X; one
// without `--scope` (the default install) exactly those whose scope is "". So a test run labels its
// namespaces (or sessions) with its own scope and a team's operator never touches them, and vice versa.
// `--watch-label-selector` (as Flux's) narrows further with any label selector.
//
// The filter runs in the operator, not in the list/watch: a label selector cannot say "no label, or an empty
// one", nor look at the namespace's labels, so the apiserver cannot decide either rule. (`--watch-label-selector`
// is applied by the apiserver.) An empty label value counts as no label.
import type { KubernetesObject, V1Namespace } from '@kubernetes/client-node';
import { LABELS } from '@dsa/api';
import type { SharedInformer } from '../runtime/index.js';

export interface ScopeOptions {
  /** '' = the default scope (objects with no scope label). */
  scope: string;
  /** Extra label selector on DevSessions and ImageBuilds (AND). */
  watchLabelSelector?: string;
}

/** The list/watch label selector for DevSessions and ImageBuilds (only --watch-label-selector), or undefined. */
export function watchSelector(o: ScopeOptions): string | undefined {
  return o.watchLabelSelector?.trim() || undefined;
}

/** Namespaces that carry a scope label (the only ones the filter needs to know). */
export const SCOPED_NAMESPACES_SELECTOR = LABELS.operatorScope;

/** A label value is at most 63 characters of [A-Za-z0-9_.-], starting and ending alphanumeric (or empty). */
export function validScope(s: string): boolean {
  return s === '' || /^[A-Za-z0-9]([-A-Za-z0-9_.]{0,61}[A-Za-z0-9])?$/.test(s);
}

export class ScopeFilter {
  constructor(
    readonly scope: string,
    /** Labelled namespaces (selector SCOPED_NAMESPACES_SELECTOR); undefined = namespaces decide nothing. */
    private readonly namespaces?: Pick<SharedInformer<V1Namespace>, 'get'>,
  ) {}

  /** The scope `obj` belongs to: its own (non-empty) label, else its namespace's, else ''. */
  scopeOf(obj: KubernetesObject): string {
    const own = obj.metadata?.labels?.[LABELS.operatorScope];
    if (own) return own;
    const ns = obj.metadata?.namespace;
    if (!ns || !this.namespaces) return '';
    return this.namespaces.get('', ns)?.metadata?.labels?.[LABELS.operatorScope] ?? '';
  }

  inScope(obj: KubernetesObject): boolean {
    return this.scopeOf(obj) === this.scope;
  }

  /** Labels to stamp on children (ImageBuilds) so their scope is explicit wherever they are created. */
  childLabels(parent: KubernetesObject): Record<string, string> {
    const s = this.scopeOf(parent);
    return s === '' ? {} : { [LABELS.operatorScope]: s };
  }
}

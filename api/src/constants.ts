// Names shared by the agent, the operator, the CRDs and the chart. Change them here only.

export const GROUP = 'dsa.dev';
export const VERSION = 'v1alpha1';
export const API_VERSION = `${GROUP}/${VERSION}`;

export const DEVSESSION = { kind: 'DevSession', plural: 'devsessions', singular: 'devsession', shortNames: ['devsess', 'dsess'] } as const;
export const IMAGEBUILD = { kind: 'ImageBuild', plural: 'imagebuilds', singular: 'imagebuild', shortNames: ['ib', 'ibuild'] } as const;
/** `kubectl get dsa` lists both kinds. */
export const CATEGORY = 'dsa';

/** Server-side-apply field managers: one for the operator, one for the agent. */
export const OPERATOR_FIELD_MANAGER = 'dsa-operator';
export const AGENT_FIELD_MANAGER = 'dsa-agent';

export const FINALIZER = `${GROUP}/cleanup`;

/** Labels set on everything dsa creates. */
export const LABELS = {
  managedBy: 'app.kubernetes.io/managed-by',
  session: `${GROUP}/session`,
  sessionNamespace: `${GROUP}/session-namespace`,
  /**
   * The uid of the session that applied an object. Pruning and cleanup delete only objects whose live labels
   * name the session (name, namespace and uid): status.inventory is user-writable and is never trusted alone.
   */
  sessionUid: `${GROUP}/session-uid`,
  deployment: `${GROUP}/deployment`,
  image: `${GROUP}/image`,
  imageBuild: `${GROUP}/imagebuild`,
  component: 'app.kubernetes.io/component',
  /**
   * Which operator install reconciles a DevSession/ImageBuild (on the object, or on its namespace). An operator
   * started with `--scope X` takes only objects whose scope is X; one without `--scope` only those with none, so
   * two installs (a team's operator and a test run's) never reconcile the same session.
   */
  operatorScope: `${GROUP}/operator-scope`,
} as const;
export const MANAGED_BY = 'dsa';

/** Annotations. */
export const ANNOTATIONS = {
  /** Set by the agent: who runs the session (mirrors spec.owner for kubectl-created sessions). */
  owner: `${GROUP}/owner`,
  /** Bump to force a reconcile, as Flux's requestedAt. */
  requestedAt: `${GROUP}/requested-at`,
  /** On a pod template: the dev overrides applied, to undo them. */
  devOverride: `${GROUP}/dev-override`,
  /** On every object the operator applies: hash of what it applied, so an unchanged object is not re-applied. */
  appliedHash: `${GROUP}/applied-hash`,
  /**
   * Set by the agent on a session with spec.secretVars: a hash of the values it put in the Secret. The spec holds
   * only placeholders, so a changed value changes this annotation, which is what makes the operator render again.
   */
  secretVarsHash: `${GROUP}/secret-vars-hash`,
} as const;

/** Condition types (kstatus-compatible: Ready summary, Reconciling and Stalled abnormal-true). */
export const ConditionType = {
  Ready: 'Ready',
  Reconciling: 'Reconciling',
  Stalled: 'Stalled',
} as const;
export type ConditionTypeName = (typeof ConditionType)[keyof typeof ConditionType];

/** Condition reasons, CamelCase. */
export const Reason = {
  Succeeded: 'Succeeded',
  Progressing: 'Progressing',
  Reconciling: 'Reconciling',
  AwaitingUpload: 'AwaitingUpload',
  Building: 'Building',
  BuildFailed: 'BuildFailed',
  AlreadyBuilt: 'AlreadyBuilt',
  WaitingForDependencies: 'WaitingForDependencies',
  DependencyCycle: 'DependencyCycle',
  DependencyFailed: 'DependencyFailed',
  WaitingForImages: 'WaitingForImages',
  ImageBuildFailed: 'ImageBuildFailed',
  Deploying: 'Deploying',
  DeployFailed: 'DeployFailed',
  RolloutInProgress: 'RolloutInProgress',
  ChartNotFound: 'ChartNotFound',
  GitFetchFailed: 'GitFetchFailed',
  InvalidSpec: 'InvalidSpec',
  ManifestRejected: 'ManifestRejected',
  Deleting: 'Deleting',
  /** Reconciling=True while a failed step is retried with backoff (Flux's ProgressingWithRetry). */
  ProgressingWithRetry: 'ProgressingWithRetry',
  Suspended: 'Suspended',
  /** A rendered object the session may not create (another namespace, a cluster-scoped kind). */
  ObjectNotAllowed: 'ObjectNotAllowed',
  /** The session's ServiceAccount (impersonated) may not do what the session asks: RBAC said no. */
  Forbidden: 'Forbidden',
} as const;
export type ReasonName = (typeof Reason)[keyof typeof Reason];

/** Session phases shown in `kubectl get devsessions`. */
export const SessionPhase = {
  Pending: 'Pending',
  Building: 'Building',
  Deploying: 'Deploying',
  Ready: 'Ready',
  Failed: 'Failed',
  Deleting: 'Deleting',
} as const;

/** ImageBuild phases. */
export const BuildPhase = {
  Pending: 'Pending',
  AwaitingUpload: 'AwaitingUpload',
  Building: 'Building',
  Succeeded: 'Succeeded',
  Failed: 'Failed',
} as const;

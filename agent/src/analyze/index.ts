// `dsa analyze` and the deploy's fail-fast: pure checks over listed objects (pods, events,
// resources), the reads behind them (kube), the rollout inspector, and the text report.
export { analyzeNamespace, analyzeObjects, buildReport, logLines, withLogs, type AnalyzeInput, type AnalyzeNamespaceOptions, type LogReadOptions } from './collect.js';
export { eventProblems, recentWarnings } from './events.js';
export { createAnalyzeKube, withTimeout, type AnalyzeKube, type LogOptions } from './kube.js';
export { showObject, sortProblems, type AnalyzeReport, type ObjectRef, type Problem, type ProblemKind, type Severity } from './model.js';
export { podProblems, probeText, type PodCheckOptions } from './pods.js';
export { buildRegistryHint, classifyRegistryError, INSECURE_REGISTRIES_VALUE, pullHint, pullReason, registryHost, type RegistryTrouble } from './registry.js';
export { explainRegistries, httpRegistryProbe, opaqueHttpsFailure, type ProbeResult, type RegistryProbe } from './registry-probe.js';
export { formatProblem, formatReport, groupByObject, problemWords, type Painter } from './report.js';
export { imageBuildProblems, sessionProblems } from './resources.js';
export { currentPods, FailFastTracker, rolloutSettled, RolloutInspector, sessionNamespaces, sessionSelector, waitingOn, type RolloutInspection } from './rollout.js';

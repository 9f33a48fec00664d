// Shared e2e helpers: cluster env + kube client, wait-for, namespace per test, running CLI tools.
export * from './env.js';
export * from './exec.js';
export * from './namespace.js';
export * from './scope.js';
export * from './wait.js';
export * from './git-server.js';
export * from './operator-install.js';
export * from './tenant.js';

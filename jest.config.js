// Jest in native ESM mode (node --experimental-vm-modules), TypeScript through @swc/jest.
// Type checking is tsc's job (`make typecheck`); swc only strips types, which keeps 2-core runs fast.
const swc = ['@swc/jest', { jsc: { target: 'es2022', parser: { syntax: 'typescript' } }, module: { type: 'es6' } }];
const common = {
  extensionsToTreatAsEsm: ['.ts'],
  transform: { '^.+\\.ts$': swc },
  // Our sources import siblings as './x.js' (NodeNext); map them back to the .ts file for jest.
  moduleNameMapper: {
    '^@dsa/api$': '<rootDir>/api/src/index.ts',
    '^@dsa/api/build-context$': '<rootDir>/api/src/build-context/index.ts',
    '^@dsa/api/sync$': '<rootDir>/api/src/sync/index.ts',
    '^@dsa/api/sync-layout$': '<rootDir>/api/src/sync/layout.ts',
    '^@dsa/agent$': '<rootDir>/agent/src/index.ts',
    '^@dsa/operator$': '<rootDir>/operator/src/index.ts',
    '^(\\.{1,2}/.*)\\.js$': '$1',
  },
  testEnvironment: 'node',
  rootDir: '.',
};
export default {
  projects: [
    // Pure logic, no cluster: fast, run first.
    { ...common, displayName: 'unit', testMatch: ['<rootDir>/{api,agent,operator}/{src,test}/**/*.test.ts', '<rootDir>/sidecar/src/**/*.test.ts'] },
    // Control-plane tier: a real etcd + kube-apiserver + controller-manager (test-e2e/cluster/ensure.sh controlplane).
    { ...common, displayName: 'controlplane', testMatch: ['<rootDir>/test-e2e/suites/controlplane/**/*.test.ts'] },
    // Full-node tier: real pods, exec, port-forward, kaniko, registry, helm (test-e2e/cluster/ensure.sh node).
    { ...common, displayName: 'node', testMatch: ['<rootDir>/test-e2e/suites/node/**/*.test.ts'] },
  ],
};

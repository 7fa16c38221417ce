// Three suites: pure unit tests, CDK template assertions, and integration tests that talk
// real HTTP to the local cluster (started by its global setup, one per Jest worker: each worker
// runs its files one at a time against its own cluster, since the cleanup and reaper tests fire
// scheduled functions that act on the whole status table).
const transform = { '^.+\\.ts$': 'ts-jest' };
const setupFiles = ['<rootDir>/test/support/quiet-powertools.ts'];

/** @type {import('jest').Config} */
module.exports = {
  projects: [
    { displayName: 'unit', testEnvironment: 'node', transform, setupFiles, testMatch: ['<rootDir>/test/unit/**/*.test.ts'] },
    { displayName: 'infra', testEnvironment: 'node', transform, testMatch: ['<rootDir>/test/infra/**/*.test.ts'] },
    {
      displayName: 'integration',
      testEnvironment: 'node',
      transform,
      setupFiles: [...setupFiles, '<rootDir>/test/integration/worker-cluster.ts'],
      testMatch: ['<rootDir>/test/integration/**/*.test.ts'],
      globalSetup: '<rootDir>/test/integration/global-setup.ts',
      globalTeardown: '<rootDir>/test/integration/global-teardown.ts',
    },
  ],
};

// Unit specs sit beside the code; e2e specs in test/ boot the real app on real Postgres and Redis;
// cluster specs in test/cluster/ run the built processes.
// Transpile-only (tsconfig.jest.json): `npm run lint` type-checks, jest just runs.
const transform = { '^.+\\.ts$': ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }] };

module.exports = {
  maxWorkers: 2,
  testTimeout: 60_000,
  projects: [
    {
      displayName: 'unit',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/src/**/*.spec.ts'],
      transform,
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform,
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
    {
      // Whole deployments from dist/: API and worker processes on a private Postgres and Redis
      // that the tests restart and flush (test/cluster/helpers/cluster.ts).
      displayName: 'cluster',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/cluster/**/*.cluster-spec.ts'],
      transform,
    },
  ],
};

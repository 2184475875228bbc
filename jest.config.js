// Unit specs sit beside the code; e2e specs in test/ boot the real app on real Postgres and Redis.
// Transpile-only (tsconfig.jest.json): `npm run lint` type-checks, jest just runs.
const tsJest = ['ts-jest', { tsconfig: '<rootDir>/tsconfig.jest.json' }];
// content-disposition 3 (under @fastify/static, which serves Swagger UI) ships only as an ES
// module, which jest's CommonJS runtime cannot load untransformed.
const transform = { '^.+\\.ts$': tsJest, '/node_modules/content-disposition/.+\\.js$': tsJest };
const transformIgnorePatterns = ['/node_modules/(?!content-disposition/)'];

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
      transformIgnorePatterns,
    },
    {
      displayName: 'e2e',
      rootDir: __dirname,
      testEnvironment: 'node',
      testMatch: ['<rootDir>/test/**/*.e2e-spec.ts'],
      transform,
      transformIgnorePatterns,
      globalSetup: '<rootDir>/test/global-setup.ts',
      globalTeardown: '<rootDir>/test/global-teardown.ts',
    },
  ],
};

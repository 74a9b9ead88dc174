// Tests run as CommonJS compiled by swc: fast, and MikroORM 6, the Temporal SDK and jest all agree on it.
// The few ESM-only libraries (feelin and its parser) are compiled to CommonJS by the same transform.
const esmOnly = [
  'feelin',
  'lezer-feel',
  '@lezer',
  '@bpmn-io',
  'min-dash',
  'temporal-polyfill',
  'temporal-spec',
  'temporal-utils',
  'moddle',
  'moddle-xml',
  'saxen',
  'bpmnlint-utils',
  // bpmnlint itself is CommonJS, but it nests ESM-only copies of min-dash, moddle-xml and saxen in its own node_modules.
  'bpmnlint',
  // bpmn-js-differ likewise ships CommonJS with an ESM-only min-dash of its own.
  'bpmn-js-differ',
];

/** @type {import('jest').Config} */
module.exports = {
  testEnvironment: 'node',
  roots: ['<rootDir>'],
  testMatch: ['**/*.test.ts'],
  testPathIgnorePatterns: ['/node_modules/', '/.data/'],
  transform: { '^.+\\.(t|j|mj)s$': ['@swc/jest', { jsc: { target: 'es2022' }, module: { type: 'commonjs' } }] },
  transformIgnorePatterns: [`/node_modules/(?!(${esmOnly.join('|')})/)`],
  globalSetup: '<rootDir>/test/support/global-setup.ts',
  globalTeardown: '<rootDir>/test/support/global-teardown.ts',
  testTimeout: 60_000,
  reporters: ['default', '<rootDir>/test/support/summary-reporter.js'],
  // Two cores: one worker per core keeps PostgreSQL and the Temporal worker from starving each other.
  maxWorkers: 2,
};

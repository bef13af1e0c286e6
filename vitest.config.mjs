import { fileURLToPath } from 'node:url';
import { defineConfig } from 'vitest/config';

// React 18, installed by the test/fixtures/react18 workspace (the project itself uses React 19).
const react18 = (name) =>
  fileURLToPath(new URL(`test/fixtures/react18/node_modules/${name}`, import.meta.url));

// Every suite runs under both DOM environments the library claims to support.
// The real-browser suite (test/e2e) has its own project because it drives
// Chromium from Node and must not run twice.
export default defineConfig({
  test: {
    setupFiles: ['test/setup.ts'],
    testTimeout: 15000,
    hookTimeout: 15000,
    projects: [
      {
        extends: true,
        test: {
          name: 'jsdom',
          environment: 'jsdom',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'test/node/**', 'test/model/**'],
        },
      },
      {
        extends: true,
        test: {
          name: 'happy-dom',
          environment: 'happy-dom',
          include: ['test/**/*.test.ts'],
          exclude: ['test/e2e/**', 'test/node/**', 'test/model/**'],
        },
      },
      // The React adapter's tests again on React 18 (syncwire/react supports 18 and 19): the
      // adapter and the tests import `react`, which resolves to React 18 here.
      {
        extends: true,
        resolve: { alias: { react: react18('react'), 'react-dom': react18('react-dom') } },
        test: {
          name: 'react18',
          environment: 'jsdom',
          include: ['test/unit/react.test.ts'],
          env: { EXPECT_REACT_MAJOR: '18' },
        },
      },
      // Checks of the built package (sizes): once, in plain Node.
      {
        extends: true,
        test: { name: 'node', environment: 'node', include: ['test/node/**/*.test.ts'] },
      },
      // Model-based tests: generated interleavings on simulated time, no DOM needed; run once.
      {
        extends: true,
        test: { name: 'model', environment: 'node', include: ['test/model/**/*.test.ts'] },
      },
      // Type tests (test/types/*.test-d.ts): compiled by tsc, never run; each test() counts.
      {
        extends: true,
        test: {
          name: 'types',
          include: [],
          typecheck: {
            enabled: true,
            only: true,
            include: ['test/types/**/*.test-d.ts'],
            tsconfig: 'test/types/tsconfig.json',
          },
        },
      },
      // Real headless Chromium (Debian's), driven from Node by playwright-core.
      {
        extends: true,
        test: {
          name: 'chromium',
          environment: 'node',
          include: ['test/e2e/**/*.test.ts'],
          testTimeout: 60000,
          hookTimeout: 120000,
          fileParallelism: false,
        },
      },
    ],
  },
});

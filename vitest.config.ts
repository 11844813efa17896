import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    include: ['test/**/*.test.ts'],
    // The binary tests run dist/: build it first when a source is newer.
    globalSetup: ['test/helpers/build-if-stale.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

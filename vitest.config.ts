import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    projects: [
      {
        test: {
          name: 'unit',
          include: ['src/**/*.test.ts', 'scripts/**/*.test.ts', 'test/unit/**/*.test.ts'],
          // AWS calls that break AWS's API model (botocore) fail the test that made them.
          setupFiles: ['test/support/model-check/vitest-setup.ts'],
        },
      },
      {
        test: {
          name: 'integration',
          include: ['test/integration/**/*.test.ts'],
          globalSetup: ['test/support/global-setup.ts', 'test/support/model-check/global-setup.ts'],
          setupFiles: ['test/support/model-check/vitest-setup.ts'],
          testTimeout: 120_000,
          hookTimeout: 180_000,
          // The control plane is shared and the machine has 2 cores: run files one at a time.
          fileParallelism: false,
        },
      },
    ],
  },
});

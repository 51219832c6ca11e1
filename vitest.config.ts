import { defineConfig } from 'vitest/config';

export default defineConfig({
  test: {
    // PKCS#11 initialisation and login state are per process: forks, never threads.
    pool: 'forks',
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'hsm/**/*.test.ts', 'ceremonies/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

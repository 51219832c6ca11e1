import { defineConfig } from 'vitest/config';

// The full suite, `npm test`: every test, SoftHSM2 tokens, PostgreSQL and child processes included
// (scripts/setup.mjs, run as pretest, provides them). `npm run test:unit` is the fast tier without them
// (vitest.unit.config.ts); longer runs such as crash injection at every step get their own script.
export default defineConfig({
  test: {
    // PKCS#11 initialisation and login state are per process: forks, never threads.
    pool: 'forks',
    include: ['test/**/*.test.ts', 'src/**/*.test.ts', 'hsm/**/*.test.ts', 'ceremonies/**/*.test.ts'],
    testTimeout: 60_000,
    hookTimeout: 60_000,
  },
});

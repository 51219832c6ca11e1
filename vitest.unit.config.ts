import { defineConfig } from 'vitest/config';
import { LAYERS } from './scripts/check-layers.mjs';
import full from './vitest.config.ts';

// The unit tier, `npm run test:unit`: seconds, with no SoftHSM2, no PostgreSQL and no child process.
// Membership follows the layer table of scripts/check-layers.mjs: the tests of the pure layers
// (test/crypto/, test/log/, test/roster/, test/protocol/, test/errors.test.ts and any colocated
// *.test.ts in those folders), plus the checks of the repository's own layout and docs (test/layout/,
// test/docs/). Pure code does no I/O, so its tests need none; test/layout/unit-tier-guard.ts makes a
// test that reaches for a child process, pkcs11js or pg fail here instead of slowing the tier down.
// `npm test` (vitest.config.ts) still runs every test, these included.
const pure = LAYERS.find((l) => l.name === 'pure')?.folders ?? [];
const tests = pure.flatMap((f) =>
  f.endsWith('.ts')
    ? [`test/${f.slice('src/'.length, -'.ts'.length)}.test.ts`]
    : [`test/${f.slice('src/'.length)}/**/*.test.ts`, `${f}/**/*.test.ts`],
);

export default defineConfig({
  test: {
    ...full.test,
    include: [...tests, 'test/layout/**/*.test.ts', 'test/docs/**/*.test.ts'],
    setupFiles: ['test/layout/unit-tier-guard.ts'],
  },
});

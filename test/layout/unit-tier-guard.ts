// Setup file of the unit tier (vitest.unit.config.ts): a unit test that reaches for a child process,
// a PKCS#11 token or PostgreSQL fails at import, naming what it reached for, instead of quietly making
// the tier slow or dependent on SoftHSM2 and a database. The full suite (`npm test`) does not load it.
import { vi } from 'vitest';

const { refuse } = vi.hoisted(() => ({
  refuse: (what: string) => () => {
    throw new Error(`the unit tier (npm run test:unit) runs without ${what}; this test belongs to npm test`);
  },
}));

vi.mock('node:child_process', refuse('child processes'));
vi.mock('child_process', refuse('child processes'));
vi.mock('pkcs11js', refuse('a PKCS#11 token (SoftHSM2)'));
vi.mock('pg', refuse('PostgreSQL'));

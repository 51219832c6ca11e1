/**
 * The CLI with crash injection, for the kill -9 tests only: `EMBASSY_TEST_KILL_AT` is a plan for
 * {@link killAt} (`point[:k],…`). The shipped CLI (bin/embassy.mjs) has no such variable; crash
 * injection enters only here (docs/DECISIONS.md#d53).
 *
 * @example
 * spawnSync(process.execPath, ['--import', 'tsx', WITH_FAULTS, 'ceremony', 'run', 'health-check', …],
 *   { env: { ...process.env, EMBASSY_TEST_KILL_AT: 'before:challenge-custodians' } });
 */
import { runMain } from '../../src/cli/main.ts';
import { killAt } from './faults.ts';

runMain(process.argv.slice(2), { faults: killAt(process.env['EMBASSY_TEST_KILL_AT']) });

/**
 * The CLI with crash injection and a clock, for tests only: `EMBASSY_TEST_KILL_AT` is a plan for
 * {@link killAt} (`point[:k],…`); `EMBASSY_TEST_NOW` (an RFC 3339 instant) fixes the commands' clock.
 * The shipped CLI (bin/embassy.mjs) has no such variables; faults and clocks enter only here
 * (docs/DECISIONS.md#d53).
 *
 * @example
 * spawnSync(process.execPath, ['--import', 'tsx', WITH_FAULTS, 'ceremony', 'run', 'health-check', …],
 *   { env: { ...process.env, EMBASSY_TEST_KILL_AT: 'before:challenge-custodians' } });
 */
import { runMain } from '../../src/cli/main.ts';
import { killAt } from './faults.ts';

const fixed = process.env['EMBASSY_TEST_NOW'];
runMain(process.argv.slice(2), {
  faults: killAt(process.env['EMBASSY_TEST_KILL_AT']),
  ...(fixed ? { now: () => new Date(fixed) } : {}),
});

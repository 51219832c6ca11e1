/**
 * The standard entry checks of an offline audit, as `embassy audit verify` runs them: the roster chain
 * from the auditor's pin with actor keys resolved from the roster in force (src/audit/bundle-roster.ts),
 * and the replay of every ceremony's unlock policy (src/audit/ceremony-check.ts).
 *
 * @example
 * const report = verifyBundle(bundle, { logKey, rosterPin, trustedCheckpoint, ...auditorChecks() });
 * @module
 */
import { rosterCheck } from './bundle-roster.ts';
import { ceremonyPolicyCheck } from './ceremony-check.ts';
import type { EntryCheck, KeyResolver } from './verify.ts';

/** Fresh checks (they keep state across one verification): spread them into `verifyBundle`'s options. */
export function auditorChecks(): { checks: EntryCheck[]; resolveKey: KeyResolver } {
  const roster = rosterCheck();
  return { checks: [roster.check, ceremonyPolicyCheck()], resolveKey: roster.resolveKey };
}

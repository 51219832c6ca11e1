/**
 * The roster as a pluggable {@link EntryCheck} of {@link verifyBundle}: verifies the bundle's roster
 * versions from the auditor's pin (each version signed by a quorum of the previous one, via
 * src/roster), names every `roster-version` entry whose version does not verify, and resolves actor
 * keys only from verified roster versions already logged (in force) at the entry.
 *
 * Ceremony policy replay (threshold, deadline, veto, organisations, releases after quorum) is a
 * further check (src/audit/ceremony-check.ts) that plugs in the same way; `auditorChecks()`
 * (src/audit/auditor.ts) composes both.
 *
 * @example
 * const roster = rosterCheck();
 * verifyBundle(bundle, { logKey, rosterPin, checks: [roster.check], resolveKey: roster.resolveKey });
 * @module
 */
import {
  principalKey,
  type RosterDoc,
  rosterIdHex,
  verifyPinnedRoster,
  verifyRosterUpdate,
} from '../roster/index.ts';
import type { VerifiedRoster } from '../roster/verify.ts';
import type { EntryCheck, KeyResolver } from './verify.ts';

const timeOf = (doc: RosterDoc | undefined): number => {
  const t = Date.parse(String((doc as { issuedAt?: unknown } | undefined)?.issuedAt));
  return Number.isFinite(t) ? t : Date.now();
};

/** A roster check and the key resolver it feeds. */
export function rosterCheck(): { check: EntryCheck; resolveKey: KeyResolver } {
  const verified = new Map<string, VerifiedRoster>();
  const failed = new Map<string, string>(); // rosterId → why
  const inForce = new Set<string>();
  const check: EntryCheck = {
    name: 'roster',
    kinds: ['roster-version'],
    begin(ctx, report) {
      if (ctx.rosterPin === undefined) {
        report({ code: 'roster_not_pinned', message: 'no roster pin given: actor keys cannot be trusted' });
        return;
      }
      const docs = ctx.rosterVersions.map((v) => (v.signed as { roster?: RosterDoc } | null)?.roster);
      const ids = docs.map((d) => {
        try {
          return d === undefined ? undefined : rosterIdHex(d);
        } catch {
          return undefined;
        }
      });
      const start = ids.indexOf(ctx.rosterPin);
      if (start < 0) {
        report({
          code: 'roster_pin_not_found',
          message: 'no roster version in the bundle matches the roster pin',
        });
        return;
      }
      let last: VerifiedRoster | undefined;
      for (let i = start; i < docs.length; i++) {
        const signed = ctx.rosterVersions[i]!.signed;
        try {
          // Each version is judged as of its own issue time: an auditor checks history, not today's validity.
          last =
            last === undefined
              ? verifyPinnedRoster(ctx.rosterPin, signed, timeOf(docs[i]))
              : verifyRosterUpdate(last, signed, timeOf(docs[i]));
          verified.set(last.rosterId, last);
        } catch (e) {
          const id = ids[i] ?? `#${i}`;
          failed.set(id, (e as Error).message);
          report({
            code: 'roster_chain_invalid',
            message: `roster version ${String(ctx.rosterVersions[i]!.version)} does not verify: ${(e as Error).message}`,
          });
          break; // later versions cannot be trusted either
        }
      }
    },
    entry(e, seq, report) {
      const id = e.data?.rosterId;
      if (typeof id !== 'string') {
        report({ code: 'ENTRY_MALFORMED', seq, message: `entry ${seq}: roster-version without a rosterId` });
        return;
      }
      if (verified.has(id)) inForce.add(id);
      else
        report({
          code: 'roster_change_unverified',
          seq,
          message: `entry ${seq}: roster version ${String(e.data?.version)} is not signed by a quorum of the pinned chain${
            failed.has(id) ? ` (${failed.get(id)})` : ''
          }`,
        });
    },
  };
  const resolveKey: KeyResolver = ({ signer, roster }) => {
    const v = verified.get(roster);
    if (v === undefined || !inForce.has(roster)) return null;
    try {
      return principalKey(v.roster, signer);
    } catch {
      return null;
    }
  };
  return { check, resolveKey };
}

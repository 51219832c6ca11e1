// The roster check plugged into verifyBundle: chain from the pin, roster changes signed by too few
// custodians, approvals signed by keys not in the roster in force.
import { sign as nodeSign } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { rosterCheck } from '../../src/audit/bundle-roster.ts';
import type { EntryInput } from '../../src/audit/log.ts';
import { verifyBundle } from '../../src/audit/verify.ts';
import { type Statement, signStatement } from '../../src/crypto/statement.ts';
import { nextVersion, rosterIdHex } from '../../src/roster/index.ts';
import { genesis, identity, p256Pair, signed } from '../roster/fixtures.ts';
import { bundleOf, entryTexts, LOG_KEY } from './bundle_helpers.ts';

const approve = (rosterId: string, who: string, key = identity(who).privateKey): Promise<Statement> =>
  signStatement(
    { type: 'approval', roster: rosterId, signer: `custodian/${who}`, body: { ceremony: 'c-1' } },
    async (p) => new Uint8Array(nodeSign('sha256', p, { key, dsaEncoding: 'ieee-p1363' })),
  );

describe('roster check', async () => {
  const g = genesis();
  const v1 = await signed(g, ['alice', 'bob', 'carol']);
  const v2doc = nextVersion(g);
  const v2 = await signed(v2doc, ['alice', 'bob']);
  const v3doc = nextVersion(v2doc);
  const v3 = await signed(v3doc, ['alice']); // below the root threshold of 2
  const [id1, id2, id3] = [rosterIdHex(g), rosterIdHex(v2doc), rosterIdHex(v3doc)];
  const rosterVersions = [v1, v2, v3].map((s, i) => ({
    version: i + 1,
    rosterId: rosterIdHex(s.roster),
    signed: JSON.parse(JSON.stringify(s)),
  }));
  const rv = (version: number, rosterId: string): EntryInput => ({
    kind: 'roster-version',
    actor: 'coordinator',
    data: { version, rosterId },
  });
  const appr = async (
    rosterId: string,
    who: string,
    key?: Parameters<typeof approve>[2],
  ): Promise<EntryInput> => ({
    kind: 'approval',
    actor: `custodian/${who}`,
    statement: await approve(rosterId, who, key),
    data: { ceremony: 'c-1' },
  });

  it('verifies the chain, names an under-signed roster change and unknown or not-in-force keys', async () => {
    const inputs = [
      rv(1, id1), // 0
      await appr(id1, 'alice'), // 1 ok
      await appr(id2, 'bob'), // 2 v2 not yet logged: not in force
      rv(2, id2), // 3
      await appr(id2, 'bob'), // 4 ok
      await appr(id2, 'carol', p256Pair('mallory').privateKey), // 5 wrong key
      rv(3, id3), // 6 signed by one custodian only
      await appr(id3, 'dave'), // 7 v3 not verified
    ];
    const texts = entryTexts(inputs);
    const b = { ...(await bundleOf(texts, [texts.length])), rosterVersions };
    const roster = rosterCheck();
    const r = verifyBundle(b, {
      logKey: LOG_KEY,
      rosterPin: id1,
      checks: [roster.check],
      resolveKey: roster.resolveKey,
    });
    const by = (code: string) => r.findings.filter((f) => f.code === code).map((f) => f.seq);
    expect(by('roster_chain_invalid')).toEqual([undefined]);
    expect(by('roster_change_unverified')).toEqual([6]);
    expect(by('statement_unknown_signer')).toEqual([2, 7]);
    expect(by('statement_bad_signature')).toEqual([5]);
    expect(r.statementsVerified).toBe(2);
  });

  it('refuses to trust keys without a pin, or with a pin the bundle does not contain', async () => {
    const texts = entryTexts([rv(1, id1), await appr(id1, 'alice')]);
    const b = { ...(await bundleOf(texts, [2])), rosterVersions };
    const a = rosterCheck();
    const r = verifyBundle(b, { logKey: LOG_KEY, checks: [a.check], resolveKey: a.resolveKey });
    expect(r.findings.map((f) => f.code)).toEqual([
      'roster_not_pinned',
      'roster_change_unverified',
      'statement_unknown_signer',
    ]);
    const c = rosterCheck();
    const r2 = verifyBundle(b, {
      logKey: LOG_KEY,
      rosterPin: 'ff'.repeat(32),
      checks: [c.check],
      resolveKey: c.resolveKey,
    });
    expect(r2.findings[0]!.code).toBe('roster_pin_not_found');
    const d = rosterCheck();
    const ok = verifyBundle(b, {
      logKey: LOG_KEY,
      rosterPin: id1,
      checks: [d.check],
      resolveKey: d.resolveKey,
    });
    expect(ok.findings.map((f) => f.code)).toEqual(['roster_chain_invalid']); // v3 in the bundle is under-signed
  });
});

// Refused roster versions: each with its RosterError code and a message naming the version and signer.
import { describe, expect, it } from 'vitest';
import {
  nextVersion,
  type RosterDoc,
  rosterIdHex,
  type SignedRoster,
  verifyPinnedRoster,
  verifyRosterChain,
  verifyRosterUpdate,
} from '../../src/roster/index.ts';
import { clone, codeOf, errorOf, genesis, NOW, p256Pair, signed, sigs } from './fixtures.ts';

const ROOT = ['alice', 'bob', 'carol'];

async function base() {
  const v1 = genesis();
  const s1 = await signed(v1, ROOT);
  const t1 = verifyPinnedRoster(rosterIdHex(v1), s1, NOW);
  return { v1, s1, t1 };
}

describe('pinning and genesis', () => {
  it('refuses a wrong pin', async () => {
    const { s1 } = await base();
    const e = errorOf(() => verifyRosterChain('00'.repeat(32), [s1], NOW));
    expect(e.code).toBe('roster_pin_mismatch');
    expect(e.message).toMatch(/not the pinned 0{64}/);
    expect(codeOf(() => verifyRosterChain('ABC', [s1], NOW))).toBe('roster_pin_mismatch');
  });

  it('refuses a genesis missing a root custodian signature, naming who is missing', async () => {
    const v1 = genesis();
    const s = await signed(v1, ['alice', 'carol']);
    const err = errorOf(() => verifyRosterChain(rosterIdHex(v1), [s], NOW));
    expect(err.code).toBe('roster_threshold_not_met');
    expect(err.message).toContain('missing: bob');
  });

  it('refuses an empty chain', () => {
    expect(codeOf(() => verifyRosterChain('00'.repeat(32), [], NOW))).toBe('roster_empty_chain');
  });

  it('refuses a genesis signature by a custodian outside the root', async () => {
    const v1 = genesis();
    const s = await signed(v1, [...ROOT, 'dave']);
    const err = errorOf(() => verifyRosterChain(rosterIdHex(v1), [s], NOW));
    expect(err.code).toBe('roster_unknown_signer');
    expect(err.message).toContain('"dave"');
  });
});

describe('version N+1', () => {
  it('refuses N+1 signed by too few of N root', async () => {
    const { v1, t1 } = await base();
    // v2's root is {alice, dave}, 1-of-2; only alice of v1's root signs (needs 2).
    const v2 = nextVersion(v1, { root: { custodians: ['alice', 'dave'], threshold: 1 } });
    const err = errorOf(() => verifyRosterUpdate(t1, { roster: v2, signatures: [] } as unknown, NOW));
    expect(err.code).toBe('roster_malformed'); // no signatures at all is malformed
    const s2 = await signed(v2, ['alice', 'dave']);
    const e2 = errorOf(() => verifyRosterUpdate(t1, s2, NOW));
    expect(e2.code).toBe('roster_threshold_not_met');
    expect(e2.message).toBe('roster version 2: 1 valid signatures of the root of version 1, 2 needed');
  });

  it('refuses N+1 signed by too few of N+1 root', async () => {
    const { v1, t1 } = await base();
    const v2 = nextVersion(v1, { root: { custodians: ['alice', 'dave', 'erin'], threshold: 2 } });
    const s2 = await signed(v2, ['alice', 'bob']); // 2 of v1's root, 1 of v2's
    const err = errorOf(() => verifyRosterUpdate(t1, s2, NOW));
    expect(err.code).toBe('roster_threshold_not_met');
    expect(err.message).toContain('of the root of version 2, 2 needed');
  });

  it('refuses a signature by a key that is not the signer key in the root', async () => {
    const { v1, t1 } = await base();
    const v2 = nextVersion(v1, { issuedAt: '2026-02-01T00:00:00Z' });
    const forged = await sigs(v2, ['bob'], { bob: p256Pair('mallory').privateKey });
    const s2 = { roster: v2, signatures: [...(await sigs(v2, ['alice', 'carol'])), ...forged] };
    const err = errorOf(() => verifyRosterUpdate(t1, s2, NOW));
    expect(err.code).toBe('roster_bad_signature');
    expect(err.message).toBe('roster version 2: the signature of "bob" does not verify');
  });

  it('refuses a signer that is a custodian but in neither root', async () => {
    const { v1, t1 } = await base();
    const v2 = nextVersion(v1, { issuedAt: '2026-02-01T00:00:00Z' });
    const s2 = await signed(v2, ['alice', 'bob', 'erin']);
    const err = errorOf(() => verifyRosterUpdate(t1, s2, NOW));
    expect(err.code).toBe('roster_unknown_signer');
    expect(err.message).toBe('roster version 2: "erin" is not in the root of version 1 or version 2');
  });

  it('refuses a duplicate signer (never counted twice)', async () => {
    const { v1, t1 } = await base();
    const v2 = nextVersion(v1, { issuedAt: '2026-02-01T00:00:00Z' });
    const [a1] = await sigs(v2, ['alice']);
    const [a2] = await sigs(v2, ['alice']); // a second, different ECDSA signature by alice
    expect(a1!.sig).not.toBe(a2!.sig);
    const err = errorOf(() => verifyRosterUpdate(t1, { roster: v2, signatures: [a1!, a2!] }, NOW));
    expect(err.code).toBe('roster_duplicate_signer');
    expect(err.message).toContain('"alice" signed twice');
  });

  it('refuses an older or the same version', async () => {
    const { v1, s1 } = await base();
    const v2 = nextVersion(v1, { issuedAt: '2026-02-01T00:00:00Z' });
    const s2 = await signed(v2, ROOT);
    const t2 = verifyRosterChain(rosterIdHex(v1), [s1, s2], NOW).current;
    const err = errorOf(() => verifyRosterUpdate(t2, s1, NOW));
    expect(err.code).toBe('roster_rollback');
    expect(err.message).toBe('roster version 1 is not newer than the trusted version 2');
    expect(codeOf(() => verifyRosterUpdate(t2, s2, NOW))).toBe('roster_rollback');
    expect(codeOf(() => verifyRosterChain(rosterIdHex(v1), [s1, s2, s1], NOW))).toBe('roster_rollback');
  });

  it('refuses an expired version (genesis, and the newest of a chain)', async () => {
    const { v1, s1, t1 } = await base();
    const late = new Date('2027-01-01T00:00:00Z'); // now == expires is expired
    const err = errorOf(() => verifyRosterChain(rosterIdHex(v1), [s1], late));
    expect(err.code).toBe('roster_expired');
    expect(err.message).toBe('roster version 1 expired at 2027-01-01T00:00:00Z');
    const v2 = nextVersion(v1, { issuedAt: '2026-02-01T00:00:00Z', expires: '2026-03-01T00:00:00Z' });
    const s2 = await signed(v2, ROOT);
    expect(codeOf(() => verifyRosterUpdate(t1, s2, NOW))).toBe('roster_expired');
  });

  it('refuses a previous mismatch', async () => {
    const { v1, t1 } = await base();
    const v2 = clone(nextVersion(v1, { issuedAt: '2026-02-01T00:00:00Z' })) as RosterDoc;
    v2.previous = 'ab'.repeat(32);
    const s2 = await signed(v2, ROOT);
    const err = errorOf(() => verifyRosterUpdate(t1, s2, NOW));
    expect(err.code).toBe('roster_previous_mismatch');
  });

  it('refuses a version gap', async () => {
    const { v1, t1 } = await base();
    const v2 = nextVersion(v1, { issuedAt: '2026-02-01T00:00:00Z' });
    const v3 = nextVersion(v2, { issuedAt: '2026-03-01T00:00:00Z' });
    const s3 = await signed(v3, ROOT);
    const err = errorOf(() => verifyRosterUpdate(t1, s3, NOW));
    expect(err.code).toBe('roster_version_gap');
    expect(err.message).toBe('roster version 3 does not follow the trusted version 1 (expected 2)');
  });

  it('refuses issuedAt going backwards', async () => {
    const { v1, t1 } = await base();
    const v2 = nextVersion(v1, { issuedAt: '2025-12-31T00:00:00Z' });
    const s2 = await signed(v2, ROOT);
    expect(codeOf(() => verifyRosterUpdate(t1, s2, NOW))).toBe('roster_bad_time');
  });

  it('refuses a document tampered with after signing', async () => {
    const { v1, t1 } = await base();
    const v2 = nextVersion(v1, { issuedAt: '2026-02-01T00:00:00Z' });
    const s2 = clone(await signed(v2, ROOT)) as SignedRoster & { roster: RosterDoc };
    (s2.roster.domains[0] as { threshold: number }).threshold = 2;
    (s2.roster.domains[0]!.epochs[0] as { threshold: number }).threshold = 2;
    const err = errorOf(() => verifyRosterUpdate(t1, s2, NOW));
    expect(err.code).toBe('roster_bad_signature');
    const g = clone(await signed(v1, ROOT)) as SignedRoster & { roster: RosterDoc };
    (g.roster.custodians[4] as { name: string }).name = 'Mallory';
    // The pin catches a tampered genesis before any signature is looked at.
    expect(codeOf(() => verifyRosterChain(rosterIdHex(v1), [g], NOW))).toBe('roster_pin_mismatch');
  });

  it('refuses a signature made for another version (replayed from version 1)', async () => {
    const { v1, s1, t1 } = await base();
    const v2 = nextVersion(v1, { issuedAt: '2026-02-01T00:00:00Z' });
    expect(codeOf(() => verifyRosterUpdate(t1, { roster: v2, signatures: s1.signatures }, NOW))).toBe(
      'roster_bad_signature',
    );
  });
});

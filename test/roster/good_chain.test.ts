// Accepted roster chains and the lookups built on them (docs/DECISIONS.md#d1; docs/ROSTER.md §4).
import { createHash } from 'node:crypto';
import { p256 } from '@noble/curves/nist.js';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.ts';
import { jcs } from '../../src/crypto/jcs.ts';
import { keyId } from '../../src/crypto/keys.ts';
import { rosterIdOf, verifyStatement } from '../../src/crypto/statement.ts';
import {
  currentEpoch,
  custodianKeys,
  domain,
  findCustodian,
  findEpoch,
  jobMaySeal,
  logKey,
  nextVersion,
  principalKey,
  quorumKey,
  rosterIdHex,
  rosterSigningPayload,
  rosterStatement,
  signerRef,
  signRoster,
  tokenSigner,
  verifyPinnedRoster,
  verifyRosterChain,
  verifyRosterUpdate,
} from '../../src/roster/index.ts';
import { custodian, genesis, identity, landDomain, NOW, ORGS, p256Pair, signed, sigs } from './fixtures.ts';

async function threeVersions() {
  const v1 = genesis();
  const s1 = await signed(v1, ['alice', 'bob', 'carol']);
  // v2: dave joins the root, which becomes 3-of-4; signed by 2 of v1's root and 3 of v2's.
  const v2 = nextVersion(v1, {
    issuedAt: '2026-02-01T00:00:00Z',
    root: { custodians: ['alice', 'bob', 'carol', 'dave'], threshold: 3 },
  });
  const s2 = await signed(v2, ['bob', 'carol', 'dave']);
  // v3: a new epoch of land (the old one retired), and a new custodian frank joins land.
  const ids = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
  const land = landDomain(ids, 4, 2);
  const old = structuredClone(v2.domains[0]!.epochs[0]!);
  old.retired = true;
  land.epochs.unshift(old);
  const v3 = nextVersion(v2, {
    issuedAt: '2026-03-01T00:00:00Z',
    custodians: [...v2.custodians, custodian('frank', ORGS[2]!)],
    domains: [land],
  });
  const s3 = await signed(v3, ['alice', 'carol', 'dave']);
  return { v1, v2, v3, s1, s2, s3 };
}

describe('genesis', () => {
  it('is pinned by SHA-256(JCS(document)) and verified when all its root custodians signed', async () => {
    const v1 = genesis();
    const pin = createHash('sha256').update(jcs(v1)).digest('hex');
    expect(rosterIdHex(v1)).toBe(pin);
    expect(toHex(rosterIdOf(v1))).toBe(pin);
    const s1 = await signed(v1, ['carol', 'alice', 'bob']);
    const { current, history } = verifyRosterChain(pin, [s1], NOW);
    expect(current.rosterId).toBe(pin);
    expect(current.roster).toEqual(v1);
    expect(history).toEqual([current]);
    expect(verifyPinnedRoster(pin, s1, NOW)).toEqual(current);
    expect(Object.isFrozen(current.roster.custodians[0])).toBe(true);
  });

  it('is accepted as JSON text too, and the custodians outside the root need not sign', async () => {
    const v1 = genesis();
    const s1 = await signed(v1, ['alice', 'bob', 'carol']);
    expect(verifyRosterChain(rosterIdHex(v1), [JSON.parse(JSON.stringify(s1))], NOW).current.rosterId).toBe(
      rosterIdHex(v1),
    );
  });

  it('a signature is an ES256 roster statement naming the document itself, signer custodian/<id>', async () => {
    const v1 = genesis();
    const [sig] = await sigs(v1, ['alice']);
    const stmt = { ...rosterStatement(v1, 'alice'), sig: sig!.sig };
    expect(stmt.type).toBe('roster');
    expect(stmt.roster).toBe(rosterIdHex(v1));
    expect(stmt.signer).toBe(signerRef('custodian', 'alice'));
    expect(verifyStatement(stmt, { alg: 'ecdsa-p256', publicKey: identity('alice').publicKey })).toBe(true);
    const expected = createHash('sha256')
      .update(Buffer.from('data-embassy/v1/roster\0'))
      .update(rosterIdOf(v1))
      .update(jcs({ body: v1, roster: rosterIdHex(v1), signer: 'custodian/alice', type: 'roster' }))
      .digest('hex');
    expect(toHex(rosterSigningPayload(v1, 'alice'))).toBe(expected);
  });

  it('a token signing SHA-256(payload) with CKM_ECDSA (tokenSigner) gives the same valid signature', async () => {
    const v1 = genesis();
    // CKM_ECDSA signs the 32 bytes it is given without hashing them: noble with prehash: false.
    const token = {
      sign: async (digest: Uint8Array) => p256.sign(digest, identity('bob').secretKey, { prehash: false }),
    };
    const sig = await signRoster(v1, 'bob', tokenSigner(token));
    const stmt = { ...rosterStatement(v1, 'bob'), sig: sig.sig };
    expect(verifyStatement(stmt, { alg: 'ecdsa-p256', publicKey: identity('bob').publicKey })).toBe(true);
  });
});

describe('a chain of three versions', () => {
  it('verifies from the pinned genesis, and step by step with verifyRosterUpdate', async () => {
    const { v1, v2, v3, s1, s2, s3 } = await threeVersions();
    const chain = verifyRosterChain(rosterIdHex(v1), [s1, s2, s3], NOW);
    expect(chain.history.map((h) => h.roster.version)).toEqual([1, 2, 3]);
    expect(chain.current.rosterId).toBe(rosterIdHex(v3));
    expect(v2.previous).toBe(rosterIdHex(v1));
    expect(v3.previous).toBe(rosterIdHex(v2));

    const t1 = verifyPinnedRoster(rosterIdHex(v1), s1, NOW);
    const t2 = verifyRosterUpdate(t1, s2, NOW);
    const t3 = verifyRosterUpdate(t2, s3, NOW);
    expect(t3).toEqual(chain.current);
  });

  it('a client that pinned version 2 skips the versions before it', async () => {
    const { v2, v3, s1, s2, s3 } = await threeVersions();
    const chain = verifyRosterChain(rosterIdHex(v2), [s1, s2, s3], NOW);
    expect(chain.history.map((h) => h.roster.version)).toEqual([2, 3]);
    expect(chain.current.rosterId).toBe(rosterIdHex(v3));
  });

  it('intermediate versions may have expired; only the newest must be current', async () => {
    const v1 = genesis({ expires: '2026-01-15T00:00:00Z' });
    const v2 = nextVersion(v1, { issuedAt: '2026-01-10T00:00:00Z', expires: '2027-01-01T00:00:00Z' });
    const chain = verifyRosterChain(
      rosterIdHex(v1),
      [await signed(v1, ['alice', 'bob', 'carol']), await signed(v2, ['alice', 'bob'])],
      NOW,
    );
    expect(chain.current.roster.version).toBe(2);
  });

  it('a custodian who rotates their identity key counts for the root whose key verifies', async () => {
    const v1 = genesis();
    const rotated = p256Pair('identity:bob:2');
    const custodians = structuredClone(v1.custodians);
    custodians[1] = custodian('bob', ORGS[1]!, rotated.publicKey);
    const v2 = nextVersion(v1, { custodians });
    // alice + carol meet v1's 2-of-3; bob signs with his new key and counts for v2's root only.
    const signatures = [
      ...(await sigs(v2, ['alice', 'carol'])),
      ...(await sigs(v2, ['bob'], { bob: rotated.privateKey })),
    ];
    const t1 = verifyPinnedRoster(rosterIdHex(v1), await signed(v1, ['alice', 'bob', 'carol']), NOW);
    expect(verifyRosterUpdate(t1, { roster: v2, signatures }, NOW).roster.version).toBe(2);
  });
});

describe('lookups', () => {
  it('find custodians, domains, epochs and principal keys in a verified version', async () => {
    const { v1, s1, s2, s3 } = await threeVersions();
    const { current } = verifyRosterChain(rosterIdHex(v1), [s1, s2, s3], NOW);
    expect(findCustodian(current, 'frank')?.organisation).toBe(ORGS[2]);
    expect(findCustodian(current.roster, 'nobody')).toBeUndefined();
    expect(custodianKeys(current, 'alice').identity).toEqual(identity('alice').publicKey);
    expect(custodianKeys(current, 'alice').xwing.length).toBe(1216);
    expect(domain(current, 'land').threshold).toBe(4);
    const epoch = currentEpoch(current, 'land');
    expect(epoch.epoch).toBe(2);
    expect(findEpoch(current, 'land', 1)?.retired).toBe(true);
    const q = quorumKey(epoch);
    expect(q.publicKey.length).toBe(1216);
    expect(toHex(keyId(q.publicKey))).toBe(toHex(q.keyId));

    expect(principalKey(current, 'alice')).toMatchObject({ role: 'custodian', alg: 'ecdsa-p256' });
    expect(principalKey(current, 'custodian/alice').publicKey).toEqual(identity('alice').publicKey);
    expect(principalKey(current, 'station-ee')).toMatchObject({ role: 'station', alg: 'ed25519' });
    expect(principalKey(current, 'station/station-lu')).toMatchObject({ role: 'station', alg: 'ecdsa-p256' });
    expect(principalKey(current, 'backup-land')).toMatchObject({ role: 'job', alg: 'ed25519' });
    expect(principalKey(current, 'nao')).toMatchObject({ role: 'auditor' });
    expect(logKey(current)).toMatchObject({ origin: 'embassy.example/audit', alg: 'ed25519' });
    expect(jobMaySeal(current, 'backup-land', 'land')).toBe(true);
    expect(jobMaySeal(current, 'backup-land', 'census')).toBe(false);
  });
});

// Refused roster documents: schema (strict, integers, encodings, key lengths) and semantic rules.
import { describe, expect, it } from 'vitest';
import {
  buildGenesis,
  nextVersion,
  parseRosterDoc,
  parseSignedRoster,
  type RosterDoc,
  rosterIdHex,
  signRoster,
  softwareSigner,
  verifyRosterChain,
} from '../../src/roster/index.ts';
import { b64, clone, codeOf, errorOf, genesis, identity, NOW, p256Pair, signed } from './fixtures.ts';

type Mutable = Record<string, unknown> & {
  custodians: Record<string, unknown>[];
  domains: (Record<string, unknown> & { epochs: Record<string, unknown>[]; custodians: string[] })[];
  root: { custodians: string[]; threshold: number };
  stations: Record<string, unknown>[];
  jobs: Record<string, unknown>[];
};
const doc = (): Mutable => clone(genesis()) as unknown as Mutable;
const parse = (d: unknown) => () => parseRosterDoc(d);

describe('schema', () => {
  it('refuses an unknown field, at the top or nested, naming it', () => {
    const d = doc();
    d.comment = 'hi';
    const e = errorOf(parse(d));
    expect(e.code).toBe('roster_malformed');
    expect(e.message).toBe('roster document: document: unknown field "comment"');
    const d2 = doc();
    d2.custodians[0]!.email = 'a@b';
    expect(errorOf(parse(d2)).message).toContain('custodians[0]: unknown field "email"');
  });

  it('refuses an unknown field in the signed wrapper and in a signature', async () => {
    const s = clone(await signed(genesis(), ['alice', 'bob', 'carol'])) as unknown as Record<
      string,
      unknown
    > & {
      signatures: Record<string, unknown>[];
    };
    s.signatures[0]!.keyid = 'x';
    expect(errorOf(() => parseSignedRoster(s)).message).toContain('signatures[0]: unknown field "keyid"');
    delete s.signatures[0]!.keyid;
    s.extra = 1;
    expect(codeOf(() => verifyRosterChain(rosterIdHex(genesis()), [s], NOW))).toBe('roster_malformed');
  });

  it('refuses floats and unsafe integers', () => {
    const d = doc();
    d.root.threshold = 1.5;
    expect(errorOf(parse(d)).message).toContain('root.threshold');
    const d2 = doc();
    d2.version = 2 ** 53;
    expect(codeOf(parse(d2))).toBe('roster_malformed');
    const d3 = doc();
    (d3.domains[0]!.policy as { coolOffSeconds: number }).coolOffSeconds = 0.5;
    expect(codeOf(parse(d3))).toBe('roster_malformed');
    const d4 = doc();
    d4.version = '1';
    expect(codeOf(parse(d4))).toBe('roster_malformed');
  });

  it('refuses a key of the wrong length, off the curve, compressed, or padded base64', () => {
    const bad = (mut: (d: Mutable) => void, field: string) => {
      const d = doc();
      mut(d);
      const e = errorOf(parse(d));
      expect(e.code).toBe('roster_malformed');
      expect(e.message).toContain(field);
    };
    const id = identity('alice').publicKey;
    bad((d) => (d.custodians[0]!.identityKey = b64(id.subarray(0, 64))), 'custodians[0].identityKey');
    bad(
      (d) => (d.custodians[0]!.identityKey = b64(Uint8Array.of(4, ...new Uint8Array(64).fill(1)))),
      'identityKey',
    );
    bad((d) => (d.custodians[0]!.transportKey = `${b64(id)}=`), 'transportKey');
    const compressed = Uint8Array.of(2 + (id[64]! & 1), ...id.subarray(1, 33));
    bad((d) => (d.custodians[0]!.identityKey = b64(compressed)), 'identityKey');
    bad((d) => (d.custodians[0]!.xwingKey = b64(new Uint8Array(1215))), 'xwingKey');
    bad((d) => ((d.log as { key: string }).key = b64(new Uint8Array(33))), 'log.key');
    bad(
      (d) => ((d.stations[0]!.signingKey as { publicKey: string }).publicKey = b64(id)),
      'stations[0].signingKey.publicKey',
    );
    bad((d) => ((d.stations[0]!.signingKey as { alg: string }).alg = 'rsa'), 'stations[0].signingKey');
    bad((d) => (d.domains[0]!.epochs[0]!.quorumPublicKey = 'embassy1qqqq'), 'quorumPublicKey');
    bad((d) => (d.domains[0]!.epochs[0]!.keyId = 'AB'.repeat(16)), 'keyId');
  });

  it('refuses bad ids, times and text', () => {
    const bad = (mut: (d: Mutable) => void) => {
      const d = doc();
      mut(d);
      expect(codeOf(parse(d))).toBe('roster_malformed');
    };
    bad((d) => (d.custodians[0]!.id = 'Alice'));
    bad((d) => (d.custodians[0]!.id = 'a'.repeat(64)));
    bad((d) => (d.issuedAt = '2026-01-01T00:00:00.000Z'));
    bad((d) => (d.issuedAt = '2026-02-30T00:00:00Z'));
    bad((d) => (d.expires = '2027-01-01T00:00:00+00:00'));
    bad((d) => (d.custodians[0]!.name = 'Alice\u202eecilA'));
    bad((d) => (d.custodians[0]!.name = ''));
    bad((d) => (d.format = 'data-embassy/roster/v2'));
    bad((d) => (d.previous = 'ab'.repeat(32))); // genesis with previous
    bad((d) => (d.domains[0]!.epochs[0]!.retired = 'yes'));
    bad((d) => (d.domains[0]!.policy = { ...(d.domains[0]!.policy as object), veto: 'some' }));
  });
});

describe('semantic rules', () => {
  const rule = (mut: (d: Mutable) => void, code: string, text: string) => {
    const d = doc();
    mut(d);
    const e = errorOf(parse(d));
    expect(e.code).toBe(code);
    expect(e.message).toContain(text);
  };

  it('refuses a domain threshold above its custodians', () => {
    rule(
      (d) => (d.domains[0]!.threshold = 6),
      'roster_bad_threshold',
      'domain "land": threshold 6 > 5 custodians',
    );
  });

  it('refuses an epoch keyId that is not SHA-256(quorumPublicKey)[0..16]', () => {
    rule((d) => (d.domains[0]!.epochs[0]!.keyId = '00'.repeat(16)), 'roster_key_id_mismatch', 'epoch 1');
  });

  it('refuses unknown and duplicate references', () => {
    rule((d) => d.domains[0]!.custodians.push('zed'), 'roster_unknown_reference', '"zed"');
    rule((d) => d.root.custodians.push('zed'), 'roster_unknown_reference', 'root names "zed"');
    rule((d) => d.root.custodians.push('alice'), 'roster_duplicate', 'root names "alice" twice');
    rule((d) => (d.jobs[0]!.domains = ['census']), 'roster_unknown_reference', 'unknown domain "census"');
    rule(
      (d) => (d.stations[0]!.id = 'alice'),
      'roster_duplicate',
      'id "alice" is used by a custodian and a station',
    );
    rule((d) => d.custodians.push(clone(d.custodians[0]!)), 'roster_duplicate', 'id "alice"');
    rule(
      (d) => (d.custodians[1]!.transportKey = d.custodians[0]!.identityKey),
      'roster_duplicate',
      'reuses the public key',
    );
    rule((d) => d.domains.push(clone(d.domains[0]!)), 'roster_duplicate', 'domain "land" is listed twice');
  });

  it('refuses thresholds that cannot be met', () => {
    rule((d) => (d.root.threshold = 4), 'roster_bad_threshold', 'root threshold 4 > 3');
    rule(
      (d) => (d.domains[0]!.minOrganisations = 4),
      'roster_bad_threshold',
      'minOrganisations 4 > 3 organisations',
    );
    rule(
      (d) => {
        d.domains[0]!.custodians = ['alice', 'dave']; // both of organisation ria
        d.domains[0]!.threshold = 2;
        d.domains[0]!.minOrganisations = 2;
      },
      'roster_bad_threshold',
      'minOrganisations 2 > 1 organisations',
    );
    rule((d) => (d.domains[0]!.epochs[0]!.threshold = 6), 'roster_bad_threshold', 'threshold 6 > 5 shares');
    rule(
      (d) => (d.domains[0]!.epochs[0]!.threshold = 2),
      'roster_bad_threshold',
      'share threshold 2 ≠ domain threshold 3',
    );
  });

  it('refuses epoch shares that do not name each domain custodian once with distinct x', () => {
    const shares = (d: Mutable) => d.domains[0]!.epochs[0]!.shares as { custodian: string; x: number }[];
    rule((d) => (shares(d)[1]!.x = 1), 'roster_bad_epoch', 'x = 1 is used twice');
    rule((d) => (shares(d)[1]!.custodian = 'alice'), 'roster_bad_epoch', '"alice" holds two shares');
    rule((d) => shares(d).pop(), 'roster_bad_epoch', 'custodian "erin" holds no share');
    rule(
      (d) => d.domains[0]!.custodians.pop(),
      'roster_bad_epoch',
      'share holder "erin" is not a custodian of the domain',
    );
  });

  it('refuses epochs out of order and a quorum key used twice', () => {
    rule(
      (d) => d.domains[0]!.epochs.push(clone(d.domains[0]!.epochs[0]!)),
      'roster_duplicate',
      'increasing order',
    );
    rule(
      (d) => {
        const e = clone(d.domains[0]!.epochs[0]!);
        e.epoch = 2;
        d.domains[0]!.epochs.push(e);
      },
      'roster_duplicate',
      'quorum key is used twice',
    );
  });

  it('refuses expires not after issuedAt', () => {
    rule((d) => (d.expires = d.issuedAt), 'roster_bad_time', 'is not before expires');
  });

  it('refuses a later version without previous', () => {
    const v2 = clone(nextVersion(genesis())) as unknown as Mutable;
    delete v2.previous;
    expect(errorOf(parse(v2)).message).toBe('roster version 2: previous is missing');
  });

  it('nobody signs a malformed document; builders refuse it too', async () => {
    const d = doc();
    d.domains[0]!.threshold = 9;
    await expect(
      signRoster(d as unknown as RosterDoc, 'alice', softwareSigner(identity('alice').privateKey)),
    ).rejects.toMatchObject({ code: 'roster_bad_threshold' });
    await expect(
      signRoster(genesis(), 'mallory', softwareSigner(p256Pair('m').privateKey)),
    ).rejects.toMatchObject({ code: 'roster_unknown_signer' });
    expect(codeOf(() => buildGenesis({ ...genesis(), root: { custodians: [], threshold: 1 } }))).toBe(
      'roster_malformed',
    );
  });

  it('refuses input that is not an object, and JSON text that is not JSON', () => {
    for (const v of [null, 1, 'x', [], undefined, { roster: null }]) {
      expect(codeOf(parse(v))).toBe('roster_malformed');
      expect(codeOf(() => parseSignedRoster(v))).toBe('roster_malformed');
    }
    expect(codeOf(() => parseSignedRoster('{"roster":'))).toBe('roster_malformed');
    expect(codeOf(() => verifyRosterChain('00'.repeat(32), [null, 5], NOW))).toBe('roster_malformed');
  });
});

// docs/DECISIONS.md#d10: purpose-separated signing payloads, statement IDs without the signature,
// ECDSA P-256 (malleable, lowS: false) and Ed25519 statements.
import { createHash, generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { p256 } from '@noble/curves/nist.js';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { concat, toHex, utf8 } from '../../src/crypto/bytes.ts';
import { canonicalize, jcs } from '../../src/crypto/jcs.ts';
import {
  parseStatement,
  rosterIdOf,
  type Statement,
  StatementError,
  signingPayload,
  signStatement,
  statementId,
  statementPayload,
  toBase64Url,
  type UnsignedStatement,
  verifyEcdsaP256Sha256,
  verifyStatement,
} from '../../src/crypto/statement.ts';

const ROSTER = rosterIdOf({ version: '1', custodians: [] });
const unsigned: UnsignedStatement = {
  type: 'approval',
  roster: toHex(ROSTER),
  signer: 'custodian/alice',
  body: { ceremony: 'c-0001', decision: 'approve', nonce: 'AAECAw' },
};

const code = (f: () => unknown) => {
  try {
    f();
  } catch (e) {
    if (e instanceof StatementError) return e.code;
    throw e;
  }
  return 'ok';
};

describe('signing payload', () => {
  it('is SHA-256("data-embassy/v1/" ‖ type ‖ 0x00 ‖ rosterId ‖ JCS(body)), byte for byte', () => {
    const body = { b: 1, a: 'x' };
    const expected = createHash('sha256')
      .update(concat(utf8('data-embassy/v1/approval'), Uint8Array.of(0), ROSTER, utf8('{"a":"x","b":1}')))
      .digest('hex');
    expect(toHex(signingPayload('approval', ROSTER, body))).toBe(expected);
    expect(toHex(rosterIdOf({ version: '1', custodians: [] }))).toBe(
      createHash('sha256').update('{"custodians":[],"version":"1"}').digest('hex'),
    );
  });
  it('known answer (also in docs/AUDIT-LOG.md)', () => {
    expect(toHex(signingPayload('approval', new Uint8Array(32), { ceremony: 'c-1' }))).toBe(
      createHash('sha256')
        .update(
          Buffer.concat([
            Buffer.from('data-embassy/v1/approval\0'),
            Buffer.alloc(32),
            Buffer.from('{"ceremony":"c-1"}'),
          ]),
        )
        .digest('hex'),
    );
  });
  it('the statement payload signs the statement without sig', () => {
    const p = statementPayload(unsigned);
    expect(p).toEqual(
      signingPayload('approval', ROSTER, {
        body: unsigned.body,
        roster: unsigned.roster,
        signer: unsigned.signer,
        type: 'approval',
      }),
    );
    expect(statementPayload({ ...unsigned, sig: 'whatever' } as Statement)).toEqual(p);
    expect(statementId(unsigned)).toEqual(p);
  });
  it('separates purposes, rosters, signers and bodies', () => {
    const p = toHex(statementPayload(unsigned));
    const variants: UnsignedStatement[] = [
      { ...unsigned, type: 'veto' },
      { ...unsigned, roster: toHex(new Uint8Array(32)) },
      { ...unsigned, signer: 'custodian/bob' },
      { ...unsigned, body: { ...(unsigned.body as object), decision: 'veto' } },
    ];
    for (const v of variants) expect(toHex(statementPayload(v))).not.toBe(p);
  });
  it('fail_ bad type, roster ID or body', () => {
    expect(code(() => signingPayload('Approval', ROSTER, {}))).toBe('statement_bad_type');
    expect(code(() => signingPayload('a\u0000b', ROSTER, {}))).toBe('statement_bad_type');
    expect(code(() => signingPayload('a/b', ROSTER, {}))).toBe('statement_bad_type');
    expect(code(() => signingPayload('approval', new Uint8Array(31), {}))).toBe('statement_bad_roster_id');
    expect(code(() => signingPayload('approval', ROSTER, { x: Number.NaN }))).toBe('statement_not_json');
    expect(code(() => statementPayload({ ...unsigned, roster: toHex(ROSTER).toUpperCase() }))).toBe(
      'statement_bad_roster_id',
    );
  });
  it('does not depend on member order (property)', () => {
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.jsonValue({ maxDepth: 3 })), (body) => {
        const reversed = Object.fromEntries(Object.entries(body).reverse());
        expect(signingPayload('t', ROSTER, reversed)).toEqual(signingPayload('t', ROSTER, body));
      }),
      { numRuns: 200 },
    );
  });
});

describe('ECDSA P-256 statements (custodian tokens: ES256 over the payload)', () => {
  const sk = p256.utils.randomSecretKey();
  const pk = p256.getPublicKey(sk);
  const key = { alg: 'ecdsa-p256' as const, publicKey: pk };
  const sign = async (payload: Uint8Array) => p256.sign(payload, sk); // prehash: SHA-256(payload)

  it('good_ signs and verifies; tampering fails', async () => {
    const s = await signStatement(unsigned, sign);
    expect(verifyStatement(s, key)).toBe(true);
    expect(parseStatement(jcs(s))).toEqual(s);
    expect(verifyStatement({ ...s, type: 'veto' }, key)).toBe(false);
    expect(verifyStatement({ ...s, signer: 'custodian/bob' }, key)).toBe(false);
    expect(verifyStatement({ ...s, body: { ceremony: 'c-0002' } }, key)).toBe(false);
    expect(verifyStatement({ ...s, roster: toHex(new Uint8Array(32)) }, key)).toBe(false);
    expect(verifyStatement({ ...s, sig: `${s.sig}A` }, key)).toBe(false);
    expect(verifyStatement(s, { alg: 'ed25519', publicKey: pk })).toBe(false);
    expect(verifyStatement(s, { alg: 'ecdsa-p256', publicKey: new Uint8Array(65) })).toBe(false);
  });
  it('a malleated (high-S) signature verifies and has the same statement ID', async () => {
    const s = await signStatement(unsigned, sign);
    const sig = p256.Signature.fromBytes(Buffer.from(s.sig, 'base64url'));
    const flipped = new p256.Signature(sig.r, p256.Point.CURVE().n - sig.s);
    const s2 = { ...s, sig: toBase64Url(flipped.toBytes('compact')) };
    expect(s2.sig).not.toBe(s.sig);
    expect(verifyStatement(s2, key)).toBe(true);
    expect(statementId(s2)).toEqual(statementId(s));
  });
  it('interoperates with a token that signs SHA-256(payload) raw (CKM_ECDSA), compressed keys too', async () => {
    const digest = new Uint8Array(createHash('sha256').update(statementPayload(unsigned)).digest());
    const raw = p256.sign(digest, sk, { prehash: false, lowS: false });
    const s = { ...unsigned, sig: toBase64Url(raw) };
    expect(verifyStatement(s, key)).toBe(true);
    expect(verifyStatement(s, { alg: 'ecdsa-p256', publicKey: p256.getPublicKey(sk, true) })).toBe(true);
    expect(verifyStatement(s, { alg: 'ecdsa-p256', publicKey: p256.getPublicKey(sk, false) })).toBe(true);
  });
});

describe('Ed25519 statements (stations, jobs)', () => {
  it('good_ signs and verifies', async () => {
    const { privateKey, publicKey } = generateKeyPairSync('ed25519');
    const raw = new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(12));
    const s = await signStatement(unsigned, async (p) => new Uint8Array(nodeSign(null, p, privateKey)));
    expect(verifyStatement(s, { alg: 'ed25519', publicKey: raw })).toBe(true);
    expect(verifyStatement({ ...s, signer: 'x' }, { alg: 'ed25519', publicKey: raw })).toBe(false);
  });
});

describe('parseStatement', () => {
  const s: Statement = { ...unsigned, sig: 'AAAA' };
  it('good_ parses canonical bytes', () => expect(parseStatement(jcs(s))).toEqual(s));
  it('fail_ rejects extra or missing members, padding, non-canonical text', () => {
    expect(code(() => parseStatement(jcs({ ...s, extra: 1 })))).toBe('statement_malformed');
    const { sig: _sig, ...noSig } = s;
    expect(code(() => parseStatement(jcs(noSig)))).toBe('statement_malformed');
    expect(code(() => parseStatement(jcs({ ...s, sig: 'AA==' })))).toBe('statement_malformed');
    expect(code(() => parseStatement(jcs({ ...s, sig: 'AB' })))).toBe('statement_malformed');
    expect(code(() => parseStatement(JSON.stringify(s, null, 1)))).toBe('statement_not_json');
    expect(code(() => parseStatement('[]'))).toBe('statement_malformed');
  });
  it('random input throws only StatementError', () => {
    const base = canonicalize(s);
    fc.assert(
      fc.property(fc.nat(), fc.string({ maxLength: 3 }), (i, ins) => {
        const t = base.slice(0, i % base.length) + ins + base.slice((i % base.length) + 1);
        try {
          parseStatement(t);
        } catch (e) {
          expect(e).toBeInstanceOf(StatementError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('Wycheproof ecdsa_secp256r1_sha256_p1363 against verifyEcdsaP256Sha256 (node:crypto)', () => {
  const file = JSON.parse(
    readFileSync(
      new URL('../vectors/wycheproof/ecdsa_secp256r1_sha256_p1363_test.json', import.meta.url),
      'utf8',
    ),
  );
  const hex = (h: string) => new Uint8Array(Buffer.from(h, 'hex'));
  let n = 0;
  for (const g of file.testGroups)
    for (const t of g.tests) {
      n++;
      it(`tc ${t.tcId} (${t.result}) ${t.comment}`, () => {
        expect(verifyEcdsaP256Sha256(hex(g.publicKey.uncompressed), hex(t.msg), hex(t.sig))).toBe(
          t.result === 'valid',
        );
      });
    }
  it('has all 262 cases', () => expect(n).toBe(262));
});

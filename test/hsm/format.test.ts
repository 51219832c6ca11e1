import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { HsmError } from '../../hsm/errors.ts';
import {
  cutToLength,
  encodeEnvelope,
  encodeImportHeader,
  encodeReleaseHeader,
  MODE_ECDH_KWP,
  MODE_TRUSTED_RSA_OAEP,
  parseImportEnvelope,
  parseImportInner,
  parseReleaseEnvelope,
  parseReleaseInner,
} from '../../hsm/format.ts';
import { receiveRelease } from '../../hsm/station.ts';
import { fromHex } from '../../src/crypto/bytes.ts';
import { xwingKeygen } from '../../src/crypto/xwing.ts';
import { buildVector, IMPORT_INPUTS, RELEASE_INPUTS } from './vectors.ts';

const file = JSON.parse(readFileSync(new URL('../vectors/hsm/envelopes.json', import.meta.url), 'utf8'));

describe('known-answer vectors (test/vectors/hsm/envelopes.json)', () => {
  it('good_release_vector: encoding the inputs gives the recorded bytes', async () => {
    expect(await buildVector('release', RELEASE_INPUTS)).toEqual(file.vectors[0]);
  });

  it('good_import_vector: encoding the inputs gives the recorded bytes', async () => {
    expect(await buildVector('import', IMPORT_INPUTS)).toEqual(file.vectors[1]);
  });

  it('good_receive_vector: the station opens the recorded release (SoftHSM 40-byte padding cut to 33)', async () => {
    const v = file.vectors[0];
    const i = v.inputs;
    const share = await receiveRelease(
      {
        p256: { secretKey: fromHex(i.recipientSk), publicKey: fromHex(v.intermediate.recipientPub) },
        xwing: xwingKeygen(fromHex(i.recipientXWingSeed)),
      },
      fromHex(v.envelope),
      {
        domain: i.domain,
        epoch: i.epoch,
        ceremony: fromHex(i.ceremony),
        custodian: i.custodian,
        commitment: {
          custodian: i.custodian,
          keyCeremonyId: i.keyCeremonyId,
          salt: fromHex(i.salt),
          commitment: fromHex(v.intermediate.commitment),
        },
      },
    );
    expect(share).toEqual(fromHex(i.share));
  });

  it('good_parse_vectors: the recorded envelopes parse into their header fields', () => {
    const r = parseReleaseEnvelope(fromHex(file.vectors[0].envelope));
    expect(r.header).toMatchObject({ mode: 1, domain: 'land', epoch: 3, custodian: 'custodian-1' });
    expect(r.aad).toEqual(fromHex(file.vectors[0].intermediate.header));
    expect(r.sealed.enc).toHaveLength(1120);
    const m = parseImportEnvelope(fromHex(file.vectors[1].envelope));
    expect(m.header.transport).toEqual(fromHex(file.vectors[1].intermediate.recipientPub));
    expect(parseImportInner(fromHex(file.vectors[1].intermediate.inner)).kcv).toEqual(
      fromHex(file.vectors[1].intermediate.kcv),
    );
  });
});

/** Runs `f` and accepts only success or an HsmError with one of `codes`. */
function onlyTyped(f: () => unknown, codes: string[]) {
  try {
    f();
  } catch (e) {
    if (!(e instanceof HsmError) || !codes.includes(e.code)) throw e;
  }
}

const bytes = fc.uint8Array({ minLength: 0, maxLength: 3000 });
const domain = fc.stringMatching(/^[a-z0-9][a-z0-9_-]{0,62}$/);
const noControl = (s: string) =>
  Buffer.byteLength(s) <= 128 && [...s].every((ch) => ch.charCodeAt(0) >= 0x20 && ch.charCodeAt(0) !== 0x7f);
const custodian = fc.string({ unit: 'grapheme', minLength: 1, maxLength: 20 }).filter(noControl);
const point = fc.uint8Array({ minLength: 65, maxLength: 65 });
const d32 = fc.uint8Array({ minLength: 32, maxLength: 32 });

describe('parsers never crash: only typed errors (fast-check)', () => {
  it('prop_release_random: random bytes → bad_envelope or a parse', () => {
    fc.assert(
      fc.property(bytes, (b) => onlyTyped(() => parseReleaseEnvelope(b), ['bad_envelope'])),
      {
        numRuns: 2000,
      },
    );
  });

  it('prop_import_random: random bytes → bad_envelope or a parse', () => {
    fc.assert(
      fc.property(bytes, (b) => onlyTyped(() => parseImportEnvelope(b), ['bad_envelope'])),
      {
        numRuns: 2000,
      },
    );
  });

  it('prop_inner_random: random inner payloads → bad_envelope or a parse', () => {
    fc.assert(
      fc.property(
        fc.uint8Array({ maxLength: 300 }),
        fc.constantFrom(MODE_ECDH_KWP, MODE_TRUSTED_RSA_OAEP),
        (b, m) => {
          onlyTyped(() => parseReleaseInner(m, b), ['bad_envelope']);
          onlyTyped(() => parseImportInner(b), ['bad_envelope']);
        },
      ),
      { numRuns: 3000 },
    );
  });

  it('prop_mutated_vector: any byte flips, truncations and extensions of a real envelope stay typed', () => {
    const env = fromHex(file.vectors[0].envelope);
    fc.assert(
      fc.property(
        fc.nat({ max: env.length - 1 }),
        fc.integer({ min: 1, max: 255 }),
        fc.nat({ max: env.length + 10 }),
        (at, x, cut) => {
          const m = Uint8Array.from(env);
          m[at]! ^= x;
          onlyTyped(() => parseReleaseEnvelope(m), ['bad_envelope']);
          const t = new Uint8Array(cut);
          t.set(env.subarray(0, Math.min(cut, env.length)));
          onlyTyped(() => parseReleaseEnvelope(t), ['bad_envelope']);
        },
      ),
      { numRuns: 2000 },
    );
  });

  it('prop_roundtrip: encode → parse gives back every header field', () => {
    fc.assert(
      fc.property(
        domain,
        fc.nat({ max: 0xffffffff }),
        d32,
        custodian,
        point,
        fc.uint8Array({ minLength: 1120, maxLength: 1120 }),
        fc.uint8Array({ minLength: 16, maxLength: 200 }),
        (dom, epoch, ceremony, cust, recipient, enc, ct) => {
          const h = { domain: dom, epoch, ceremony, custodian: cust, mode: MODE_ECDH_KWP as 1, recipient };
          const env = encodeEnvelope(encodeReleaseHeader(h), { enc, ct });
          const p = parseReleaseEnvelope(env);
          expect(p.header).toEqual(h);
          expect(p.sealed).toEqual({ enc, ct });
          const ih = { domain: dom, epoch, ceremony, custodian: cust, transport: recipient };
          expect(parseImportEnvelope(encodeEnvelope(encodeImportHeader(ih), { enc, ct })).header).toEqual(ih);
        },
      ),
      { numRuns: 300 },
    );
  });

  it('prop_length_rule: cutToLength returns exactly L bytes or auth_failed', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 80 }), fc.integer({ min: 1, max: 72 }), (inner, L) => {
        try {
          const out = cutToLength(inner, L);
          expect(out).toHaveLength(L);
          expect(inner.subarray(L).every((b) => b === 0)).toBe(true);
          expect(inner.length === L || inner.length === Math.ceil(L / 8) * 8).toBe(true);
        } catch (e) {
          expect(e).toMatchObject({ code: 'auth_failed' });
        }
      }),
      { numRuns: 3000 },
    );
  });
});

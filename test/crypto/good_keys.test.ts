import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  formatKeyFile,
  formatPublicKey,
  formatSecretKey,
  KeyFormatError,
  parseKeyFile,
  parsePublicKey,
  parseRecipientsFile,
  parseSecretKey,
} from '../../src/crypto/keys.ts';
import { xwingKeygen } from '../../src/crypto/xwing.ts';

const kp = xwingKeygen(new Uint8Array(32).fill(42));

describe('key text forms', () => {
  it('round-trip public and private keys', () => {
    const pub = formatPublicKey(kp.publicKey);
    expect(pub.startsWith('embassy1')).toBe(true);
    expect(parsePublicKey(pub)).toEqual(kp.publicKey);
    const sec = formatSecretKey(kp.seed);
    expect(sec.startsWith('EMBASSY-SECRET-KEY-1')).toBe(true);
    expect(parseSecretKey(sec)).toEqual(kp.seed);
  });

  it('catch any single mistyped character of a public key', () => {
    const pub = formatPublicKey(kp.publicKey);
    const alphabet = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
    fc.assert(
      fc.property(fc.integer({ min: 8, max: pub.length - 1 }), fc.constantFrom(...alphabet), (i, c) => {
        fc.pre(pub[i] !== c);
        const typo = pub.slice(0, i) + c + pub.slice(i + 1);
        expect(() => parsePublicKey(typo)).toThrow(KeyFormatError);
      }),
      { numRuns: 200 },
    );
  });

  it('refuse a private key where a public key is expected, and truncated keys', () => {
    expect(() => parsePublicKey(formatSecretKey(kp.seed))).toThrow(KeyFormatError);
    expect(() => parsePublicKey(formatPublicKey(kp.publicKey).slice(0, -10))).toThrow(KeyFormatError);
    expect(() => parseSecretKey('')).toThrow(KeyFormatError);
  });

  it('never throw anything but KeyFormatError on arbitrary text', () => {
    fc.assert(
      fc.property(fc.string(), (s) => {
        for (const f of [parsePublicKey, parseSecretKey]) {
          try {
            f(s);
          } catch (e) {
            expect(e).toBeInstanceOf(KeyFormatError);
          }
        }
      }),
    );
  });

  it('parse key files and recipients files, naming the bad line', () => {
    const file = formatKeyFile(kp.seed, new Date('2026-01-01T00:00:00Z'));
    expect(file).toContain('# created: 2026-01-01T00:00:00Z');
    expect(parseKeyFile(file)[0]!.publicKey).toEqual(kp.publicKey);
    expect(() => parseKeyFile('# nothing\n')).toThrow('key file holds no private key');
    expect(() => parseKeyFile('# c\nEMBASSY-SECRET-KEY-1XYZ\n')).toThrow(/line 2/);
    expect(parseRecipientsFile(`# r\n${formatPublicKey(kp.publicKey)}\n\n`)).toHaveLength(1);
    expect(() => parseRecipientsFile('embassy1abc')).toThrow(/line 1/);
  });
});

import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { inflateSync } from 'node:zlib';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/crypto/bytes.ts';
import {
  CHUNK_SIZE,
  ChunkedError,
  chunkNonce,
  decryptChunked,
  deriveChunkKeys,
  encryptChunked,
} from '../../src/crypto/chunked.ts';

interface Vector {
  tcId: number;
  comment: string;
  key: string;
  ctx: string;
  ct: string;
  aeadKey?: string;
  baseNonce?: string;
  msgLength?: number;
  msgSha512?: string;
  result: 'valid' | 'invalid';
  flags: string[];
}

const file = JSON.parse(
  readFileSync(
    new URL('../vectors/wycheproof/c2sp_chunked_encryption_aes_256_gcm_test.json', import.meta.url),
    'utf8',
  ),
);
const vectors: Vector[] = file.testGroups.flatMap((g: { tests: Vector[] }) => g.tests);

describe('C2SP chunked encryption (Cobblestone-256) against Wycheproof', () => {
  it('has all 35 vectors', () => expect(vectors).toHaveLength(35));
  for (const v of vectors) {
    it(`tc ${v.tcId} ${v.result}: ${v.comment}`, () => {
      // Wycheproof stores these ciphertexts zlib-compressed, then hex-encoded.
      const ct = new Uint8Array(inflateSync(fromHex(v.ct)));
      const key = fromHex(v.key);
      const ctx = fromHex(v.ctx);
      if (v.result === 'valid') {
        const pt = decryptChunked(key, ctx, ct);
        expect(pt.length).toBe(v.msgLength);
        expect(createHash('sha512').update(pt).digest('hex').startsWith(v.msgSha512!)).toBe(true);
      } else {
        expect(() => decryptChunked(key, ctx, ct)).toThrow(ChunkedError);
      }
      if (v.aeadKey && v.baseNonce && key.length === 32) {
        const keys = deriveChunkKeys(key, ct.subarray(0, 24), ctx);
        expect(toHex(keys.key)).toBe(v.aeadKey);
        expect(toHex(keys.baseNonce)).toBe(v.baseNonce);
      }
    });
  }
});

describe('chunked encryption properties', () => {
  it('round-trips sizes around chunk boundaries', () => {
    const key = new Uint8Array(32).fill(9);
    const sizes = fc.oneof(
      fc.integer({ min: 0, max: 3 * CHUNK_SIZE + 5 }),
      fc.constantFrom(0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 2 * CHUNK_SIZE + 1),
    );
    fc.assert(
      fc.property(sizes, fc.uint8Array({ maxLength: 8 }), (n, ctx) => {
        const pt = new Uint8Array(n).map((_, i) => i * 7);
        const body = encryptChunked(key, ctx, pt);
        expect(body.length).toBe(56 + n + (Math.floor(n / CHUNK_SIZE) + 1) * 16);
        expect(decryptChunked(key, ctx, body)).toEqual(pt);
      }),
      { numRuns: 40 },
    );
  });

  it('detects every single-byte change of a small body', () => {
    const key = new Uint8Array(32).fill(3);
    const body = encryptChunked(key, new Uint8Array(0), new Uint8Array(40).fill(1));
    for (let i = 0; i < body.length; i++) {
      const bad = body.slice();
      bad[i] = bad[i]! ^ 0x80;
      expect(() => decryptChunked(key, new Uint8Array(0), bad)).toThrow(ChunkedError);
    }
  });

  it('XORs the chunk index into the last five nonce bytes, big-endian', () => {
    const base = new Uint8Array(12);
    expect(toHex(chunkNonce(base, 0x01020304))).toBe('000000000000000001020304');
    expect(toHex(chunkNonce(base, 256))).toBe('000000000000000000000100');
    expect(() => chunkNonce(base, 2 ** 32)).toThrow('maximum number of chunks');
  });
});

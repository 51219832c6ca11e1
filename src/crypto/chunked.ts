/**
 * C2SP chunked encryption (c2sp.org/chunked-encryption @ 5ba5ee8), instantiation Cobblestone-256:
 * HKDF-Expand-SHA-512 derivation, AES-256-GCM, 16 KiB chunks, 24-byte salt, 32-byte key commitment.
 * Passes the Wycheproof c2sp_chunked_encryption_aes_256_gcm vectors (test/crypto/good_chunked_vectors.test.ts).
 *
 * This module holds the per-chunk primitives; src/archive streams them (and spreads them over
 * worker threads, since chunks are independent).
 *
 * @example
 * const body = encryptChunked(dek, context, plaintext);
 * decryptChunked(dek, context, body); // === plaintext
 */
import { createHmac, randomBytes } from 'node:crypto';
import { concat, equalCt, utf8 } from './bytes.ts';
import { ChunkedError, processChunks } from './chunk-aead.js';

export {
  CHUNK_SIZE,
  ChunkedError,
  type ChunkedErrorCode,
  type ChunkRun,
  chunkNonce,
  decryptChunkInto,
  ENCRYPTED_CHUNK_SIZE,
  encryptChunkInto,
  MAX_CHUNKS,
  processChunks,
  runChunks,
  runOutputSize,
  TAG_SIZE,
} from './chunk-aead.js';

export const KEY_SIZE = 32;
export const SALT_SIZE = 24;
export const COMMITMENT_SIZE = 32;
export const BODY_HEADER_SIZE = SALT_SIZE + COMMITMENT_SIZE;

const LABEL = utf8('c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM\0');

export interface ChunkKeys {
  key: Uint8Array;
  baseNonce: Uint8Array;
  commitment: Uint8Array;
}

/** `key ‖ base_nonce ‖ commitment = HKDF-Expand(SHA-512, prk = K, info = label ‖ 0x00 ‖ salt ‖ context, 76)`. */
export function deriveChunkKeys(k: Uint8Array, salt: Uint8Array, context: Uint8Array): ChunkKeys {
  if (k.length !== KEY_SIZE)
    throw new ChunkedError('bad_key_size', 'chunked encryption key must be 32 bytes');
  if (salt.length !== SALT_SIZE)
    throw new ChunkedError('bad_salt', 'chunked encryption salt must be 24 bytes');
  const okm = hkdfExpandSha512(k, concat(LABEL, salt, context), 76);
  return { key: okm.subarray(0, 32), baseNonce: okm.subarray(32, 44), commitment: okm.subarray(44, 76) };
}

/**
 * RFC 5869 HKDF-Expand over node's HMAC-SHA-512. The spec keys it directly with the 32-byte K
 * (no Extract); node's hkdf always extracts and noble's `expand` refuses a PRK shorter than 64 bytes.
 */
function hkdfExpandSha512(prk: Uint8Array, info: Uint8Array, length: number): Uint8Array {
  const blocks: Uint8Array[] = [];
  let t: Uint8Array = new Uint8Array(0);
  for (let i = 1; blocks.length * 64 < length; i++) {
    t = createHmac('sha512', prk).update(t).update(info).update(Uint8Array.of(i)).digest();
    blocks.push(t);
  }
  return concat(...blocks).subarray(0, length);
}

/** Body header: a fresh salt and the commitment to (K, salt, context). */
export function startBody(k: Uint8Array, context: Uint8Array, salt: Uint8Array = randomBytes(SALT_SIZE)) {
  const keys = deriveChunkKeys(k, salt, context);
  return { keys, header: concat(salt, keys.commitment) };
}

/** Derives the chunk keys from a body header and checks the commitment in constant time, before any chunk. */
export function verifyBodyHeader(k: Uint8Array, context: Uint8Array, header: Uint8Array): ChunkKeys {
  if (header.length < BODY_HEADER_SIZE) throw new ChunkedError('truncated', 'archive is truncated');
  const keys = deriveChunkKeys(k, header.subarray(0, SALT_SIZE), context);
  if (!equalCt(keys.commitment, header.subarray(SALT_SIZE, BODY_HEADER_SIZE))) {
    throw new ChunkedError(
      'commitment_mismatch',
      'archive body does not match its key (commitment check failed)',
    );
  }
  return keys;
}

/** In-memory encryption: `salt ‖ commitment ‖ chunk_0 ‖ … ‖ chunk_n`. */
export function encryptChunked(k: Uint8Array, context: Uint8Array, plaintext: Uint8Array, salt?: Uint8Array) {
  const { keys, header } = startBody(k, context, salt);
  return concat(header, processChunks(keys, { mode: 'seal', data: plaintext, firstIndex: 0, final: true }));
}

/** In-memory decryption of a whole body; throws {@link ChunkedError} and releases nothing on any failure. */
export function decryptChunked(k: Uint8Array, context: Uint8Array, body: Uint8Array): Uint8Array {
  if (k.length !== KEY_SIZE)
    throw new ChunkedError('bad_key_size', 'chunked encryption key must be 32 bytes');
  if (body.length < BODY_HEADER_SIZE) throw new ChunkedError('truncated', 'archive is truncated');
  const keys = verifyBodyHeader(k, context, body.subarray(0, BODY_HEADER_SIZE));
  const run = { mode: 'open', data: body.subarray(BODY_HEADER_SIZE), firstIndex: 0, final: true } as const;
  return processChunks(keys, run);
}

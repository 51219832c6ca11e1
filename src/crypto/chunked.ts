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
import { createCipheriv, createDecipheriv, createHmac, randomBytes } from 'node:crypto';
import { concat, equalCt, utf8 } from './bytes.ts';

export const KEY_SIZE = 32;
export const SALT_SIZE = 24;
export const COMMITMENT_SIZE = 32;
export const BODY_HEADER_SIZE = SALT_SIZE + COMMITMENT_SIZE;
export const CHUNK_SIZE = 16384;
export const TAG_SIZE = 16;
export const ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;
/** We cap at 2^32 chunks (64 TiB); the spec allows up to 2^38 and asks for no less than 2^32. */
export const MAX_CHUNKS = 2 ** 32;

const LABEL = utf8('c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM\0');

export interface ChunkKeys {
  key: Uint8Array;
  baseNonce: Uint8Array;
  commitment: Uint8Array;
}

/** `key ‖ base_nonce ‖ commitment = HKDF-Expand(SHA-512, prk = K, info = label ‖ 0x00 ‖ salt ‖ context, 76)`. */
export function deriveChunkKeys(k: Uint8Array, salt: Uint8Array, context: Uint8Array): ChunkKeys {
  if (k.length !== KEY_SIZE) throw new ChunkedError('bad_key_size', 'chunked encryption key must be 32 bytes');
  if (salt.length !== SALT_SIZE) throw new ChunkedError('bad_salt', 'chunked encryption salt must be 24 bytes');
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

/** Nonce of chunk i: base_nonce XOR i, with i big-endian and right-aligned. */
export function chunkNonce(baseNonce: Uint8Array, index: number): Buffer {
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_CHUNKS) {
    throw new ChunkedError('too_many_chunks', 'archive exceeds the maximum number of chunks');
  }
  const nonce = Buffer.from(baseNonce);
  let i = index;
  for (let p = 11; i > 0 && p >= 7; p--) {
    nonce[p] = nonce[p]! ^ (i & 0xff);
    i = Math.floor(i / 256);
  }
  return nonce;
}

/** Encrypts one chunk into `out` at `offset`; returns the number of bytes written (length + 16). */
export function encryptChunkInto(
  key: Uint8Array,
  baseNonce: Uint8Array,
  index: number,
  chunk: Uint8Array,
  out: Uint8Array,
  offset: number,
): number {
  const c = createCipheriv('aes-256-gcm', key, chunkNonce(baseNonce, index));
  const body = c.update(chunk);
  c.final();
  out.set(body, offset);
  out.set(c.getAuthTag(), offset + body.length);
  return body.length + TAG_SIZE;
}

/**
 * Decrypts and authenticates one encrypted chunk into `out` at `offset`; returns the plaintext length.
 * Nothing is written unless the tag verifies.
 */
export function decryptChunkInto(
  key: Uint8Array,
  baseNonce: Uint8Array,
  index: number,
  encrypted: Uint8Array,
  out: Uint8Array,
  offset: number,
): number {
  if (encrypted.length < TAG_SIZE) throw new ChunkedError('truncated', 'archive is truncated');
  const n = encrypted.length - TAG_SIZE;
  const d = createDecipheriv('aes-256-gcm', key, chunkNonce(baseNonce, index));
  d.setAuthTag(encrypted.subarray(n));
  const body = d.update(encrypted.subarray(0, n));
  try {
    d.final();
  } catch {
    throw new ChunkedError('chunk_auth_failed', `archive is corrupted: chunk ${index} failed authentication`);
  }
  out.set(body, offset);
  return n;
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
    throw new ChunkedError('commitment_mismatch', 'archive body does not match its key (commitment check failed)');
  }
  return keys;
}

/**
 * Checks the length rule for a whole body (after the 56-byte header): the last chunk must be
 * 16..16399 bytes, so a length that is a multiple of 16400 lost its final chunk.
 */
export function bodyChunkCount(encryptedLength: number): number {
  const rem = encryptedLength % ENCRYPTED_CHUNK_SIZE;
  if (rem === 0) throw new ChunkedError('truncated', 'archive is truncated: the final chunk is missing');
  if (rem < TAG_SIZE) throw new ChunkedError('truncated', 'archive is truncated in the middle of a chunk');
  return Math.floor(encryptedLength / ENCRYPTED_CHUNK_SIZE) + 1;
}

/** In-memory encryption: `salt ‖ commitment ‖ chunk_0 ‖ … ‖ chunk_n`. */
export function encryptChunked(k: Uint8Array, context: Uint8Array, plaintext: Uint8Array, salt?: Uint8Array) {
  const { keys, header } = startBody(k, context, salt);
  const chunks = Math.floor(plaintext.length / CHUNK_SIZE) + 1;
  const out = new Uint8Array(BODY_HEADER_SIZE + plaintext.length + chunks * TAG_SIZE);
  out.set(header, 0);
  let off = BODY_HEADER_SIZE;
  for (let i = 0; i < chunks; i++) {
    const chunk = plaintext.subarray(i * CHUNK_SIZE, Math.min((i + 1) * CHUNK_SIZE, plaintext.length));
    off += encryptChunkInto(keys.key, keys.baseNonce, i, chunk, out, off);
  }
  return out;
}

/** In-memory decryption of a whole body; throws {@link ChunkedError} and releases nothing on any failure. */
export function decryptChunked(k: Uint8Array, context: Uint8Array, body: Uint8Array): Uint8Array {
  if (k.length !== KEY_SIZE) throw new ChunkedError('bad_key_size', 'chunked encryption key must be 32 bytes');
  if (body.length < BODY_HEADER_SIZE) throw new ChunkedError('truncated', 'archive is truncated');
  const keys = verifyBodyHeader(k, context, body.subarray(0, BODY_HEADER_SIZE));
  const enc = body.subarray(BODY_HEADER_SIZE);
  const chunks = bodyChunkCount(enc.length);
  const out = new Uint8Array(enc.length - chunks * TAG_SIZE);
  let off = 0;
  for (let i = 0; i < chunks; i++) {
    const c = enc.subarray(i * ENCRYPTED_CHUNK_SIZE, Math.min((i + 1) * ENCRYPTED_CHUNK_SIZE, enc.length));
    off += decryptChunkInto(keys.key, keys.baseNonce, i, c, out, off);
  }
  return out;
}

export type ChunkedErrorCode =
  | 'bad_key_size'
  | 'bad_salt'
  | 'truncated'
  | 'commitment_mismatch'
  | 'chunk_auth_failed'
  | 'too_many_chunks';

export class ChunkedError extends Error {
  constructor(
    readonly code: ChunkedErrorCode,
    message: string,
  ) {
    super(message);
    this.name = 'ChunkedError';
  }
}

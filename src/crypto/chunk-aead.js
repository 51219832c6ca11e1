// @ts-check
/**
 * The per-chunk layer of C2SP chunked encryption (Cobblestone-256: AES-256-GCM, 16 KiB chunks):
 * nonces, one chunk, and runs of consecutive chunks. Plain JavaScript on purpose: worker threads
 * load it directly, without a TypeScript loader (which costs ~0.3 s and tens of MiB per thread).
 * Key derivation and the commitment are in chunked.ts.
 *
 * @example
 * const out = processChunks({ key, baseNonce }, { mode: 'seal', data, firstIndex: 0, final: true });
 */
import { createCipheriv, createDecipheriv } from 'node:crypto';

export const CHUNK_SIZE = 16384;
export const TAG_SIZE = 16;
export const ENCRYPTED_CHUNK_SIZE = CHUNK_SIZE + TAG_SIZE;
/** We cap at 2^32 chunks (64 TiB); the spec allows up to 2^38 and asks for no less than 2^32. */
export const MAX_CHUNKS = 2 ** 32;

/** @typedef {'bad_key_size' | 'bad_salt' | 'truncated' | 'commitment_mismatch' | 'chunk_auth_failed' | 'too_many_chunks'} ChunkedErrorCode */

export class ChunkedError extends Error {
  /**
   * @param {ChunkedErrorCode} code
   * @param {string} message
   */
  constructor(code, message) {
    super(message);
    this.name = 'ChunkedError';
    /** @readonly */
    this.code = code;
  }
}

/**
 * Nonce of chunk i: base_nonce XOR i, with i big-endian and right-aligned.
 * @param {Uint8Array} baseNonce
 * @param {number} index
 * @returns {Buffer}
 */
export function chunkNonce(baseNonce, index) {
  if (!Number.isSafeInteger(index) || index < 0 || index >= MAX_CHUNKS) {
    throw new ChunkedError('too_many_chunks', 'archive exceeds the maximum number of chunks');
  }
  const nonce = Buffer.from(baseNonce);
  let i = index;
  for (let p = 11; i > 0 && p >= 7; p--) {
    nonce[p] = /** @type {number} */ (nonce[p]) ^ (i & 0xff);
    i = Math.floor(i / 256);
  }
  return nonce;
}

/**
 * Encrypts one chunk into `out` at `offset`; returns the bytes written (chunk length + 16).
 * @param {Uint8Array} key @param {Uint8Array} baseNonce @param {number} index
 * @param {Uint8Array} chunk @param {Uint8Array} out @param {number} offset
 */
export function encryptChunkInto(key, baseNonce, index, chunk, out, offset) {
  const c = createCipheriv('aes-256-gcm', key, chunkNonce(baseNonce, index));
  const body = c.update(chunk);
  c.final();
  out.set(body, offset);
  out.set(c.getAuthTag(), offset + body.length);
  return body.length + TAG_SIZE;
}

/**
 * Decrypts and authenticates one chunk into `out` at `offset`; returns the plaintext length.
 * Nothing is written unless the tag verifies.
 * @param {Uint8Array} key @param {Uint8Array} baseNonce @param {number} index
 * @param {Uint8Array} encrypted @param {Uint8Array} out @param {number} offset
 */
export function decryptChunkInto(key, baseNonce, index, encrypted, out, offset) {
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

/**
 * @typedef {object} ChunkRun
 * @property {'seal' | 'open'} mode
 * @property {Uint8Array} data   plaintext (seal) or ciphertext (open) of consecutive chunks
 * @property {number} firstIndex index of the run's first chunk in the whole body
 * @property {boolean} final     the run ends with the final (short, possibly empty) chunk
 */

/**
 * Chunks in a run; runs that are not final hold only full chunks. Throws `truncated` for lengths
 * no valid body has (a final run whose last chunk is full, or shorter than a tag).
 * @param {ChunkRun} run
 */
export function runChunks(run) {
  const size = run.mode === 'seal' ? CHUNK_SIZE : ENCRYPTED_CHUNK_SIZE;
  const n = run.data.length;
  if (!run.final) return n / size;
  if (run.mode === 'seal') return Math.floor(n / size) + 1;
  const rem = n % size;
  if (rem === 0) throw new ChunkedError('truncated', 'archive is truncated: the final chunk is missing');
  if (rem < TAG_SIZE) throw new ChunkedError('truncated', 'archive is truncated in the middle of a chunk');
  return Math.floor(n / size) + 1;
}

/** Output size of a run. @param {ChunkRun} run */
export function runOutputSize(run) {
  const tags = runChunks(run) * TAG_SIZE;
  return run.mode === 'seal' ? run.data.length + tags : run.data.length - tags;
}

/**
 * Encrypts or decrypts a run of chunks into `out` (allocated when absent or too small).
 * Returns the filled part of the output.
 * @param {{ key: Uint8Array, baseNonce: Uint8Array }} keys
 * @param {ChunkRun} run
 * @param {Uint8Array} [out]
 * @returns {Uint8Array}
 */
export function processChunks(keys, run, out) {
  const chunks = runChunks(run);
  const size = runOutputSize(run);
  const target = out && out.length >= size ? out.subarray(0, size) : new Uint8Array(size);
  const seal = run.mode === 'seal';
  const inSize = seal ? CHUNK_SIZE : ENCRYPTED_CHUNK_SIZE;
  const step = seal ? encryptChunkInto : decryptChunkInto;
  let off = 0;
  for (let i = 0; i < chunks; i++) {
    const chunk = run.data.subarray(i * inSize, Math.min((i + 1) * inSize, run.data.length));
    off += step(keys.key, keys.baseNonce, run.firstIndex + i, chunk, target, off);
  }
  return target;
}

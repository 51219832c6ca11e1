/**
 * One block of the archive body: a run of consecutive chunks, encrypted or decrypted together.
 * The same function runs inline (small inputs) and in worker threads (large ones).
 */
import {
  CHUNK_SIZE,
  ChunkedError,
  decryptChunkInto,
  ENCRYPTED_CHUNK_SIZE,
  encryptChunkInto,
  TAG_SIZE,
} from '../crypto/chunked.ts';

export interface BlockJob {
  mode: 'seal' | 'open';
  data: Uint8Array;
  /** Index of the block's first chunk in the whole body. */
  firstIndex: number;
  /** The block holds the final (short, possibly empty) chunk. */
  final: boolean;
}

export interface ChunkKeyMaterial {
  key: Uint8Array;
  baseNonce: Uint8Array;
}

/** Chunks in a block; non-final blocks hold only full chunks. Throws `truncated` for impossible lengths. */
export function blockChunks(job: BlockJob): number {
  const size = job.mode === 'seal' ? CHUNK_SIZE : ENCRYPTED_CHUNK_SIZE;
  const n = job.data.length;
  if (!job.final) return n / size;
  if (job.mode === 'seal') return Math.floor(n / size) + 1;
  const rem = n % size;
  if (rem === 0) throw new ChunkedError('truncated', 'archive is truncated: the final chunk is missing');
  if (rem < TAG_SIZE) throw new ChunkedError('truncated', 'archive is truncated in the middle of a chunk');
  return Math.floor(n / size) + 1;
}

export function processBlock(keys: ChunkKeyMaterial, job: BlockJob): Uint8Array {
  const chunks = blockChunks(job);
  const seal = job.mode === 'seal';
  const inSize = seal ? CHUNK_SIZE : ENCRYPTED_CHUNK_SIZE;
  const out = new Uint8Array(
    seal ? job.data.length + chunks * TAG_SIZE : job.data.length - chunks * TAG_SIZE,
  );
  const step = seal ? encryptChunkInto : decryptChunkInto;
  let off = 0;
  for (let i = 0; i < chunks; i++) {
    const chunk = job.data.subarray(i * inSize, Math.min((i + 1) * inSize, job.data.length));
    off += step(keys.key, keys.baseNonce, job.firstIndex + i, chunk, out, off);
  }
  return out;
}

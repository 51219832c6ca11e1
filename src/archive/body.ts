/** Streams an archive body through {@link BlockPool}: large reads, blocks in flight, ordered writes. */
import { CHUNK_SIZE, type ChunkKeys, ENCRYPTED_CHUNK_SIZE } from '../crypto/chunked.ts';
import { ArchiveError, type ArchiveErrorCode } from './errors.ts';
import { readFull, type Sink, type Source } from './io.ts';
import { BLOCK_CHUNKS, BlockPool } from './pool.ts';

export interface PumpOptions {
  threads?: number;
  /** Called with the number of input bytes consumed so far. */
  onProgress?: (bytes: number) => void;
}

/** Returns the number of bytes written to the sink. */
export async function pumpBody(
  mode: 'seal' | 'open',
  src: Source,
  sink: Sink,
  keys: ChunkKeys,
  opts: PumpOptions = {},
): Promise<number> {
  const blockSize = BLOCK_CHUNKS * (mode === 'seal' ? CHUNK_SIZE : ENCRYPTED_CHUNK_SIZE);
  const pool = new BlockPool({ key: keys.key, baseNonce: keys.baseNonce }, opts.threads);
  const maxInflight = 2 * Math.max(1, opts.threads ?? 2);
  const inflight: Promise<Uint8Array>[] = [];
  let index = 0;
  let consumed = 0;
  let written = 0;
  const drainOne = async () => {
    const out = await inflight.shift()!;
    await sink.write(out);
    written += out.length;
  };
  try {
    for (let first = true; ; first = false) {
      const buf = new Uint8Array(blockSize);
      const n = await readFull(src, buf);
      const final = n < blockSize;
      const p = pool.run({ mode, data: buf.subarray(0, n), firstIndex: index, final }, first && final);
      p.catch(() => {}); // awaited in order below; this only stops an early rejection from going unhandled
      inflight.push(p);
      index += BLOCK_CHUNKS;
      consumed += n;
      opts.onProgress?.(consumed);
      if (final) break;
      while (inflight.length >= maxInflight) await drainOne();
    }
    while (inflight.length > 0) await drainOne();
    return written;
  } catch (e) {
    throw asArchiveError(e);
  } finally {
    await pool.close();
  }
}

/** Chunk-layer failures keep their code; anything else is an I/O or internal error and passes through. */
export function asArchiveError(e: unknown): unknown {
  if (e instanceof ArchiveError) return e;
  if (e instanceof Error && e.name === 'ChunkedError') {
    const code = (e as Error & { code: string }).code;
    const mapped: ArchiveErrorCode =
      code === 'truncated' || code === 'commitment_mismatch' || code === 'chunk_auth_failed'
        ? code
        : 'too_large';
    return new ArchiveError(mapped, e.message);
  }
  return e;
}

/**
 * Streams an archive body through {@link BlockPool}: large reads, several blocks in flight, writes
 * in order and overlapped with the next reads, buffers recycled. Memory stays bounded by the
 * number of blocks in flight, whatever the input size.
 */
import { CHUNK_SIZE, type ChunkKeys, ENCRYPTED_CHUNK_SIZE, TAG_SIZE } from '../crypto/chunked.ts';
import { ArchiveError, type ArchiveErrorCode } from './errors.ts';
import { readFull, type Sink, type Source } from './io.ts';
import { BLOCK_CHUNKS, BlockPool, type BlockResult, defaultThreads } from './pool.ts';

export interface PumpOptions {
  /** Worker threads; 0 runs everything on the calling thread. */
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
  const inSize = BLOCK_CHUNKS * (mode === 'seal' ? CHUNK_SIZE : ENCRYPTED_CHUNK_SIZE);
  const outSize = BLOCK_CHUNKS * (mode === 'seal' ? ENCRYPTED_CHUNK_SIZE : CHUNK_SIZE) + TAG_SIZE;
  const pool = new BlockPool({ key: keys.key, baseNonce: keys.baseNonce }, opts.threads ?? defaultThreads());
  const maxInflight = 2 * Math.max(1, pool.threads);
  const inflight: Promise<BlockResult>[] = [];
  const freeIn: Uint8Array[] = [];
  const freeOut: Uint8Array[] = [];
  let writing: Promise<void> = Promise.resolve();
  let writesPending = 0;
  let index = 0;
  let consumed = 0;
  let written = 0;

  const drainOne = async () => {
    const { out, data } = await inflight.shift()!;
    freeIn.push(new Uint8Array(data.buffer));
    writesPending++;
    writing = writing.then(async () => {
      await sink.write(out);
      written += out.length;
      writesPending--;
      freeOut.push(new Uint8Array(out.buffer));
    });
    writing.catch(() => {}); // surfaced by the awaits below
    if (writesPending > 2) await writing;
  };

  try {
    for (let first = true; ; first = false) {
      const buf = freeIn.pop() ?? new Uint8Array(inSize);
      const n = await readFull(src, buf);
      const final = n < inSize;
      const out = freeOut.pop() ?? (first && final ? undefined : new Uint8Array(outSize));
      const p = pool.run({ mode, data: buf.subarray(0, n), firstIndex: index, final }, out, first && final);
      p.catch(() => {}); // awaited in order by drainOne; this only keeps an early failure from going unhandled
      inflight.push(p);
      index += BLOCK_CHUNKS;
      consumed += n;
      opts.onProgress?.(consumed);
      if (final) break;
      while (inflight.length >= maxInflight) await drainOne();
    }
    while (inflight.length > 0) await drainOne();
    await writing;
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

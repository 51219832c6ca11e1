/**
 * Runs body blocks on worker threads (chunks are independent, so AES-GCM spreads over cores), or
 * inline for an input that fits one block. Each block's input and output buffers come back with
 * the result, so the caller recycles them instead of allocating per block.
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ChunkedError, type ChunkedErrorCode, type ChunkRun, processChunks } from '../crypto/chunked.ts';

/** 64 chunks: 1 MiB of plaintext per block. */
export const BLOCK_CHUNKS = 64;

export interface BlockResult {
  out: Uint8Array;
  /** The input buffer, handed back for reuse. */
  data: Uint8Array;
}

interface Pending {
  resolve: (r: BlockResult) => void;
  reject: (e: Error) => void;
}

interface WorkerReply {
  id: number;
  out?: Uint8Array;
  data?: Uint8Array;
  error?: { code: string; message: string };
}

export class BlockPool {
  private workers: { worker: Worker; pending: Map<number, Pending> }[] = [];
  private nextId = 0;
  private next = 0;

  constructor(
    private readonly keys: { key: Uint8Array; baseNonce: Uint8Array },
    readonly threads: number = defaultThreads(),
  ) {}

  run(run: ChunkRun, out: Uint8Array | undefined, inline: boolean): Promise<BlockResult> {
    if (inline || this.threads === 0) {
      try {
        return Promise.resolve({ out: processChunks(this.keys, run, out), data: run.data });
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (this.workers.length === 0) this.start();
    const w = this.workers[this.next++ % this.workers.length]!;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      w.pending.set(id, { resolve, reject });
      const transfer = [run.data.buffer as ArrayBuffer, ...(out ? [out.buffer as ArrayBuffer] : [])];
      w.worker.postMessage({ ...run, out, id }, transfer);
    });
  }

  private start() {
    for (let i = 0; i < this.threads; i++) {
      const worker = new Worker(new URL('./chunk-worker.js', import.meta.url), { workerData: this.keys });
      const pending = new Map<number, Pending>();
      worker.on('message', (m: WorkerReply) => {
        const p = pending.get(m.id);
        pending.delete(m.id);
        if (m.error) p?.reject(new ChunkedError(m.error.code as ChunkedErrorCode, m.error.message));
        else p?.resolve({ out: m.out!, data: m.data! });
      });
      worker.on('error', (e) => {
        for (const p of pending.values()) p.reject(e);
        pending.clear();
      });
      this.workers.push({ worker, pending });
    }
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.worker.terminate()));
    this.workers = [];
  }
}

/** One worker per core, at most 8: the main thread mostly waits on I/O. */
export const defaultThreads = (): number => Math.max(1, Math.min(availableParallelism(), 8));

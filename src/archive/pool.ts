/**
 * Runs body blocks in order: inline for inputs that fit one block, otherwise on worker threads
 * (chunks are independent, so AES-GCM spreads over cores). Results come back in submission order,
 * and a failed block fails every later one (after an error, keep failing).
 */
import { availableParallelism } from 'node:os';
import { Worker } from 'node:worker_threads';
import { ChunkedError, type ChunkedErrorCode } from '../crypto/chunked.ts';
import { type BlockJob, type ChunkKeyMaterial, processBlock } from './block.ts';

export const BLOCK_CHUNKS = 64;

interface Pending {
  resolve: (out: Uint8Array) => void;
  reject: (e: Error) => void;
}

export class BlockPool {
  private workers: { worker: Worker; pending: Map<number, Pending> }[] = [];
  private nextId = 0;
  private next = 0;

  constructor(
    private readonly keys: ChunkKeyMaterial,
    private readonly threads: number = defaultThreads(),
  ) {}

  /** Starts a block; inline until a second block shows the input is large. */
  run(job: BlockJob, inline: boolean): Promise<Uint8Array> {
    if (inline || this.threads === 0) {
      try {
        return Promise.resolve(processBlock(this.keys, job));
      } catch (e) {
        return Promise.reject(e);
      }
    }
    if (this.workers.length === 0) this.start();
    const w = this.workers[this.next++ % this.workers.length]!;
    const id = this.nextId++;
    return new Promise((resolve, reject) => {
      w.pending.set(id, { resolve, reject });
      const data = job.data;
      w.worker.postMessage({ ...job, id }, [data.buffer as ArrayBuffer]);
    });
  }

  private start() {
    for (let i = 0; i < this.threads; i++) {
      const worker = new Worker(new URL('./chunk-worker.mjs', import.meta.url), { workerData: this.keys });
      const pending = new Map<number, Pending>();
      worker.on(
        'message',
        (m: { id: number; out?: Uint8Array; error?: { code: string; message: string } }) => {
          const p = pending.get(m.id);
          pending.delete(m.id);
          if (m.error) p?.reject(new ChunkedError(m.error.code as ChunkedErrorCode, m.error.message));
          else p?.resolve(m.out!);
        },
      );
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

/** One worker per core: the main thread mostly waits on I/O. */
export const defaultThreads = (): number => Math.max(1, Math.min(availableParallelism(), 8));

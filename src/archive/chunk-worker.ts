/** Worker thread body: runs {@link processBlock} on blocks posted by {@link BlockPool}. */
import { parentPort, workerData } from 'node:worker_threads';
import { type BlockJob, type ChunkKeyMaterial, processBlock } from './block.ts';

const keys = workerData as ChunkKeyMaterial;

parentPort!.on('message', (job: BlockJob & { id: number }) => {
  try {
    const out = processBlock(keys, job);
    parentPort!.postMessage({ id: job.id, out }, [out.buffer as ArrayBuffer]);
  } catch (e) {
    const err = e as Error & { code?: string };
    parentPort!.postMessage({ id: job.id, error: { code: err.code ?? 'internal', message: err.message } });
  }
});

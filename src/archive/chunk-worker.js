// @ts-check
/**
 * Worker thread body for {@link BlockPool}: runs chunk runs with the keys it was started with.
 * Buffers travel both ways by transfer, so blocks are recycled instead of reallocated.
 */
import { parentPort, workerData } from 'node:worker_threads';
import { processChunks } from '../crypto/chunk-aead.js';

const port = /** @type {import('node:worker_threads').MessagePort} */ (parentPort);
const keys = /** @type {{ key: Uint8Array, baseNonce: Uint8Array }} */ (workerData);

port.on(
  'message',
  (/** @type {import('../crypto/chunk-aead.js').ChunkRun & { id: number, out?: Uint8Array }} */ job) => {
    try {
      const out = processChunks(keys, job, job.out);
      const transfer = /** @type {ArrayBuffer[]} */ ([out.buffer, job.data.buffer]);
      port.postMessage({ id: job.id, out, data: job.data }, transfer);
    } catch (e) {
      const err = /** @type {Error & { code?: string }} */ (e);
      port.postMessage({ id: job.id, error: { code: err.code ?? 'internal', message: err.message } });
    }
  },
);

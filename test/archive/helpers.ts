import { createHash } from 'node:crypto';
import { expect } from 'vitest';
import {
  bufferSink,
  bufferSource,
  type Manifest,
  openArchive,
  type SealOptions,
  sealArchive,
} from '../../src/archive/index.ts';
import { identityFromSeed } from '../../src/crypto/keys.ts';

export const alice = identityFromSeed(new Uint8Array(32).fill(1));
export const bob = identityFromSeed(new Uint8Array(32).fill(2));

export const manifest: Manifest = {
  domain: 'land',
  snapshotId: 'land-20261127',
  sealEpoch: 1,
  createdAt: '2026-11-27T03:00:00Z',
  contentType: 'text/csv',
};

export async function seal(pt: Uint8Array, opts: Partial<SealOptions> = {}): Promise<Uint8Array> {
  const sink = bufferSink();
  await sealArchive(bufferSource(pt), sink, {
    manifest,
    recipients: [{ publicKey: alice.publicKey, epoch: 1 }],
    threads: 0,
    ...opts,
  });
  return sink.result();
}

export async function open(archive: Uint8Array, identities = [alice], threads = 0): Promise<Uint8Array> {
  const sink = bufferSink();
  await openArchive(bufferSource(archive), sink, { identities, threads });
  return sink.result();
}

/** Deterministic randomness for known-answer vectors: a counter-seeded byte stream. */
export function fixedRandom(seed = 0): (n: number) => Uint8Array {
  let counter = seed;
  return (n) => {
    counter++;
    return new Uint8Array(n).map((_, i) => (counter * 31 + i * 7) & 0xff);
  };
}

/** Large byte arrays: compare lengths and digests (vitest's deep equality walks every element). */
export function expectSameBytes(actual: Uint8Array, expected: Uint8Array): void {
  expect(actual.length).toBe(expected.length);
  expect(createHash('sha256').update(actual).digest('hex')).toBe(
    createHash('sha256').update(expected).digest('hex'),
  );
}

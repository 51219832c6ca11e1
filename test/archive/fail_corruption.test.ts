import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ArchiveError } from '../../src/archive/index.ts';
import { open, seal } from './helpers.ts';

describe('invariant 5: any changed byte of an archive is detected', () => {
  it('every single-byte change of a small archive is refused with an ArchiveError', async () => {
    const archive = await seal(new TextEncoder().encode('parcel 12-004; owner: Tamm; 1200 m2'));
    for (let i = 0; i < archive.length; i++) {
      const bad = archive.slice();
      bad[i] = bad[i]! ^ (1 << (i % 8));
      const err = await open(bad).then(
        () => undefined,
        (e: unknown) => e,
      );
      expect(err, `byte ${i} changed but the archive still opened`).toBeInstanceOf(ArchiveError);
    }
  });

  it('random truncations and appended bytes are refused', async () => {
    const archive = await seal(new Uint8Array(40_000).fill(7));
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.integer({ min: 0, max: archive.length - 1 }).map((n) => archive.subarray(0, n)),
          fc.uint8Array({ minLength: 1, maxLength: 40 }).map((extra) => Buffer.concat([archive, extra])),
        ),
        async (bad) => {
          await expect(open(bad)).rejects.toBeInstanceOf(ArchiveError);
        },
      ),
      { numRuns: 60 },
    );
  });
});

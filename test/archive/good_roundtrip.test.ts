import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bufferSink, bufferSource, inspectArchive, rewrapArchive } from '../../src/archive/index.ts';
import { CHUNK_SIZE } from '../../src/crypto/chunked.ts';
import { alice, bob, expectSameBytes, manifest, open, seal } from './helpers.ts';

const bytes = (n: number) => new Uint8Array(n).map((_, i) => (i * 131 + 7) & 0xff);

describe('sealed archive round trip', () => {
  it('round-trips random sizes around chunk and block boundaries', async () => {
    const sizes = fc.oneof(
      fc.integer({ min: 0, max: 4 * CHUNK_SIZE }),
      fc.constantFrom(0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 64 * CHUNK_SIZE, 64 * CHUNK_SIZE + 1),
    );
    await fc.assert(
      fc.asyncProperty(sizes, async (n) => {
        const pt = bytes(n);
        expectSameBytes(await open(await seal(pt)), pt);
      }),
      { numRuns: 25 },
    );
  });

  it('round-trips through worker threads for multi-block inputs', async () => {
    const pt = bytes(3 * 64 * CHUNK_SIZE + 12345);
    const archive = await seal(pt, { threads: 2 });
    expectSameBytes(await open(archive, [alice], 2), pt);
  });

  it('opens with any of several recipients', async () => {
    const archive = await seal(bytes(100), {
      recipients: [
        { publicKey: alice.publicKey, epoch: 1 },
        { publicKey: bob.publicKey, epoch: 1 },
      ],
    });
    expect(await open(archive, [bob])).toEqual(bytes(100));
  });

  it('inspects the header without a key', async () => {
    const s = await inspectArchive(bufferSource(await seal(bytes(CHUNK_SIZE + 1))));
    expect(s.manifest).toEqual(manifest);
    expect(s.stanzas).toEqual([
      { type: 'quorum', keyId: Buffer.from(alice.keyId).toString('hex'), epoch: 1 },
    ]);
    expect(s.chunks).toBe(2);
    expect(s.plaintextBytes).toBe(CHUNK_SIZE + 1);
  });

  it('rewraps to a new epoch key without touching the body', async () => {
    const pt = bytes(3 * CHUNK_SIZE);
    const before = await seal(pt);
    const sink = bufferSink();
    const header = await rewrapArchive(bufferSource(before), sink, {
      identities: [alice],
      recipients: [{ publicKey: bob.publicKey, epoch: 2 }],
    });
    const after = sink.result();
    const oldInfo = await inspectArchive(bufferSource(before));
    expectSameBytes(after.subarray(header.bytes.length), before.subarray(oldInfo.headerBytes));
    expectSameBytes(await open(after, [bob]), pt);
    await expect(open(after, [alice])).rejects.toThrow('no stanza opens with this key');
    expect((await inspectArchive(bufferSource(after))).stanzas[0]).toMatchObject({
      type: 'quorum',
      epoch: 2,
    });
  });
});

// The one header-replacement path (src/archive/rekey.ts): it opens the output only when there is
// something to write, copies the body byte for byte, keeps the MAC-covered stanzas when it has no
// DEK, refuses a copy that does not add up, and replaces a file in place with its mode kept.
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import {
  bufferSink,
  bufferSource,
  fileSource,
  inPlace,
  inspectArchive,
  quorumStanzas,
  replaceHeader,
} from '../../src/archive/index.ts';
import { CHUNK_SIZE } from '../../src/crypto/chunked.ts';
import { alice, bob, expectSameBytes, open, seal } from './helpers.ts';

const dir = mkdtempSync(join(tmpdir(), 'embassy-replace-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));
const pt = new Uint8Array(2 * CHUNK_SIZE + 5).map((_, i) => i & 0xff);
const toBob = quorumStanzas([{ publicKey: bob.publicKey, epoch: 2 }]);

describe('replaceHeader', () => {
  it('leaves an archive that is already done alone without opening the output', async () => {
    let opened = false;
    const r = await replaceHeader(
      bufferSource(await seal(pt)),
      async () => {
        opened = true;
        return bufferSink();
      },
      { done: () => true, stanzas: async (old) => old.stanzas },
    );
    expect(r.changed).toBe(false);
    expect(opened).toBe(false);
  });

  it('rewraps with the DEK and copies the body byte for byte', async () => {
    const before = await seal(pt);
    const sink = bufferSink();
    const r = await replaceHeader(bufferSource(before), async () => sink, {
      unlock: { identities: [alice] },
      stanzas: toBob,
    });
    const after = sink.result();
    expect(r.changed && r.bytes).toBe(after.length);
    const oldHeader = (await inspectArchive(bufferSource(before))).headerBytes;
    expectSameBytes(after.subarray(r.header.bytes.length), before.subarray(oldHeader));
    expectSameBytes(await open(after, [bob]), pt);
  });

  it('without the DEK, refuses to change a stanza under the header MAC', async () => {
    const sink = bufferSink();
    await expect(
      replaceHeader(bufferSource(await seal(pt)), async () => sink, {
        stanzas: async (old) => old.stanzas.map((s) => ({ ...s, body: s.body.map((b) => b ^ 1) })),
      }),
    ).rejects.toMatchObject({ code: 'bad_argument' });
  });

  it('refuses a copy whose size does not add up, through the caller’s error', async () => {
    const archive = await seal(pt);
    const src = Object.assign(bufferSource(archive), { size: archive.length + 1 });
    const sink = bufferSink();
    await expect(
      replaceHeader(src, async () => sink, {
        unlock: { identities: [alice] },
        stanzas: toBob,
        fail: (why) => new Error(`job: ${why}`),
      }),
    ).rejects.toThrow('job: changed size while its header was replaced');
    expect(() => sink.result()).toThrow('not committed');
  });

  it('replaces a file in place, keeping its mode and leaving no temporary', async () => {
    const path = join(dir, 'land.emb');
    writeFileSync(path, await seal(pt));
    chmodSync(path, 0o640);
    const steps: string[] = [];
    const r = await replaceHeader(await fileSource(path), inPlace(path), {
      unlock: { identities: [alice] },
      stanzas: toBob,
      faults: { at: (s) => steps.push(s) },
    });
    expect(r.changed).toBe(true);
    expect(steps).toEqual(['mid-write', 'before-rename', 'after-rename']);
    expect(statSync(path).mode & 0o777).toBe(0o640);
    expect(readdirSync(dir)).toEqual(['land.emb']);
    expectSameBytes(await open(new Uint8Array(readFileSync(path)), [bob]), pt);
  });
});

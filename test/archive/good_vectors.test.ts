import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import {
  ArchiveError,
  bufferSink,
  bufferSource,
  inspectArchive,
  openArchive,
} from '../../src/archive/index.ts';
import { parseKeyFile } from '../../src/crypto/keys.ts';
import { buildVectors, VECTOR_DIR, type VectorEntry } from './vectors.ts';

const index: VectorEntry[] = JSON.parse(readFileSync(`${VECTOR_DIR}index.json`, 'utf8'));
const identities = parseKeyFile(readFileSync(`${VECTOR_DIR}key.txt`, 'utf8'));

describe('archive format v1 known-answer vectors (test/vectors/archive)', () => {
  for (const v of index) {
    it(`${v.file}: ${v.description} → ${v.expect}`, async () => {
      const sink = bufferSink();
      const opening = openArchive(bufferSource(readFileSync(`${VECTOR_DIR}${v.file}`)), sink, {
        identities,
        threads: 0,
      });
      if (v.expect === 'ok') {
        await opening;
        const pt = sink.result();
        expect(pt.length).toBe(v.plaintextLength);
        expect(createHash('sha256').update(pt).digest('hex')).toBe(v.plaintextSha256);
      } else {
        const err = await opening.then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(err).toBeInstanceOf(ArchiveError);
        expect((err as ArchiveError).code).toBe(v.expect);
      }
    });
  }

  // docs/FORMAT.md §8: what a reader can refuse without a key (steps 1-3 and the body length rule),
  // `inspect` refuses with the same code as `open`; everything else needs the key, so it inspects.
  const keyless = new Set(['not_archive', 'unsupported_version', 'truncated', 'bad_header', 'bad_manifest']);
  for (const v of index) {
    const expected = keyless.has(v.expect) ? v.expect : 'ok';
    it(`inspect ${v.file} → ${expected}`, async () => {
      const got = await inspectArchive(bufferSource(readFileSync(`${VECTOR_DIR}${v.file}`))).then(
        () => 'ok',
        (e: unknown) => (e instanceof ArchiveError ? e.code : String(e)),
      );
      expect(got).toBe(expected);
    });
  }

  it('the encoder reproduces every vector byte for byte from the same randomness', async () => {
    const { files, index: rebuilt } = await buildVectors();
    expect(rebuilt).toEqual(index);
    for (const [name, bytes] of files) {
      expect(Buffer.from(bytes).equals(readFileSync(`${VECTOR_DIR}${name}`)), name).toBe(true);
    }
  });
});

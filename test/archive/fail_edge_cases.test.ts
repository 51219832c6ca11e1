import { describe, expect, it } from 'vitest';
import { encodeHeader, readHeader } from '../../src/archive/header.ts';
import {
  ArchiveError,
  bufferSource,
  checkMakerFacts,
  inspectArchive,
  parseManifest,
  validateManifest,
} from '../../src/archive/index.ts';
import { exactReader } from '../../src/archive/io.ts';
import { makerBody, STANZA_MAKER } from '../../src/archive/maker.ts';
import { concat, utf8 } from '../../src/crypto/bytes.ts';
import { jcs } from '../../src/crypto/jcs.ts';
import type { Statement } from '../../src/crypto/statement.ts';
import { manifest, seal } from './helpers.ts';

// The edge cases docs/FORMAT.md decides (§4 manifest rules, §5 stanzas), beyond the vectors in
// test/vectors/archive (good_vectors.test.ts replays those through open and inspect).
const refused = (m: object) => {
  expect(() => validateManifest(m)).toThrow(ArchiveError);
};

describe('manifest: createdAt is an instant that exists', () => {
  it.each([
    '2026-02-30T00:00:00Z',
    '2026-02-29T00:00:00Z',
    '2026-11-27T24:00:00Z',
    '2026-11-27T23:59:60Z',
    '2026-13-01T00:00:00Z',
    '2026-11-27T23:60:00Z',
  ])('refuses %s', (createdAt) => refused({ ...manifest, createdAt }));

  it.each(['2028-02-29T23:59:59Z', '2026-12-31T23:59:59Z', '0001-01-01T00:00:00Z'])(
    'accepts %s',
    (createdAt) => expect(validateManifest({ ...manifest, createdAt }).createdAt).toBe(createdAt),
  );
});

describe('manifest: name is 1-255 UTF-8 bytes without control characters', () => {
  it('counts bytes, not characters or UTF-16 units', () => {
    expect(validateManifest({ ...manifest, name: `${'\u00e9'.repeat(127)}a` }).name).toHaveLength(128); // 255 bytes
    refused({ ...manifest, name: '\u00e9'.repeat(128) }); // 128 characters, 256 bytes
    expect(validateManifest({ ...manifest, name: 'a'.repeat(255) }).name).toHaveLength(255);
    refused({ ...manifest, name: 'a'.repeat(256) });
    refused({ ...manifest, name: '\u{1f5fa}'.repeat(64) }); // 64 code points, 128 UTF-16 units, 256 bytes
  });

  it.each(['\u0000', '\u0007', '\n', '\u001f', '\u007f', '\u0085', '\u009f'])(
    'refuses control character %j',
    (c) => refused({ ...manifest, name: `parcels${c}.csv` }),
  );

  it('refuses separators, dot names, the empty name and a lone surrogate', () => {
    for (const name of ['a/b', 'a\\b', '.', '..', '', 'a\ud800b']) refused({ ...manifest, name });
    expect(validateManifest({ ...manifest, name: 'Grundbuch \u00fc 2026.csv' }).name).toBe(
      'Grundbuch \u00fc 2026.csv',
    );
  });
});

describe('manifest bytes must equal the JCS encoding', () => {
  it('refuses a byte-order mark, which a UTF-8 decoder would silently drop', () => {
    const bytes = jcs(manifest);
    expect(parseManifest(bytes)).toEqual(manifest);
    expect(() => parseManifest(concat(Uint8Array.of(0xef, 0xbb, 0xbf), bytes))).toThrow(
      expect.objectContaining({ code: 'bad_manifest' }),
    );
  });
});

describe('maker stanzas', () => {
  async function withMaker(body: Uint8Array) {
    const archive = await seal(utf8('x'));
    const h = await readHeader(exactReader(bufferSource(archive)));
    const header = encodeHeader(h.manifestBytes, [...h.stanzas, { type: STANZA_MAKER, body }], h.mac);
    return concat(header, archive.subarray(h.bytes.length));
  }

  it('inspect on a maker stanza {} says so in one line, with bad_header (not a TypeError)', async () => {
    const err = await inspectArchive(bufferSource(await withMaker(utf8('{}')))).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).code).toBe('bad_header');
    expect((err as ArchiveError).message).not.toContain('\n');
  });

  it('the facts are compared as JCS bytes: an extra field or a string sequence is not the archive', () => {
    const manifestBytes = jcs(manifest);
    const bodyHeader = new Uint8Array(56).fill(3);
    const facts = { manifest, manifestBytes, bodyHeader };
    const statement = (body: object): Statement => ({
      type: 'archive-maker',
      roster: '00'.repeat(32),
      signer: 'job/backup-job',
      sig: '',
      body: body as Statement['body'],
    });
    const good = makerBody(manifest, manifestBytes, bodyHeader, 7);
    expect(checkMakerFacts(statement(good), facts)).toEqual(good);
    for (const bad of [
      { ...good, extra: 1 },
      { ...good, sequence: '7' },
      { ...good, sealEpoch: 2 },
    ]) {
      expect(() => checkMakerFacts(statement(bad), facts)).toThrow(
        expect.objectContaining({ code: 'maker_mismatch' }),
      );
    }
  });
});

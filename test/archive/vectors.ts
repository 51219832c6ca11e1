/**
 * Known-answer vectors of archive format v1, built with injected randomness so they are
 * reproducible: `node --import tsx test/archive/vectors.ts` rewrites test/vectors/archive/, and
 * good_vectors.test.ts checks both that the files open as recorded and that the encoder still
 * produces them byte for byte.
 */
import { createHash } from 'node:crypto';
import { mkdirSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import {
  encodeHeader,
  headerMac,
  makeHomeStanza,
  readHeader,
  STANZA_HOME,
  STANZA_QUORUM,
  type Stanza,
  VERSION,
} from '../../src/archive/header.ts';
import { bufferSink, bufferSource, type Manifest, sealArchive } from '../../src/archive/index.ts';
import { exactReader } from '../../src/archive/io.ts';
import { makeMakerStanza, makerBody, STANZA_MAKER } from '../../src/archive/maker.ts';
import { concat, u32, utf8 } from '../../src/crypto/bytes.ts';
import { ENCRYPTED_CHUNK_SIZE } from '../../src/crypto/chunked.ts';
import { jcs } from '../../src/crypto/jcs.ts';
import { formatKeyFile, identityFromSeed } from '../../src/crypto/keys.ts';

export const VECTOR_DIR = fileURLToPath(new URL('../vectors/archive/', import.meta.url));
export const vectorKey = identityFromSeed(new Uint8Array(32).map((_, i) => i));
const otherKey = identityFromSeed(new Uint8Array(32).map((_, i) => 255 - i));

export interface VectorEntry {
  file: string;
  description: string;
  /** `ok`, or the ArchiveError code opening must fail with. */
  expect: string;
  plaintextLength?: number;
  plaintextSha256?: string;
}

/** Deterministic "randomness": SHA-256 in counter mode over a label. Only for vectors. */
function fixedRandom(label: string): (n: number) => Uint8Array {
  let counter = 0;
  return (n) => {
    const parts: Uint8Array[] = [];
    for (let len = 0; len < n; len += 32) {
      parts.push(createHash('sha256').update(`${label}/${counter++}`).digest());
    }
    return concat(...parts).subarray(0, n);
  };
}

const manifest = (snapshotId: string, extra: Partial<Manifest> = {}): Manifest => ({
  domain: 'land',
  snapshotId,
  sealEpoch: 3,
  createdAt: '2026-11-27T00:00:00Z',
  contentType: 'text/csv',
  ...extra,
});

const text = (n: number) =>
  new TextEncoder().encode('parcel;owner;area_m2\n'.repeat(Math.ceil(n / 21)).slice(0, n));

async function seal(name: string, pt: Uint8Array, m: Manifest, keys = [vectorKey]) {
  const sink = bufferSink();
  await sealArchive(bufferSource(pt), sink, {
    manifest: m,
    recipients: keys.map((k) => ({ publicKey: k.publicKey, epoch: 3 })),
    random: fixedRandom(name),
    threads: 0,
  });
  return sink.result();
}

export async function buildVectors(): Promise<{ files: Map<string, Uint8Array>; index: VectorEntry[] }> {
  const files = new Map<string, Uint8Array>();
  const index: VectorEntry[] = [];
  const good = async (file: string, description: string, pt: Uint8Array, m: Manifest, keys = [vectorKey]) => {
    const bytes = await seal(file, pt, m, keys);
    files.set(file, bytes);
    index.push({
      file,
      description,
      expect: 'ok',
      plaintextLength: pt.length,
      plaintextSha256: createHash('sha256').update(pt).digest('hex'),
    });
    return bytes;
  };
  const fail = (file: string, description: string, code: string, bytes: Uint8Array) => {
    files.set(file, bytes);
    index.push({ file, description, expect: code });
  };

  await good(
    'good_empty.emb',
    'empty plaintext: one empty final chunk',
    new Uint8Array(0),
    manifest('v-empty'),
  );
  const short = await good(
    'good_short.emb',
    'one short chunk',
    text(100),
    manifest('v-short', { name: 'parcels.csv' }),
  );
  await good(
    'good_exact_chunk.emb',
    'exactly 16384 bytes: a full chunk and an empty final chunk',
    text(16384),
    manifest('v-exact'),
  );
  const multi = await good(
    'good_three_chunks.emb',
    'two full chunks and a short one',
    text(40000),
    manifest('v-three'),
  );
  await good(
    'good_two_recipients.emb',
    'two quorum stanzas, the vector key second',
    text(500),
    manifest('v-two'),
    [otherKey, vectorKey],
  );

  const headerLen = (b: Uint8Array) => {
    let off = 8 + 4 + new DataView(b.buffer, b.byteOffset).getUint32(8);
    const count = b[off++]!;
    for (let i = 0; i < count; i++) off += 5 + new DataView(b.buffer, b.byteOffset).getUint32(off + 1);
    return off + 32;
  };
  const flip = (b: Uint8Array, at: number) => {
    const c = b.slice();
    c[at] = c[at]! ^ 0x01;
    return c;
  };
  const body = headerLen(multi) + 56;

  fail(
    'fail_wrong_key.emb',
    'sealed to another key only',
    'no_matching_stanza',
    await seal('wk', text(10), manifest('v-wk'), [otherKey]),
  );
  fail('fail_bad_magic.emb', 'first byte flipped', 'not_archive', flip(short, 0));
  fail(
    'fail_version_2.emb',
    'version byte 2',
    'unsupported_version',
    concat(short.subarray(0, 7), Uint8Array.of(2), short.subarray(8)),
  );
  fail('fail_empty.emb', 'zero bytes', 'truncated', new Uint8Array(0));
  fail('fail_header_truncated.emb', 'cut inside the stanza', 'truncated', short.subarray(0, 300));
  fail(
    'fail_manifest_length_absurd.emb',
    'manifest length 0xfffffff0',
    'bad_header',
    concat(short.subarray(0, 8), u32(0xfffffff0), short.subarray(12)),
  );
  fail(
    'fail_manifest_modified.emb',
    'manifest domain changed, still canonical',
    'stanza_open_failed',
    new Uint8Array(Buffer.from(Buffer.from(short).toString('latin1').replace('"land"', '"lane"'), 'latin1')),
  );
  fail(
    'fail_stanza_modified.emb',
    'a byte of the HPKE ciphertext flipped',
    'stanza_open_failed',
    flip(short, headerLen(short) - 40),
  );
  fail(
    'fail_mac_modified.emb',
    'last MAC byte flipped',
    'header_mac_mismatch',
    flip(short, headerLen(short) - 1),
  );
  fail('fail_salt_modified.emb', 'body salt flipped', 'commitment_mismatch', flip(short, headerLen(short)));
  fail(
    'fail_chunk_modified.emb',
    'a ciphertext byte of chunk 1 flipped',
    'chunk_auth_failed',
    flip(multi, body + ENCRYPTED_CHUNK_SIZE + 7),
  );
  fail(
    'fail_truncated_boundary.emb',
    'final chunk dropped',
    'truncated',
    multi.subarray(0, body + 2 * ENCRYPTED_CHUNK_SIZE),
  );
  fail(
    'fail_truncated_mid_chunk.emb',
    'cut in the middle of chunk 1',
    'chunk_auth_failed',
    multi.subarray(0, body + ENCRYPTED_CHUNK_SIZE + 100),
  );
  fail('fail_appended.emb', 'one byte appended', 'chunk_auth_failed', concat(multi, Uint8Array.of(0)));
  const swapped = multi.slice();
  swapped.set(multi.subarray(body, body + ENCRYPTED_CHUNK_SIZE), body + ENCRYPTED_CHUNK_SIZE);
  swapped.set(multi.subarray(body + ENCRYPTED_CHUNK_SIZE, body + 2 * ENCRYPTED_CHUNK_SIZE), body);
  fail('fail_chunks_swapped.emb', 'chunks 0 and 1 swapped', 'chunk_auth_failed', swapped);

  // Edge cases of docs/FORMAT.md, decided there (issue 10). Short input: compared with the magic
  // byte by byte, so input that differs is not_archive and a cut-off magic is truncated.
  fail('fail_short_not_archive.emb', 'six bytes that are not the magic', 'not_archive', utf8('%PDF-1'));
  fail('fail_short_magic_prefix.emb', 'the magic cut after six bytes', 'truncated', utf8('EMBASS'));

  // Manifests that break §4, put in place of good_short's (refused at step 2, before any stanza).
  const shortManifest = manifest('v-short', { name: 'parcels.csv' });
  const withManifest = (b: Uint8Array, manifestBytes: Uint8Array) =>
    concat(b.subarray(0, 8), u32(manifestBytes.length), manifestBytes, b.subarray(12 + readU32(b, 8)));
  fail(
    'fail_manifest_bom.emb',
    "a UTF-8 byte-order mark before good_short's manifest",
    'bad_manifest',
    withManifest(short, concat(Uint8Array.of(0xef, 0xbb, 0xbf), jcs(shortManifest))),
  );
  for (const [file, description, createdAt] of [
    ['fail_created_at_feb_30.emb', 'createdAt on a day that does not exist', '2026-02-30T00:00:00Z'],
    ['fail_created_at_24h.emb', 'createdAt at 24:00:00', '2026-11-27T24:00:00Z'],
  ] as const) {
    fail(file, description, 'bad_manifest', withManifest(short, jcs({ ...shortManifest, createdAt })));
  }
  fail(
    'fail_name_256_bytes.emb',
    'name of 128 code points but 256 UTF-8 bytes',
    'bad_manifest',
    withManifest(short, jcs({ ...shortManifest, name: '\u00e9'.repeat(128) })),
  );
  fail(
    'fail_name_control.emb',
    'name with a C1 control character (U+0085)',
    'bad_manifest',
    withManifest(short, jcs({ ...shortManifest, name: 'parcels\u0085.csv' })),
  );

  // Stanzas that break §5, beside good_short's quorum stanza; the MAC is recomputed with its DEK
  // (the first 32 bytes of its randomness), so the malformed stanza is the only defect.
  const dek = fixedRandom('good_short.emb')(32);
  const shortHeader = await readHeader(exactReader(bufferSource(short)));
  const shortBody = short.subarray(shortHeader.bytes.length);
  const [quorum] = shortHeader.stanzas as [Stanza];
  const restanza = (stanzas: Stanza[]) =>
    concat(
      encodeHeader(
        shortHeader.manifestBytes,
        stanzas,
        headerMac(dek, VERSION, shortHeader.manifestBytes, stanzas),
      ),
      shortBody,
    );
  fail(
    'fail_quorum_stanza_malformed_after.emb',
    'a 1187-byte quorum stanza after the one that opens',
    'bad_header',
    restanza([quorum, { type: STANZA_QUORUM, body: quorum.body.subarray(1) }]),
  );
  fail(
    'fail_home_stanza_malformed.emb',
    'a home stanza with a byte after its two fields (outside the MAC)',
    'bad_header',
    concat(
      encodeHeader(
        shortHeader.manifestBytes,
        [
          quorum,
          {
            type: STANZA_HOME,
            body: concat(
              makeHomeStanza({ kekId: utf8('kek'), wrapped: new Uint8Array(40) }).body,
              Uint8Array.of(0),
            ),
          },
        ],
        shortHeader.mac,
      ),
      shortBody,
    ),
  );
  const bodyHeader = shortBody.subarray(0, 56);
  const maker = await makeMakerStanza(
    {
      signer: 'job/backup-job',
      rosterId: '00'.repeat(32),
      sequence: 1,
      sign: async () => new Uint8Array(64),
    },
    shortManifest,
    shortHeader.manifestBytes,
    bodyHeader,
  );
  fail(
    'fail_maker_empty.emb',
    'a maker stanza {}',
    'bad_header',
    restanza([quorum, { type: STANZA_MAKER, body: utf8('{}') }]),
  );
  fail('fail_maker_twice.emb', 'two maker stanzas', 'bad_header', restanza([quorum, maker, maker]));
  const stringSequence = jcs({
    type: 'archive-maker',
    roster: '00'.repeat(32),
    signer: 'job/backup-job',
    sig: 'AAAA',
    body: { ...makerBody(shortManifest, shortHeader.manifestBytes, bodyHeader, 1), sequence: '1' },
  });
  fail(
    'fail_maker_sequence_string.emb',
    'a maker stanza whose sequence is the decimal string "1", not the integer 1',
    'bad_header',
    restanza([quorum, { type: STANZA_MAKER, body: stringSequence }]),
  );
  return { files, index };
}

const readU32 = (b: Uint8Array, at: number) => new DataView(b.buffer, b.byteOffset + at, 4).getUint32(0);

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { files, index } = await buildVectors();
  mkdirSync(VECTOR_DIR, { recursive: true });
  for (const [name, bytes] of files) writeFileSync(`${VECTOR_DIR}${name}`, bytes);
  writeFileSync(`${VECTOR_DIR}index.json`, `${JSON.stringify(index, null, 2)}\n`);
  writeFileSync(`${VECTOR_DIR}key.txt`, formatKeyFile(vectorKey.seed, new Date('2026-11-27T00:00:00Z')));
  process.stdout.write(`wrote ${files.size} vectors to ${VECTOR_DIR}\n`);
}

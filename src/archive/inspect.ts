/**
 * Reads an archive's header and measures its body without any key: what `embassy inspect` prints.
 * It refuses what `openArchive` refuses before needing a key, with the same codes (docs/FORMAT.md §8
 * steps 1–3, and a body length that breaks §7).
 */

import { toHex } from '../crypto/bytes.ts';
import { BODY_HEADER_SIZE, ENCRYPTED_CHUNK_SIZE, TAG_SIZE } from '../crypto/chunked.ts';
import { ArchiveError } from './errors.ts';
import { readHeader } from './header.ts';
import { exactReader, type Source } from './io.ts';
import type { MakerBody } from './maker.ts';
import type { Manifest } from './manifest.ts';
import { parseStanzas } from './stanzas.ts';

export type StanzaSummary =
  | { type: 'quorum'; keyId: string; epoch: number }
  | { type: 'home'; kekId: string }
  | { type: 'maker'; signer: string; sequence: number }
  | { type: 'unknown'; code: number; length: number };

export interface ArchiveSummary {
  version: number;
  manifest: Manifest;
  stanzas: StanzaSummary[];
  headerBytes: number;
  bodyBytes: number;
  chunks: number;
  /** What the body length implies, before any authentication. */
  plaintextBytes: number;
}

export async function inspectArchive(src: Source): Promise<ArchiveSummary> {
  try {
    const header = await readHeader(exactReader(src));
    const stanzas = parseStanzas(header).map((s): StanzaSummary => {
      if (s.kind === 'quorum') return { type: 'quorum', keyId: toHex(s.quorum.keyId), epoch: s.quorum.epoch };
      if (s.kind === 'home') return { type: 'home', kekId: toHex(s.home.kekId) };
      if (s.kind === 'maker') {
        return {
          type: 'maker',
          signer: s.statement.signer,
          sequence: (s.statement.body as unknown as MakerBody).sequence,
        };
      }
      return { type: 'unknown', code: s.type, length: s.body.length };
    });
    let bodyBytes = 0;
    const buf = new Uint8Array(1 << 20);
    for (let n = await src.read(buf); n > 0; n = await src.read(buf)) bodyBytes += n;
    const enc = bodyBytes - BODY_HEADER_SIZE;
    const rem = enc % ENCRYPTED_CHUNK_SIZE;
    if (enc < 0 || rem === 0 || rem < TAG_SIZE) throw new ArchiveError('truncated', 'archive is truncated');
    const chunks = Math.floor(enc / ENCRYPTED_CHUNK_SIZE) + 1;
    return {
      version: header.version,
      manifest: header.manifest,
      stanzas,
      headerBytes: header.bytes.length,
      bodyBytes,
      chunks,
      plaintextBytes: enc - chunks * TAG_SIZE,
    };
  } finally {
    await src.close();
  }
}

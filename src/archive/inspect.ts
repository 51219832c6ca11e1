/** Reads an archive's header and measures its body without any key: what `embassy inspect` prints. */

import { toHex } from '../crypto/bytes.ts';
import { BODY_HEADER_SIZE, ENCRYPTED_CHUNK_SIZE, TAG_SIZE } from '../crypto/chunked.ts';
import { ArchiveError } from './errors.ts';
import { parseHomeStanza, parseQuorumStanza, readHeader, STANZA_HOME, STANZA_QUORUM } from './header.ts';
import { exactReader, type Source } from './io.ts';
import { parseMakerStanza, STANZA_MAKER } from './maker.ts';
import type { Manifest } from './manifest.ts';

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
    const stanzas = header.stanzas.map((s): StanzaSummary => {
      if (s.type === STANZA_QUORUM) {
        const q = parseQuorumStanza(s.body);
        return { type: 'quorum', keyId: toHex(q.keyId), epoch: q.epoch };
      }
      if (s.type === STANZA_HOME) return { type: 'home', kekId: toHex(parseHomeStanza(s.body).kekId) };
      if (s.type === STANZA_MAKER) {
        const m = parseMakerStanza(s.body);
        return {
          type: 'maker',
          signer: m.signer,
          sequence: Number((m.body as { sequence?: number }).sequence),
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

/**
 * Every stanza of a header parsed by its type (docs/FORMAT.md §5), once and the same way for every
 * reader: open, inspect and rewrap refuse a malformed known stanza wherever it stands (`bad_header`),
 * not only the one they happen to use, and refuse more than one maker stanza. Unknown types are kept
 * as they are.
 *
 * @example
 * for (const s of parseStanzas(header)) if (s.kind === 'quorum') console.log(s.quorum.epoch);
 */
import type { Statement } from '../crypto/statement.ts';
import { ArchiveError } from './errors.ts';
import {
  type Header,
  type HomeStanza,
  parseHomeStanza,
  parseQuorumStanza,
  type QuorumStanza,
  STANZA_HOME,
  STANZA_QUORUM,
} from './header.ts';
import { parseMakerStanza, STANZA_MAKER } from './maker.ts';

export type ParsedStanza =
  | { kind: 'quorum'; quorum: QuorumStanza }
  | { kind: 'home'; home: HomeStanza }
  | { kind: 'maker'; statement: Statement }
  | { kind: 'unknown'; type: number; body: Uint8Array };

export function parseStanzas(header: Header): ParsedStanza[] {
  const parsed = header.stanzas.map((s): ParsedStanza => {
    if (s.type === STANZA_QUORUM) return { kind: 'quorum', quorum: parseQuorumStanza(s.body) };
    if (s.type === STANZA_HOME) return { kind: 'home', home: parseHomeStanza(s.body) };
    if (s.type === STANZA_MAKER) return { kind: 'maker', statement: parseMakerStanza(s.body) };
    return { kind: 'unknown', type: s.type, body: s.body };
  });
  if (parsed.filter((s) => s.kind === 'maker').length > 1) {
    throw new ArchiveError('bad_header', 'archive header has more than one maker stanza');
  }
  return parsed;
}

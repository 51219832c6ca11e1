/**
 * The maker's signature (docs/DECISIONS.md#d4): the backup job that seals an archive signs, with its
 * roster key, a statement over the manifest, the body's salt and key commitment, and a sequence
 * number that only increases per domain. It travels in the header as stanza 0x02 (inside the
 * header MAC), so the archive stays self-contained, and it survives rotations (it names no quorum
 * key). A station checks it against its pinned roster and the logged registration before it
 * restores: nobody who merely holds the public key can forge an archive, and the foreign data
 * centre cannot silently hand back an older one.
 */
import { toHex } from '../crypto/bytes.ts';
import { jcs } from '../crypto/jcs.ts';
import { parseStatement, type Statement, signStatement } from '../crypto/statement.ts';
import { OTHER_STATEMENT } from '../protocol/statements.ts';
import { ArchiveError } from './errors.ts';
import { manifestHash, type Stanza } from './header.ts';
import type { Manifest } from './manifest.ts';

export const STANZA_MAKER = 0x02;

export interface MakerBody {
  domain: string;
  snapshotId: string;
  sealEpoch: number;
  /** SHA-256 of the manifest bytes, hex. */
  manifest: string;
  /** The body's salt ‖ key commitment (56 bytes), hex: binds the signature to this DEK and body. */
  body: string;
  /** Only increases per domain; the registration logs the same number. */
  sequence: number;
}

export interface MakerSigner {
  /** `job/<id>` as the roster names the job. */
  signer: string;
  /** rosterId (hex) the job pinned. */
  rosterId: string;
  sequence: number;
  sign(payload: Uint8Array): Promise<Uint8Array>;
}

export function makerBody(
  m: Manifest,
  manifestBytes: Uint8Array,
  bodyHeader: Uint8Array,
  sequence: number,
): MakerBody {
  return {
    domain: m.domain,
    snapshotId: m.snapshotId,
    sealEpoch: m.sealEpoch,
    manifest: toHex(manifestHash(manifestBytes)),
    body: toHex(bodyHeader),
    sequence,
  };
}

export async function makeMakerStanza(
  maker: MakerSigner,
  m: Manifest,
  manifestBytes: Uint8Array,
  bodyHeader: Uint8Array,
): Promise<Stanza> {
  const body = makerBody(m, manifestBytes, bodyHeader, maker.sequence);
  const s = await signStatement(
    { type: OTHER_STATEMENT.maker, roster: maker.rosterId, signer: maker.signer, body: { ...body } },
    maker.sign,
  );
  return { type: STANZA_MAKER, body: jcs(s) };
}

const MAKER_BODY_FIELDS: Record<keyof MakerBody, (v: unknown) => boolean> = {
  domain: (v) => typeof v === 'string',
  snapshotId: (v) => typeof v === 'string',
  sealEpoch: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff,
  manifest: (v) => typeof v === 'string' && /^[0-9a-f]{64}$/.test(v),
  body: (v) => typeof v === 'string' && /^[0-9a-f]{112}$/.test(v),
  sequence: (v) => Number.isSafeInteger(v) && (v as number) >= 1,
};

/**
 * Parses a maker stanza: the canonical bytes of an `archive-maker` statement whose body has exactly
 * the {@link MakerBody} fields, `sequence` an integer from 1 to 2^53 − 1 (as in the job's
 * registration). Anything else is `bad_header`, for every reader alike (open, inspect, rewrap).
 */
export function parseMakerStanza(body: Uint8Array): Statement {
  let s: Statement;
  try {
    s = parseStatement(body);
  } catch {
    throw new ArchiveError('bad_header', 'maker stanza is not a canonical signed statement');
  }
  const b = s.body as Record<string, unknown> | null;
  const fields = Object.entries(MAKER_BODY_FIELDS);
  if (
    s.type !== OTHER_STATEMENT.maker ||
    typeof b !== 'object' ||
    b === null ||
    Array.isArray(b) ||
    Object.keys(b).length !== fields.length ||
    !fields.every(([k, ok]) => ok(b[k]))
  ) {
    throw new ArchiveError(
      'bad_header',
      'maker stanza is not an archive-maker statement (domain, snapshotId, sealEpoch, manifest, body, integer sequence)',
    );
  }
  return s;
}

/** Facts a maker verifier compares the signed statement with. */
export interface MakerFacts {
  manifest: Manifest;
  manifestBytes: Uint8Array;
  bodyHeader: Uint8Array;
}

/**
 * Throws `maker_mismatch` unless the statement's body names exactly this manifest and body; the
 * caller checks the signer and signature against its roster and the sequence against the log.
 */
export function checkMakerFacts(s: Statement, f: MakerFacts): MakerBody {
  const sequence = (s.body as { sequence?: unknown } | null)?.sequence;
  const want = makerBody(
    f.manifest,
    f.manifestBytes,
    f.bodyHeader,
    Number.isSafeInteger(sequence) ? (sequence as number) : -1,
  );
  const got = s.body as unknown as MakerBody;
  if (s.type !== OTHER_STATEMENT.maker || !sameJcs(got, want)) {
    throw new ArchiveError(
      'maker_mismatch',
      'the maker signature does not name this archive (manifest or body differ)',
    );
  }
  return got;
}

/** Equal as RFC 8785 bytes: what the signature covers (sorting keys for `JSON.stringify` is not JCS). */
function sameJcs(a: unknown, b: unknown): boolean {
  try {
    return Buffer.from(jcs(a)).equals(jcs(b));
  } catch {
    return false;
  }
}

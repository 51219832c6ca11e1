/**
 * The archive manifest: facts fixed at seal time (docs/DECISIONS.md#d7), encoded as RFC 8785 JSON.
 * The current epoch and key id live only in stanzas, so a rotation never touches the body.
 *
 * @example
 * const bytes = encodeManifest({ domain: 'land', snapshotId: 'land-2026-11-27', sealEpoch: 1,
 *   createdAt: '2026-11-27T03:00:00Z', contentType: 'text/csv' });
 * parseManifest(bytes).domain; // 'land'
 */
import { jcs } from '../crypto/jcs.ts';
import { ArchiveError } from './errors.ts';

export interface Manifest {
  /** Registry family, e.g. `land`: selects the quorum key. */
  domain: string;
  snapshotId: string;
  /** The domain's key epoch when the archive was sealed (stanzas may later carry newer epochs). */
  sealEpoch: number;
  /** RFC 3339 UTC, whole seconds: `YYYY-MM-DDTHH:MM:SSZ`. */
  createdAt: string;
  /** MIME type of the plaintext, for the restore. */
  contentType: string;
  /** Original file name (no directory), optional. */
  name?: string;
}

export const MAX_MANIFEST_SIZE = 16 * 1024;

/**
 * `YYYY-MM-DDTHH:MM:SSZ` naming an instant that exists: `Date.parse` alone rolls `2026-02-30` over to
 * March and reads `T24:00:00` as the next midnight, so the text must survive a round trip.
 */
const isInstant = (v: string): boolean =>
  /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}Z$/.test(v) &&
  !Number.isNaN(Date.parse(v)) &&
  new Date(v).toISOString() === `${v.slice(0, -1)}.000Z`;

/**
 * A file name a restore can create: 1–255 bytes of UTF-8 (the usual file-system limit, NAME_MAX, is
 * in bytes, not characters), no directory separator, no control character (Unicode Cc: C0, DEL, C1; they
 * corrupt a terminal or a log line), no lone surrogate, not `.` or `..`.
 */
function isFileName(v: string): boolean {
  const utf8 = Buffer.from(v, 'utf8');
  return (
    utf8.toString('utf8') === v && // a lone surrogate would have become U+FFFD
    utf8.length <= 255 &&
    /^[^/\\\p{Cc}]+$/u.test(v) &&
    v !== '.' &&
    v !== '..'
  );
}

const RULES: Record<keyof Manifest, { required: boolean; check: (v: unknown) => boolean; rule: string }> = {
  domain: {
    required: true,
    check: (v) => typeof v === 'string' && /^[a-z][a-z0-9-]{0,62}$/.test(v),
    rule: 'lower-case letters, digits and "-", starting with a letter, at most 63 characters',
  },
  snapshotId: {
    required: true,
    check: (v) => typeof v === 'string' && /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/.test(v),
    rule: 'letters, digits and "._:-", at most 128 characters',
  },
  sealEpoch: {
    required: true,
    check: (v) => Number.isInteger(v) && (v as number) >= 0 && (v as number) <= 0xffffffff,
    rule: 'an integer from 0 to 4294967295',
  },
  createdAt: {
    required: true,
    check: (v) => typeof v === 'string' && isInstant(v),
    rule: 'an existing RFC 3339 UTC time with whole seconds, e.g. 2026-11-27T03:00:00Z',
  },
  contentType: {
    required: true,
    check: (v) => typeof v === 'string' && /^[\x21-\x7e][\x20-\x7e]{0,254}$/.test(v),
    rule: 'printable ASCII, at most 255 characters',
  },
  name: {
    required: false,
    check: (v) => typeof v === 'string' && isFileName(v),
    rule: 'a file name of 1 to 255 UTF-8 bytes, without "/", "\\" or control characters, not "." or ".."',
  },
};

/** Checks a manifest object against the v1 schema; unknown fields are refused (a new field is a new version). */
export function validateManifest(m: unknown): Manifest {
  if (typeof m !== 'object' || m === null || Array.isArray(m)) {
    throw new ArchiveError('bad_manifest', 'archive manifest is not a JSON object');
  }
  for (const k of Object.keys(m)) {
    if (!(k in RULES)) throw new ArchiveError('bad_manifest', `archive manifest has an unknown field "${k}"`);
  }
  for (const [k, r] of Object.entries(RULES)) {
    const v = (m as Record<string, unknown>)[k];
    if (v === undefined) {
      if (r.required) throw new ArchiveError('bad_manifest', `archive manifest lacks "${k}"`);
    } else if (!r.check(v)) {
      throw new ArchiveError('bad_manifest', `archive manifest field "${k}" must be ${r.rule}`);
    }
  }
  return m as Manifest;
}

export function encodeManifest(m: Manifest): Uint8Array {
  const bytes = jcs(validateManifest(m));
  if (bytes.length > MAX_MANIFEST_SIZE)
    throw new ArchiveError('bad_manifest', 'archive manifest is too large');
  return bytes;
}

/**
 * Parses manifest bytes and insists they are, byte for byte, the canonical (JCS) encoding of what they
 * hold: a byte-order mark, whitespace or reordered members are refused, as by any other reader of the spec.
 */
export function parseManifest(bytes: Uint8Array): Manifest {
  if (bytes[0] === 0xef && bytes[1] === 0xbb && bytes[2] === 0xbf) {
    throw new ArchiveError('bad_manifest', 'archive manifest starts with a byte-order mark');
  }
  let value: unknown;
  try {
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    throw new ArchiveError('bad_manifest', 'archive manifest is not valid UTF-8 JSON');
  }
  const m = validateManifest(value);
  if (!Buffer.from(bytes).equals(jcs(m))) {
    throw new ArchiveError('bad_manifest', 'archive manifest is not in canonical (RFC 8785) form');
  }
  return m;
}

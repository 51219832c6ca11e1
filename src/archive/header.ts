/**
 * The sealed-archive header (docs/FORMAT.md §2): magic and version, the canonical manifest, the
 * recipient stanzas, and a MAC keyed from the DEK. The body that follows is C2SP chunked encryption.
 *
 *     "EMBASSY" ‖ 0x01 ‖ u32 manifest_len ‖ manifest ‖ u8 stanza_count ‖
 *     { u8 type ‖ u32 body_len ‖ body } × stanza_count ‖ mac[32]
 */
import { createHash, createHmac, hkdfSync } from 'node:crypto';
import { concat, equalCt, fields, u32, utf8 } from '../crypto/bytes.ts';
import { hpkeOpen, hpkeSeal } from '../crypto/hpke.ts';
import { KEY_ID_SIZE, keyId } from '../crypto/keys.ts';
import { XWING_CIPHERTEXT_SIZE } from '../crypto/xwing.ts';
import { ArchiveError } from './errors.ts';
import { MAX_MANIFEST_SIZE, type Manifest, parseManifest } from './manifest.ts';

export const MAGIC = utf8('EMBASSY');
export const VERSION = 1;
export const MAC_SIZE = 32;
export const DEK_SIZE = 32;
export const MAX_STANZAS = 32;
export const MAX_STANZA_SIZE = 16 * 1024;

/** Stanza types. Types with the high bit set are outside the header MAC (see {@link macCovers}). */
export const STANZA_QUORUM = 0x01;
export const STANZA_HOME = 0x81;

export const QUORUM_STANZA_SIZE = KEY_ID_SIZE + 4 + XWING_CIPHERTEXT_SIZE + DEK_SIZE + 16;

export interface Stanza {
  type: number;
  body: Uint8Array;
}

export interface Header {
  version: number;
  manifest: Manifest;
  manifestBytes: Uint8Array;
  stanzas: Stanza[];
  mac: Uint8Array;
  /** The exact header bytes as read or written; the body starts right after them. */
  bytes: Uint8Array;
}

/**
 * Home stanzas are rewrapped inside the home HSM (docs/DECISIONS.md#f4), where the DEK never reaches this
 * process, so they cannot be MACed; they are bound through the body's key commitment instead.
 */
export const macCovers = (type: number): boolean => (type & 0x80) === 0;

const sha256 = (b: Uint8Array) => new Uint8Array(createHash('sha256').update(b).digest());

/** HPKE `aad` of quorum stanzas and the hash in the body context. */
export const manifestHash = (manifestBytes: Uint8Array): Uint8Array => sha256(manifestBytes);

/** C2SP chunked-encryption context: binds the body to the manifest (not to any key id, so rotation is header-only). */
export const bodyContext = (manifestBytes: Uint8Array): Uint8Array =>
  fields('data-embassy/v1/payload', manifestHash(manifestBytes));

/** HPKE `info` of a quorum stanza. */
export const quorumInfo = (m: Manifest, epoch: number, kid: Uint8Array): Uint8Array =>
  fields('data-embassy/v1/dek-wrap', m.domain, u32(epoch), kid, m.snapshotId);

export function headerMac(dek: Uint8Array, version: number, manifestBytes: Uint8Array, stanzas: Stanza[]) {
  const key = new Uint8Array(hkdfSync('sha256', dek, new Uint8Array(0), 'data-embassy/v1/header-mac', 32));
  const covered = stanzas.filter((s) => macCovers(s.type)).map((s) => concat(Uint8Array.of(s.type), s.body));
  const input = fields('data-embassy/v1/header', Uint8Array.of(version), manifestBytes, ...covered);
  return new Uint8Array(createHmac('sha256', key).update(input).digest());
}

export interface QuorumStanza {
  keyId: Uint8Array;
  epoch: number;
  enc: Uint8Array;
  ct: Uint8Array;
}

export async function makeQuorumStanza(
  m: Manifest,
  manifestBytes: Uint8Array,
  dek: Uint8Array,
  publicKey: Uint8Array,
  epoch: number,
  eseed?: Uint8Array,
): Promise<Stanza> {
  const kid = keyId(publicKey);
  const { enc, ct } = await hpkeSeal(
    publicKey,
    quorumInfo(m, epoch, kid),
    manifestHash(manifestBytes),
    dek,
    eseed,
  );
  return { type: STANZA_QUORUM, body: concat(kid, u32(epoch), enc, ct) };
}

export function parseQuorumStanza(body: Uint8Array): QuorumStanza {
  if (body.length !== QUORUM_STANZA_SIZE) {
    throw new ArchiveError(
      'bad_header',
      `quorum stanza has length ${body.length}, expected ${QUORUM_STANZA_SIZE}`,
    );
  }
  const epoch = new DataView(body.buffer, body.byteOffset + KEY_ID_SIZE, 4).getUint32(0);
  const encStart = KEY_ID_SIZE + 4;
  return {
    keyId: body.subarray(0, KEY_ID_SIZE),
    epoch,
    enc: body.subarray(encStart, encStart + XWING_CIPHERTEXT_SIZE),
    ct: body.subarray(encStart + XWING_CIPHERTEXT_SIZE),
  };
}

/** Opens a quorum stanza with an X-Wing seed; the caller has matched its key id. */
export async function openQuorumStanza(
  header: Header,
  stanza: QuorumStanza,
  seed: Uint8Array,
  kid: Uint8Array,
): Promise<Uint8Array> {
  try {
    return await hpkeOpen(
      seed,
      stanza.enc,
      quorumInfo(header.manifest, stanza.epoch, kid),
      manifestHash(header.manifestBytes),
      stanza.ct,
    );
  } catch {
    throw new ArchiveError(
      'stanza_open_failed',
      'the stanza for this key does not open: the archive header was modified',
    );
  }
}

export interface HomeStanza {
  kekId: Uint8Array;
  wrapped: Uint8Array;
}

export const makeHomeStanza = (h: HomeStanza): Stanza => ({
  type: STANZA_HOME,
  body: fields(h.kekId, h.wrapped),
});

export function parseHomeStanza(body: Uint8Array): HomeStanza {
  const parts: Uint8Array[] = [];
  let off = 0;
  while (off < body.length && parts.length < 2) {
    if (off + 2 > body.length) break;
    const n = (body[off]! << 8) | body[off + 1]!;
    if (off + 2 + n > body.length) break;
    parts.push(body.subarray(off + 2, off + 2 + n));
    off += 2 + n;
  }
  if (parts.length !== 2 || off !== body.length || parts[0]!.length === 0 || parts[1]!.length === 0) {
    throw new ArchiveError('bad_header', 'home stanza is malformed');
  }
  return { kekId: parts[0]!, wrapped: parts[1]! };
}

export function encodeHeader(manifestBytes: Uint8Array, stanzas: Stanza[], mac: Uint8Array): Uint8Array {
  if (stanzas.length < 1 || stanzas.length > MAX_STANZAS) {
    throw new ArchiveError('bad_argument', `an archive needs 1 to ${MAX_STANZAS} stanzas`);
  }
  return concat(
    MAGIC,
    Uint8Array.of(VERSION),
    u32(manifestBytes.length),
    manifestBytes,
    Uint8Array.of(stanzas.length),
    ...stanzas.flatMap((s) => [Uint8Array.of(s.type), u32(s.body.length), s.body]),
    mac,
  );
}

/** Reads exactly n bytes or fails with `truncated`. */
export type ReadExact = (n: number) => Promise<Uint8Array>;

/** Parses a header, checking every length before reading, so absurd lengths fail without allocation. */
export async function readHeader(readExact: ReadExact): Promise<Header> {
  const parts: Uint8Array[] = [];
  const take = async (n: number) => {
    const b = await readExact(n);
    parts.push(b);
    return b;
  };
  // Byte by byte, so that short input which is not an archive ("%PDF") says so, while a cut-off
  // archive ("EMBA") is `truncated` (docs/FORMAT.md §8 step 1).
  for (const m of MAGIC) {
    if ((await take(1))[0] !== m) {
      throw new ArchiveError('not_archive', 'input is not a data-embassy archive (bad magic)');
    }
  }
  const version = (await take(1))[0]!;
  if (version !== VERSION) {
    throw new ArchiveError(
      'unsupported_version',
      `archive version ${version} is not supported (this reads version 1)`,
    );
  }
  const manifestLen = readU32(await take(4));
  if (manifestLen < 2 || manifestLen > MAX_MANIFEST_SIZE) {
    throw new ArchiveError('bad_header', `archive header has an absurd manifest length (${manifestLen})`);
  }
  const manifestBytes = await take(manifestLen);
  const manifest = parseManifest(manifestBytes);
  const count = (await take(1))[0]!;
  if (count < 1 || count > MAX_STANZAS) {
    throw new ArchiveError('bad_header', `archive header has an absurd stanza count (${count})`);
  }
  const stanzas: Stanza[] = [];
  for (let i = 0; i < count; i++) {
    const th = await take(5);
    const len = readU32(th.subarray(1));
    if (len < 1 || len > MAX_STANZA_SIZE) {
      throw new ArchiveError('bad_header', `archive stanza ${i} has an absurd length (${len})`);
    }
    stanzas.push({ type: th[0]!, body: await take(len) });
  }
  const mac = await take(MAC_SIZE);
  return { version, manifest, manifestBytes, stanzas, mac, bytes: concat(...parts) };
}

export function verifyHeaderMac(header: Header, dek: Uint8Array): void {
  if (!equalCt(headerMac(dek, header.version, header.manifestBytes, header.stanzas), header.mac)) {
    throw new ArchiveError('header_mac_mismatch', 'archive header was modified (header MAC does not verify)');
  }
}

const readU32 = (b: Uint8Array): number => new DataView(b.buffer, b.byteOffset, 4).getUint32(0);

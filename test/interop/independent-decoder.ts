/**
 * An independent decoder of the sealed archive format, written from docs/FORMAT.md alone: it reads
 * no project source, so a disagreement with `embassy open` is a gap in the specification or a bug
 * in one of the two. It composes the primitives the specification cites: X-Wing from
 * `@noble/post-quantum` (`ml_kem768_x25519`), the RFC 9180 key schedule over `@noble/hashes`
 * HKDF, AES-256-GCM from `node:crypto`, and its own Bech32m (BIP 350) and RFC 8785 (JCS).
 *
 * Writing it found ten places where docs/FORMAT.md was silent or ambiguous (the maker stanza's field
 * forms and exact-JCS rule, home stanza sizes, when a malformed stanza is refused, the order of the tag
 * check and the length rule, C2SP versus the document's formulas, HKDF with a 32-byte key, HPKE's
 * `enc` and suite_id, key-file white space, the stanza kinds of a wrong-size key); the document now
 * states each rule. This decoder is stricter than the document in three places no vector reaches:
 * it applies §4's rules to a maker stanza's `domain` and `snapshotId`, requires `signer` to be
 * `job/…` with a non-empty `sig`, and reads private keys in upper case only.
 */
import { createDecipheriv, timingSafeEqual } from 'node:crypto';
import { expand, extract, hkdf } from '@noble/hashes/hkdf.js';
import { hmac } from '@noble/hashes/hmac.js';
import { sha256, sha512 } from '@noble/hashes/sha2.js';
import { ml_kem768_x25519 as xwing } from '@noble/post-quantum/hybrid.js';

/** The refusal codes of docs/FORMAT.md §8 this decoder can produce. */
export type RefusalCode =
  | 'not_archive'
  | 'unsupported_version'
  | 'truncated'
  | 'bad_header'
  | 'bad_manifest'
  | 'no_matching_stanza'
  | 'stanza_open_failed'
  | 'header_mac_mismatch'
  | 'commitment_mismatch'
  | 'chunk_auth_failed';

export type Decoded = { ok: true; plaintext: Uint8Array } | { ok: false; code: RefusalCode; detail: string };

class Refusal extends Error {
  constructor(
    readonly code: RefusalCode,
    detail: string,
  ) {
    super(detail);
  }
}

const te = new TextEncoder();
const utf8 = (s: string) => te.encode(s);

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  let at = 0;
  for (const p of parts) {
    out.set(p, at);
    at += p.length;
  }
  return out;
}

function u8(n: number): Uint8Array {
  return Uint8Array.of(n);
}
function u16(n: number): Uint8Array {
  return Uint8Array.of(n >>> 8, n & 0xff);
}

/** §1: `fields(a, b, …) = lp(a) ‖ lp(b) ‖ …`. */
function fields(...xs: (Uint8Array | string)[]): Uint8Array {
  return concat(
    ...xs.flatMap((x) => {
      const b = typeof x === 'string' ? utf8(x) : x;
      if (b.length > 0xffff) throw new Error('field longer than 65535 bytes');
      return [u16(b.length), b];
    }),
  );
}

// ---- Bech32m (BIP 350), for the key file of §2 ----

const CHARSET = 'qpzry9x8gf2tvdw0s3jn54khce6mua7l';
const GEN = [0x3b6a57b2, 0x26508e6d, 0x1ea119fa, 0x3d4233dd, 0x2a1462b3];

function polymod(values: number[]): number {
  let chk = 1;
  for (const v of values) {
    const top = chk >>> 25;
    chk = (((chk & 0x1ffffff) << 5) ^ v) >>> 0;
    for (let i = 0; i < 5; i++) if ((top >>> i) & 1) chk = (chk ^ (GEN[i] as number)) >>> 0;
  }
  return chk;
}

/** Decodes a Bech32m string with no length limit; returns its HRP and 8-bit payload. */
function bech32mDecode(text: string): { hrp: string; data: Uint8Array } {
  if (text !== text.toLowerCase() && text !== text.toUpperCase()) throw new Error('mixed case');
  const s = text.toLowerCase();
  const sep = s.lastIndexOf('1');
  if (sep < 1 || s.length - sep - 1 < 6) throw new Error('no separator or checksum');
  const hrp = s.slice(0, sep);
  for (const c of hrp) {
    const code = c.charCodeAt(0);
    if (code < 33 || code > 126) throw new Error('bad hrp character');
  }
  const words: number[] = [];
  for (const c of s.slice(sep + 1)) {
    const w = CHARSET.indexOf(c);
    if (w < 0) throw new Error('bad data character');
    words.push(w);
  }
  const hrpExpanded = [...hrp].map((c) => c.charCodeAt(0) >> 5);
  hrpExpanded.push(0, ...[...hrp].map((c) => c.charCodeAt(0) & 31));
  if (polymod([...hrpExpanded, ...words]) !== 0x2bc830a3) throw new Error('bad checksum');
  // 5-bit groups to bytes, no padding added: leftover bits must be fewer than 5 and all zero.
  const out: number[] = [];
  let acc = 0;
  let bits = 0;
  for (const w of words.slice(0, -6)) {
    acc = (acc << 5) | w;
    bits += 5;
    if (bits >= 8) {
      bits -= 8;
      out.push((acc >>> bits) & 0xff);
    }
  }
  if (bits >= 5 || (acc & ((1 << bits) - 1)) !== 0) throw new Error('bad padding');
  return { hrp, data: Uint8Array.from(out) };
}

/** §2: a key file's private keys, each a 32-byte X-Wing seed. */
export function parseIdentities(text: string): Uint8Array[] {
  const seeds: Uint8Array[] = [];
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    if (line !== line.toUpperCase()) throw new Error('a private key is upper case');
    const { hrp, data } = bech32mDecode(line);
    if (hrp !== 'embassy-secret-key-') throw new Error(`wrong HRP ${hrp}`);
    if (data.length !== 32) throw new Error(`a private key is 32 bytes, not ${data.length}`);
    seeds.push(data);
  }
  if (seeds.length === 0) throw new Error('a key file holds at least one key');
  return seeds;
}

// ---- RFC 8785 (JCS) ----

/** RFC 8785 of a value JSON.parse produced (ES number and string serialisation, keys by UTF-16). */
function jcs(v: unknown): string {
  if (v === null || typeof v === 'boolean') return JSON.stringify(v);
  if (typeof v === 'string') return jcsString(v);
  if (typeof v === 'number') {
    if (!Number.isFinite(v)) throw new Error('not a JSON number');
    return JSON.stringify(v);
  }
  if (Array.isArray(v)) return `[${v.map(jcs).join(',')}]`;
  const obj = v as Record<string, unknown>;
  // Default sort compares UTF-16 code units, which is what RFC 8785 §3.2.3 asks.
  const keys = Object.keys(obj).sort();
  return `{${keys.map((k) => `${jcsString(k)}:${jcs(obj[k])}`).join(',')}}`;
}

/** RFC 8785 §3.2.2.2: ES string serialisation; a lone surrogate (only reachable through a `\u` escape) is refused. */
function jcsString(s: string): string {
  if (/\p{Cs}/u.test(s)) throw new Error('lone surrogate');
  return JSON.stringify(s);
}

/** Parses UTF-8 JSON whose bytes must be exactly its own JCS encoding; undefined otherwise. */
function parseCanonical(bytes: Uint8Array): Record<string, unknown> | undefined {
  let value: unknown;
  try {
    // fatal: invalid UTF-8 refused; ignoreBOM: a BOM is kept, so JSON.parse refuses it.
    value = JSON.parse(new TextDecoder('utf-8', { fatal: true, ignoreBOM: true }).decode(bytes));
  } catch {
    return undefined;
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) return undefined;
  let canonical: string;
  try {
    canonical = jcs(value);
  } catch {
    return undefined;
  }
  const c = utf8(canonical);
  if (c.length !== bytes.length || !c.every((b, i) => b === bytes[i])) return undefined;
  return value as Record<string, unknown>;
}

// ---- §4 manifest ----

interface Manifest {
  domain: string;
  snapshotId: string;
  sealEpoch: number;
}

const DOMAIN = /^[a-z][a-z0-9-]{0,62}$/;
const SNAPSHOT_ID = /^[A-Za-z0-9][A-Za-z0-9._:-]{0,127}$/;
const CREATED_AT = /^(\d{4})-(\d{2})-(\d{2})T(\d{2}):(\d{2}):(\d{2})Z$/;

const isUint32 = (x: unknown): x is number =>
  Number.isInteger(x) && (x as number) >= 0 && (x as number) <= 0xffffffff;

function validInstant(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  const m = CREATED_AT.exec(s);
  if (!m) return false;
  const [y, mo, d, h, mi, se] = m.slice(1).map(Number) as [number, number, number, number, number, number];
  if (mo < 1 || mo > 12 || h > 23 || mi > 59 || se > 59 || d < 1) return false;
  const leap = (y % 4 === 0 && y % 100 !== 0) || y % 400 === 0;
  const days = [31, leap ? 29 : 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31][mo - 1] as number;
  return d <= days;
}

function validName(s: unknown): boolean {
  if (typeof s !== 'string') return false;
  const n = utf8(s).length;
  if (n < 1 || n > 255 || s === '.' || s === '..') return false;
  // No `/`, `\`, or Unicode Cc (U+0000–U+001F, U+007F–U+009F).
  return ![...s].some((c) => c === '/' || c === '\\' || c <= '\u001f' || (c >= '\u007f' && c <= '\u009f'));
}

function parseManifest(bytes: Uint8Array): Manifest {
  const m = parseCanonical(bytes);
  if (!m) throw new Refusal('bad_manifest', 'manifest is not canonical UTF-8 JSON (RFC 8785) of an object');
  const allowed = new Set(['domain', 'snapshotId', 'sealEpoch', 'createdAt', 'contentType', 'name']);
  for (const k of Object.keys(m))
    if (!allowed.has(k)) throw new Refusal('bad_manifest', `unknown field ${k}`);
  const ct = m.contentType;
  const ok =
    typeof m.domain === 'string' &&
    DOMAIN.test(m.domain) &&
    typeof m.snapshotId === 'string' &&
    SNAPSHOT_ID.test(m.snapshotId) &&
    isUint32(m.sealEpoch) &&
    validInstant(m.createdAt) &&
    typeof ct === 'string' &&
    /^[\x21-\x7e][\x20-\x7e]{0,254}$/.test(ct) &&
    (!('name' in m) || validName(m.name));
  if (!ok) throw new Refusal('bad_manifest', 'a manifest field is missing or breaks its rule');
  return { domain: m.domain as string, snapshotId: m.snapshotId as string, sealEpoch: m.sealEpoch as number };
}

// ---- §5 stanzas ----

const QUORUM = 0x01;
const MAKER = 0x02;
const HOME = 0x81;

interface Stanza {
  type: number;
  body: Uint8Array;
}

function checkHome(body: Uint8Array): boolean {
  if (body.length < 2) return false;
  const a = (body[0] as number) * 256 + (body[1] as number);
  if (a === 0 || 2 + a + 2 > body.length) return false;
  const b = (body[2 + a] as number) * 256 + (body[3 + a] as number);
  return b !== 0 && 2 + a + 2 + b === body.length;
}

function checkMaker(body: Uint8Array): boolean {
  const s = parseCanonical(body);
  if (!s) return false;
  const keys = Object.keys(s).sort().join(',');
  if (keys !== 'body,roster,sig,signer,type') return false;
  if (s.type !== 'archive-maker') return false;
  if (typeof s.roster !== 'string' || !/^[0-9a-f]+$/.test(s.roster)) return false;
  if (typeof s.signer !== 'string' || !/^job\/.+$/.test(s.signer)) return false;
  if (typeof s.sig !== 'string' || !/^[A-Za-z0-9_-]+$/.test(s.sig)) return false;
  const b = s.body as Record<string, unknown>;
  if (typeof b !== 'object' || b === null || Array.isArray(b)) return false;
  if (Object.keys(b).sort().join(',') !== 'body,domain,manifest,sealEpoch,sequence,snapshotId') return false;
  return (
    typeof b.domain === 'string' &&
    DOMAIN.test(b.domain) &&
    typeof b.snapshotId === 'string' &&
    SNAPSHOT_ID.test(b.snapshotId) &&
    isUint32(b.sealEpoch) &&
    typeof b.manifest === 'string' &&
    /^[0-9a-f]{64}$/.test(b.manifest) &&
    typeof b.body === 'string' &&
    /^[0-9a-f]{112}$/.test(b.body) &&
    Number.isSafeInteger(b.sequence) &&
    (b.sequence as number) >= 1
  );
}

function checkStanzas(stanzas: Stanza[]): void {
  let makers = 0;
  for (const [i, s] of stanzas.entries()) {
    if (s.type === QUORUM && s.body.length !== 1188)
      throw new Refusal('bad_header', `stanza ${i}: quorum not 1188 bytes`);
    if (s.type === HOME && !checkHome(s.body))
      throw new Refusal('bad_header', `stanza ${i}: malformed home stanza`);
    if (s.type === MAKER) {
      if (++makers > 1) throw new Refusal('bad_header', `stanza ${i}: a second maker stanza`);
      if (!checkMaker(s.body)) throw new Refusal('bad_header', `stanza ${i}: malformed maker stanza`);
    }
  }
}

// ---- §1 HPKE (RFC 9180, mode_base, X-Wing / HKDF-SHA256 / AES-256-GCM), open side only ----

const HPKE_SUITE = concat(utf8('HPKE'), u16(0x647a), u16(0x0001), u16(0x0002));
const labeledExtract = (salt: Uint8Array, label: string, ikm: Uint8Array) =>
  extract(sha256, concat(utf8('HPKE-v1'), HPKE_SUITE, utf8(label), ikm), salt);
const labeledExpand = (prk: Uint8Array, label: string, info: Uint8Array, L: number) =>
  expand(sha256, prk, concat(u16(L), utf8('HPKE-v1'), HPKE_SUITE, utf8(label), info), L);

function gcmOpen(
  key: Uint8Array,
  nonce: Uint8Array,
  aad: Uint8Array,
  sealed: Uint8Array,
): Uint8Array | undefined {
  if (sealed.length < 16) return undefined;
  const d = createDecipheriv('aes-256-gcm', key, nonce);
  d.setAAD(aad);
  d.setAuthTag(sealed.subarray(sealed.length - 16));
  try {
    return concat(d.update(sealed.subarray(0, sealed.length - 16)), d.final());
  } catch {
    return undefined;
  }
}

function hpkeOpenBase(skR: Uint8Array, enc: Uint8Array, info: Uint8Array, aad: Uint8Array, ct: Uint8Array) {
  let shared: Uint8Array;
  try {
    shared = xwing.decapsulate(enc, skR);
  } catch {
    return undefined;
  }
  const empty = new Uint8Array(0);
  const context = concat(
    u8(0x00),
    labeledExtract(empty, 'psk_id_hash', empty),
    labeledExtract(empty, 'info_hash', info),
  );
  const secret = labeledExtract(shared, 'secret', empty);
  const key = labeledExpand(secret, 'key', context, 32);
  const nonce = labeledExpand(secret, 'base_nonce', context, 12); // sequence number 0
  return gcmOpen(key, nonce, aad, ct);
}

/**
 * §7: HKDF-Expand-SHA-512 (RFC 5869 §2.3) for L = 76, written out because the PRK here is the
 * 32-byte DEK, shorter than the 64 bytes RFC 5869 asks of a PRK, which `@noble/hashes` refuses.
 */
function hkdfExpandShortPrk(prk: Uint8Array, info: Uint8Array): Uint8Array {
  const t1 = hmac(sha512, prk, concat(info, u8(1)));
  const t2 = hmac(sha512, prk, concat(t1, info, u8(2)));
  return concat(t1, t2).subarray(0, 76);
}

// ---- the reader, §8 ----

const MAGIC = utf8('EMBASSY');
const CHUNK = 16384;
const SEALED_CHUNK = CHUNK + 16;

class Reader {
  at = 0;
  constructor(private readonly bytes: Uint8Array) {}
  take(n: number, what: string): Uint8Array {
    if (this.at + n > this.bytes.length) throw new Refusal('truncated', `input ends inside the ${what}`);
    const out = this.bytes.subarray(this.at, this.at + n);
    this.at += n;
    return out;
  }
  uint(n: 1 | 4, what: string): number {
    return this.take(n, what).reduce((acc, b) => acc * 256 + b, 0);
  }
  rest(): Uint8Array {
    return this.bytes.subarray(this.at);
  }
}

function decode(bytes: Uint8Array, seeds: Uint8Array[]): Uint8Array {
  // Step 1: magic compared byte by byte, then the version.
  for (let i = 0; i < MAGIC.length; i++) {
    if (i >= bytes.length)
      throw new Refusal('truncated', i === 0 ? 'input is empty' : 'input ends inside the magic');
    if (bytes[i] !== MAGIC[i]) throw new Refusal('not_archive', 'no EMBASSY magic');
  }
  const r = new Reader(bytes);
  r.take(7, 'magic');
  const version = r.uint(1, 'version');
  if (version !== 1) throw new Refusal('unsupported_version', `version ${version}, this reader reads 1`);

  // Step 2: manifest length checked before reading it.
  const manifestLen = r.uint(4, 'manifest length');
  if (manifestLen < 2 || manifestLen > 16384)
    throw new Refusal('bad_header', `manifest length ${manifestLen}`);
  const manifest = r.take(manifestLen, 'manifest');
  const facts = parseManifest(manifest);

  // Step 3: stanzas, the MAC, then every known stanza parsed.
  const count = r.uint(1, 'stanza count');
  if (count < 1 || count > 32) throw new Refusal('bad_header', `stanza count ${count}`);
  const stanzas: Stanza[] = [];
  for (let i = 0; i < count; i++) {
    const type = r.uint(1, 'stanza type');
    const len = r.uint(4, 'stanza length');
    if (len < 1 || len > 16384) throw new Refusal('bad_header', `stanza ${i} length ${len}`);
    stanzas.push({ type, body: r.take(len, 'stanza') });
  }
  const mac = r.take(32, 'header MAC');
  checkStanzas(stanzas);

  // Steps 4-5: every quorum stanza whose key id we hold, in header order; the first DEK whose MAC verifies.
  const manifestHash = sha256(manifest);
  const macInput = fields(
    'data-embassy/v1/header',
    u8(version),
    manifest,
    ...stanzas.filter((s) => s.type < 0x80).map((s) => concat(u8(s.type), s.body)),
  );
  const keys = seeds.map((seed) => {
    const { publicKey } = xwing.keygen(seed);
    return { seed, keyId: sha256(publicKey).subarray(0, 16) };
  });
  let firstError: Refusal | undefined;
  let dek: Uint8Array | undefined;
  for (const s of stanzas) {
    if (s.type !== QUORUM) continue;
    const keyId = s.body.subarray(0, 16);
    const key = keys.find((k) => timingSafeEqual(k.keyId, keyId));
    if (!key) continue;
    const epoch = s.body.subarray(16, 20);
    const enc = s.body.subarray(20, 20 + 1120);
    const ct = s.body.subarray(20 + 1120);
    const info = fields('data-embassy/v1/dek-wrap', facts.domain, epoch, keyId, facts.snapshotId);
    const candidate = hpkeOpenBase(key.seed, enc, info, manifestHash, ct);
    if (candidate?.length !== 32) {
      firstError ??= new Refusal('stanza_open_failed', 'HPKE open failed');
      continue;
    }
    const macKey = hkdf(sha256, candidate, new Uint8Array(0), utf8('data-embassy/v1/header-mac'), 32);
    if (timingSafeEqual(hmac(sha256, macKey, macInput), mac)) {
      dek = candidate;
      break;
    }
    firstError ??= new Refusal('header_mac_mismatch', 'header MAC differs');
  }
  if (!dek) throw firstError ?? new Refusal('no_matching_stanza', 'no stanza for the keys held');

  // Step 6: salt and commitment.
  const salt = r.take(24, 'body salt');
  const commitment = r.take(32, 'body commitment');
  const context = fields('data-embassy/v1/payload', manifestHash);
  const derived = hkdfExpandShortPrk(
    dek,
    concat(utf8('c2sp.org/chunked-encryption@v1+AEAD_AES_256_GCM'), u8(0), salt, context),
  );
  const key = derived.subarray(0, 32);
  const baseNonce = derived.subarray(32, 44);
  if (!timingSafeEqual(derived.subarray(44, 76), commitment))
    throw new Refusal('commitment_mismatch', 'commitment');

  // Step 7: chunks; the final one strictly shorter than a full chunk.
  const body = r.rest();
  const out: Uint8Array[] = [];
  for (let i = 0, at = 0; ; i++, at += SEALED_CHUNK) {
    const left = body.length - at;
    if (left <= SEALED_CHUNK && (left < 16 || left === SEALED_CHUNK)) {
      throw new Refusal('truncated', 'the body lost its final chunk or was cut inside one');
    }
    const nonce = Uint8Array.from(baseNonce);
    for (let b = 0, v = i; b < 5; b++, v = Math.floor(v / 256))
      nonce[11 - b] = (nonce[11 - b] as number) ^ (v & 0xff);
    const pt = gcmOpen(key, nonce, new Uint8Array(0), body.subarray(at, at + SEALED_CHUNK));
    if (!pt) throw new Refusal('chunk_auth_failed', `chunk ${i}`);
    out.push(pt);
    if (left < SEALED_CHUNK) return concat(...out);
  }
}

/**
 * Opens a whole archive held in memory with the given X-Wing seeds (docs/FORMAT.md §8 for a reader
 * with quorum keys only and no maker check, like `embassy open -i`).
 *
 * @example
 * const r = decodeArchive(readFileSync('a.emb'), parseIdentities(readFileSync('key.txt', 'utf8')));
 * if (r.ok) process.stdout.write(r.plaintext);
 */
export function decodeArchive(bytes: Uint8Array, seeds: Uint8Array[]): Decoded {
  try {
    return { ok: true, plaintext: decode(bytes, seeds) };
  } catch (e) {
    if (e instanceof Refusal) return { ok: false, code: e.code, detail: e.message };
    throw e;
  }
}

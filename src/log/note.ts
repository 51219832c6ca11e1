/**
 * C2SP signed-note v1.0.0 (c2sp.org/signed-note): parse and format notes, key IDs, verifier keys
 * (`name+hex(keyID)+base64(type ‖ pubkey)`), signing with any {@link Signer} (software or HSM), and
 * opening a note under the spec's verifier rules.
 *
 * A note is UTF-8 text ending in `\n` (no control characters but `\n`), a blank line, then one or more
 * lines `— <key name> <base64(keyID[4, big-endian] ‖ signature)>`. The signed message is the text,
 * final newline included. The *last* blank line separates text from signatures.
 *
 * Opening rules: signatures from unknown keys (name and key ID must both match) are ignored; a known
 * key's signature that fails to verify rejects the whole note; at least one known key must verify.
 * Only Ed25519 (type 0x01) verification is built in (node:crypto, strict RFC 8032: it passes all
 * Wycheproof cases); other types can be plugged in through the {@link NoteVerifier} interface.
 *
 * @example
 * const signer = softwareEd25519Signer('example.com/log');
 * const note = await signNote('hello\n', [signer]);
 * const verifier = parseVerifierKey(formatVerifierKey(signer.name, signer.publicKey));
 * openNote(note, [verifier]).text; // 'hello\n'
 * @module
 */
import {
  createHash,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  verify as nodeVerify,
} from 'node:crypto';
import {
  ed25519KeySigner,
  ed25519PrivateKeyFromSeed,
  ed25519RawPublicKey,
} from '../crypto/ed25519-signer.ts';
import { EmbassyError } from '../errors.ts';

/** Error codes raised by this module. */
export type NoteErrorCode =
  | 'note_malformed'
  | 'note_bad_text'
  | 'note_bad_key_name'
  | 'note_bad_verifier_key'
  | 'note_too_many_signatures'
  | 'note_ambiguous_key'
  | 'note_bad_signature'
  | 'note_unverified'
  | 'note_signer_mismatch';

/** The only error this module throws. Messages never include key material. */
export class NoteError extends EmbassyError<NoteErrorCode> {}

/** Signature type byte for Ed25519 (RFC 8032 over the note text). */
export const SIG_TYPE_ED25519 = 0x01;
/** Verifiers must accept at least 16 signatures; we accept up to this many. */
export const MAX_SIGNATURES = 100;
/** Upper bound on a note's size in bytes (post-quantum signatures run to ~5 kB each). */
export const MAX_NOTE_BYTES = 1 << 20;

const EM_DASH_SPACE = '\u2014 ';
const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** True iff `s` has a C0 control character (or DEL / NEL when `strict`) other than an allowed newline. */
function hasControl(s: string, allowNewline: boolean, strict = false): boolean {
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if ((c < 0x20 && !(allowNewline && c === 0x0a)) || (strict && (c === 0x7f || c === 0x85))) return true;
  }
  return false;
}

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** Key names: non-empty, no Unicode space, no `+`, no control character, well-formed. */
export function isValidKeyName(name: string): boolean {
  return (
    typeof name === 'string' &&
    name.length > 0 &&
    !/[\s+]/u.test(name) &&
    !hasControl(name, false, true) &&
    !LONE_SURROGATE.test(name)
  );
}

function checkName(name: string): void {
  if (!isValidKeyName(name))
    throw new NoteError('note_bad_key_name', 'key name is empty or has a space or "+"');
}

/**
 * Key ID as the spec recommends: `SHA-256(name ‖ 0x0A ‖ type ‖ publicKey)[:4]`, big-endian uint32.
 * @example keyId('example.com/foo', 0x01, pub) // 0x530d903a for the spec's example key
 */
export function keyId(name: string, type: number, publicKey: Uint8Array): number {
  checkName(name);
  const d = createHash('sha256')
    .update(encoder.encode(name))
    .update(Uint8Array.of(0x0a, type))
    .update(publicKey)
    .digest();
  return d.readUInt32BE(0);
}

/** Strict standard base64 (RFC 4648 §4, padded): returns null unless `s` is the canonical encoding. */
function b64decode(s: string): Uint8Array | null {
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(s) || s.length % 4 !== 0) return null;
  const b = Buffer.from(s, 'base64');
  return b.toString('base64') === s ? new Uint8Array(b) : null;
}

const b64 = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('base64');
const hex8 = (n: number): string => n.toString(16).padStart(8, '0');

/** One signature line of a note, parsed. `signature` excludes the 4-byte key ID. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  readonly signature: Uint8Array;
}

/** A parsed (not verified!) note. */
export interface Note {
  /** The signed text, final newline included. */
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

function checkText(text: string): void {
  if (typeof text !== 'string' || text.length === 0 || !text.endsWith('\n'))
    throw new NoteError('note_bad_text', 'note text must end with a newline');
  if (hasControl(text, true))
    throw new NoteError('note_bad_text', 'note text has a control character other than newline');
  if (LONE_SURROGATE.test(text)) throw new NoteError('note_bad_text', 'note text is not well-formed Unicode');
}

/**
 * Parses a signed note's syntax. It checks no signature: use {@link openNote} for that.
 * @throws {NoteError} `note_malformed`, `note_too_many_signatures`.
 */
export function parseNote(note: string | Uint8Array): Note {
  let s: string;
  if (typeof note === 'string') {
    s = note;
    if (encoder.encode(s).length > MAX_NOTE_BYTES) throw new NoteError('note_malformed', 'note is too large');
  } else {
    if (!(note instanceof Uint8Array)) throw new NoteError('note_malformed', 'note must be text or bytes');
    if (note.length > MAX_NOTE_BYTES) throw new NoteError('note_malformed', 'note is too large');
    try {
      s = decoder.decode(note);
    } catch {
      throw new NoteError('note_malformed', 'note is not valid UTF-8');
    }
  }
  if (typeof s !== 'string') throw new NoteError('note_malformed', 'note must be text or bytes');
  if (hasControl(s, true))
    throw new NoteError('note_malformed', 'note has a control character other than newline');
  if (LONE_SURROGATE.test(s)) throw new NoteError('note_malformed', 'note is not well-formed Unicode');
  const split = s.lastIndexOf('\n\n');
  if (split < 0) throw new NoteError('note_malformed', 'note has no blank line before its signatures');
  const text = s.slice(0, split + 1);
  const block = s.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n'))
    throw new NoteError('note_malformed', 'note has no signatures');
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_SIGNATURES)
    throw new NoteError('note_too_many_signatures', 'note has too many signatures');
  const signatures: NoteSignature[] = [];
  for (const line of lines) {
    if (!line.startsWith(EM_DASH_SPACE))
      throw new NoteError('note_malformed', 'signature line must start with "— "');
    const rest = line.slice(EM_DASH_SPACE.length);
    const sp = rest.indexOf(' ');
    if (sp < 0) throw new NoteError('note_malformed', 'signature line has no signature');
    const name = rest.slice(0, sp);
    if (!isValidKeyName(name))
      throw new NoteError('note_malformed', 'signature line has an invalid key name');
    const raw = b64decode(rest.slice(sp + 1));
    if (raw === null || raw.length < 5)
      throw new NoteError('note_malformed', 'signature is not valid base64');
    const id = new DataView(raw.buffer, raw.byteOffset, 4).getUint32(0);
    signatures.push({ name, keyId: id, signature: raw.slice(4) });
  }
  return { text, signatures };
}

/** Formats a note: `text ‖ "\n" ‖ signature lines`. Validates the text and every key name. */
export function formatNote(note: Note): string {
  checkText(note.text);
  if (note.signatures.length === 0)
    throw new NoteError('note_malformed', 'a note needs at least one signature');
  let out = `${note.text}\n`;
  for (const sig of note.signatures) {
    checkName(sig.name);
    const raw = new Uint8Array(4 + sig.signature.length);
    new DataView(raw.buffer).setUint32(0, sig.keyId >>> 0);
    raw.set(sig.signature, 4);
    out += `${EM_DASH_SPACE}${sig.name} ${b64(raw)}\n`;
  }
  return out;
}

/**
 * Something that signs note texts: a software key in tests, the `log` token's Ed25519 key
 * (CKM_EDDSA) in production. `keyId` must be {@link keyId}(name, type, publicKey).
 */
export interface Signer {
  readonly name: string;
  readonly keyId: number;
  /** Raw public key: 32 bytes for Ed25519. */
  readonly publicKey: Uint8Array;
  /** Signature type byte; 0x01 (Ed25519) when absent. */
  readonly type?: number;
  /** Signs the message (the note text's UTF-8 bytes) and returns the raw signature. */
  sign(message: Uint8Array): Promise<Uint8Array>;
}

/** Something that checks signatures of one key. */
export interface NoteVerifier {
  readonly name: string;
  readonly keyId: number;
  verify(message: Uint8Array, signature: Uint8Array): boolean;
}

const ED25519_SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');

function ed25519PublicKeyObject(publicKey: Uint8Array): KeyObject | null {
  if (!(publicKey instanceof Uint8Array) || publicKey.length !== 32) return null;
  try {
    return createPublicKey({
      key: Buffer.concat([ED25519_SPKI_PREFIX, publicKey]),
      format: 'der',
      type: 'spki',
    });
  } catch {
    return null;
  }
}

/**
 * Strict Ed25519 verification (RFC 8032, node:crypto/OpenSSL): false for any malformed key,
 * signature or failure; never throws. Passes all 151 Wycheproof ed25519 cases.
 */
export function ed25519Verify(publicKey: Uint8Array, message: Uint8Array, signature: Uint8Array): boolean {
  const key = ed25519PublicKeyObject(publicKey);
  if (key === null || !(signature instanceof Uint8Array) || signature.length !== 64) return false;
  try {
    return nodeVerify(null, message, key, signature);
  } catch {
    return false;
  }
}

/** A verifier for an Ed25519 key (type 0x01). The node:crypto key object is built once. */
export function ed25519Verifier(name: string, publicKey: Uint8Array): NoteVerifier {
  const key = ed25519PublicKeyObject(publicKey);
  if (key === null) throw new NoteError('note_bad_verifier_key', 'Ed25519 public key must be 32 valid bytes');
  return {
    name,
    keyId: keyId(name, SIG_TYPE_ED25519, publicKey),
    verify: (message, signature) => {
      if (!(signature instanceof Uint8Array) || signature.length !== 64) return false;
      try {
        return nodeVerify(null, message, key, signature);
      } catch {
        return false;
      }
    },
  };
}

/**
 * Formats a verifier key: `name+hex(keyID)+base64(type ‖ publicKey)`.
 * @example formatVerifierKey('example.com/foo', pub) // 'example.com/foo+530d903a+Aeky…'
 */
export function formatVerifierKey(
  name: string,
  publicKey: Uint8Array,
  type: number = SIG_TYPE_ED25519,
): string {
  const id = keyId(name, type, publicKey);
  const body = new Uint8Array(1 + publicKey.length);
  body[0] = type;
  body.set(publicKey, 1);
  return `${name}+${hex8(id)}+${b64(body)}`;
}

/**
 * Parses an Ed25519 verifier key (`name+hex(keyID)+base64(0x01 ‖ 32-byte key)`), checking that the
 * key ID matches the key. Other signature types are refused.
 * @throws {NoteError} `note_bad_verifier_key`.
 */
export function parseVerifierKey(vkey: string): NoteVerifier & { readonly publicKey: Uint8Array } {
  const bad = (why: string) => new NoteError('note_bad_verifier_key', `verifier key ${why}`);
  if (typeof vkey !== 'string') throw bad('must be a string');
  // Names cannot contain '+', but base64 key data can: split at the first two only.
  const first = vkey.indexOf('+');
  const second = first < 0 ? -1 : vkey.indexOf('+', first + 1);
  if (first < 0 || second < 0) throw bad('must be name+keyid+key');
  const [name, idHex, keyB64] = [vkey.slice(0, first), vkey.slice(first + 1, second), vkey.slice(second + 1)];
  if (!isValidKeyName(name)) throw bad('has an invalid name');
  if (!/^[0-9a-f]{8}$/.test(idHex)) throw bad('has a malformed key ID');
  const raw = b64decode(keyB64);
  if (raw === null || raw.length < 1) throw bad('has malformed key data');
  if (raw[0] !== SIG_TYPE_ED25519) throw bad('has an unsupported signature type');
  if (raw.length !== 33) throw bad('has a malformed Ed25519 key');
  const publicKey = raw.slice(1);
  if (hex8(keyId(name, SIG_TYPE_ED25519, publicKey)) !== idHex)
    throw bad('has a key ID that does not match its key');
  const v = (() => {
    try {
      return ed25519Verifier(name, publicKey);
    } catch {
      throw bad('has an invalid Ed25519 key');
    }
  })();
  return { ...v, publicKey };
}

/**
 * Wraps any Ed25519 signing function (an HSM's CKM_EDDSA, for instance) as a {@link Signer}.
 * @example ed25519Signer('log.example/embassy', pub, (m) => token.signEd25519(handle, m))
 */
export function ed25519Signer(
  name: string,
  publicKey: Uint8Array,
  sign: (message: Uint8Array) => Promise<Uint8Array>,
): Signer {
  const pub = publicKey.slice();
  return { name, keyId: keyId(name, SIG_TYPE_ED25519, pub), publicKey: pub, type: SIG_TYPE_ED25519, sign };
}

/**
 * A software Ed25519 note signer (src/crypto/ed25519-signer.ts), for tests and development. `seed` is
 * the 32-byte RFC 8032 private key; a fresh key is generated when it is absent.
 */
export function softwareEd25519Signer(name: string, seed?: Uint8Array): Signer {
  let priv: KeyObject;
  if (seed === undefined) priv = generateKeyPairSync('ed25519').privateKey;
  else {
    if (!(seed instanceof Uint8Array) || seed.length !== 32)
      throw new NoteError('note_bad_verifier_key', 'Ed25519 seed must be 32 bytes');
    priv = ed25519PrivateKeyFromSeed(seed);
  }
  return ed25519Signer(name, ed25519RawPublicKey(priv), ed25519KeySigner(priv));
}

/**
 * Signs `text` with every signer and returns the note. An Ed25519 signer's key ID is checked against
 * its name and key, and each signature it returns is verified before use (catches a wrong HSM handle).
 * `existing` signatures (for example a log's, when cosigning) are kept first.
 * @throws {NoteError} `note_bad_text`, `note_bad_key_name`, `note_signer_mismatch`.
 */
export async function signNote(
  text: string,
  signers: readonly Signer[],
  existing: readonly NoteSignature[] = [],
): Promise<string> {
  checkText(text);
  if (signers.length + existing.length === 0) throw new NoteError('note_malformed', 'a note needs a signer');
  const msg = encoder.encode(text);
  const sigs: NoteSignature[] = [...existing];
  for (const s of signers) {
    checkName(s.name);
    const type = s.type ?? SIG_TYPE_ED25519;
    if (keyId(s.name, type, s.publicKey) !== s.keyId >>> 0)
      throw new NoteError('note_signer_mismatch', `signer ${s.name}: key ID does not match its name and key`);
    const signature = await s.sign(msg);
    if (type === SIG_TYPE_ED25519 && !ed25519Verify(s.publicKey, msg, signature))
      throw new NoteError(
        'note_signer_mismatch',
        `signer ${s.name}: signature does not verify under its public key`,
      );
    sigs.push({ name: s.name, keyId: s.keyId >>> 0, signature });
  }
  return formatNote({ text, signatures: sigs });
}

/** The result of {@link openNote}. */
export interface OpenedNote {
  readonly text: string;
  /** The known keys whose signatures verified (each once, in the order given to `openNote`). */
  readonly verified: readonly NoteVerifier[];
  /** Signatures from keys the caller did not list (ignored, as the spec requires). */
  readonly unknown: readonly NoteSignature[];
}

/**
 * Parses and verifies a note. Signatures from unknown keys are ignored; a failing signature from a known
 * key rejects the note; at least one known key must verify.
 * @throws {NoteError} `note_malformed`, `note_too_many_signatures`, `note_ambiguous_key`,
 *   `note_bad_signature`, `note_unverified`.
 * @example openNote(note, [parseVerifierKey(vkey)]).text
 */
export function openNote(note: string | Uint8Array, verifiers: readonly NoteVerifier[]): OpenedNote {
  const byId = new Map<string, NoteVerifier>();
  for (const v of verifiers) {
    const k = `${v.keyId >>> 0}+${v.name}`;
    if (byId.has(k))
      throw new NoteError('note_ambiguous_key', `two verifiers share name ${v.name} and key ID`);
    byId.set(k, v);
  }
  const parsed = parseNote(note);
  const msg = encoder.encode(parsed.text);
  const verified = new Set<NoteVerifier>();
  const unknown: NoteSignature[] = [];
  for (const sig of parsed.signatures) {
    const v = byId.get(`${sig.keyId}+${sig.name}`);
    if (v === undefined) {
      unknown.push(sig);
      continue;
    }
    if (!v.verify(msg, sig.signature))
      throw new NoteError('note_bad_signature', `signature by known key ${sig.name} does not verify`);
    verified.add(v);
  }
  if (verified.size === 0) throw new NoteError('note_unverified', 'no signature from a known key');
  return { text: parsed.text, verified: verifiers.filter((v) => verified.has(v)), unknown };
}

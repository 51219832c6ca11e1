/**
 * Templates and small operations shared by the custodian, home and log tokens (internal to hsm/).
 * Every secret-key template sets CKA_SENSITIVE and CKA_EXTRACTABLE explicitly (SoftHSM defaults both
 * to false, docs/HSM.md §9.1).
 */
import { HsmError } from '../errors.ts';
import { CKM_AES_KEY_WRAP_PAD, OID_P256, unwrapOctetString } from './consts.ts';
import { P } from './module.ts';
import type { Handle, Session, Template } from './token.ts';

export const ZERO_IV16 = Buffer.alloc(16);

/** Facts about a key, read from the token, for attribute checks and audits. */
export interface KeyFacts {
  token: boolean;
  private: boolean;
  sensitive: boolean;
  extractable: boolean;
  alwaysSensitive: boolean;
  neverExtractable: boolean;
  local: boolean;
  /** CKA_WRAP_WITH_TRUSTED (secret and private keys). */
  wrapWithTrusted: boolean;
  /** True if the token handed out CKA_VALUE (it must not for sensitive keys). */
  valueReadable: boolean;
  /** CKA_ID, hex. */
  id: string;
  label: string;
}

export function keyFacts(s: Session, obj: Handle, what: string): KeyFacts {
  const b = (type: number) => {
    try {
      return s.boolAttr(obj, type, what);
    } catch {
      return false;
    }
  };
  let valueReadable = true;
  try {
    s.p11.C_GetAttributeValue(s.handle, obj, [{ type: P.CKA_VALUE }]);
  } catch {
    valueReadable = false;
  }
  return {
    token: b(P.CKA_TOKEN),
    private: b(P.CKA_PRIVATE),
    sensitive: b(P.CKA_SENSITIVE),
    extractable: b(P.CKA_EXTRACTABLE),
    alwaysSensitive: b(P.CKA_ALWAYS_SENSITIVE),
    neverExtractable: b(P.CKA_NEVER_EXTRACTABLE),
    local: b(P.CKA_LOCAL),
    wrapWithTrusted: b(P.CKA_WRAP_WITH_TRUSTED),
    valueReadable,
    id: s.attr(obj, P.CKA_ID, what).toString('hex'),
    label: s.attr(obj, P.CKA_LABEL, what).toString('utf8'),
  };
}

/** Search template for a token object by class and label. */
export const byLabel = (cls: number, label: string): Template => [
  { type: P.CKA_CLASS, value: cls },
  { type: P.CKA_LABEL, value: label },
];

/** Search template for a token object by class and CKA_ID. */
export const byId = (cls: number, id: Buffer): Template => [
  { type: P.CKA_CLASS, value: cls },
  { type: P.CKA_ID, value: id },
];

/** Generates a P-256 key pair as token objects (private: sensitive, non-extractable). */
export async function generateP256(
  s: Session,
  label: string,
  id: Buffer,
  usage: 'sign' | 'derive',
): Promise<{ publicKey: Handle; privateKey: Handle }> {
  return s.generateKeyPair(
    P.CKM_EC_KEY_PAIR_GEN,
    [
      { type: P.CKA_KEY_TYPE, value: P.CKK_EC },
      { type: P.CKA_EC_PARAMS, value: OID_P256 },
      { type: P.CKA_TOKEN, value: true },
      { type: P.CKA_PRIVATE, value: false },
      { type: P.CKA_VERIFY, value: usage === 'sign' },
      { type: P.CKA_DERIVE, value: false },
      { type: P.CKA_LABEL, value: label },
      { type: P.CKA_ID, value: id },
    ],
    [
      { type: P.CKA_KEY_TYPE, value: P.CKK_EC },
      { type: P.CKA_TOKEN, value: true },
      { type: P.CKA_PRIVATE, value: true },
      { type: P.CKA_SENSITIVE, value: true },
      { type: P.CKA_EXTRACTABLE, value: false },
      { type: P.CKA_SIGN, value: usage === 'sign' },
      { type: P.CKA_DERIVE, value: usage === 'derive' },
      { type: P.CKA_LABEL, value: label },
      { type: P.CKA_ID, value: id },
    ],
    `P-256 key "${label}"`,
  );
}

/** Ephemeral P-256 pair as session objects; the private half can only derive. */
export function generateEphemeralP256(s: Session) {
  return s.generateKeyPair(
    P.CKM_EC_KEY_PAIR_GEN,
    [
      { type: P.CKA_KEY_TYPE, value: P.CKK_EC },
      { type: P.CKA_EC_PARAMS, value: OID_P256 },
      { type: P.CKA_TOKEN, value: false },
    ],
    [
      { type: P.CKA_KEY_TYPE, value: P.CKK_EC },
      { type: P.CKA_TOKEN, value: false },
      { type: P.CKA_SENSITIVE, value: true },
      { type: P.CKA_EXTRACTABLE, value: false },
      { type: P.CKA_DERIVE, value: true },
    ],
    'ephemeral P-256 key',
  );
}

/** The 65-byte uncompressed point of an EC public key object. */
export function ecPoint(s: Session, pub: Handle, what: string): Uint8Array {
  const p = unwrapOctetString(s.attr(pub, P.CKA_EC_POINT, what));
  if (p.length !== 65 || p[0] !== 0x04)
    throw new HsmError(
      'pkcs11_error',
      `the ${what} in token "${s.label}" is not an uncompressed P-256 point`,
    );
  return new Uint8Array(p);
}

/** A session-only AES-256 key template with exactly one usage. */
export function sessionAes(usage: 'derive' | 'wrap' | 'unwrap'): Template {
  return [
    { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
    { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
    { type: P.CKA_VALUE_LEN, value: 32 },
    { type: P.CKA_TOKEN, value: false },
    { type: P.CKA_SENSITIVE, value: true },
    { type: P.CKA_EXTRACTABLE, value: false },
    { type: P.CKA_DERIVE, value: usage === 'derive' },
    { type: P.CKA_WRAP, value: usage === 'wrap' },
    { type: P.CKA_UNWRAP, value: usage === 'unwrap' },
    { type: P.CKA_ENCRYPT, value: false },
    { type: P.CKA_DECRYPT, value: false },
    { type: P.CKA_SIGN, value: false },
    { type: P.CKA_VERIFY, value: false },
  ];
}

/**
 * The context-bound KEK (docs/HSM.md §9.4): K0 = ECDH(priv, peer) with CKD_NULL (the x-coordinate),
 * K1 = CKM_AES_CBC_ENCRYPT_DATA(K0, iv 0¹⁶, info). Both are session objects; the caller destroys them.
 */
export async function contextKek(
  s: Session,
  priv: Handle,
  peerPub: Uint8Array,
  info: Uint8Array,
  usage: 'wrap' | 'unwrap',
): Promise<{ k0: Handle; k1: Handle }> {
  const k0 = await s.derive(
    {
      mechanism: P.CKM_ECDH1_DERIVE,
      parameter: { type: P.CK_PARAMS_EC_DH, kdf: P.CKD_NULL, publicData: Buffer.from(peerPub) },
    },
    priv,
    sessionAes('derive'),
    'ECDH shared key',
  );
  try {
    const k1 = await s.derive(
      {
        mechanism: P.CKM_AES_CBC_ENCRYPT_DATA,
        parameter: { type: P.CK_PARAMS_AES_CBC, iv: ZERO_IV16, data: Buffer.from(info) },
      },
      k0,
      sessionAes(usage),
      'context-bound key-encryption key',
    );
    return { k0, k1 };
  } catch (e) {
    s.destroyQuietly(k0);
    throw e;
  }
}

export const KWP = { mechanism: CKM_AES_KEY_WRAP_PAD };

/** Constants pkcs11js lacks (docs/HSM.md §9.2 trap 7) and DER helpers for EC points. */

export const CKK_EC_EDWARDS = 0x40;
export const CKM_EC_EDWARDS_KEY_PAIR_GEN = 0x1055;
export const CKM_EDDSA = 0x1057;
/** CKM_AES_KEY_WRAP_PAD (RFC 5649), 0x210A. */
export const CKM_AES_KEY_WRAP_PAD = 0x210a;

/** DER OID of prime256v1 / secp256r1, the value of CKA_EC_PARAMS for P-256. */
export const OID_P256 = Buffer.from('06082a8648ce3d030107', 'hex');
/** DER OID of Ed25519 (1.3.101.112). */
export const OID_ED25519 = Buffer.from('06032b6570', 'hex');

/** CKA_EC_POINT is a DER OCTET STRING: 04 41 <65 B> (P-256) or 04 20 <32 B> (Ed25519); trap 18. */
export function unwrapOctetString(der: Buffer): Buffer {
  if (der[0] !== 0x04 || der.length < 2) return der;
  let len = der[1]!;
  let off = 2;
  if (len & 0x80) {
    const n = len & 0x7f;
    len = 0;
    for (let i = 0; i < n; i++) len = (len << 8) | der[2 + i]!;
    off = 2 + n;
  }
  return off + len === der.length ? der.subarray(off, off + len) : der;
}

/** `ulong` array encoding for CKA_ALLOWED_MECHANISMS (native endianness, 8-byte CK_ULONG on 64-bit). */
export function ulongArray(values: number[]): Buffer {
  const b = Buffer.alloc(8 * values.length);
  values.forEach((v, i) => {
    b.writeBigUInt64LE(BigInt(v), 8 * i);
  });
  return b;
}

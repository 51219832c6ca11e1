/**
 * Known-answer vectors for docs/RELEASE-FORMAT.md, built from fixed inputs with software stand-ins
 * for the token (the token's ephemeral key cannot be fixed). `kind: "release"` wraps the share the
 * way SoftHSM 2.6.1 does (zero-padded to 40 bytes first), so the vector also exercises the length rule.
 */
import { createECDH } from 'node:crypto';
import {
  deriveKek,
  encodeEnvelope,
  encodeImportHeader,
  encodeImportInner,
  encodeReleaseHeader,
  encodeReleaseInner,
  hmacShare,
  hpkeInfo,
  kcvMessage,
  kekInfo,
  kwpWrap,
  MODE_ECDH_KWP,
  shareCommitment,
} from '../../hsm/format.ts';
import { fromHex, toHex } from '../../src/crypto/bytes.ts';
import { hpkeSeal } from '../../src/crypto/hpke.ts';
import { xwingKeygen } from '../../src/crypto/xwing.ts';

export interface VectorInputs {
  domain: string;
  epoch: number;
  ceremony: string;
  custodian: string;
  share: string;
  /** Sender's P-256 ephemeral private key (the token's, in a real release). */
  senderEphSk: string;
  /** Recipient's P-256 private key (station per-ceremony key, or the custodian's transport key). */
  recipientSk: string;
  /** Recipient's X-Wing seed. */
  recipientXWingSeed: string;
  /** HPKE X-Wing encapsulation seed (64 bytes). */
  hpkeEseed: string;
  /** Commitment inputs (release vectors). */
  keyCeremonyId?: string;
  salt?: string;
}

const pub = (skHex: string) => {
  const e = createECDH('prime256v1');
  e.setPrivateKey(fromHex(skHex));
  return { ecdh: e, pub: new Uint8Array(e.getPublicKey(null, 'uncompressed')) };
};

export async function buildVector(kind: 'release' | 'import', i: VectorInputs) {
  const ctx = { domain: i.domain, epoch: i.epoch, ceremony: fromHex(i.ceremony), custodian: i.custodian };
  const share = fromHex(i.share);
  const eph = pub(i.senderEphSk);
  const rcp = pub(i.recipientSk);
  const x = eph.ecdh.computeSecret(rcp.pub);
  const info = kekInfo(kind, ctx, eph.pub, rcp.pub);
  const kek = deriveKek(x, info);
  const xw = xwingKeygen(fromHex(i.recipientXWingSeed));
  let header: Uint8Array;
  let inner: Uint8Array;
  let wrapped: Uint8Array;
  if (kind === 'release') {
    const padded = new Uint8Array(Math.ceil(share.length / 8) * 8);
    padded.set(share);
    wrapped = new Uint8Array(kwpWrap(kek, padded)); // as SoftHSM 2.6.1 wraps a 33-byte key
    header = encodeReleaseHeader({ ...ctx, mode: MODE_ECDH_KWP, recipient: rcp.pub });
    inner = encodeReleaseInner(MODE_ECDH_KWP, { ephPub: eph.pub, length: share.length, wrapped });
  } else {
    wrapped = new Uint8Array(kwpWrap(kek, share));
    header = encodeImportHeader({ ...ctx, transport: rcp.pub });
    inner = encodeImportInner({
      ephPub: eph.pub,
      length: share.length,
      wrapped,
      kcv: hmacShare(share, kcvMessage(i.domain, i.epoch)),
    });
  }
  const sealed = await hpkeSeal(xw.publicKey, hpkeInfo(kind), header, inner, fromHex(i.hpkeEseed));
  const envelope = encodeEnvelope(header, sealed);
  return {
    kind,
    inputs: i,
    intermediate: {
      senderEphPub: toHex(eph.pub),
      recipientPub: toHex(rcp.pub),
      recipientXWingPub: toHex(xw.publicKey),
      ecdhX: toHex(x),
      kekInfo: toHex(info),
      kek: toHex(kek),
      wrapped: toHex(wrapped),
      header: toHex(header),
      inner: toHex(inner),
      ...(kind === 'import' ? { kcv: toHex(hmacShare(share, kcvMessage(i.domain, i.epoch))) } : {}),
      ...(i.salt && i.keyCeremonyId
        ? { commitment: toHex(shareCommitment(i.domain, i.epoch, i.keyCeremonyId, fromHex(i.salt), share)) }
        : {}),
    },
    envelope: toHex(envelope),
  };
}

export const RELEASE_INPUTS: VectorInputs = {
  domain: 'land',
  epoch: 3,
  ceremony: '11'.repeat(32),
  custodian: 'custodian-1',
  share: `${'a5'.repeat(32)}07`,
  senderEphSk: '01'.repeat(32),
  recipientSk: '02'.repeat(32),
  recipientXWingSeed: '03'.repeat(32),
  hpkeEseed: '04'.repeat(64),
  keyCeremonyId: 'kc-2025-001',
  salt: '05'.repeat(32),
};

export const IMPORT_INPUTS: VectorInputs = {
  domain: 'land',
  epoch: 3,
  ceremony: '22'.repeat(32),
  custodian: 'custodian-1',
  share: `${'a5'.repeat(32)}07`,
  senderEphSk: '06'.repeat(32),
  recipientSk: '07'.repeat(32),
  recipientXWingSeed: '08'.repeat(32),
  hpkeEseed: '09'.repeat(64),
};

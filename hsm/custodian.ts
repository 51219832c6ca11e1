/**
 * A custodian's token: identity key (ECDSA P-256), transport key (ECDH P-256, for share imports),
 * the custodian's X-Wing key (seed kept AES-GCM-encrypted under a token key), and shares
 * (`share-<domain>-<epoch>`, sensitive generic-secret objects).
 *
 * The plaintext share never leaves the token: import unwraps it into a token object
 * (C_UnwrapKey), release wraps it to a recipient inside the token (ECDH → context-bound KEK →
 * AES key wrap with padding), and only the wrapped bytes get the outer HPKE/X-Wing layer here.
 *
 * **The token does not check the recipient** (docs/HSM.md §9.3): any holder of the user PIN can release to
 * any key. The caller (the custodian client) must check the signed, roster-valid request first.
 * With `wrapWithTrusted` shares, the token itself refuses every wrapping key the security officer
 * did not install as trusted ({@link installTrustedStationKey}).
 *
 * @example
 * const c = await openCustodian({ label: 'custodian-1', pin });
 * const keys = await c.setup();                    // idempotent: generates missing keys
 * const sig = await c.sign(digest32);              // raw r‖s, 64 bytes
 * await c.importShare(importEnvelope, { domain: 'land', epoch: 1, ceremony });
 * const env = await c.releaseShare({ domain: 'land', epoch: 1, ceremony, recipientP256, recipientXWing });
 * c.close();
 */
import { createHash, createPublicKey, type KeyObject, randomBytes } from 'node:crypto';
import { hpkeOpen, hpkeSeal } from '../src/crypto/hpke.ts';
import { xwingKeygen } from '../src/crypto/xwing.ts';
import { HsmError } from './errors.ts';
import {
  CEREMONY_DIGEST_LENGTH,
  checkLength,
  encodeEnvelope,
  encodeReleaseHeader,
  encodeReleaseInner,
  healthMessage,
  hpkeInfo,
  kcvMessage,
  kekInfo,
  MODE_ECDH_KWP,
  MODE_TRUSTED_RSA_OAEP,
  P256_POINT_LENGTH,
  parseImportEnvelope,
  parseImportInner,
  SHARE_LENGTH,
  type ShareContext,
  sameBytes,
  shareLabel,
  XWING_PUBLIC_KEY_LENGTH,
} from './format.ts';
import { CKM_AES_KEY_WRAP_PAD, ulongArray } from './pkcs11/consts.ts';
import {
  byLabel,
  contextKek,
  ecPoint,
  generateEphemeralP256,
  generateP256,
  type KeyFacts,
  KWP,
  keyFacts,
} from './pkcs11/keys.ts';
import { P } from './pkcs11/module.ts';
import { type Handle, openToken, type Session, type Token } from './pkcs11/token.ts';

export interface TokenOptions {
  /** Token label, e.g. `custodian-1`. */
  label: string;
  /** The user PIN (see hsm/pins.ts for where it comes from). */
  pin: string;
  /** PKCS#11 module path; default `EMBASSY_PKCS11_MODULE`, else SoftHSM2's. */
  module?: string;
  /** Session pool size (default 4). */
  poolSize?: number;
}

export interface CustodianPublicKeys {
  /** ECDSA P-256 identity key, 65-byte uncompressed point. */
  identity: Uint8Array;
  /** ECDH P-256 transport key for share imports, 65 bytes. */
  transport: Uint8Array;
  /** X-Wing public key (1216 bytes), the outer layer of share imports. */
  xwing: Uint8Array;
}

export interface ImportExpectation {
  domain: string;
  epoch: number;
  /** 32-byte digest of the key ceremony the share comes from. */
  ceremony: Uint8Array;
  /** Expected custodian id in the envelope; defaults to the token label. */
  custodian?: string;
  /** Mark the share CKA_WRAP_WITH_TRUSTED (hardening profile). */
  wrapWithTrusted?: boolean;
  /**
   * The CKA_ID to give the share (16 bytes, hex); default random. Pass one to log the intent entry
   * keyed by CKA_ID before the token changes (docs/DECISIONS.md#d6).
   */
  objectId?: string;
}

export interface ReleaseRequest {
  domain: string;
  epoch: number;
  /** 32-byte digest of the signed unlock request this release is for. */
  ceremony: Uint8Array;
  /** Custodian id written in the envelope; defaults to the token label. */
  custodian?: string;
  /** The station's per-ceremony P-256 key (65 B) named in the signed request. */
  recipientP256: Uint8Array;
  /** The station's per-ceremony X-Wing key (1216 B) named in the signed request. */
  recipientXWing: Uint8Array;
}

export interface TrustedReleaseRequest extends Omit<ReleaseRequest, 'recipientP256'> {
  /** Label of the station RSA key the security officer installed as trusted in this token. */
  stationKeyLabel: string;
}

export interface ShareInfo {
  label: string;
  /** CKA_ID, hex. */
  id: string;
  domain: string;
  epoch: number;
}

/** What a destroyed share leaves behind; the caller signs it (identity key) and logs it. */
export interface DestructionRecord {
  type: 'share-destruction';
  domain: string;
  epoch: number;
  token: string;
  tokenSerial: string;
  /** CKA_ID of the destroyed object, hex. */
  objectId: string;
  objectLabel: string;
  /** RFC 3339 UTC. */
  destroyedAt: string;
}

export const IDENTITY_LABEL = 'embassy-identity';
export const TRANSPORT_LABEL = 'embassy-transport';
export const XWING_KEK_LABEL = 'embassy-xwing-kek';
export const XWING_SEED_LABEL = 'embassy-xwing-seed';
export const XWING_PUBLIC_LABEL = 'embassy-xwing-public';
const XWING_SEED_AAD = Buffer.from('data-embassy/v1/custodian-xwing-seed');

const NEEDS = {
  CKM_EC_KEY_PAIR_GEN: P.CKM_EC_KEY_PAIR_GEN,
  CKM_ECDSA: P.CKM_ECDSA,
  CKM_ECDH1_DERIVE: P.CKM_ECDH1_DERIVE,
  CKM_AES_CBC_ENCRYPT_DATA: P.CKM_AES_CBC_ENCRYPT_DATA,
  CKM_AES_KEY_WRAP_PAD: CKM_AES_KEY_WRAP_PAD,
  CKM_AES_GCM: P.CKM_AES_GCM,
  CKM_SHA256_HMAC: P.CKM_SHA256_HMAC,
};

const newId = () => randomBytes(16);

function parseObjectId(hex: string): Buffer {
  if (!/^[0-9a-f]{32}$/.test(hex))
    throw new HsmError('bad_argument', 'an object id is 32 lowercase hex characters');
  return Buffer.from(hex, 'hex');
}
const b = (u: Uint8Array) => Buffer.from(u.buffer, u.byteOffset, u.byteLength);

/** Opens a custodian token (logs in; fails closed when the HSM lacks a needed mechanism). */
export async function openCustodian(opts: TokenOptions): Promise<Custodian> {
  const token = openToken(opts);
  try {
    token.requireMechanisms(NEEDS, 'serve as a custodian token');
  } catch (e) {
    token.close();
    throw e;
  }
  return new Custodian(token);
}

export class Custodian {
  constructor(private readonly token: Token) {}

  get label(): string {
    return this.token.label;
  }

  close(): void {
    this.token.close();
  }

  /** Generates whichever of identity, transport and X-Wing keys is missing; returns all public keys. */
  async setup(): Promise<CustodianPublicKeys> {
    await this.token.use(async (s) => {
      for (const [label, usage] of [
        [IDENTITY_LABEL, 'sign'],
        [TRANSPORT_LABEL, 'derive'],
      ] as const) {
        if (!s.findMaybe(byLabel(P.CKO_PRIVATE_KEY, label), `${label} key`))
          await generateP256(s, label, newId(), usage);
      }
      if (!s.findMaybe(byLabel(P.CKO_DATA, XWING_SEED_LABEL), 'X-Wing seed')) await this.createXWing(s);
    });
    return this.publicKeys();
  }

  private async createXWing(s: Session) {
    if (s.findMaybe(byLabel(P.CKO_SECRET_KEY, XWING_KEK_LABEL), 'X-Wing seed key'))
      throw new HsmError('object_exists', `token "${this.label}" has an X-Wing seed key but no seed`);
    const kek = await s.generateKey(
      P.CKM_AES_KEY_GEN,
      [
        { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
        { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
        { type: P.CKA_VALUE_LEN, value: 32 },
        { type: P.CKA_TOKEN, value: true },
        { type: P.CKA_PRIVATE, value: true },
        { type: P.CKA_SENSITIVE, value: true },
        { type: P.CKA_EXTRACTABLE, value: false },
        { type: P.CKA_ENCRYPT, value: true },
        { type: P.CKA_DECRYPT, value: true },
        { type: P.CKA_WRAP, value: false },
        { type: P.CKA_UNWRAP, value: false },
        { type: P.CKA_SIGN, value: false },
        { type: P.CKA_VERIFY, value: false },
        { type: P.CKA_DERIVE, value: false },
        { type: P.CKA_LABEL, value: XWING_KEK_LABEL },
        { type: P.CKA_ID, value: newId() },
      ],
      'X-Wing seed key',
    );
    const { seed, publicKey } = xwingKeygen();
    try {
      const iv = randomBytes(12);
      const ct = await s.encrypt(gcm(iv), kek, b(seed), 'X-Wing seed key');
      s.create(
        [
          { type: P.CKA_CLASS, value: P.CKO_DATA },
          { type: P.CKA_TOKEN, value: true },
          { type: P.CKA_PRIVATE, value: true },
          { type: P.CKA_MODIFIABLE, value: false },
          { type: P.CKA_LABEL, value: XWING_SEED_LABEL },
          { type: P.CKA_APPLICATION, value: 'data-embassy' },
          { type: P.CKA_VALUE, value: Buffer.concat([iv, ct]) },
        ],
        'X-Wing seed',
      );
      s.create(
        [
          { type: P.CKA_CLASS, value: P.CKO_DATA },
          { type: P.CKA_TOKEN, value: true },
          { type: P.CKA_PRIVATE, value: false },
          { type: P.CKA_MODIFIABLE, value: false },
          { type: P.CKA_LABEL, value: XWING_PUBLIC_LABEL },
          { type: P.CKA_APPLICATION, value: 'data-embassy' },
          { type: P.CKA_VALUE, value: b(publicKey) },
        ],
        'X-Wing public key',
      );
    } finally {
      seed.fill(0);
    }
  }

  /** All public keys (object_missing until {@link setup} ran). */
  async publicKeys(): Promise<CustodianPublicKeys> {
    return this.token.use((s) => ({
      identity: ecPoint(
        s,
        s.findOne(byLabel(P.CKO_PUBLIC_KEY, IDENTITY_LABEL), 'identity public key'),
        'identity public key',
      ),
      transport: ecPoint(
        s,
        s.findOne(byLabel(P.CKO_PUBLIC_KEY, TRANSPORT_LABEL), 'transport public key'),
        'transport public key',
      ),
      xwing: new Uint8Array(
        s.attr(
          s.findOne(byLabel(P.CKO_DATA, XWING_PUBLIC_LABEL), 'X-Wing public key'),
          P.CKA_VALUE,
          'X-Wing public key',
        ),
      ),
    }));
  }

  /** ECDSA P-256 over a 32-byte digest (CKM_ECDSA): raw r‖s, 64 bytes, not low-S normalised. */
  async sign(digest: Uint8Array): Promise<Uint8Array> {
    checkLength(digest, 32, 'digest');
    return this.token.use(async (s) => {
      const key = s.findOne(byLabel(P.CKO_PRIVATE_KEY, IDENTITY_LABEL), 'identity key', 'identity');
      return new Uint8Array(await s.sign({ mechanism: P.CKM_ECDSA }, key, b(digest), 'identity key'));
    });
  }

  /** Decrypts the X-Wing seed inside the token into memory; the caller zeroes it. */
  private async xwingSeed(s: Session): Promise<Uint8Array> {
    const kek = s.findOne(byLabel(P.CKO_SECRET_KEY, XWING_KEK_LABEL), 'X-Wing seed key', 'xwing-kek');
    const blob = s.attr(
      s.findOne(byLabel(P.CKO_DATA, XWING_SEED_LABEL), 'X-Wing seed', 'xwing-seed'),
      P.CKA_VALUE,
    );
    if (blob.length !== 12 + 32 + 16)
      throw new HsmError('auth_failed', `the X-Wing seed in token "${this.label}" is damaged`);
    return new Uint8Array(
      await s.decrypt(gcm(blob.subarray(0, 12)), kek, blob.subarray(12), 'X-Wing seed key'),
    );
  }

  /**
   * Imports a share sent by the key-ceremony station (hsm/station.ts `wrapShareForImport`):
   * removes the outer X-Wing layer (seed decrypted in the token, used, zeroed), unwraps the share
   * into a sensitive token object with C_UnwrapKey and checks the in-token HMAC key-check value;
   * on a mismatch the object is destroyed again.
   */
  async importShare(envelope: Uint8Array, expect: ImportExpectation): Promise<ShareInfo> {
    const parsed = parseImportEnvelope(envelope);
    const h = parsed.header;
    const custodian = expect.custodian ?? this.label;
    const label = shareLabel(expect.domain, expect.epoch);
    checkLength(expect.ceremony, CEREMONY_DIGEST_LENGTH, 'ceremony digest');
    if (
      h.domain !== expect.domain ||
      h.epoch !== expect.epoch ||
      h.custodian !== custodian ||
      !sameBytes(h.ceremony, expect.ceremony)
    ) {
      throw new HsmError(
        'envelope_mismatch',
        `import envelope is for ${h.domain}/${h.epoch} custodian "${h.custodian}", not ${expect.domain}/${expect.epoch} custodian "${custodian}" of this ceremony`,
      );
    }
    return this.token.use(async (s) => {
      const transport = s.findOne(byLabel(P.CKO_PRIVATE_KEY, TRANSPORT_LABEL), 'transport key', 'transport');
      const transportPub = ecPoint(
        s,
        s.findOne(byLabel(P.CKO_PUBLIC_KEY, TRANSPORT_LABEL), 'transport public key'),
        'transport public key',
      );
      if (!sameBytes(transportPub, h.transport))
        throw new HsmError(
          'envelope_mismatch',
          `import envelope is wrapped for another token's transport key`,
        );
      if (s.findMaybe(byLabel(P.CKO_SECRET_KEY, label), `share ${h.domain}/${h.epoch}`))
        throw new HsmError(
          'object_exists',
          `token "${this.label}" already holds share ${h.domain}/${h.epoch}; destroy it first`,
        );
      const seed = await this.xwingSeed(s);
      let innerBytes: Uint8Array;
      try {
        innerBytes = await hpkeOpen(
          seed,
          parsed.sealed.enc,
          hpkeInfo('import'),
          parsed.aad,
          parsed.sealed.ct,
        );
      } catch {
        throw new HsmError(
          'auth_failed',
          'import envelope failed authentication (tampered, or not for this token)',
        );
      } finally {
        seed.fill(0);
      }
      const inner = parseImportInner(innerBytes);
      innerBytes.fill(0);
      if (inner.length !== SHARE_LENGTH)
        throw new HsmError(
          'bad_envelope',
          `malformed envelope: share length ${inner.length}, expected ${SHARE_LENGTH}`,
        );
      const info = kekInfo('import', h, inner.ephPub, transportPub);
      const { k0, k1 } = await contextKek(s, transport, inner.ephPub, info, 'unwrap');
      let share: Handle | undefined;
      try {
        const id = expect.objectId === undefined ? newId() : parseObjectId(expect.objectId);
        const template = [
          { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
          { type: P.CKA_KEY_TYPE, value: P.CKK_GENERIC_SECRET },
          { type: P.CKA_TOKEN, value: true },
          { type: P.CKA_PRIVATE, value: true },
          { type: P.CKA_SENSITIVE, value: true },
          // extractable so that it can be *wrapped* for release; CKA_VALUE stays unreadable (sensitive)
          { type: P.CKA_EXTRACTABLE, value: true },
          { type: P.CKA_SIGN, value: true },
          { type: P.CKA_VERIFY, value: false },
          { type: P.CKA_ENCRYPT, value: false },
          { type: P.CKA_DECRYPT, value: false },
          { type: P.CKA_WRAP, value: false },
          { type: P.CKA_UNWRAP, value: false },
          { type: P.CKA_DERIVE, value: false },
          { type: P.CKA_ID, value: id },
          { type: P.CKA_LABEL, value: label },
          ...(expect.wrapWithTrusted
            ? [
                { type: P.CKA_WRAP_WITH_TRUSTED, value: true },
                { type: P.CKA_COPYABLE, value: false },
                { type: P.CKA_MODIFIABLE, value: false },
              ]
            : []),
        ];
        share = await s.unwrap(KWP, k1, Buffer.from(inner.wrapped), template, `share ${h.domain}/${h.epoch}`);
        const kcv = await s.sign(
          { mechanism: P.CKM_SHA256_HMAC },
          share,
          b(kcvMessage(h.domain, h.epoch)),
          `share ${h.domain}/${h.epoch}`,
        );
        if (!sameBytes(kcv, inner.kcv)) {
          s.destroyQuietly(share);
          share = undefined;
          throw new HsmError(
            'kcv_mismatch',
            `share ${h.domain}/${h.epoch} imported into token "${this.label}" does not match its key-check value; removed again`,
            undefined,
            custodian,
          );
        }
        return { label, id: id.toString('hex'), domain: h.domain, epoch: h.epoch };
      } finally {
        s.destroyQuietly(k1, k0);
      }
    });
  }

  /**
   * Releases the share wrapped to the station's per-ceremony keys. Inside the token: ephemeral
   * P-256 → ECDH (CKD_NULL) with `recipientP256` → K1 = AES-CBC-ENCRYPT-DATA over the ceremony-bound
   * info → CKM_AES_KEY_WRAP_PAD. Outside: HPKE/X-Wing to `recipientXWing`, the header as AAD.
   * The caller must have checked that the signed request names these keys (docs/DECISIONS.md#d2).
   */
  async releaseShare(req: ReleaseRequest): Promise<Uint8Array> {
    checkLength(req.recipientP256, P256_POINT_LENGTH, 'recipient P-256 key');
    checkLength(req.recipientXWing, XWING_PUBLIC_KEY_LENGTH, 'recipient X-Wing key');
    const ctx: ShareContext = { ...req, custodian: req.custodian ?? this.label };
    const header = encodeReleaseHeader({ ...ctx, mode: MODE_ECDH_KWP, recipient: req.recipientP256 });
    const { ephPub, wrapped } = await this.wrapForRecipient(ctx, req.recipientP256);
    const inner = encodeReleaseInner(MODE_ECDH_KWP, { ephPub, length: SHARE_LENGTH, wrapped });
    const sealed = await hpkeSeal(req.recipientXWing, hpkeInfo('release'), header, inner);
    return encodeEnvelope(header, sealed);
  }

  /**
   * The in-token half of a release (no outer layer): `{ ephPub, wrapped }`. Exposed for the
   * benchmark and for tests of the token's own refusal; use {@link releaseShare}.
   */
  async wrapForRecipient(
    ctx: ShareContext,
    recipientP256: Uint8Array,
  ): Promise<{ ephPub: Uint8Array; wrapped: Uint8Array }> {
    const label = shareLabel(ctx.domain, ctx.epoch);
    return this.token.use(async (s) => {
      const share = s.findOne(byLabel(P.CKO_SECRET_KEY, label), `share ${ctx.domain}/${ctx.epoch}`, label);
      const eph = await generateEphemeralP256(s);
      let kek: { k0: Handle; k1: Handle } | undefined;
      try {
        const ephPub = ecPoint(s, eph.publicKey, 'ephemeral public key');
        const info = kekInfo('release', ctx, ephPub, recipientP256);
        kek = await contextKek(s, eph.privateKey, recipientP256, info, 'wrap');
        const wrapped = await s.wrap(KWP, kek.k1, share, `share ${ctx.domain}/${ctx.epoch}`);
        return { ephPub, wrapped: new Uint8Array(wrapped) };
      } finally {
        s.destroyQuietly(kek?.k1, kek?.k0, eph.privateKey, eph.publicKey);
      }
    });
  }

  /**
   * Trusted-wrap release: the share is wrapped with RSA-OAEP (SHA-1, no label: all SoftHSM 2.6.1
   * offers) to a station key the security officer installed as CKA_TRUSTED, then sealed with
   * HPKE/X-Wing like {@link releaseShare}.
   */
  async releaseShareTrusted(req: TrustedReleaseRequest): Promise<Uint8Array> {
    checkLength(req.recipientXWing, XWING_PUBLIC_KEY_LENGTH, 'recipient X-Wing key');
    const ctx: ShareContext = { ...req, custodian: req.custodian ?? this.label };
    const label = shareLabel(ctx.domain, ctx.epoch);
    const { id, wrapped } = await this.token.use(async (s) => {
      const share = s.findOne(byLabel(P.CKO_SECRET_KEY, label), `share ${ctx.domain}/${ctx.epoch}`, label);
      const station = s.findOne(
        byLabel(P.CKO_PUBLIC_KEY, req.stationKeyLabel),
        `station key "${req.stationKeyLabel}"`,
      );
      if (!s.boolAttr(station, P.CKA_TRUSTED))
        throw new HsmError('key_not_wrappable', `station key "${req.stationKeyLabel}" is not marked trusted`);
      const wrapped = await s.wrap(
        {
          mechanism: P.CKM_RSA_PKCS_OAEP,
          parameter: { type: P.CK_PARAMS_RSA_OAEP, hashAlg: P.CKM_SHA_1, mgf: P.CKG_MGF1_SHA1, source: 1 },
        },
        station,
        share,
        `share ${ctx.domain}/${ctx.epoch}`,
      );
      return { id: s.attr(station, P.CKA_ID), wrapped };
    });
    const header = encodeReleaseHeader({ ...ctx, mode: MODE_TRUSTED_RSA_OAEP, recipient: id });
    const inner = encodeReleaseInner(MODE_TRUSTED_RSA_OAEP, {
      ephPub: new Uint8Array(0),
      length: SHARE_LENGTH,
      wrapped,
    });
    return encodeEnvelope(header, await hpkeSeal(req.recipientXWing, hpkeInfo('release'), header, inner));
  }

  /** Health check: HMAC-SHA256(share, healthMessage(domain, epoch, challenge)) computed in the token. */
  async healthResponse(domain: string, epoch: number, challenge: Uint8Array): Promise<Uint8Array> {
    const msg = healthMessage(domain, epoch, challenge);
    const label = shareLabel(domain, epoch);
    return this.token.use(async (s) => {
      const share = s.findOne(byLabel(P.CKO_SECRET_KEY, label), `share ${domain}/${epoch}`, label);
      return new Uint8Array(
        await s.sign({ mechanism: P.CKM_SHA256_HMAC }, share, b(msg), `share ${domain}/${epoch}`),
      );
    });
  }

  /** Shares present in the token. */
  async listShares(): Promise<ShareInfo[]> {
    return this.token.use((s) =>
      s
        .find([{ type: P.CKA_CLASS, value: P.CKO_SECRET_KEY }], 1024)
        .map((o) => ({
          label: s.attr(o, P.CKA_LABEL).toString('utf8'),
          id: s.attr(o, P.CKA_ID).toString('hex'),
        }))
        .flatMap(({ label, id }) => {
          const m = /^share-([a-z0-9][a-z0-9_-]{0,62})-(\d+)$/.exec(label);
          return m ? [{ label, id, domain: m[1]!, epoch: Number(m[2]) }] : [];
        }),
    );
  }

  /** Destroys a share (offboarding, aborted ceremony, old epoch); returns the record to sign. */
  async destroyShare(domain: string, epoch: number): Promise<DestructionRecord> {
    const label = shareLabel(domain, epoch);
    const serial = this.token.serial();
    return this.token.use((s) => {
      const share = s.findOne(byLabel(P.CKO_SECRET_KEY, label), `share ${domain}/${epoch}`);
      const id = s.attr(share, P.CKA_ID).toString('hex');
      s.forget(label);
      s.destroy(share, `share ${domain}/${epoch}`);
      if (s.findMaybe(byLabel(P.CKO_SECRET_KEY, label), `share ${domain}/${epoch}`))
        throw new HsmError(
          'token_state',
          `share ${domain}/${epoch} is still in token "${this.label}" after destroy`,
        );
      return {
        type: 'share-destruction',
        domain,
        epoch,
        token: this.label,
        tokenSerial: serial,
        objectId: id,
        objectLabel: label,
        destroyedAt: new Date().toISOString(),
      };
    });
  }

  /** Attribute facts of one of this token's keys, for audits and tests. */
  async describe(
    what: 'identity' | 'transport' | 'xwing-kek' | { domain: string; epoch: number },
  ): Promise<KeyFacts> {
    return this.token.use((s) => {
      const [cls, label] =
        what === 'identity'
          ? [P.CKO_PRIVATE_KEY, IDENTITY_LABEL]
          : what === 'transport'
            ? [P.CKO_PRIVATE_KEY, TRANSPORT_LABEL]
            : what === 'xwing-kek'
              ? [P.CKO_SECRET_KEY, XWING_KEK_LABEL]
              : [P.CKO_SECRET_KEY, shareLabel(what.domain, what.epoch)];
      return keyFacts(s, s.findOne(byLabel(cls, label), label), label);
    });
  }
}

const gcm = (iv: Buffer) => ({
  mechanism: P.CKM_AES_GCM,
  parameter: { type: P.CK_PARAMS_GCM, iv, ivBits: 96, aad: XWING_SEED_AAD, tagBits: 128 },
});

export interface InstallTrustedKeyOptions {
  /** Custodian token label. */
  label: string;
  /** The token's security-officer PIN. No user session of this token may be open in this process. */
  soPin: string;
  module?: string;
  /** Label of the station key object, e.g. `station-main`. */
  keyLabel: string;
  /** The station's RSA public key (≥ 2048 bits). */
  publicKey: KeyObject | string;
}

/**
 * Security-officer step of the trusted-wrap profile (docs/HSM.md §9.5): installs a station's RSA public
 * key as CKA_TRUSTED, wrap-only (CKA_ALLOWED_MECHANISMS = RSA-OAEP), not modifiable, not
 * destroyable. Returns the key's CKA_ID (hex): SHA-256 of its SPKI, first 16 bytes.
 */
export async function installTrustedStationKey(opts: InstallTrustedKeyOptions): Promise<string> {
  const key = typeof opts.publicKey === 'string' ? createPublicKey(opts.publicKey) : opts.publicKey;
  if (key.asymmetricKeyType !== 'rsa' || (key.asymmetricKeyDetails?.modulusLength ?? 0) < 2048)
    throw new HsmError('bad_argument', 'a trusted station key must be RSA with at least 2048 bits');
  const jwk = key.export({ format: 'jwk' });
  const spki = key.export({ format: 'der', type: 'spki' });
  const id = createHash('sha256').update(spki).digest().subarray(0, 16);
  const token = openToken({ label: opts.label, pin: opts.soPin, module: opts.module, so: true, poolSize: 1 });
  return token
    .use((s) => {
      if (s.findMaybe(byLabel(P.CKO_PUBLIC_KEY, opts.keyLabel), `station key "${opts.keyLabel}"`))
        throw new HsmError(
          'object_exists',
          `token "${opts.label}" already has a key labelled "${opts.keyLabel}"`,
        );
      s.create(
        [
          { type: P.CKA_CLASS, value: P.CKO_PUBLIC_KEY },
          { type: P.CKA_KEY_TYPE, value: P.CKK_RSA },
          { type: P.CKA_TOKEN, value: true },
          { type: P.CKA_PRIVATE, value: false },
          { type: P.CKA_TRUSTED, value: true },
          { type: P.CKA_WRAP, value: true },
          { type: P.CKA_ENCRYPT, value: false },
          { type: P.CKA_VERIFY, value: false },
          { type: P.CKA_MODIFIABLE, value: false },
          { type: P.CKA_DESTROYABLE, value: false },
          { type: P.CKA_ALLOWED_MECHANISMS, value: ulongArray([P.CKM_RSA_PKCS_OAEP]) },
          { type: P.CKA_MODULUS, value: Buffer.from(jwk.n!, 'base64url') },
          { type: P.CKA_PUBLIC_EXPONENT, value: Buffer.from(jwk.e!, 'base64url') },
          { type: P.CKA_LABEL, value: opts.keyLabel },
          { type: P.CKA_ID, value: id },
        ],
        `trusted station key "${opts.keyLabel}"`,
      );
      return id.toString('hex');
    })
    .finally(() => token.close());
}

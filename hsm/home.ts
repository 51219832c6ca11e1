/**
 * The home HSM: an AES-256 key-encryption key generated in the token (sensitive, non-extractable)
 * that wraps archive DEKs with RFC 5649 (CKM_AES_KEY_WRAP_PAD): a 32-byte DEK wraps to 40 bytes.
 *
 * KEKs are token objects labelled `home-kek`; their CKA_ID is the kekId: `u32be generation ‖ 12
 * random bytes` (hex, 32 characters). The current KEK is the one with the highest generation;
 * `rotate()` adds generation+1, and `rewrap()` moves wrapped DEKs from one KEK to another inside the
 * HSM (C_UnwrapKey into a session object, C_WrapKey under the new KEK): the DEK never reaches
 * process memory. Old KEKs stay until {@link HomeHsm.retire} removes them.
 *
 * @example
 * const home = await openHome({ label: 'home', pin });
 * const wrapped = await home.wrapDek(dek);            // 40 bytes, under home.kekId
 * const dek2 = await home.unwrapDek(wrapped, home.kekId);
 * const next = await home.rotate();                   // new current kekId
 * const w2 = await home.rewrap(wrapped, oldId, next);
 * home.close();
 */
import { randomBytes } from 'node:crypto';
import type { TokenOptions } from './custodian.ts';
import { HsmError } from './errors.ts';
import { CKM_AES_KEY_WRAP_PAD } from './pkcs11/consts.ts';
import { byId, byLabel, type KeyFacts, KWP, keyFacts } from './pkcs11/keys.ts';
import { P } from './pkcs11/module.ts';
import { type Handle, openToken, type Session, type Token } from './pkcs11/token.ts';

export const HOME_KEK_LABEL = 'home-kek';
export const DEK_LENGTH = 32;
export const WRAPPED_DEK_LENGTH = 40;

export interface HomeHsm {
  /** The current KEK id (hex). */
  readonly kekId: string;
  /** Every KEK id in the token, oldest first. */
  kekIds(): Promise<string[]>;
  /** Wraps a 32-byte DEK under the current KEK: 40 bytes (RFC 5649). */
  wrapDek(dek: Uint8Array): Promise<Uint8Array>;
  /** Unwraps with the named KEK; `auth_failed` when tampered or wrapped under another key. */
  unwrapDek(wrapped: Uint8Array, kekId: string): Promise<Uint8Array>;
  /**
   * The id the next {@link rotate} will use: generation + 1 and 12 random bytes. Lets the caller log
   * the intent entry keyed by CKA_ID before the token changes (docs/DECISIONS.md#d6).
   */
  nextKekId(): Promise<string>;
  /** Generates a new KEK (generation + 1, or exactly `kekId` from {@link nextKekId}), makes it current, returns its id. */
  rotate(kekId?: string): Promise<string>;
  /** Rewraps a wrapped DEK from one KEK to another inside the HSM. */
  rewrap(wrapped: Uint8Array, fromKekId: string, toKekId: string): Promise<Uint8Array>;
  /** Destroys an old KEK (never the current one): only after every DEK was rewrapped. */
  retire(kekId: string): Promise<void>;
  /** Attribute facts of a KEK, for audits and tests. */
  describe(kekId: string): Promise<KeyFacts>;
  close(): void;
}

const NEEDS = { CKM_AES_KEY_GEN: P.CKM_AES_KEY_GEN, CKM_AES_KEY_WRAP_PAD: CKM_AES_KEY_WRAP_PAD };

function parseKekId(kekId: string): Buffer {
  if (typeof kekId !== 'string' || !/^[0-9a-f]{32}$/.test(kekId))
    throw new HsmError('bad_argument', 'a home KEK id is 32 lowercase hex characters');
  return Buffer.from(kekId, 'hex');
}

/** Template of a DEK as a session object (internal; the benchmark reuses it). */
export const dekTemplate = (sensitive: boolean) => [
  { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
  { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
  { type: P.CKA_TOKEN, value: false },
  { type: P.CKA_PRIVATE, value: true },
  { type: P.CKA_SENSITIVE, value: sensitive },
  { type: P.CKA_EXTRACTABLE, value: true },
  { type: P.CKA_ENCRYPT, value: false },
  { type: P.CKA_DECRYPT, value: false },
  { type: P.CKA_WRAP, value: false },
  { type: P.CKA_UNWRAP, value: false },
  { type: P.CKA_SIGN, value: false },
  { type: P.CKA_VERIFY, value: false },
];

const makeKekId = (generation: number) => {
  const id = Buffer.concat([Buffer.alloc(4), randomBytes(12)]);
  id.writeUInt32BE(generation, 0);
  return id.toString('hex');
};

/** Generates a home KEK in an open session; used by {@link HomeHsm.rotate} and `hsm:init`. */
export async function generateHomeKek(s: Session, generation: number, kekId?: string): Promise<string> {
  const id = Buffer.from(kekId ?? makeKekId(generation), 'hex');
  await s.generateKey(
    P.CKM_AES_KEY_GEN,
    [
      { type: P.CKA_CLASS, value: P.CKO_SECRET_KEY },
      { type: P.CKA_KEY_TYPE, value: P.CKK_AES },
      { type: P.CKA_VALUE_LEN, value: 32 },
      { type: P.CKA_TOKEN, value: true },
      { type: P.CKA_PRIVATE, value: true },
      { type: P.CKA_SENSITIVE, value: true },
      { type: P.CKA_EXTRACTABLE, value: false },
      { type: P.CKA_WRAP, value: true },
      { type: P.CKA_UNWRAP, value: true },
      { type: P.CKA_ENCRYPT, value: false },
      { type: P.CKA_DECRYPT, value: false },
      { type: P.CKA_SIGN, value: false },
      { type: P.CKA_VERIFY, value: false },
      { type: P.CKA_DERIVE, value: false },
      { type: P.CKA_MODIFIABLE, value: false },
      { type: P.CKA_LABEL, value: HOME_KEK_LABEL },
      { type: P.CKA_ID, value: id },
    ],
    'home key-encryption key',
  );
  return id.toString('hex');
}

const generationOf = (kekId: string | undefined) => (kekId ? Buffer.from(kekId, 'hex').readUInt32BE(0) : 0);

function listKekIds(s: Session): string[] {
  return s
    .find(byLabel(P.CKO_SECRET_KEY, HOME_KEK_LABEL), 1024)
    .map((o) => s.attr(o, P.CKA_ID, 'home KEK').toString('hex'))
    .filter((id) => /^[0-9a-f]{32}$/.test(id))
    .sort();
}

/**
 * Opens the home token. With `create: true` a KEK is generated when the token has none
 * (`hsm:init` does this); otherwise a token without a KEK is `object_missing`.
 */
export async function openHome(opts: TokenOptions & { create?: boolean }): Promise<HomeHsm> {
  const token = openToken(opts);
  try {
    token.requireMechanisms(NEEDS, 'serve as the home HSM');
    let ids = await token.use((s) => listKekIds(s));
    if (ids.length === 0) {
      if (!opts.create)
        throw new HsmError(
          'object_missing',
          `no home key-encryption key in token "${opts.label}" (run hsm:init)`,
        );
      ids = [await token.use((s) => generateHomeKek(s, 1))];
    }
    return new Home(token, ids[ids.length - 1]!);
  } catch (e) {
    token.close();
    throw e;
  }
}

class Home implements HomeHsm {
  constructor(
    private readonly token: Token,
    public kekId: string,
  ) {}

  private kek(s: Session, kekId: string): Handle {
    return s.findOne(byId(P.CKO_SECRET_KEY, parseKekId(kekId)), `home KEK ${kekId}`, `home-kek:${kekId}`);
  }

  kekIds(): Promise<string[]> {
    return this.token.use((s) => listKekIds(s));
  }

  async wrapDek(dek: Uint8Array): Promise<Uint8Array> {
    if (!(dek instanceof Uint8Array) || dek.length !== DEK_LENGTH)
      throw new HsmError('bad_argument', `a DEK is ${DEK_LENGTH} bytes`);
    const kekId = this.kekId;
    return this.token.use(async (s) => {
      const kek = this.kek(s, kekId);
      const obj = s.create(
        [...dekTemplate(true), { type: P.CKA_VALUE, value: Buffer.from(dek) }],
        'DEK session object',
      );
      try {
        return new Uint8Array(await s.wrap(KWP, kek, obj, 'DEK'));
      } finally {
        s.destroyQuietly(obj);
      }
    });
  }

  async unwrapDek(wrapped: Uint8Array, kekId: string): Promise<Uint8Array> {
    if (!(wrapped instanceof Uint8Array) || wrapped.length !== WRAPPED_DEK_LENGTH)
      throw new HsmError('auth_failed', `a home-wrapped DEK is ${WRAPPED_DEK_LENGTH} bytes`);
    return this.token.use(async (s) => {
      const kek = this.kek(s, kekId);
      const obj = await s.unwrap(KWP, kek, Buffer.from(wrapped), dekTemplate(false), 'DEK');
      try {
        const v = s.attr(obj, P.CKA_VALUE, 'DEK');
        if (v.length !== DEK_LENGTH) throw new HsmError('auth_failed', 'unwrapped DEK has the wrong length');
        const out = new Uint8Array(v);
        v.fill(0);
        return out;
      } finally {
        s.destroyQuietly(obj);
      }
    });
  }

  async nextKekId(): Promise<string> {
    const ids = await this.kekIds();
    return makeKekId(generationOf(ids[ids.length - 1]) + 1);
  }

  async rotate(kekId?: string): Promise<string> {
    const next = await this.token.use(async (s) => {
      const ids = listKekIds(s);
      const gen = generationOf(ids[ids.length - 1]) + 1;
      if (kekId !== undefined && (parseKekId(kekId).readUInt32BE(0) !== gen || ids.includes(kekId)))
        throw new HsmError('bad_argument', `KEK id ${kekId} is not a fresh id of generation ${gen}`);
      return generateHomeKek(s, gen, kekId);
    });
    this.kekId = next;
    return next;
  }

  async rewrap(wrapped: Uint8Array, fromKekId: string, toKekId: string): Promise<Uint8Array> {
    if (!(wrapped instanceof Uint8Array) || wrapped.length !== WRAPPED_DEK_LENGTH)
      throw new HsmError('auth_failed', `a home-wrapped DEK is ${WRAPPED_DEK_LENGTH} bytes`);
    return this.token.use(async (s) => {
      const from = this.kek(s, fromKekId);
      const to = this.kek(s, toKekId);
      // sensitive: the DEK stays inside the HSM; extractable: so that it can be wrapped again
      const obj = await s.unwrap(KWP, from, Buffer.from(wrapped), dekTemplate(true), 'DEK');
      try {
        return new Uint8Array(await s.wrap(KWP, to, obj, 'DEK'));
      } finally {
        s.destroyQuietly(obj);
      }
    });
  }

  async retire(kekId: string): Promise<void> {
    if (kekId === this.kekId) throw new HsmError('bad_argument', 'the current home KEK cannot be retired');
    await this.token.use((s) => {
      const kek = this.kek(s, kekId);
      s.forget(`home-kek:${kekId}`);
      s.destroy(kek, `home KEK ${kekId}`);
    });
  }

  describe(kekId: string): Promise<KeyFacts> {
    return this.token.use((s) => keyFacts(s, this.kek(s, kekId), `home KEK ${kekId}`));
  }

  close(): void {
    this.token.close();
  }
}

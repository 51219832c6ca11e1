/**
 * The audit log's checkpoint key: Ed25519 generated in its own `log` token (docs/DECISIONS.md#d5),
 * signing with CKM_EDDSA (pure Ed25519, 64-byte signatures, verifiable with node:crypto).
 * pkcs11js lacks the EdDSA constants: docs/HSM.md §9.2 trap 7.
 *
 * @example
 * const log = await openLogToken({ label: 'log', pin });
 * const pub = await log.generateEd25519();     // 32 bytes; refuses if the key exists
 * const sig = await log.signEd25519(noteText);  // 64 bytes
 * log.close();
 */

import { randomBytes } from 'node:crypto';
import type { TokenOptions } from './custodian.ts';
import { HsmError } from './errors.ts';
import {
  CKK_EC_EDWARDS,
  CKM_EC_EDWARDS_KEY_PAIR_GEN,
  CKM_EDDSA,
  OID_ED25519,
  unwrapOctetString,
} from './pkcs11/consts.ts';
import { byLabel, type KeyFacts, keyFacts } from './pkcs11/keys.ts';
import { P } from './pkcs11/module.ts';
import { openToken, type Token } from './pkcs11/token.ts';

export const CHECKPOINT_KEY_LABEL = 'checkpoint';

export interface LogToken {
  /** Generates an Ed25519 key pair in the token (`object_exists` if the label is taken); returns the 32-byte public key. */
  generateEd25519(keyLabel?: string): Promise<Uint8Array>;
  /** The 32-byte public key (`object_missing` if not generated). */
  ed25519PublicKey(keyLabel?: string): Promise<Uint8Array>;
  /** Pure Ed25519 (RFC 8032) over `msg`: 64 bytes. */
  signEd25519(msg: Uint8Array, keyLabel?: string): Promise<Uint8Array>;
  describe(keyLabel?: string): Promise<KeyFacts>;
  close(): void;
}

export async function openLogToken(opts: TokenOptions): Promise<LogToken> {
  const token = openToken(opts);
  try {
    token.requireMechanisms(
      { CKM_EC_EDWARDS_KEY_PAIR_GEN: CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA: CKM_EDDSA },
      'hold the checkpoint key',
    );
  } catch (e) {
    token.close();
    throw e;
  }
  return new Log(token);
}

class Log implements LogToken {
  constructor(private readonly token: Token) {}

  async generateEd25519(keyLabel = CHECKPOINT_KEY_LABEL): Promise<Uint8Array> {
    await this.token.use(async (s) => {
      if (s.findMaybe(byLabel(P.CKO_PRIVATE_KEY, keyLabel), `Ed25519 key "${keyLabel}"`))
        throw new HsmError('object_exists', `token "${this.token.label}" already has a key "${keyLabel}"`);
      const id = randomBytes(16);
      await s.generateKeyPair(
        CKM_EC_EDWARDS_KEY_PAIR_GEN,
        [
          { type: P.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
          { type: P.CKA_EC_PARAMS, value: OID_ED25519 },
          { type: P.CKA_TOKEN, value: true },
          { type: P.CKA_PRIVATE, value: false },
          { type: P.CKA_VERIFY, value: true },
          { type: P.CKA_LABEL, value: keyLabel },
          { type: P.CKA_ID, value: id },
        ],
        [
          { type: P.CKA_KEY_TYPE, value: CKK_EC_EDWARDS },
          { type: P.CKA_TOKEN, value: true },
          { type: P.CKA_PRIVATE, value: true },
          { type: P.CKA_SENSITIVE, value: true },
          { type: P.CKA_EXTRACTABLE, value: false },
          { type: P.CKA_SIGN, value: true },
          { type: P.CKA_LABEL, value: keyLabel },
          { type: P.CKA_ID, value: id },
        ],
        `Ed25519 key "${keyLabel}"`,
      );
    });
    return this.ed25519PublicKey(keyLabel);
  }

  ed25519PublicKey(keyLabel = CHECKPOINT_KEY_LABEL): Promise<Uint8Array> {
    return this.token.use((s) => {
      const pub = s.findOne(byLabel(P.CKO_PUBLIC_KEY, keyLabel), `Ed25519 public key "${keyLabel}"`);
      const p = unwrapOctetString(s.attr(pub, P.CKA_EC_POINT, 'Ed25519 public key'));
      if (p.length !== 32) throw new HsmError('pkcs11_error', `key "${keyLabel}" is not an Ed25519 key`);
      return new Uint8Array(p);
    });
  }

  signEd25519(msg: Uint8Array, keyLabel = CHECKPOINT_KEY_LABEL): Promise<Uint8Array> {
    if (!(msg instanceof Uint8Array)) throw new HsmError('bad_argument', 'message must be bytes');
    return this.token.use(async (s) => {
      const key = s.findOne(
        byLabel(P.CKO_PRIVATE_KEY, keyLabel),
        `Ed25519 key "${keyLabel}"`,
        `ed25519:${keyLabel}`,
      );
      return new Uint8Array(
        await s.sign({ mechanism: CKM_EDDSA }, key, Buffer.from(msg), `Ed25519 key "${keyLabel}"`),
      );
    });
  }

  describe(keyLabel = CHECKPOINT_KEY_LABEL): Promise<KeyFacts> {
    return this.token.use((s) =>
      keyFacts(s, s.findOne(byLabel(P.CKO_PRIVATE_KEY, keyLabel), `Ed25519 key "${keyLabel}"`), keyLabel),
    );
  }

  close(): void {
    this.token.close();
  }
}

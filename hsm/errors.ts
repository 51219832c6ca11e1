/**
 * The one error type that leaves `hsm/`. Every failure of the HSM boundary becomes an {@link HsmError}
 * with a stable `code` and one clear English sentence. Messages name tokens, labels, mechanisms and
 * object ids, never a PIN, a share, a key or a DEK.
 *
 * @example
 * try { await openToken({ label: 'custodian-1', pin }) }
 * catch (e) { if (e instanceof HsmError && e.code === 'wrong_pin') … }
 */

import { EmbassyError } from '../src/errors.ts';

export type HsmErrorCode =
  /** The module file is missing or is not a PKCS#11 library. */
  | 'module_missing'
  /** No token with that label; the message lists the labels present. */
  | 'token_not_found'
  /** The PIN was refused; the message says how many tries are left when the token reports it. */
  | 'wrong_pin'
  /** The PIN is locked; only the security officer can unlock it. */
  | 'pin_locked'
  /** No PIN source gave a PIN (no file, no env, no dev file, no TTY). */
  | 'pin_unavailable'
  /** The HSM does not implement a mechanism (or the parameters) this operation needs. */
  | 'mechanism_unsupported'
  /** An object the operation needs (key, share, data object) is not in the token. */
  | 'object_missing'
  /** Two objects answer to a name that must be unique. */
  | 'object_duplicate'
  /** The object to create already exists. */
  | 'object_exists'
  /** The token refused to wrap a key (non-extractable, or wrap-with-trusted and an untrusted wrapping key). */
  | 'key_not_wrappable'
  /** An integrity check failed: tampered or misdirected ciphertext, wrong ceremony, wrong key. */
  | 'auth_failed'
  /** A key-check value computed inside the token does not match the one the sender computed. */
  | 'kcv_mismatch'
  /** A released share does not match its salted commitment (the custodian is named). */
  | 'commitment_mismatch'
  /** A byte string is not a well-formed envelope (length, magic, version, field bounds). */
  | 'bad_envelope'
  /** An envelope is well formed but is for another domain, epoch, ceremony, custodian or key. */
  | 'envelope_mismatch'
  /** An argument is out of range (e.g. a digest that is not 32 bytes). */
  | 'bad_argument'
  /** A sensitive attribute was requested (the token refused to reveal it). */
  | 'attribute_sensitive'
  /** Operation refused because of the token's or session's state (e.g. SO and user sessions at once). */
  | 'token_state'
  /** Provisioning a development token failed. */
  | 'provisioning_failed'
  /** Any other PKCS#11 failure; the message carries the CKR_ name and the operation. */
  | 'pkcs11_error';

export class HsmError extends EmbassyError<HsmErrorCode> {
  constructor(
    code: HsmErrorCode,
    message: string,
    /** The PKCS#11 return value name when the error came from the module (e.g. `CKR_PIN_INCORRECT`). */
    readonly ckr?: string,
    /** For `commitment_mismatch` and `kcv_mismatch`: the custodian whose share failed. */
    readonly custodian?: string,
  ) {
    super(code, message);
  }
}

/** The `CKR_…` name in a pkcs11js error (trap 16: match the prefix, never the whole message). */
export function ckrName(e: unknown): string | undefined {
  if (!(e instanceof Error)) return undefined;
  const m =
    /^(CKR_\w+?)(?::\d+)?$/.exec(e.message.split('\n')[0]?.trim() ?? '') ??
    /(CKR_[A-Z0-9_]+)/.exec(e.message);
  return m?.[1];
}

// Token flags (PKCS#11 2.40 §5.5, CK_TOKEN_INFO.flags)
export const CKF_USER_PIN_COUNT_LOW = 0x10000;
export const CKF_USER_PIN_FINAL_TRY = 0x20000;
export const CKF_USER_PIN_LOCKED = 0x40000;
export const CKF_SO_PIN_COUNT_LOW = 0x100000;
export const CKF_SO_PIN_FINAL_TRY = 0x200000;
export const CKF_SO_PIN_LOCKED = 0x400000;

/**
 * The message for a refused login. `flags` are the token flags read right after the refusal;
 * PKCS#11 reports tries left only as "count low" / "final try" / "locked", never as a number.
 */
export function loginError(label: string, ckr: string, flags: number | undefined, so = false): HsmError {
  const who = so ? 'security officer PIN' : 'user PIN';
  const locked = so ? CKF_SO_PIN_LOCKED : CKF_USER_PIN_LOCKED;
  const final = so ? CKF_SO_PIN_FINAL_TRY : CKF_USER_PIN_FINAL_TRY;
  const low = so ? CKF_SO_PIN_COUNT_LOW : CKF_USER_PIN_COUNT_LOW;
  if (ckr === 'CKR_PIN_LOCKED' || (flags !== undefined && flags & locked)) {
    return new HsmError(
      'pin_locked',
      `the ${who} of token "${label}" is locked; the security officer must reset it`,
      ckr,
    );
  }
  if (ckr === 'CKR_PIN_INCORRECT' || ckr === 'CKR_PIN_LEN_RANGE' || ckr === 'CKR_PIN_INVALID') {
    let tries = '';
    if (flags !== undefined && flags & final) tries = '; one try left before the PIN locks';
    else if (flags !== undefined && flags & low) tries = '; few tries left before the PIN locks';
    return new HsmError('wrong_pin', `wrong ${who} for token "${label}"${tries}`, ckr);
  }
  return new HsmError('pkcs11_error', `login to token "${label}" failed: ${ckr}`, ckr);
}

/** Human words for the PKCS#11 return values this project meets; the rest are given by name. */
const CKR_WORDS: Record<string, [HsmErrorCode, string]> = {
  CKR_MECHANISM_INVALID: ['mechanism_unsupported', 'the HSM does not support the mechanism'],
  CKR_MECHANISM_PARAM_INVALID: ['mechanism_unsupported', 'the HSM does not accept the mechanism parameters'],
  CKR_KEY_NOT_WRAPPABLE: [
    'key_not_wrappable',
    'the token refused to wrap the key (wrap-with-trusted needs a trusted wrapping key)',
  ],
  CKR_KEY_UNEXTRACTABLE: ['key_not_wrappable', 'the token refused to wrap a non-extractable key'],
  CKR_ENCRYPTED_DATA_INVALID: ['auth_failed', 'authentication failed (tampered or misdirected data)'],
  CKR_WRAPPED_KEY_INVALID: ['auth_failed', 'authentication failed (tampered or misdirected wrapped key)'],
  CKR_WRAPPED_KEY_LEN_RANGE: ['auth_failed', 'authentication failed (wrapped key has a wrong length)'],
  CKR_ENCRYPTED_DATA_LEN_RANGE: ['auth_failed', 'authentication failed (ciphertext has a wrong length)'],
  CKR_ATTRIBUTE_SENSITIVE: ['attribute_sensitive', 'the token refuses to reveal a sensitive attribute'],
  CKR_USER_NOT_LOGGED_IN: ['token_state', 'the session is not logged in'],
  CKR_USER_ANOTHER_ALREADY_LOGGED_IN: [
    'token_state',
    'another user type is logged in to this token in this process (close the other handle first)',
  ],
  CKR_SESSION_READ_ONLY_EXISTS: ['token_state', 'a read-only session blocks the security officer login'],
  CKR_TOKEN_WRITE_PROTECTED: ['token_state', 'the token is write-protected'],
  CKR_DEVICE_MEMORY: ['token_state', 'the token is out of memory'],
  CKR_ATTRIBUTE_READ_ONLY: ['token_state', 'the token refused to set a read-only attribute'],
  CKR_ACTION_PROHIBITED: ['token_state', 'the token prohibits this action on the object'],
  CKR_KEY_FUNCTION_NOT_PERMITTED: ['token_state', 'the key is not permitted for this function'],
};

/**
 * Maps any error thrown by pkcs11js to an {@link HsmError}. `op` says what was being done
 * ("sign with identity key in token \"custodian-1\""); it must not contain secrets.
 * `generalIsAuth`: SoftHSM reports tampered ciphertext as CKR_GENERAL_ERROR (trap 12), so decrypt
 * and unwrap operations pass true.
 */
export function mapPkcs11Error(e: unknown, op: string, generalIsAuth = false): HsmError {
  if (e instanceof HsmError) return e;
  const ckr = ckrName(e);
  if (!ckr) return new HsmError('pkcs11_error', `${op}: the PKCS#11 module failed without a return code`);
  if (generalIsAuth && ckr === 'CKR_GENERAL_ERROR')
    return new HsmError('auth_failed', `${op}: authentication failed (tampered or misdirected data)`, ckr);
  const words = CKR_WORDS[ckr];
  if (words) return new HsmError(words[0], `${op}: ${words[1]} (${ckr})`, ckr);
  return new HsmError('pkcs11_error', `${op}: PKCS#11 error ${ckr}`, ckr);
}

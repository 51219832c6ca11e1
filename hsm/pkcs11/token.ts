/**
 * A token handle with a small session pool, over pkcs11js. Internal to hsm/: the custodian, home,
 * station and log modules build on it; nothing outside hsm/ sees a pkcs11js type.
 *
 * - Tokens are found by label (slot ids are not stable).
 * - One logical login per (module, token, user type) per process: PKCS#11 login state is shared by all
 *   sessions of an application, so opening the same token twice shares one core (reference counted).
 * - Sessions are handed out exclusively for one operation (a session runs one operation at a time);
 *   at most `poolSize` exist; callers beyond that wait.
 * - Object handles are cached while the pool keeps a session open (handles stay valid as long as one
 *   session on the slot is open, trap 2) and dropped whenever a session is lost. A lost session
 *   (closed from outside, device reset) is detected by its return code, the pool is rebuilt and
 *   the operation is retried once.
 */
import { createHash, timingSafeEqual } from 'node:crypto';
import { ckrName, HsmError, loginError, mapPkcs11Error } from '../errors.ts';
import { findSlot, type LoadedModule, loadModule, P, type P11, resolveModulePath } from './module.ts';

export type Handle = Buffer;
export type Template = { type: number; value?: number | boolean | string | Buffer }[];

export interface OpenTokenOptions {
  /** The token label (CK_TOKEN_INFO.label, trailing blanks ignored). */
  label: string;
  /** The user PIN (or the SO PIN with `so: true`). Kept in memory only to re-login after a lost session. */
  pin: string;
  /** Module path; default `EMBASSY_PKCS11_MODULE`, else SoftHSM2's. */
  module?: string;
  /** Maximum sessions in the pool (default 4). */
  poolSize?: number;
  /** Log in as the security officer instead of the user. */
  so?: boolean;
}

const LOST = new Set([
  'CKR_SESSION_HANDLE_INVALID',
  'CKR_SESSION_CLOSED',
  'CKR_OBJECT_HANDLE_INVALID',
  'CKR_KEY_HANDLE_INVALID',
  'CKR_WRAPPING_KEY_HANDLE_INVALID',
  'CKR_UNWRAPPING_KEY_HANDLE_INVALID',
  'CKR_USER_NOT_LOGGED_IN',
  'CKR_DEVICE_REMOVED',
  'CKR_TOKEN_NOT_PRESENT',
]);

const CKS_RW_USER_FUNCTIONS = 3;
const CKS_RW_SO_FUNCTIONS = 4;

const pinDigest = (pin: string) =>
  createHash('sha256').update('data-embassy/v1/pin-cache\0').update(pin).digest();

/** Shared per-process state of one logged-in token. */
class TokenCore {
  readonly all = new Set<string>();
  readonly idle: Handle[] = [];
  readonly waiters: ((s: Handle) => void)[] = [];
  readonly handles = new Map<string, Handle>();
  refs = 0;
  opening = 0;
  closed = false;
  readonly mechanisms: Set<number>;

  constructor(
    readonly mod: LoadedModule,
    readonly slot: Handle,
    readonly label: string,
    private readonly pin: string,
    readonly pinHash: Buffer,
    readonly so: boolean,
    readonly poolSize: number,
    readonly key: string,
  ) {
    this.mechanisms = new Set(mod.p11.C_GetMechanismList(slot));
  }

  get p11(): P11 {
    return this.mod.p11;
  }

  /** Opens a new R/W session and makes sure it is logged in (the first login verifies the PIN). */
  openSession(): Handle {
    const p11 = this.p11;
    let s: Handle;
    try {
      s = p11.C_OpenSession(this.slot, P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION);
    } catch (e) {
      throw mapPkcs11Error(e, `open a session on token "${this.label}"`);
    }
    const want = this.so ? CKS_RW_SO_FUNCTIONS : CKS_RW_USER_FUNCTIONS;
    const state = p11.C_GetSessionInfo(s).state;
    if (state !== want) {
      try {
        p11.C_Login(s, this.so ? P.CKU_SO : P.CKU_USER, this.pin);
      } catch (e) {
        const ckr = ckrName(e) ?? 'no return code';
        let flags: number | undefined;
        try {
          flags = p11.C_GetTokenInfo(this.slot).flags;
        } catch {
          flags = undefined;
        }
        try {
          p11.C_CloseSession(s);
        } catch {
          // ignore
        }
        if (ckr === 'CKR_USER_ALREADY_LOGGED_IN') return this.openSessionAfterRace();
        if (ckr === 'CKR_USER_ANOTHER_ALREADY_LOGGED_IN')
          throw mapPkcs11Error(e, `log in to token "${this.label}"`);
        throw loginError(this.label, ckr, flags, this.so);
      }
    }
    this.all.add(s.toString('hex'));
    return s;
  }

  private openSessionAfterRace(): Handle {
    const s = this.p11.C_OpenSession(this.slot, P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION);
    this.all.add(s.toString('hex'));
    return s;
  }

  /** An idle session, or undefined (the fast path: no promise when the pool has one). */
  tryAcquire(): Handle | undefined {
    return this.idle.pop();
  }

  async acquire(): Promise<Handle> {
    const s = this.idle.pop();
    if (s) return s;
    if (this.all.size + this.opening < this.poolSize) {
      this.opening++;
      try {
        return this.openSession();
      } finally {
        this.opening--;
      }
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }

  release(s: Handle) {
    if (!this.all.has(s.toString('hex'))) {
      // the token was closed (or the session discarded) while this operation ran
      if (this.closed) {
        try {
          this.p11.C_CloseSession(s);
        } catch {
          // already gone
        }
      }
      return;
    }
    const w = this.waiters.shift();
    if (w) w(s);
    else this.idle.push(s);
  }

  /** After a lost session: forget cached handles, drop every idle session that is no longer valid. */
  discard(s: Handle) {
    this.handles.clear();
    this.all.delete(s.toString('hex'));
    try {
      this.p11.C_CloseSession(s);
    } catch {
      // already gone
    }
    for (let i = this.idle.length - 1; i >= 0; i--) {
      const t = this.idle[i]!;
      try {
        this.p11.C_GetSessionInfo(t);
      } catch {
        this.idle.splice(i, 1);
        this.all.delete(t.toString('hex'));
      }
    }
    // Wake a waiter with a fresh session, since the pool shrank.
    const w = this.waiters.shift();
    if (w) {
      try {
        w(this.openSession());
      } catch {
        this.waiters.unshift(w);
      }
    }
  }

  closeAll() {
    this.closed = true;
    for (const s of this.idle.splice(0)) {
      try {
        this.p11.C_CloseSession(s);
      } catch {
        // ignore
      }
    }
    this.all.clear();
    this.handles.clear();
  }
}

const cores = new Map<string, TokenCore>();

/**
 * An open token. Obtain with {@link openToken}; close with {@link Token.close} (idempotent).
 * Methods take pkcs11js-shaped templates and are for hsm/ internals only.
 */
export class Token {
  #core: TokenCore | undefined;
  readonly label: string;
  readonly modulePath: string;
  readonly softhsm: boolean;

  constructor(core: TokenCore) {
    this.#core = core;
    this.label = core.label;
    this.modulePath = core.mod.path;
    this.softhsm = core.mod.softhsm;
  }

  private get core(): TokenCore {
    if (!this.#core) throw new HsmError('token_state', `token "${this.label}" is closed`);
    return this.#core;
  }

  /** True when the token implements the mechanism (C_GetMechanismList at open time). */
  hasMechanism(mech: number): boolean {
    return this.core.mechanisms.has(mech);
  }

  /** Fail closed when the HSM lacks a mechanism an operation needs. */
  requireMechanisms(needs: Record<string, number>, purpose: string): void {
    const missing = Object.entries(needs)
      .filter(([, m]) => !this.core.mechanisms.has(m))
      .map(([n]) => n);
    if (missing.length) {
      throw new HsmError(
        'mechanism_unsupported',
        `token "${this.label}" cannot ${purpose}: the HSM does not support ${missing.join(', ')}`,
      );
    }
  }

  /** Serial number of the token (CK_TOKEN_INFO.serialNumber). */
  serial(): string {
    return this.core.p11.C_GetTokenInfo(this.core.slot).serialNumber.trim();
  }

  /** Token flags (CK_TOKEN_INFO.flags). */
  flags(): number {
    return this.core.p11.C_GetTokenInfo(this.core.slot).flags;
  }

  /**
   * Runs `fn` with a session of the pool held exclusively. If the session turns out to be lost
   * (closed from outside, stale handles), the pool is repaired and `fn` runs once more.
   */
  async use<T>(fn: (s: Session) => T | Promise<T>): Promise<T> {
    const core = this.core;
    for (let attempt = 0; ; attempt++) {
      const h = core.tryAcquire() ?? (await core.acquire());
      let lost = false;
      try {
        return await fn(new Session(core, h));
      } catch (e) {
        const ckr = e instanceof HsmError ? e.ckr : ckrName(e);
        if (ckr && LOST.has(ckr)) {
          lost = true;
          if (attempt === 0) continue;
        }
        throw e;
      } finally {
        if (lost) core.discard(h);
        else core.release(h);
      }
    }
  }

  /** Releases this handle; the last handle of a token closes its sessions (session objects vanish). */
  close(): void {
    const core = this.#core;
    if (!core) return;
    this.#core = undefined;
    core.refs--;
    if (core.refs === 0) {
      core.closeAll();
      cores.delete(core.key);
      core.mod.openTokens--;
    }
  }
}

/**
 * Opens (or joins) the token labelled `opts.label`, verifying the PIN by logging in.
 * Throws {@link HsmError}: module_missing, token_not_found, wrong_pin, pin_locked, token_state.
 */
export function openToken(opts: OpenTokenOptions): Token {
  const path = resolveModulePath(opts.module);
  const mod = loadModule(path);
  const so = opts.so === true;
  const key = `${path}\0${opts.label}\0${so ? 'so' : 'user'}`;
  const have = cores.get(key);
  if (have) {
    if (!timingSafeEqual(have.pinHash, pinDigest(opts.pin))) {
      throw new HsmError(
        'wrong_pin',
        `wrong ${so ? 'security officer' : 'user'} PIN for token "${opts.label}" (it differs from the PIN this process is logged in with)`,
      );
    }
    have.refs++;
    return new Token(have);
  }
  const slot = findSlot(mod.p11, opts.label);
  const core = new TokenCore(
    mod,
    slot,
    opts.label,
    opts.pin,
    pinDigest(opts.pin),
    so,
    Math.max(1, opts.poolSize ?? 4),
    key,
  );
  // Log in now, so a wrong PIN fails at open time; the session stays in the pool.
  const first = core.openSession();
  core.idle.push(first);
  core.refs = 1;
  cores.set(key, core);
  mod.openTokens++;
  return new Token(core);
}

/** One exclusively held session. All results are copied out of pkcs11js's buffers (trap 15). */
export class Session {
  constructor(
    private readonly core: TokenCore,
    readonly handle: Handle,
  ) {}

  get p11(): P11 {
    return this.core.p11;
  }

  get label(): string {
    return this.core.label;
  }

  /** All objects matching the template. */
  find(template: Template, max = 64): Handle[] {
    const p11 = this.p11;
    try {
      p11.C_FindObjectsInit(this.handle, template);
      try {
        return p11.C_FindObjects(this.handle, max);
      } finally {
        p11.C_FindObjectsFinal(this.handle);
      }
    } catch (e) {
      throw mapPkcs11Error(e, `search objects in token "${this.label}"`);
    }
  }

  /**
   * The one object matching the template, cached by `cacheKey` while the pool lives.
   * `what` names the object in errors ("identity key", "share land/3").
   */
  findOne(template: Template, what: string, cacheKey?: string): Handle {
    const found = this.findMaybe(template, what, cacheKey);
    if (!found) throw new HsmError('object_missing', `no ${what} in token "${this.label}"`);
    return found;
  }

  findMaybe(template: Template, what: string, cacheKey?: string): Handle | undefined {
    if (cacheKey) {
      const h = this.core.handles.get(cacheKey);
      if (h) return h;
    }
    const found = this.find(template, 2);
    if (found.length > 1) {
      throw new HsmError(
        'object_duplicate',
        `more than one ${what} in token "${this.label}" (left over by an interrupted run?)`,
      );
    }
    const h = found[0];
    if (h && cacheKey) this.core.handles.set(cacheKey, h);
    return h;
  }

  forget(cacheKey: string) {
    this.core.handles.delete(cacheKey);
  }

  attr(obj: Handle, type: number, what = 'object'): Buffer {
    try {
      return Buffer.from(this.p11.C_GetAttributeValue(this.handle, obj, [{ type }])[0]!.value);
    } catch (e) {
      throw mapPkcs11Error(e, `read an attribute of the ${what} in token "${this.label}"`);
    }
  }

  boolAttr(obj: Handle, type: number, what = 'object'): boolean {
    const v = this.attr(obj, type, what);
    return v.length > 0 && v[0] !== 0;
  }

  create(template: Template, what: string): Handle {
    try {
      return this.p11.C_CreateObject(this.handle, template);
    } catch (e) {
      throw mapPkcs11Error(e, `create the ${what} in token "${this.label}"`);
    }
  }

  destroy(obj: Handle, what: string): void {
    try {
      this.p11.C_DestroyObject(this.handle, obj);
    } catch (e) {
      throw mapPkcs11Error(e, `destroy the ${what} in token "${this.label}"`);
    }
  }

  /** Destroys session objects, ignoring errors (used in `finally`). */
  destroyQuietly(...objs: (Handle | undefined)[]): void {
    for (const o of objs) {
      if (!o) continue;
      try {
        this.p11.C_DestroyObject(this.handle, o);
      } catch {
        // the session may be gone, and its objects with it
      }
    }
  }

  async generateKey(mech: number, template: Template, what: string): Promise<Handle> {
    try {
      return await this.p11.C_GenerateKeyAsync(this.handle, { mechanism: mech }, template);
    } catch (e) {
      throw mapPkcs11Error(e, `generate the ${what} in token "${this.label}"`);
    }
  }

  async generateKeyPair(
    mech: number,
    pub: Template,
    priv: Template,
    what: string,
  ): Promise<{ publicKey: Handle; privateKey: Handle }> {
    try {
      return await this.p11.C_GenerateKeyPairAsync(this.handle, { mechanism: mech }, pub, priv);
    } catch (e) {
      throw mapPkcs11Error(e, `generate the ${what} in token "${this.label}"`);
    }
  }

  async sign(mechanism: { mechanism: number; parameter?: unknown }, key: Handle, data: Buffer, what: string) {
    const p11 = this.p11;
    try {
      p11.C_SignInit(this.handle, mechanism as never, key);
      return Buffer.from(await p11.C_SignAsync(this.handle, data, Buffer.alloc(512)));
    } catch (e) {
      throw mapPkcs11Error(e, `sign with the ${what} in token "${this.label}"`);
    }
  }

  async encrypt(mechanism: object, key: Handle, data: Buffer, what: string): Promise<Buffer> {
    const p11 = this.p11;
    try {
      p11.C_EncryptInit(this.handle, mechanism as never, key);
      return Buffer.from(await p11.C_EncryptAsync(this.handle, data, Buffer.alloc(data.length + 64)));
    } catch (e) {
      throw mapPkcs11Error(e, `encrypt with the ${what} in token "${this.label}"`);
    }
  }

  async decrypt(mechanism: object, key: Handle, data: Buffer, what: string): Promise<Buffer> {
    const p11 = this.p11;
    try {
      p11.C_DecryptInit(this.handle, mechanism as never, key);
      return Buffer.from(await p11.C_DecryptAsync(this.handle, data, Buffer.alloc(data.length + 64)));
    } catch (e) {
      throw mapPkcs11Error(e, `decrypt with the ${what} in token "${this.label}"`, true);
    }
  }

  async derive(mechanism: object, base: Handle, template: Template, what: string): Promise<Handle> {
    try {
      return await this.p11.C_DeriveKeyAsync(this.handle, mechanism as never, base, template);
    } catch (e) {
      throw mapPkcs11Error(e, `derive the ${what} in token "${this.label}"`);
    }
  }

  async wrap(mechanism: object, wrappingKey: Handle, key: Handle, what: string): Promise<Buffer> {
    try {
      return Buffer.from(
        await this.p11.C_WrapKeyAsync(this.handle, mechanism as never, wrappingKey, key, Buffer.alloc(1024)),
      );
    } catch (e) {
      throw mapPkcs11Error(e, `wrap the ${what} in token "${this.label}"`);
    }
  }

  async unwrap(
    mechanism: object,
    unwrappingKey: Handle,
    wrapped: Buffer,
    template: Template,
    what: string,
  ): Promise<Handle> {
    try {
      return await this.p11.C_UnwrapKeyAsync(
        this.handle,
        mechanism as never,
        unwrappingKey,
        wrapped,
        template,
      );
    } catch (e) {
      throw mapPkcs11Error(e, `unwrap the ${what} in token "${this.label}"`, true);
    }
  }

  random(n: number): Buffer {
    return Buffer.from(this.p11.C_GenerateRandom(this.handle, Buffer.alloc(n)));
  }
}

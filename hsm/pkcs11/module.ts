/**
 * Loading a PKCS#11 module, once per path per process, always with CKF_OS_LOCKING_OK
 * (docs/HSM.md §9.2 trap 1: without it SoftHSM2 turns its mutexes off and concurrent calls crash).
 * Internal to hsm/: nothing here is exported from hsm/index.ts.
 */
import { existsSync, realpathSync } from 'node:fs';
import { basename } from 'node:path';
import pkcs11js from 'pkcs11js';
import { ckrName, HsmError } from '../errors.ts';

export const P = pkcs11js;
export type P11 = pkcs11js.PKCS11;

/** SoftHSM2's module on Debian/Ubuntu; production passes the vendor's module path. */
export const DEFAULT_MODULE = '/usr/lib/softhsm/libsofthsm2.so';

/** The module path: explicit option, else `EMBASSY_PKCS11_MODULE`, else SoftHSM2's default path. */
export function resolveModulePath(explicit?: string): string {
  return explicit ?? process.env['EMBASSY_PKCS11_MODULE'] ?? DEFAULT_MODULE;
}

/** True when the module file is SoftHSM2 (by its real file name); used to gate development PINs. */
export function isSoftHsmPath(path: string): boolean {
  try {
    return /softhsm/i.test(basename(realpathSync(path)));
  } catch {
    return false;
  }
}

export interface LoadedModule {
  readonly path: string;
  readonly p11: P11;
  /** Open token handles using this module; the module can be re-initialised only at 0. */
  openTokens: number;
  /** The manufacturer string from C_GetInfo (e.g. "SoftHSM"). */
  readonly manufacturer: string;
  /** True when C_GetInfo names SoftHSM. */
  readonly softhsm: boolean;
}

const loaded = new Map<string, LoadedModule>();

function initialize(p11: P11) {
  try {
    p11.C_Initialize({ flags: P.CKF_OS_LOCKING_OK });
  } catch (e) {
    // Another PKCS11 instance in this process already initialised the same library: share its state.
    if (ckrName(e) !== 'CKR_CRYPTOKI_ALREADY_INITIALIZED') throw e;
  }
}

/** Loads and initialises the module at `path` (once per process), or throws `module_missing`. */
export function loadModule(path: string): LoadedModule {
  const have = loaded.get(path);
  if (have) return have;
  if (!existsSync(path)) {
    throw new HsmError(
      'module_missing',
      `PKCS#11 module not found: ${path} (set EMBASSY_PKCS11_MODULE or pass the module path)`,
    );
  }
  const p11 = new P.PKCS11();
  try {
    p11.load(path);
  } catch {
    throw new HsmError(
      'module_missing',
      `PKCS#11 module could not be loaded (not a PKCS#11 library?): ${path}`,
    );
  }
  try {
    initialize(p11);
  } catch (e) {
    throw new HsmError(
      'module_missing',
      `PKCS#11 module ${path} failed to initialise (${ckrName(e) ?? 'no return code'}); for SoftHSM2 check SOFTHSM2_CONF`,
      ckrName(e),
    );
  }
  const info = p11.C_GetInfo();
  const manufacturer = info.manufacturerID.trim();
  const mod: LoadedModule = {
    path,
    p11,
    openTokens: 0,
    manufacturer,
    softhsm: /softhsm/i.test(manufacturer),
  };
  loaded.set(path, mod);
  return mod;
}

/**
 * Finalises and re-initialises a module so that it sees tokens created by another process
 * (SoftHSM2 reads its token directory at C_Initialize only). Refused while tokens are open.
 */
export function reloadModule(path: string): void {
  const mod = loaded.get(path);
  if (!mod) return;
  if (mod.openTokens > 0) {
    throw new HsmError(
      'token_state',
      `cannot re-initialise PKCS#11 module ${path}: ${mod.openTokens} token handle(s) still open`,
    );
  }
  try {
    mod.p11.C_Finalize();
  } catch {
    // already finalised: fine
  }
  initialize(mod.p11);
}

/** Labels of the initialised tokens the module shows (free SoftHSM slots have an empty label). */
export function tokenLabels(p11: P11): string[] {
  return p11
    .C_GetSlotList(true)
    .map((s) => p11.C_GetTokenInfo(s))
    .filter((t) => (t.flags & P.CKF_TOKEN_INITIALIZED) !== 0)
    .map((t) => cleanLabel(t.label));
}

/** A CK_TOKEN_INFO label without its padding (blanks, or NULs from some writers). */
export const cleanLabel = (label: string) => label.replace(/[\s\0]+$/, '');

/** The slot of the token labelled `label`, or `token_not_found` naming the labels that exist. */
export function findSlot(p11: P11, label: string): Buffer {
  const slots = p11.C_GetSlotList(true);
  const matches = slots.filter((s) => cleanLabel(p11.C_GetTokenInfo(s).label) === label);
  if (matches.length === 1) return matches[0]!;
  if (matches.length > 1) {
    throw new HsmError(
      'object_duplicate',
      `more than one token is labelled "${label}"; labels must be unique`,
    );
  }
  const present = tokenLabels(p11);
  throw new HsmError(
    'token_not_found',
    `token "${label}" not found; tokens present: ${present.length ? present.map((l) => `"${l}"`).join(', ') : 'none'}`,
  );
}

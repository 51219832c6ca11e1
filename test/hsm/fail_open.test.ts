import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import pkcs11js from 'pkcs11js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCustodian } from '../../hsm/custodian.ts';
import { HsmError } from '../../hsm/errors.ts';
import { openHome } from '../../hsm/home.ts';
import { openToken } from '../../hsm/pkcs11/token.ts';
import { type DevTokens, devTokens, digest32, MODULE } from './helpers.ts';

let dev: DevTokens;

beforeAll(async () => {
  dev = await devTokens(2);
});

afterAll(() => dev?.cleanup());

const noSecret = (e: HsmError, ...secrets: string[]) => {
  for (const s of secrets) expect(e.message).not.toContain(s);
};

describe('opening tokens: one clear error each', () => {
  it('fail_wrong_pin: wrong user PIN is wrong_pin, without the PIN in the message', async () => {
    const e = await openCustodian({ label: 'custodian-1', pin: 'not-the-pin-42' }).catch((x) => x);
    expect(e).toBeInstanceOf(HsmError);
    expect(e).toMatchObject({ code: 'wrong_pin', ckr: 'CKR_PIN_INCORRECT' });
    // SoftHSM2 sets CKF_USER_PIN_COUNT_LOW after a failed login (it never locks), and the message says so
    expect(e.message).toBe('wrong user PIN for token "custodian-1"; few tries left before the PIN locks');
    noSecret(e, 'not-the-pin-42', dev.pins['custodian-1']!.user);
    // the right PIN still works afterwards (SoftHSM2 has no retry counter)
    const c = await openCustodian({ label: 'custodian-1', pin: dev.pins['custodian-1']!.user });
    // and a second handle with a wrong PIN while the first is open is refused too
    await expect(openCustodian({ label: 'custodian-1', pin: 'not-the-pin-42' })).rejects.toMatchObject({
      code: 'wrong_pin',
    });
    c.close();
  });

  it('fail_missing_token: token_not_found lists the labels that exist', () => {
    const e = (() => {
      try {
        openToken({ label: 'custodian-9', pin: '1234' });
      } catch (x) {
        return x as HsmError;
      }
    })()!;
    expect(e.code).toBe('token_not_found');
    expect(e.message).toContain('token "custodian-9" not found; tokens present: ');
    for (const l of ['home', 'log', 'station', 'custodian-1', 'custodian-2'])
      expect(e.message).toContain(`"${l}"`);
  });

  it('fail_module_missing: a wrong module path is module_missing', async () => {
    await expect(
      openCustodian({ label: 'custodian-1', pin: '1234', module: '/nonexistent/libpkcs11.so' }),
    ).rejects.toMatchObject({ code: 'module_missing' });
    const notALibrary = join(dev.dataDir, 'not-a-library.so');
    writeFileSync(notALibrary, 'hello');
    const e = await openHome({ label: 'home', pin: '1234', module: notALibrary }).catch((x) => x);
    expect(e).toMatchObject({ code: 'module_missing' });
    expect(e.message).toContain('could not be loaded');
  });

  it('fail_module_env: EMBASSY_PKCS11_MODULE is honoured', async () => {
    process.env['EMBASSY_PKCS11_MODULE'] = '/nonexistent/vendor.so';
    try {
      await expect(openCustodian({ label: 'custodian-1', pin: '1234' })).rejects.toMatchObject({
        code: 'module_missing',
        message: expect.stringContaining('/nonexistent/vendor.so'),
      });
    } finally {
      delete process.env['EMBASSY_PKCS11_MODULE'];
    }
  });

  it('fail_object_missing: operations before setup name the missing object', async () => {
    const c = await openCustodian({ label: 'custodian-2', pin: dev.pins['custodian-2']!.user });
    try {
      const e = await c.sign(digest32(1)).catch((x) => x);
      expect(e).toMatchObject({ code: 'object_missing' });
      expect(e.message).toBe('no identity key in token "custodian-2"');
      await expect(c.healthResponse('land', 1, digest32(2))).rejects.toMatchObject({
        code: 'object_missing',
        message: 'no share land/1 in token "custodian-2"',
      });
    } finally {
      c.close();
    }
  });

  it('fail_closed_handle: a closed handle says so', async () => {
    const c = await openCustodian({ label: 'custodian-2', pin: dev.pins['custodian-2']!.user });
    c.close();
    c.close(); // idempotent
    await expect(c.publicKeys()).rejects.toMatchObject({ code: 'token_state' });
  });
});

describe('session recovery', () => {
  it('good_recover: sessions closed behind the layer are reopened and logged in again', async () => {
    const c = await openCustodian({ label: 'custodian-1', pin: dev.pins['custodian-1']!.user });
    try {
      const keys = await c.setup();
      await c.sign(digest32(3));
      // somebody (another library instance in this process) closes every session on the slot:
      // the login and all object handles are gone
      const P = pkcs11js;
      const p11 = new P.PKCS11();
      p11.load(MODULE);
      try {
        p11.C_Initialize({ flags: P.CKF_OS_LOCKING_OK });
      } catch {
        // shared with the layer
      }
      const slot = p11.C_GetSlotList(true).find((s) => p11.C_GetTokenInfo(s).label.trim() === 'custodian-1')!;
      p11.C_CloseAllSessions(slot);
      const sig = await c.sign(digest32(4));
      expect(sig).toHaveLength(64);
      expect((await c.publicKeys()).identity).toEqual(keys.identity);
      // concurrent callers after another loss
      p11.C_CloseAllSessions(slot);
      const sigs = await Promise.all(Array.from({ length: 8 }, (_, i) => c.sign(digest32(10 + i))));
      expect(sigs.every((s) => s.length === 64)).toBe(true);
    } finally {
      c.close();
    }
  });
});

describe('error mapping', () => {
  it('good_pin_flags: tries left and lockout come from the token flags', async () => {
    const { loginError, mapPkcs11Error } = await import('../../hsm/errors.ts');
    expect(loginError('t', 'CKR_PIN_INCORRECT', 0x20000).message).toBe(
      'wrong user PIN for token "t"; one try left before the PIN locks',
    );
    expect(loginError('t', 'CKR_PIN_INCORRECT', 0x10000).message).toContain('few tries left');
    expect(loginError('t', 'CKR_PIN_LOCKED', 0).code).toBe('pin_locked');
    expect(loginError('t', 'CKR_PIN_INCORRECT', 0x40000).code).toBe('pin_locked');
    expect(loginError('t', 'CKR_PIN_INCORRECT', 0x400000, true).code).toBe('pin_locked');
    const e = mapPkcs11Error(new Error('CKR_MECHANISM_INVALID:112'), 'wrap the share');
    expect(e).toMatchObject({ code: 'mechanism_unsupported', ckr: 'CKR_MECHANISM_INVALID' });
    expect(mapPkcs11Error(new Error('CKR_ATTRIBUTE_READ_ONLY:16'), 'x').ckr).toBe('CKR_ATTRIBUTE_READ_ONLY');
    expect(mapPkcs11Error(new Error('CKR_GENERAL_ERROR:5'), 'unwrap', true).code).toBe('auth_failed');
    expect(mapPkcs11Error(new Error('CKR_FUNCTION_FAILED:6'), 'x').message).toBe(
      'x: PKCS#11 error CKR_FUNCTION_FAILED',
    );
  });
});

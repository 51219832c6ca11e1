/**
 * A SoftHSM2 configured without EdDSA and AES key wrap with padding (slots.mechanisms allow-list): the layer
 * fails closed with mechanism_unsupported instead of a bare CKR code. Own config, own process.
 */
import { appendFileSync, readFileSync, writeFileSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openCustodian } from '../../hsm/custodian.ts';
import { openHome } from '../../hsm/home.ts';
import { openLogToken } from '../../hsm/logkey.ts';
import { reloadModule } from '../../hsm/pkcs11/module.ts';
import { type DevTokens, devTokens, MODULE } from './helpers.ts';

let dev: DevTokens;

beforeAll(async () => {
  dev = await devTokens(1);
  const conf = readFileSync(dev.confPath, 'utf8').replace(/^slots\.mechanisms = .*$/m, '');
  writeFileSync(dev.confPath, conf);
  // SoftHSM 2.6.1 ignores '-' exclusions for these names; an explicit allow-list works
  appendFileSync(
    dev.confPath,
    'slots.mechanisms = CKM_EC_KEY_PAIR_GEN,CKM_ECDSA,CKM_ECDH1_DERIVE,CKM_AES_CBC_ENCRYPT_DATA,CKM_AES_GCM,CKM_SHA256_HMAC,CKM_AES_KEY_GEN,CKM_AES_KEY_WRAP\n',
  );
  reloadModule(MODULE);
});

afterAll(() => dev?.cleanup());

describe('mechanism unsupported', () => {
  it('fail_no_eddsa: the log token refuses to open, naming the mechanisms', async () => {
    const e = await openLogToken({ label: 'log', pin: dev.pins['log']!.user }).catch((x) => x);
    expect(e).toMatchObject({ code: 'mechanism_unsupported' });
    expect(e.message).toBe(
      'token "log" cannot hold the checkpoint key: the HSM does not support CKM_EC_EDWARDS_KEY_PAIR_GEN, CKM_EDDSA',
    );
  });

  it('fail_no_kwp: custodian and home tokens refuse to open without AES key wrap with padding', async () => {
    await expect(
      openCustodian({ label: 'custodian-1', pin: dev.pins['custodian-1']!.user }),
    ).rejects.toMatchObject({
      code: 'mechanism_unsupported',
      message: expect.stringContaining('CKM_AES_KEY_WRAP_PAD'),
    });
    await expect(openHome({ label: 'home', pin: dev.pins['home']!.user })).rejects.toMatchObject({
      code: 'mechanism_unsupported',
    });
  });
});

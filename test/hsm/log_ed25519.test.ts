import { ed25519 } from '@noble/curves/ed25519.js';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type LogToken, openLogToken } from '../../hsm/logkey.ts';
import { verifyEd25519 } from '../../hsm/verify.ts';
import { type DevTokens, devTokens } from './helpers.ts';

let dev: DevTokens;
let log: LogToken;

beforeAll(async () => {
  dev = await devTokens(1);
  log = await openLogToken({ label: 'log', pin: dev.pins['log']!.user });
});

afterAll(() => {
  log?.close();
  dev?.cleanup();
});

describe('log token: Ed25519 checkpoint key', () => {
  it('good_sign: generated in the token, pure Ed25519, verifiable with node:crypto and noble', async () => {
    await expect(log.ed25519PublicKey()).rejects.toMatchObject({ code: 'object_missing' });
    const pub = await log.generateEd25519();
    expect(pub).toHaveLength(32);
    expect(await log.ed25519PublicKey()).toEqual(pub);
    const msg = new TextEncoder().encode('example.com/log\n1\nAAAA\n');
    const sig = await log.signEd25519(msg);
    expect(sig).toHaveLength(64);
    expect(verifyEd25519(sig, msg, pub)).toBe(true);
    expect(ed25519.verify(sig, msg, pub, { zip215: false })).toBe(true);
    expect(verifyEd25519(sig, new TextEncoder().encode('other'), pub)).toBe(false);
    // deterministic (RFC 8032)
    expect(await log.signEd25519(msg)).toEqual(sig);
  });

  it('good_attributes: the private key is sensitive, non-extractable, local', async () => {
    expect(await log.describe()).toMatchObject({
      sensitive: true,
      extractable: false,
      local: true,
      valueReadable: false,
    });
  });

  it('fail_exists: a second key under the same label is refused', async () => {
    await expect(log.generateEd25519()).rejects.toMatchObject({ code: 'object_exists' });
  });
});

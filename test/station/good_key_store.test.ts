// The station's key store (src/station/keys.ts): per-ceremony recipient keys kept 0600 in a 0700
// directory between the request and the unlock, read back exactly, and gone once destroyed.
// (fail_key_store_ids.test.ts: an id that is not a ceremony id never becomes a path.)
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CeremonyKeys } from '../../hsm/index.ts';
import { stationKeys } from '../../src/station/keys.ts';

const root = mkdtempSync(join(tmpdir(), 'embassy-station-keys-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const ceremonyId = () => `cer-${randomBytes(16).toString('hex')}`;
const keys = (): CeremonyKeys => ({
  p256: { secretKey: bytes(32), publicKey: bytes(65) },
  xwing: { seed: bytes(32), publicKey: bytes(1216) },
});

describe('station key store', () => {
  it('keeps a ceremony’s keys private and reads them back exactly', async () => {
    const store = stationKeys(join(root, 'station'));
    const k = keys();
    const id = ceremonyId();
    await store.save(id, k);
    expect(statSync(store.dir).mode & 0o777).toBe(0o700);
    expect(statSync(join(store.dir, `${id}.json`)).mode & 0o777).toBe(0o600);
    expect(store.load(id)).toEqual(k);
    expect(readdirSync(store.dir)).toEqual([`${id}.json`]); // no temporary left behind
  });

  it('holds nothing for an unknown ceremony, and nothing after destroy', async () => {
    const store = stationKeys(join(root, 'station'));
    expect(store.load(ceremonyId())).toBeUndefined();
    const id = ceremonyId();
    await store.save(id, keys());
    store.destroy(id);
    expect(store.load(id)).toBeUndefined();
    store.destroy(id); // a second destroy is a no-op
  });
});

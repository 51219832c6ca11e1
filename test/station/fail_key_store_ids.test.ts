// The station's key store (src/station/keys.ts) turns a ceremony id into a file name: anything that
// is not `cer-` and 32 hex digits is refused before it reaches the file system.
import { randomBytes } from 'node:crypto';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { CeremonyKeys } from '../../hsm/index.ts';
import { stationKeys } from '../../src/station/keys.ts';

const root = mkdtempSync(join(tmpdir(), 'embassy-station-keys-'));
afterAll(() => rmSync(root, { recursive: true, force: true }));

const bytes = (n: number) => new Uint8Array(randomBytes(n));
const keys = (): CeremonyKeys => ({
  p256: { secretKey: bytes(32), publicKey: bytes(65) },
  xwing: { seed: bytes(32), publicKey: bytes(1216) },
});
const refused = { code: 'bad_ceremony_id' };

describe('station key store ids', () => {
  it.each(['../x', 'a/b', '', 'cer-../../etc', `cer-${'A'.repeat(32)}`, `cer-${'0'.repeat(32)}/..`])(
    'fail_path_like_id %j: save, load and destroy refuse it',
    async (id) => {
      const store = stationKeys(join(root, 'station', 'keys'));
      await expect(store.save(id, keys())).rejects.toMatchObject(refused);
      expect(() => store.load(id)).toThrow(expect.objectContaining(refused));
      expect(() => store.destroy(id)).toThrow(expect.objectContaining(refused));
      expect(readdirSync(root)).toEqual([]); // not even the key directory
    },
  );
});

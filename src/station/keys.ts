/**
 * The station's key store: the per-ceremony recipient keys (P-256 and X-Wing) a signed unlock
 * request names live on the station's disk from the request until the unlock, one file per
 * ceremony (`<dir>/<ceremonyId>.json`, mode 0600, in a directory of mode 0700), written durably
 * (src/fs/durable.ts) and removed once the unlock has used them. The id becomes a file name, so it is
 * parsed as a {@link CeremonyId} first: `../x` or `a/b` never reaches the file system.
 *
 * @example
 * const store = stationKeys(join(dataDir, 'station'));
 * await store.save(ceremony.id, keys);
 * const keys = store.load(ceremony.id); // undefined when this station holds none for it
 * store.destroy(ceremony.id);
 * @module
 */
import { existsSync, mkdirSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import type { CeremonyKeys } from '../../hsm/index.ts';
import { EmbassyError } from '../errors.ts';
import { writeDurably } from '../fs/durable.ts';
import { CeremonyId } from '../protocol/ids.ts';

/** A ceremony id that is not `cer-` and 32 hex digits (it would not be a safe file name). */
export class StationKeyError extends EmbassyError<'bad_ceremony_id'> {}

export interface StationKeyStore {
  /** Where the keys are kept. */
  readonly dir: string;
  /** Persists a ceremony's keys (replacing any kept for that id). Every method throws {@link StationKeyError} for a malformed id. */
  save(ceremonyId: string, keys: CeremonyKeys): Promise<void>;
  /** The keys kept for a ceremony, or undefined. */
  load(ceremonyId: string): CeremonyKeys | undefined;
  /** Removes a ceremony's keys (a no-op when none are kept). */
  destroy(ceremonyId: string): void;
}

const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64url');
const unb64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64url'));

/** The key store in `dir` (created on the first save). */
export function stationKeys(dir: string): StationKeyStore {
  const pathOf = (id: string) => {
    const parsed = CeremonyId.safeParse(id);
    if (!parsed.success)
      throw new StationKeyError(
        'bad_ceremony_id',
        `${JSON.stringify(id)} is not a ceremony id (cer- and 32 hex digits)`,
      );
    return join(dir, `${parsed.data}.json`);
  };
  return {
    dir,
    async save(id, keys) {
      const path = pathOf(id);
      mkdirSync(dir, { recursive: true, mode: 0o700 });
      const json = JSON.stringify({
        p256: { secretKey: b64(keys.p256.secretKey), publicKey: b64(keys.p256.publicKey) },
        xwing: { seed: b64(keys.xwing.seed), publicKey: b64(keys.xwing.publicKey) },
      });
      await writeDurably(path, json, { mode: 0o600 });
    },
    load(id) {
      const path = pathOf(id);
      if (!existsSync(path)) return undefined;
      const k = JSON.parse(readFileSync(path, 'utf8'));
      return {
        p256: { secretKey: unb64(k.p256.secretKey), publicKey: unb64(k.p256.publicKey) },
        xwing: { seed: unb64(k.xwing.seed), publicKey: unb64(k.xwing.publicKey) },
      };
    },
    destroy(id) {
      rmSync(pathOf(id), { force: true });
    },
  };
}

// docs/DECISIONS.md#d15: through the station library against the real coordinator app, on SQLite and
// PostgreSQL, a restore is bound to what was registered. Another registered archive handed back under
// the requested id, an older archive under a newer id, and a body re-encrypted under the right DEK
// (maker signature and key commitment still pass: only the body digest catches it) are each refused
// with one line naming the snapshot, before any output file exists.
import { randomBytes } from 'node:crypto';
import { readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  bufferSink,
  bufferSource,
  fileSource,
  inspectArchive,
  sealArchive,
} from '../../src/archive/index.ts';
import { decide, release } from '../../src/custodian/client.ts';
import { describeError } from '../../src/errors.ts';
import { RestoreRefused } from '../../src/station/binding.ts';
import { type RestoreResult, unlockAndRestore } from '../../src/station/client.ts';
import { custodianSession, openCeremony, stationSession } from '../coordinator/helpers.ts';
import { DIALECTS, type TestWorld, testWorld } from '../coordinator/world.ts';

const QUORUM = ['custodian-1', 'custodian-3', 'custodian-5'];

describe.each(DIALECTS)('a restore is bound to its registration (%s)', (dialect) => {
  let w: TestWorld;
  beforeAll(async () => {
    w = await testWorld(dialect);
  });
  afterAll(async () => w?.cleanup());

  /** Opens, approves and releases a ceremony for `snapshot`, then restores it from `archiveOf`. */
  const restore = async (
    snapshot: string,
    archiveOf: (id: string) => string = (id) => join(w.archives, id),
  ): Promise<{ out: string; result: RestoreResult | RestoreRefused | Error }> => {
    const { ceremony, keys } = await openCeremony(w, { snapshot });
    for (const cu of QUORUM) await decide(custodianSession(w, cu), ceremony.id, 'approve');
    for (const cu of QUORUM) await release(custodianSession(w, cu), ceremony.id);
    const out = join(w.dataDir, `out-${ceremony.id}`);
    const result = await unlockAndRestore(stationSession(w), ceremony.id, keys, archiveOf, out).catch(
      (e: Error) => e,
    );
    return { out, result };
  };

  const refused = (r: { out: string; result: unknown }, code: string, line: RegExp) => {
    expect(r.result).toBeInstanceOf(RestoreRefused);
    expect((r.result as RestoreRefused).code).toBe(code);
    expect(describeError(r.result)).toMatch(line);
    expect(describeError(r.result)).not.toContain('\n');
    expect(readdirSync(r.out)).toEqual([]); // no output file, not even a temporary one
  };

  it('good_registered_restore: the report shows createdAt, maker, sequence, the combined custodians and no cheaters', async () => {
    const data = Buffer.from('parcel;owner\n12-004;Tamm\n');
    const snap = await w.snapshot('land', data);
    const info = await inspectArchive(await fileSource(join(w.archives, snap)));
    const maker = info.stanzas.find((s) => s.type === 'maker');
    const { out, result } = await restore(snap);
    expect(result).not.toBeInstanceOf(Error);
    const r = result as RestoreResult;
    expect(r.files).toEqual([
      {
        snapshot: snap,
        path: join(out, snap),
        bytes: data.length,
        createdAt: '2026-11-27T00:00:00Z',
        maker: 'job/backup-job',
        sequence: maker?.type === 'maker' ? maker.sequence : -1,
      },
    ]);
    expect(r.releasedBy.sort()).toEqual(QUORUM);
    expect(r.cheaters).toEqual([]);
    expect(readFileSync(join(out, snap)).equals(data)).toBe(true);
  });

  it('fail_wrong_registered_archive: another registered snapshot handed back under this id is refused', async () => {
    const land = await w.snapshot('land', Buffer.from('land register\n'));
    const business = await w.snapshot('business', Buffer.from('business register\n'));
    const r = await restore(land, () => join(w.archives, business));
    refused(r, 'wrong_snapshot', new RegExp(`^snapshot ${land}: the archive holds snapshot ${business}`));
  });

  it('fail_older_archive_newer_id: last year’s archive handed back under this year’s id is refused', async () => {
    const older = await w.snapshot('land', Buffer.from('land register, last year\n'));
    const newer = await w.snapshot('land', Buffer.from('land register, this year\n'));
    const r = await restore(newer, () => join(w.archives, older));
    refused(r, 'wrong_snapshot', new RegExp(`^snapshot ${newer}: the archive holds snapshot ${older}`));
  });

  it('fail_forged_body_same_dek: a body re-encrypted under the right DEK and salt is refused by its digest', async () => {
    // Record the sealing randomness: sealArchive asks for the DEK, one encapsulation seed, then the salt.
    const draws: Uint8Array[] = [];
    const random = (n: number) => {
      const b = new Uint8Array(randomBytes(n));
      draws.push(b.slice()); // sealArchive zeroises the DEK after use
      return b;
    };
    const snap = await w.snapshot('land', Buffer.from('parcel;owner\n12-004;Tamm\n'), { random });
    const path = join(w.archives, snap);
    const genuine = readFileSync(path);
    const info = await inspectArchive(bufferSource(genuine));
    // A DEK holder encrypts other plaintext under the same DEK, salt and manifest, and keeps the
    // genuine header (quorum stanza, maker signature over salt ‖ commitment, header MAC).
    const replay = [draws[0]!, new Uint8Array(64).fill(7), draws[2]!];
    const sink = bufferSink();
    await sealArchive(bufferSource(Buffer.from('parcel;owner\n12-004;Mallory\n')), sink, {
      manifest: info.manifest,
      recipients: [{ publicKey: w.splits.get('land')!.publicKey, epoch: 1 }],
      random: (n) => replay.shift()!.subarray(0, n),
      threads: 0,
    });
    const forgedAll = sink.result();
    const forgedHeader = (await inspectArchive(bufferSource(forgedAll))).headerBytes;
    const forged = Buffer.concat([genuine.subarray(0, info.headerBytes), forgedAll.subarray(forgedHeader)]);
    // Same salt and commitment: the maker signature still names this body.
    expect(forged.subarray(info.headerBytes, info.headerBytes + 56)).toEqual(
      genuine.subarray(info.headerBytes, info.headerBytes + 56),
    );
    writeFileSync(path, forged);
    const r = await restore(snap);
    refused(
      r,
      'registration_mismatch',
      new RegExp(`^snapshot ${snap} does not match its registration: body digest differs$`),
    );
  });
});

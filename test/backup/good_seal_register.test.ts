// The backup job as a library (src/backup/): seal to the pinned roster's current epoch with a maker
// signature, then register through the coordinator's real app; the registration names the manifest
// hash, the body digest (every byte after the header), the size and the same sequence, is written
// beside the archive as `<archive>.reg`, and a later registration must carry a higher sequence.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  atomicFileSink,
  bufferSource,
  encodeManifest,
  fileSource,
  inspectArchive,
} from '../../src/archive/index.ts';
import { registerSnapshot, sealSnapshot } from '../../src/backup/index.ts';
import { parseStatement, verifyStatement } from '../../src/crypto/statement.ts';
import { registrationFile, STATEMENT } from '../../src/protocol/statements.ts';
import { currentEpoch, principalKey } from '../../src/roster/index.ts';
import { type TestWorld, testWorld } from '../coordinator/world.ts';

describe('the backup job seals and registers a snapshot', () => {
  let w: TestWorld;
  beforeAll(async () => {
    w = await testWorld('sqlite');
  });
  afterAll(async () => w?.cleanup());

  const data = new TextEncoder().encode('parcel;owner\n1;Anna\n');
  const seal = async (path: string, opts: { sequence?: number; now?: () => Date } = {}) =>
    sealSnapshot(bufferSource(data), await atomicFileSink(path, 0o644), {
      roster: w.roster,
      domain: 'land',
      client: w.client('backup-job', w.fetch),
      name: 'land.csv',
      contentType: 'text/csv',
      ...opts,
    });

  it('good_seal_register: seals to the current epoch, signs as maker, registers the body digest with the same sequence and writes <archive>.reg', async () => {
    const path = join(w.archives, 'land-1.emb');
    const now = () => new Date('2026-11-27T10:20:30.456Z');
    const sealed = await seal(path, { now });
    expect(sealed.snapshotId).toBe('land-20261127T102030Z');
    expect(sealed.sequence).toBe(now().getTime());

    const info = await inspectArchive(await fileSource(path));
    expect(info.manifest).toMatchObject({
      domain: 'land',
      snapshotId: sealed.snapshotId,
      sealEpoch: currentEpoch(w.roster, 'land').epoch,
      createdAt: '2026-11-27T10:20:30Z',
      contentType: 'text/csv',
      name: 'land.csv',
    });
    expect(info.stanzas).toContainEqual({
      type: 'maker',
      signer: 'job/backup-job',
      sequence: sealed.sequence,
    });

    const reg = await registerSnapshot(w.client('backup-job', w.fetch), path, { location: 's3://b/land-1' });
    const [view] = (await w.coordinator.snapshots('land')).filter((s) => s.id === sealed.snapshotId);
    const bodyDigest = createHash('sha256')
      .update(readFileSync(path).subarray(info.headerBytes))
      .digest('hex');
    expect(view).toMatchObject({
      id: sealed.snapshotId,
      size: readFileSync(path).length,
      digest: bodyDigest,
      location: 's3://b/land-1',
      sequence: sealed.sequence,
      registeredBy: 'job/backup-job',
    });
    expect(reg).toMatchObject({
      bodyDigest,
      manifestHash: createHash('sha256').update(encodeManifest(info.manifest)).digest('hex'),
      sequence: sealed.sequence,
    });
    // The same signed statement is logged and written beside the archive.
    const file = parseStatement(readFileSync(registrationFile(path)));
    expect(file).toEqual(view!.statement);
    expect(file.type).toBe(STATEMENT.snapshot);
    expect(verifyStatement(file, principalKey(w.roster, file.signer))).toBe(true);
  });

  it('fail_sequence_not_increasing: a registration whose sequence does not increase is refused, and no .reg is written', async () => {
    const path = join(w.archives, 'land-old.emb');
    await seal(path, { sequence: 5, now: () => new Date('2026-11-28T00:00:00Z') });
    await expect(registerSnapshot(w.client('backup-job', w.fetch), path)).rejects.toThrow(
      /sequence 5 is not after the last one/,
    );
    expect((await w.coordinator.snapshots('land')).some((s) => s.sequence === 5)).toBe(false);
    expect(existsSync(registrationFile(path))).toBe(false);
  });

  it('fail_unknown_domain: refuses a domain the pinned roster does not have, before writing anything', async () => {
    const sink = { write: async () => {}, commit: async () => {}, abort: async () => {} };
    await expect(
      sealSnapshot(bufferSource(data), sink, {
        roster: w.roster,
        domain: 'nowhere',
        client: w.client('backup-job', w.fetch),
      }),
    ).rejects.toThrow();
  });
});

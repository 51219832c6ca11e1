import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, release } from '../../src/custodian/client.ts';
import type { CeremonyView } from '../../src/protocol/views.ts';
import { requestUnlock, unlockAndRestore } from '../../src/station/client.ts';
import { DIALECTS, type TestWorld, testWorld } from './world.ts';

describe.each(DIALECTS)('unlock ceremony end to end over HTTP (%s)', (dialect) => {
  let w: TestWorld;
  const data = Buffer.from('parcel;owner;area\n12-004;Tamm;1200\n'.repeat(3000));

  beforeAll(async () => {
    w = await testWorld(dialect);
  });
  afterAll(async () => w?.cleanup());

  const custodian = (id: string) => ({
    id,
    roster: w.roster,
    client: w.client(id, w.fetch),
    token: w.custodians.get(id)!.token,
    journal: w.custodians.get(id)!.journal,
  });
  const station = () => ({ id: 'station-lux', roster: w.roster, client: w.client('station-lux', w.fetch) });

  it('station asks, three custodians of three organisations approve and release, the station restores byte for byte', async () => {
    const snap = await w.snapshot('land', data);
    const { ceremony, keys } = await requestUnlock(station(), {
      domain: 'land',
      epoch: 1,
      snapshots: [snap],
      justification: {
        legalBasis: 'EMERGENCY-RESTORE',
        caseReference: 'RIA-2026-0042',
        text: 'restore the land register',
      },
      ttlSeconds: 3600,
    });
    expect(ceremony.state).toBe('open');
    for (const id of ['custodian-1', 'custodian-3', 'custodian-5'])
      await decide(custodian(id), ceremony.id, 'approve');
    const afterQuorum = await w
      .client('auditor-1', w.fetch)
      .get<CeremonyView>(`/v1/ceremonies/${ceremony.id}`);
    expect(afterQuorum.state).toBe('quorum');
    expect(afterQuorum.verdict.state).toBe('releasable');
    for (const id of ['custodian-1', 'custodian-3', 'custodian-5']) await release(custodian(id), ceremony.id);
    const out = join(w.dataDir, 'restored');
    const res = await unlockAndRestore(station(), ceremony.id, keys, (s) => join(w.archives, s), out);
    expect(res.releasedBy.sort()).toEqual(['custodian-1', 'custodian-3', 'custodian-5']);
    expect(readFileSync(join(out, snap)).equals(data)).toBe(true);
    const closed = await w.client('auditor-1', w.fetch).get<CeremonyView>(`/v1/ceremonies/${ceremony.id}`);
    expect(closed.state).toBe('done');
    expect(closed.releases).toEqual([]);
    const { entries } = await w
      .client('auditor-1', w.fetch)
      .get<{ entries: { entry: string }[] }>('/v1/audit/entries?from=0&to=100');
    const kinds = entries.map((e) => JSON.parse(e.entry).kind);
    expect(kinds).toEqual([
      'roster-version',
      'snapshot-registration',
      'unlock-request',
      'approval',
      'approval',
      'approval',
      'quorum',
      'release',
      'release',
      'release',
      'ceremony-close',
      'rotation-required',
    ]);
  });
});

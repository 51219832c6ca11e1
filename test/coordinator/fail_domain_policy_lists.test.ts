/**
 * A domain's policy may narrow the roster's lists: the legal bases it accepts and the stations that
 * may ask to unlock it. The coordinator refuses an unlock request outside them (422 policy) and a
 * client's own check refuses a ceremony the coordinator served anyway.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { checkCeremony } from '../../src/protocol/check.ts';
import type { CeremonyView } from '../../src/protocol/views.ts';
import { domain } from '../../src/roster/index.ts';
import { requestUnlock } from '../../src/station/client.ts';
import { JUSTIFICATION, openCeremony, rejects, stationSession } from './helpers.ts';
import { DIALECTS, type TestWorld, testWorld } from './world.ts';

describe.each(DIALECTS)('domain policy lists (%s)', (dialect) => {
  let w: TestWorld;

  beforeAll(async () => {
    w = await testWorld(dialect, {
      extraStations: ['station-tln'],
      domainPolicy: { land: { legalBases: ['EMERGENCY-RESTORE'], stations: ['station-lux'] } },
    });
  });
  afterAll(async () => w?.cleanup());

  const ask = (station: string, legalBasis: string) =>
    w.snapshot('land', Buffer.from('a;b\n1;2\n')).then((snapshot) =>
      requestUnlock(stationSession(w, station), {
        domain: 'land',
        epoch: 1,
        snapshots: [snapshot],
        justification: { ...JUSTIFICATION, legalBasis },
        ttlSeconds: 3600,
      }),
    );

  it('fail: a legal basis in the roster but not accepted for the domain is refused', async () => {
    await rejects(ask('station-lux', 'DRILL'), 422, 'policy');
  });

  it('fail: a registered station the domain does not name may not ask', async () => {
    await rejects(ask('station-tln', 'EMERGENCY-RESTORE'), 422, 'policy');
  });

  it('good: the named station with an accepted legal basis opens the ceremony', async () => {
    const { ceremony } = await ask('station-lux', 'EMERGENCY-RESTORE');
    expect(ceremony.state).toBe('open');
  });

  it("fail: a client's own check refuses what its pinned roster does not allow, whatever the coordinator served", async () => {
    const { ceremony } = await openCeremony(w, { domain: 'business' });
    const narrowed = structuredClone(w.roster);
    domain(narrowed, 'business').policy.stations = ['station-tln'];
    expect(() => checkCeremony(narrowed, ceremony as CeremonyView, new Date())).toThrow(
      /may not ask to unlock domain "business"/,
    );
  });
});

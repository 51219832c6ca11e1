/**
 * Unlock policy over HTTP: the cool-off between quorum and release (during which a veto still stops
 * the ceremony, and neither the coordinator nor the custodian's own client lets a share go), and the
 * distinct-organisations rule.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, ReleaseRefused, release } from '../../src/custodian/client.ts';
import {
  auditKinds,
  ceremonyOf,
  clock,
  custodianSession,
  fetchReleases,
  openCeremony,
  rejects,
  tokenRelease,
} from './helpers.ts';
import { DIALECTS, type TestWorld, testWorld } from './world.ts';

const COOL_OFF = 3600;

describe.each(DIALECTS)('cool-off (%s)', (dialect) => {
  let w: TestWorld;
  const c = clock();

  beforeAll(async () => {
    w = await testWorld(dialect, { now: c.now, coolOffSeconds: COOL_OFF });
  });
  afterAll(async () => w?.cleanup());

  const approve = async (id: string, who: string[]) => {
    for (const cu of who) await decide(custodianSession(w, cu), id, 'approve');
  };

  it('quorum starts the cool-off; releases are refused (409 wrong_state) until it elapsed, then accepted', async () => {
    const { ceremony } = await openCeremony(w, { ttlSeconds: 3 * COOL_OFF });
    await approve(ceremony.id, ['custodian-1', 'custodian-3', 'custodian-5']);
    const v = await ceremonyOf(w, ceremony.id);
    expect(v.state).toBe('quorum');
    expect(v.verdict.state).toBe('cooling-off');
    expect(Date.parse(v.releaseAfter!) - Date.parse(v.quorumAt!)).toBe(COOL_OFF * 1000);
    await expect(release(custodianSession(w, 'custodian-1'), ceremony.id)).rejects.toBeInstanceOf(
      ReleaseRefused,
    );
    await rejects(tokenRelease(w, 'custodian-1', v), 409, 'wrong_state');
    expect(await fetchReleases(w, ceremony.id)).toEqual([]);
    c.advance(COOL_OFF - 5);
    await rejects(tokenRelease(w, 'custodian-3', v), 409, 'wrong_state');
    c.advance(10);
    expect((await ceremonyOf(w, ceremony.id)).verdict.state).toBe('releasable');
    await release(custodianSession(w, 'custodian-1'), ceremony.id);
    expect((await fetchReleases(w, ceremony.id)).map((r) => r.custodian)).toEqual(['custodian-1']);
    const kinds = (await auditKinds(w)).map((e) => e.kind);
    expect(kinds.filter((k) => k === 'quorum')).toHaveLength(1);
  });

  it("the custodian's own client refuses to release before the cool-off elapsed on its clock, whatever the coordinator's says", async () => {
    const { ceremony } = await openCeremony(w, { ttlSeconds: 3 * COOL_OFF });
    await approve(ceremony.id, ['custodian-1', 'custodian-3', 'custodian-5']);
    const quorumAt = c.now().getTime();
    c.advance(COOL_OFF + 5); // the coordinator now accepts releases
    expect((await ceremonyOf(w, ceremony.id)).verdict.state).toBe('releasable');
    const early = custodianSession(w, 'custodian-3', () => new Date(quorumAt + 60_000));
    const err = await release(early, ceremony.id).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ReleaseRefused);
    expect((err as Error).message).toMatch(/cool-off runs until/);
    expect(await fetchReleases(w, ceremony.id)).toEqual([]);
    // The journal was not touched: the same custodian releases once its clock agrees.
    await release(custodianSession(w, 'custodian-3'), ceremony.id);
    expect((await fetchReleases(w, ceremony.id)).map((r) => r.custodian)).toEqual(['custodian-3']);
  });

  it('a veto during the cool-off stops the ceremony: nothing is ever released', async () => {
    const { ceremony } = await openCeremony(w, { ttlSeconds: 3 * COOL_OFF });
    await approve(ceremony.id, ['custodian-1', 'custodian-3', 'custodian-5']);
    c.advance(COOL_OFF / 2);
    const vetoed = await decide(
      custodianSession(w, 'custodian-4'),
      ceremony.id,
      'veto',
      'the case reference is unknown',
    );
    expect(vetoed.state).toBe('vetoed');
    expect(vetoed.verdict).toMatchObject({ state: 'vetoed', vetoedBy: 'custodian-4' });
    c.advance(COOL_OFF);
    const v = await ceremonyOf(w, ceremony.id);
    expect(v.state).toBe('vetoed');
    await expect(release(custodianSession(w, 'custodian-1'), ceremony.id)).rejects.toBeInstanceOf(
      ReleaseRefused,
    );
    await rejects(tokenRelease(w, 'custodian-5', v), 409, 'wrong_state');
    await rejects(fetchReleases(w, ceremony.id), 409, 'wrong_state');
    await rejects(decide(custodianSession(w, 'custodian-2'), ceremony.id, 'approve'), 409, 'wrong_state');
  });
});

describe.each(DIALECTS)('distinct organisations (%s)', (dialect) => {
  let w: TestWorld;

  beforeAll(async () => {
    // 2-of-5 with at least 2 organisations; custodian-1 and custodian-2 are both Ministry of Justice.
    w = await testWorld(dialect, { threshold: 2, minOrganisations: 2, coolOffSeconds: 0 });
  });
  afterAll(async () => w?.cleanup());

  it('t approvals from one organisation do not reach quorum when minOrganisations = 2', async () => {
    const { ceremony } = await openCeremony(w);
    await decide(custodianSession(w, 'custodian-1'), ceremony.id, 'approve');
    const v = await decide(custodianSession(w, 'custodian-2'), ceremony.id, 'approve');
    expect(v.verdict.approvers).toEqual(['custodian-1', 'custodian-2']);
    expect(v.verdict.organisations).toEqual(['Ministry of Justice']);
    expect(v.state).toBe('open');
    expect(v.verdict.state).toBe('open');
    expect(v.quorumAt).toBeNull();
    await expect(release(custodianSession(w, 'custodian-1'), ceremony.id)).rejects.toBeInstanceOf(
      ReleaseRefused,
    );
    await rejects(tokenRelease(w, 'custodian-2', v), 409, 'wrong_state');
    // A second organisation completes it.
    const q = await decide(custodianSession(w, 'custodian-3'), ceremony.id, 'approve');
    expect(q.state).toBe('quorum');
    expect(q.verdict.state).toBe('releasable');
    expect(q.verdict.organisations.sort()).toEqual(['Ministry of Justice', 'State Treasury']);
    await release(custodianSession(w, 'custodian-1'), ceremony.id);
  });
});

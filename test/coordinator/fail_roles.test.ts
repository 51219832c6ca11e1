/**
 * Roles (invariant 7, docs/DECISIONS.md#i7, issue 4 §3): a custodian of another domain cannot approve, a job can
 * never approve or unlock, an auditor only reads, a requester cannot approve its own request, and a
 * stranger cannot cancel, restart or hog a ceremony (cf. Vault CVE-2026-5807).
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { decide, pendingCeremonies, release } from '../../src/custodian/client.ts';
import { recipientKeysHash, STATEMENT } from '../../src/protocol/statements.ts';
import type { CeremonyView } from '../../src/protocol/views.ts';
import {
  ceremonyOf,
  custodianSession,
  expectError,
  fetchReleases,
  openCeremony,
  rejects,
  stationSession,
  tokenRelease,
} from './helpers.ts';
import { DIALECTS, type TestWorld, testWorld } from './world.ts';

const LAND = ['custodian-1', 'custodian-2', 'custodian-3', 'custodian-4'];

describe.each(DIALECTS)('roles (%s)', (dialect) => {
  let w: TestWorld;

  beforeAll(async () => {
    w = await testWorld(dialect, {
      domainCustodians: { land: LAND },
      extraStations: ['station-rogue'],
    });
  });
  afterAll(async () => w?.cleanup());

  const decisionBody = (v: CeremonyView, decision: 'approve' | 'veto' = 'approve') => {
    const b = v.request.body as { recipientP256: string; recipientXWing: string };
    return {
      ceremonyId: v.id,
      requestHash: v.requestHash,
      decision,
      recipientKeys: recipientKeysHash(
        Buffer.from(b.recipientP256, 'base64url'),
        Buffer.from(b.recipientXWing, 'base64url'),
      ),
      ...(decision === 'veto' ? { reason: 'no' } : {}),
      createdAt: new Date().toISOString(),
    };
  };
  const closeBody = (v: CeremonyView, outcome: 'done' | 'cancelled' = 'cancelled') => ({
    ceremonyId: v.id,
    requestHash: v.requestHash,
    outcome,
    createdAt: new Date().toISOString(),
  });
  const requestBody = (snapshot: string, ceremonyId = `cer-${randomBytes(16).toString('hex')}`) => ({
    ceremonyId,
    domain: 'land',
    epoch: 1,
    snapshots: [snapshot],
    justification: { legalBasis: 'DRILL', caseReference: 'X-2', text: 'drill' },
    recipientP256: Buffer.alloc(65, 4).toString('base64url'),
    recipientXWing: Buffer.alloc(1216, 7).toString('base64url'),
    createdAt: new Date().toISOString(),
    deadline: new Date(Date.now() + 3600_000).toISOString(),
    nonce: randomBytes(16).toString('hex'),
  });

  it('invariant 7: a custodian of another domain cannot approve', async () => {
    const { ceremony } = await openCeremony(w, { domain: 'land' });
    const outsider = custodianSession(w, 'custodian-5');
    await rejects(decide(outsider, ceremony.id, 'approve'), 403, 'forbidden');
    await rejects(decide(outsider, ceremony.id, 'veto', 'not mine to veto'), 403, 'forbidden');
    expect((await pendingCeremonies(outsider)).map((c) => c.id)).not.toContain(ceremony.id);
    expect((await pendingCeremonies(custodianSession(w, 'custodian-1'))).map((c) => c.id)).toContain(
      ceremony.id,
    );
    for (const c of ['custodian-1', 'custodian-2', 'custodian-3'])
      await decide(custodianSession(w, c), ceremony.id, 'approve');
    const v = await ceremonyOf(w, ceremony.id);
    expect(v.verdict.state).toBe('releasable');
    // custodian-5 holds no share of land: its token has nothing to release, and the coordinator refuses.
    await expect(release(outsider, ceremony.id)).rejects.toThrow(/not approved/);
    const c5 = w.client('custodian-5', w.fetch);
    const fake = Buffer.alloc(100, 1);
    await rejects(
      c5.post(`/v1/ceremonies/${ceremony.id}/releases`, {
        statement: await c5.statement(STATEMENT.release, {
          ceremonyId: v.id,
          requestHash: v.requestHash,
          recipientKeys: decisionBody(v).recipientKeys,
          blobHash: (await import('node:crypto')).createHash('sha256').update(fake).digest('hex'),
          createdAt: new Date().toISOString(),
        }),
        blob: fake.toString('base64url'),
      }),
      403,
      'forbidden',
    );
    // In a domain it does hold, the same custodian decides normally.
    const biz = await openCeremony(w, { domain: 'business' });
    const after = await decide(outsider, biz.ceremony.id, 'approve');
    expect(after.decisions.map((d) => d.custodian)).toEqual(['custodian-5']);
  });

  it('invariant 7: a job can never approve or unlock', async () => {
    const { ceremony } = await openCeremony(w);
    const v = await ceremonyOf(w, ceremony.id);
    const job = w.client('backup-job', w.fetch);
    const snap = await w.snapshot('land', Buffer.from('j\n'));
    await rejects(
      job.post('/v1/ceremonies', await job.statement(STATEMENT.unlockRequest, requestBody(snap))),
      403,
      'forbidden',
    );
    await rejects(
      job.post(`/v1/ceremonies/${v.id}/decisions`, await job.statement(STATEMENT.decision, decisionBody(v))),
      403,
      'forbidden',
    );
    await rejects(
      job.post(`/v1/ceremonies/${v.id}/releases`, {
        statement: await job.statement(STATEMENT.release, {
          ceremonyId: v.id,
          requestHash: v.requestHash,
          recipientKeys: decisionBody(v).recipientKeys,
          blobHash: '00'.repeat(32),
          createdAt: new Date().toISOString(),
        }),
        blob: Buffer.alloc(64).toString('base64url'),
      }),
      403,
      'forbidden',
    );
    await rejects(job.get(`/v1/ceremonies/${v.id}/releases`, true), 403, 'forbidden');
    await rejects(
      job.post(`/v1/ceremonies/${v.id}/close`, await job.statement(STATEMENT.close, closeBody(v))),
      403,
      'forbidden',
    );
    const after = await ceremonyOf(w, v.id);
    expect(after.decisions).toEqual([]);
    expect(after.state).toBe('open');
  });

  it('invariant 7: an auditor only reads', async () => {
    const { ceremony } = await openCeremony(w);
    const v = await ceremonyOf(w, ceremony.id);
    const a = w.client('auditor-1', w.fetch);
    const snap = await w.snapshot('land', Buffer.from('a\n'));
    for (const [path, body] of [
      ['/v1/ceremonies', await a.statement(STATEMENT.unlockRequest, requestBody(snap))],
      [`/v1/ceremonies/${v.id}/decisions`, await a.statement(STATEMENT.decision, decisionBody(v))],
      [`/v1/ceremonies/${v.id}/close`, await a.statement(STATEMENT.close, closeBody(v))],
      [
        '/v1/snapshots',
        await a.statement(STATEMENT.snapshot, {
          id: 'aud-1',
          domain: 'land',
          sealEpoch: 1,
          size: 1,
          manifestHash: '00'.repeat(32),
          bodyDigest: '00'.repeat(32),
          location: '/x',
          sequence: Number.MAX_SAFE_INTEGER,
          createdAt: new Date().toISOString(),
        }),
      ],
    ] as const) {
      await rejects(a.post(path, body), 403, 'forbidden');
    }
    await rejects(a.post('/v1/roster', w.signed), 422, 'policy'); // not a valid next version, whoever sends it
    await rejects(a.get(`/v1/ceremonies/${v.id}/releases`, true), 403, 'forbidden');
    for (const path of [
      '/v1/roster',
      '/v1/snapshots',
      '/v1/ceremonies',
      '/v1/ceremonies?state=pending',
      `/v1/ceremonies/${v.id}`,
      '/v1/audit/entries?from=0&to=5',
      '/v1/audit/inclusion?seq=0&size=2',
      '/v1/audit/consistency?from=1&to=2',
    ]) {
      const res = await w.app.request(path);
      expect(res.status, path).toBe(200);
    }
    expect((await ceremonyOf(w, v.id)).state).toBe('open');
  });

  it('invariant 7: a requester cannot approve its own request', async () => {
    const { ceremony } = await openCeremony(w);
    const v = await ceremonyOf(w, ceremony.id);
    const st = stationSession(w).client;
    await rejects(
      st.post(`/v1/ceremonies/${v.id}/decisions`, await st.statement(STATEMENT.decision, decisionBody(v))),
      403,
      'forbidden',
    );
    // Nor may it release, nor may it pass a custodian's approval off as its own request.
    const c1 = custodianSession(w, 'custodian-1');
    const approval = await c1.client.statement(STATEMENT.decision, decisionBody(v));
    await rejects(st.post(`/v1/ceremonies/${v.id}/decisions`, approval), 403, 'forbidden');
    expect((await ceremonyOf(w, v.id)).decisions).toEqual([]);
  });

  it('invariant 7: a stranger cannot cancel, restart or hog a ceremony; ids are never reused (cf. Vault CVE-2026-5807)', async () => {
    const { ceremony, snapshot } = await openCeremony(w);
    const v = await ceremonyOf(w, ceremony.id);
    const rogue = w.client('station-rogue', w.fetch);
    const path = `/v1/ceremonies/${v.id}/close`;
    // Cancel: another registered station, a custodian, a job: all 403, and the ceremony stays open.
    await rejects(rogue.post(path, await rogue.statement(STATEMENT.close, closeBody(v))), 403, 'forbidden');
    await rejects(
      rogue.post(path, await rogue.statement(STATEMENT.close, closeBody(v, 'done'))),
      403,
      'forbidden',
    );
    const c2 = w.client('custodian-2', w.fetch);
    await rejects(c2.post(path, await c2.statement(STATEMENT.close, closeBody(v))), 403, 'forbidden');
    // Replaying the owner's signed close statement from another principal does not work either.
    const owner = stationSession(w).client;
    const ownersClose = await owner.statement(STATEMENT.close, closeBody(v));
    await rejects(rogue.post(path, ownersClose), 403, 'forbidden');
    expect((await ceremonyOf(w, v.id)).state).toBe('open');
    // Hog: the stranger cannot take over the id, nor fetch its releases.
    await rejects(
      rogue.post(
        '/v1/ceremonies',
        await rogue.statement(STATEMENT.unlockRequest, requestBody(snapshot, v.id)),
      ),
      409,
      'conflict',
    );
    await rejects(rogue.get(`/v1/ceremonies/${v.id}/releases`, true), 403, 'forbidden');
    // The stranger's own ceremonies do not block this one.
    const theirs = await rogue.post<CeremonyView>(
      '/v1/ceremonies',
      await rogue.statement(STATEMENT.unlockRequest, requestBody(snapshot)),
    );
    expect(theirs.station).toBe('station-rogue');
    await decide(custodianSession(w, 'custodian-1'), v.id, 'approve');
    // Only the requesting station closes it.
    const closed = await owner.post<CeremonyView>(path, ownersClose);
    expect(closed.state).toBe('cancelled');
    // Restart: the id cannot be reopened, by the owner or anyone, and nothing more is accepted.
    await rejects(
      owner.post(
        '/v1/ceremonies',
        await owner.statement(STATEMENT.unlockRequest, requestBody(snapshot, v.id)),
      ),
      409,
      'conflict',
    );
    await rejects(owner.post('/v1/ceremonies', v.request), 409, 'conflict');
    await rejects(
      owner.post(path, await owner.statement(STATEMENT.close, closeBody(v, 'done'))),
      409,
      'wrong_state',
    );
    await rejects(decide(custodianSession(w, 'custodian-2'), v.id, 'approve'), 409, 'wrong_state');
    await rejects(tokenRelease(w, 'custodian-1', v), 409, 'wrong_state');
    await rejects(fetchReleases(w, v.id), 409, 'wrong_state');
    const res = await w.app.request(`/v1/ceremonies/${v.id}`);
    expect(((await res.json()) as CeremonyView).state).toBe('cancelled');
    await expectError(await w.app.request(`/v1/ceremonies/cer-${'0'.repeat(32)}`), 404, 'not_found');
  });
});

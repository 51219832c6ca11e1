/**
 * The policy-change ceremony on a rehearsal deployment (SoftHSM2 tokens): the cool-off and the
 * organisation rule of "land" change in a new roster version that verifies from the pinned genesis,
 * approved by a threshold of the domain's custodians, and the coordinator then holds an unlock in
 * its cool-off under the new rule. Key generation takes the same policy parameters.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCeremony } from '../../ceremonies/index.ts';
import { verifyStatement } from '../../src/crypto/statement.ts';
import { OTHER_STATEMENT } from '../../src/protocol/statements.ts';
import {
  domain,
  jobMaySeal,
  principalKey,
  rosterIdHex,
  stationMayAsk,
  verifyRosterChain,
} from '../../src/roster/index.ts';
import { auditEntries, rehearsal, sealSnapshot } from './helpers.ts';

let r: Awaited<ReturnType<typeof rehearsal>>;
beforeAll(async () => {
  r = await rehearsal();
  await sealSnapshot(r.env, 'land', 'land-p1', new Uint8Array(randomBytes(1000)));
}, 120_000);
afterAll(async () => r?.cleanup());

describe('policy-change ceremony', () => {
  it('changes cool-off and organisation rule in a roster version that verifies', async () => {
    const before = r.env.roster();
    expect(domain(before, 'land').policy.coolOffSeconds).toBe(0);
    const res = await runCeremony('policy-change', {
      env: r.env,
      params: { domain: 'land', 'cool-off-seconds': '3600', 'min-organisations': '3' },
    });
    const t = res.transcript;
    expect(t.status).toBe('completed');
    expect(t.steps.map((s) => s.step)).toEqual(['check-change', 'approve-change', 'publish-roster']);
    expect(t.steps[0]!.record['weakens']).toEqual([]);

    // a threshold of the domain's custodians approved the exact policy, each from their token
    const approve = t.steps.find((s) => s.step === 'approve-change')!;
    expect(approve.statements).toHaveLength(3);
    expect(approve.record['organisations']).toHaveLength(3);
    for (const s of approve.statements) {
      expect(s.type).toBe(OTHER_STATEMENT.policyChangeApproval);
      expect(verifyStatement(s, principalKey(before, s.signer))).toBe(true);
      expect((s.body as { policyDigest: string }).policyDigest).toBe(approve.record['policyDigest']);
    }

    // the new version is signed by the root quorum and verifies from the pinned genesis
    const now = r.env.roster();
    expect(now.version).toBe(before.version + 1);
    const land = domain(now, 'land');
    expect(land.policy.coolOffSeconds).toBe(3600);
    expect(land.minOrganisations).toBe(3);
    expect(land.epochs).toEqual(domain(before, 'land').epochs);
    const versions = await r.env.coordinator.rosterVersions();
    const chain = verifyRosterChain(rosterIdHex(versions[0]!.roster), versions, new Date());
    expect(chain.current.rosterId).toBe(rosterIdHex(now));
    expect((await auditEntries(r.env, 'roster-version')).at(-1)!['data']['version']).toBe(now.version);
  });

  it('the coordinator holds an unlock in the new cool-off and needs three organisations', async () => {
    const { listTranscripts } = await import('../../ceremonies/engine.ts');
    const approvalsState = () =>
      listTranscripts(r.env.dataDir)
        .filter((t) => t.ceremony === 'unlock')
        .at(-1)!
        .steps.find((s) => s.step === 'approvals')!.record['state'];
    const failedRelease = () =>
      listTranscripts(r.env.dataDir)
        .filter((t) => t.ceremony === 'unlock')
        .at(-1)!
        .steps.find((s) => s.step === 'releases' && s.outcome === 'failed')!.error!.message;
    // custodian-1 and -2 are one organisation: three approvals from two organisations are no quorum
    await expect(
      runCeremony('unlock', {
        env: r.env,
        params: { domain: 'land', approvers: 'custodian-1,custodian-2,custodian-3' },
      }),
    ).rejects.toMatchObject({ code: 'ceremony_step_failed', step: 'releases' });
    expect(approvalsState()).toBe('open');
    await runCeremony('unlock', { env: r.env, abort: true });

    // three organisations reach the quorum, and the releases wait out the hour's cool-off
    await expect(
      runCeremony('unlock', {
        env: r.env,
        params: { domain: 'land', approvers: 'custodian-1,custodian-3,custodian-5' },
      }),
    ).rejects.toMatchObject({ code: 'ceremony_step_failed', step: 'releases' });
    // the coordinator's state is the quorum; the custodians' clients refuse to release for an hour
    expect(approvalsState()).toBe('quorum');
    const until = /the cool-off runs until (\S+?Z)/.exec(failedRelease())?.[1];
    expect(Date.parse(until!) - Date.now()).toBeGreaterThan(3500_000);
    await runCeremony('unlock', { env: r.env, abort: true });
  });

  it('key generation takes the policy: the named job may seal, the named station may ask', async () => {
    const res = await runCeremony('key-generation', {
      env: r.env,
      params: {
        domain: 'census',
        threshold: '2',
        custodians: 'custodian-1,custodian-3,custodian-5',
        'cool-off-seconds': '60',
        'min-organisations': '2',
        'max-deadline-seconds': '86400',
        veto: 'any',
        'legal-bases': 'DRILL',
        stations: 'station-lux',
        jobs: 'backup-job',
      },
    });
    expect(res.transcript.status).toBe('completed');
    const roster = r.env.roster();
    const census = domain(roster, 'census');
    expect(census.minOrganisations).toBe(2);
    expect(census.policy).toEqual({
      coolOffSeconds: 60,
      maxDeadlineSeconds: 86400,
      veto: 'any',
      maxEpochAgeDays: 365,
      legalBases: ['DRILL'],
      stations: ['station-lux'],
    });
    expect(jobMaySeal(roster, 'backup-job', 'census')).toBe(true);
    expect(jobMaySeal(roster, 'backup-job', 'land')).toBe(true);
    expect(stationMayAsk(census, 'station-lux')).toBe(true);
    expect(stationMayAsk(census, 'station-other')).toBe(false);
  });
});

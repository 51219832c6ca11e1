/** Key generation, health check and decision 8 (docs/DECISIONS.md#d8: interrupted key generation → abort → restart), on SoftHSM2. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCeremony } from '../../ceremonies/index.ts';
import { verifyStatement } from '../../src/crypto/statement.ts';
import { findEpoch, principalKey } from '../../src/roster/index.ts';
import { auditEntries, rehearsal } from './helpers.ts';

let r: Awaited<ReturnType<typeof rehearsal>>;
beforeAll(async () => {
  r = await rehearsal();
}, 120_000);
afterAll(async () => r?.cleanup());

const holds = async (id: string, domain: string, epoch: number) =>
  (await (await r.env.custodian(id)).listShares()).some((s) => s.domain === domain && s.epoch === epoch);

describe('key-generation ceremony', () => {
  it('generates, imports, accepts, zeroises and publishes a new domain key', async () => {
    const res = await runCeremony('key-generation', {
      env: r.env,
      params: { domain: 'census', threshold: '3' },
    });
    const t = res.transcript;
    expect(t.status).toBe('completed');
    expect(t.steps.map((s) => s.step)).toEqual([
      'check-roster',
      'generate-and-split',
      'import-shares',
      'accept-shares',
      'zeroise',
      'publish-roster',
    ]);
    expect(t.steps.find((s) => s.step === 'accept-shares')!.statements).toHaveLength(5);
    expect(t.steps.find((s) => s.step === 'generate-and-split')!.record['subsetsChecked']).toBe(10);
    const e = findEpoch(r.env.roster(), 'census', 1)!;
    expect(e.shares.map((s) => s.custodian)).toEqual([
      'custodian-1',
      'custodian-2',
      'custodian-3',
      'custodian-4',
      'custodian-5',
    ]);
    for (let i = 1; i <= 5; i++) expect(await holds(`custodian-${i}`, 'census', 1)).toBe(true);
    // signed by the station key of the roster, and in the audit log
    expect(verifyStatement(res.statement, principalKey(r.env.roster(), res.statement.signer))).toBe(true);
    const logged = await auditEntries(r.env, 'ceremony-transcript');
    expect(
      logged.some(
        (x) => x['data']['ceremonyId'] === t.ceremonyId && x['statement']['sig'] === res.statement.sig,
      ),
    ).toBe(true);
    // no secret-looking material anywhere in the transcript (the log's own guard accepted it too)
    expect(JSON.stringify(t)).not.toMatch(/"(share|seed|pin|dek|secret)"/i);
  });

  it('health check: every holder answers a one-time challenge; a destroyed share is reported missing', async () => {
    const ok = await runCeremony('health-check', { env: r.env, params: { domain: 'census' } });
    const rep = ok.transcript.steps.find((s) => s.step === 'report')!.record;
    expect(rep['healthy']).toBe(true);
    expect(rep['ok']).toHaveLength(5);
    const first = ok.transcript.steps[0]!.record['issued'] as { index: number }[];
    expect(first.every((i) => i.index === 0)).toBe(true);

    await (await r.env.custodian('custodian-2')).destroyShare('census', 1);
    const bad = await runCeremony('health-check', { env: r.env, params: { domain: 'census' } });
    const rep2 = bad.transcript.steps.find((s) => s.step === 'report')!.record;
    expect(rep2['healthy']).toBe(false);
    expect(rep2['missing']).toEqual(['custodian-2']);
    // a challenge is never used twice
    const second = bad.transcript.steps[0]!.record['issued'] as { index: number }[];
    expect(second.every((i) => i.index === 1)).toBe(true);
  });

  it('an interrupted key generation is aborted (partial shares destroyed, signed) and restarted with a new key', async () => {
    await expect(
      runCeremony('key-generation', {
        env: r.env,
        params: { domain: 'pensions', threshold: '2', custodians: 'custodian-1,custodian-3,custodian-5' },
        failAt: { step: 'accept-shares', when: 'before' },
      }),
    ).rejects.toMatchObject({ code: 'ceremony_step_failed' });
    expect(await holds('custodian-1', 'pensions', 1)).toBe(true);
    const res = await runCeremony('key-generation', { env: r.env, resume: true });
    expect(res.transcript.status).toBe('aborted');
    expect(res.transcript.abort!.reason).toMatch(/split/);
    const destroyed = res.transcript.abort!.cleanup['destroyed'] as { custodian: string }[];
    expect(destroyed.map((d) => d.custodian)).toEqual(['custodian-1', 'custodian-3', 'custodian-5']);
    expect(res.transcript.abort!.statements).toHaveLength(3);
    for (const s of res.transcript.abort!.statements)
      expect(verifyStatement(s, principalKey(r.env.roster(), s.signer))).toBe(true);
    const again = res.restarted!;
    expect(again.transcript.status).toBe('completed');
    expect(again.transcript.restartOf).toBe(res.transcript.ceremonyId);
    expect(res.transcript.restartedAs).toBe(again.transcript.ceremonyId);
    const oldKeyId = res.transcript.steps.find((s) => s.step === 'generate-and-split')!.record['keyId'];
    expect(findEpoch(r.env.roster(), 'pensions', 1)!.keyId).not.toBe(oldKeyId);
    const logged = (await auditEntries(r.env, 'ceremony-transcript')).map((x) => x['data']);
    expect(logged).toContainEqual({
      ceremonyId: res.transcript.ceremonyId,
      ceremony: 'key-generation',
      status: 'aborted',
    });
    expect(logged).toContainEqual({
      ceremonyId: again.transcript.ceremonyId,
      ceremony: 'key-generation',
      status: 'completed',
    });
  });

  it('an explicit abort destroys the partial shares', async () => {
    await expect(
      runCeremony('key-generation', {
        env: r.env,
        params: { domain: 'taxes', threshold: '2', custodians: 'custodian-2,custodian-4' },
        failAt: { step: 'import-shares', when: 'after' },
      }),
    ).rejects.toMatchObject({ code: 'ceremony_step_failed' });
    expect(await holds('custodian-4', 'taxes', 1)).toBe(true);
    const res = await runCeremony('key-generation', {
      env: r.env,
      abort: true,
      abortReason: 'custodian fell ill',
    });
    expect(res.transcript.status).toBe('aborted');
    expect(res.restarted).toBeUndefined();
    expect(await holds('custodian-2', 'taxes', 1)).toBe(false);
    expect(await holds('custodian-4', 'taxes', 1)).toBe(false);
    expect(r.env.roster().domains.some((d) => d.name === 'taxes')).toBe(false);
  });
});

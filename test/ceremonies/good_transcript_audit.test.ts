import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCeremony } from '../../ceremonies/index.ts';
import { exportAndVerify } from '../cli/run.ts';
import { auditEntries, rehearsal } from './helpers.ts';

// Issue 6: a resumed ceremony's transcript verifies with `embassy audit verify`, offline, against
// the auditor's own anchors (roster pin, log key).
let r: Awaited<ReturnType<typeof rehearsal>>;
beforeAll(async () => {
  r = await rehearsal();
});
afterAll(async () => r?.cleanup());

describe('a resumed ceremony in the audit log', () => {
  it('verifies with embassy audit verify: no findings, the transcript and the roster change included', async () => {
    await expect(
      runCeremony('key-generation', {
        env: r.env,
        params: { domain: 'census', threshold: '3' },
        failAt: { step: 'zeroise', when: 'before' },
      }),
    ).rejects.toMatchObject({ code: 'ceremony_step_failed' });
    const res = await runCeremony('key-generation', { env: r.env, resume: true });
    expect(res.transcript.status).toBe('completed');
    expect(res.transcript.steps.some((s) => s.step === 'zeroise')).toBe(true);
    // docs/DECISIONS.md#d6: every in-token import has an intent entry before it and an outcome entry
    // naming the new object's CKA_ID after it.
    const intents = (await auditEntries(r.env, 'hsm-intent')).filter((e) => e['data'].op === 'share-import');
    const outcomes = (await auditEntries(r.env, 'hsm-outcome')).filter(
      (e) => e['data'].op === 'share-import',
    );
    expect(intents.length).toBeGreaterThan(0);
    expect(outcomes.map((e) => e['data'].custodian)).toEqual(intents.map((e) => e['data'].custodian));
    expect(outcomes.every((e) => /^[0-9a-f]+$/.test(e['data'].objectId))).toBe(true);
    await r.env.coordinator.checkpoint();
    const out = exportAndVerify(r.env.dataDir, ['--json']);
    const report = JSON.parse(out.stdout.toString());
    expect(report.findings).toEqual([]);
    expect(out.status).toBe(0);
    expect(report.ceremonies.map((c: { id: string }) => c.id)).toContain(res.transcript.ceremonyId);
    expect(report.statementsVerified).toBeGreaterThan(0);
  });
});

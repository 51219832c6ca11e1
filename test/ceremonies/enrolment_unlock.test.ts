/** Custodian enrolment and unlock as ceremonies, end to end on SoftHSM2 tokens. */
import { randomBytes } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCeremony } from '../../ceremonies/index.ts';
import { findCustodian } from '../../src/roster/index.ts';
import { auditEntries, rehearsal, sealSnapshot } from './helpers.ts';

let r: Awaited<ReturnType<typeof rehearsal>>;
const data = new Uint8Array(randomBytes(50_000));
beforeAll(async () => {
  r = await rehearsal();
  await sealSnapshot(r.env, 'land', 'land-u1', data);
}, 120_000);
afterAll(async () => r?.cleanup());

describe('custodian-enrolment ceremony', () => {
  it('generates the keys in the new token and publishes a roster version signed by a root quorum', async () => {
    const before = r.env.roster().version;
    const res = await runCeremony('custodian-enrolment', {
      env: r.env,
      params: { id: 'custodian-6', name: 'Mart Kull', organisation: 'State Treasury' },
    });
    expect(res.transcript.status).toBe('completed');
    expect(r.env.roster().version).toBe(before + 1);
    const c = findCustodian(r.env.roster(), 'custodian-6')!;
    const keys = await (await r.env.custodian('custodian-6')).publicKeys();
    expect(c.identityKey).toBe(Buffer.from(keys.identity).toString('base64url'));
    const gen = res.transcript.steps.find((s) => s.step === 'generate-keys')!.record;
    expect(gen['identityAttributes']).toMatchObject({ sensitive: true, extractable: false, local: true });
    expect((await auditEntries(r.env, 'roster-version')).at(-1)!['data']['version']).toBe(before + 1);
  });

  it('the enrolled custodian joins the land holders by a rotation', async () => {
    const res = await runCeremony('rotation', {
      env: r.env,
      params: {
        domain: 'land',
        custodians: 'custodian-1,custodian-2,custodian-3,custodian-6',
        threshold: '3',
      },
    });
    expect(res.transcript.status).toBe('completed');
    expect(
      (await (await r.env.custodian('custodian-6')).listShares()).map((s) => `${s.domain}/${s.epoch}`),
    ).toEqual(['land/2']);
  });
});

describe('unlock ceremony', () => {
  it('opens a request, collects approvals and releases, restores byte for byte and asks for a rotation', async () => {
    const res = await runCeremony('unlock', {
      env: r.env,
      params: { domain: 'land', legalBasis: 'DRILL', case: 'drill-1', justification: 'yearly drill' },
    });
    const t = res.transcript;
    expect(t.status).toBe('completed');
    const restored = t.steps.find((s) => s.step === 'combine-and-restore')!.record;
    const out = restored['outDir'] as string;
    expect(new Uint8Array(readFileSync(join(out, 'land-u1')))).toEqual(data);
    expect(t.steps.find((s) => s.step === 'approvals')!.statements.length).toBeGreaterThanOrEqual(3);
    expect(t.steps.find((s) => s.step === 'request-rotation')!.record['rotationRequired']).toBe(true);
  });

  it('an interrupted unlock cannot resume (its recipient keys are gone): it is aborted and the request cancelled', async () => {
    await expect(
      runCeremony('unlock', { env: r.env, params: { domain: 'land' }, failAt: { step: 'releases' } }),
    ).rejects.toMatchObject({ code: 'ceremony_step_failed' });
    const res = await runCeremony('unlock', { env: r.env, resume: true });
    expect(res.transcript.status).toBe('aborted');
    expect(res.transcript.abort!.cleanup).toMatchObject({ requestClosed: true, outcome: 'cancelled' });
  });
});

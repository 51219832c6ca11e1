/** Rotation and offboarding on SoftHSM2: archives follow the new epoch, old shares are gone, resume after an interruption. */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ceremonyDigestOf } from '../../ceremonies/engine.ts';
import { runCeremony } from '../../ceremonies/index.ts';
import { quorumRelease } from '../../ceremonies/lib.ts';
import { verifyStatement } from '../../src/crypto/statement.ts';
import { currentEpoch, findEpoch, principalKey } from '../../src/roster/index.ts';
import { auditEntries, openWith, rehearsal, sealSnapshot } from './helpers.ts';

let r: Awaited<ReturnType<typeof rehearsal>>;
const data = [new Uint8Array(randomBytes(300_000)), new Uint8Array(randomBytes(1234))];
const paths: string[] = [];
beforeAll(async () => {
  r = await rehearsal();
  paths.push(await sealSnapshot(r.env, 'land', 'land-a', data[0]!));
  paths.push(await sealSnapshot(r.env, 'land', 'land-b', data[1]!));
}, 120_000);
afterAll(async () => r?.cleanup());

const release = (epoch: number, tag: string) =>
  quorumRelease(r.env, `test-${tag}`, ceremonyDigestOf(`test-${tag}`), 'land', epoch).then((x) => x.identity);
const holds = async (id: string, epoch: number) =>
  (await (await r.env.custodian(id)).listShares()).some((s) => s.domain === 'land' && s.epoch === epoch);

describe('rotation ceremony', () => {
  it('archives sealed before open after it with the new epoch’s shares, not with the old; old shares destroyed', async () => {
    const old = await release(1, 'old');
    expect(await openWith(paths[0]!, old)).toEqual(data[0]);
    const res = await runCeremony('rotation', {
      env: r.env,
      params: { domain: 'land', reason: 'scheduled' },
    });
    expect(res.transcript.status).toBe('completed');
    expect(currentEpoch(r.env.roster(), 'land').epoch).toBe(2);
    expect(findEpoch(r.env.roster(), 'land', 1)!.retired).toBe(true);
    const rewrap = res.transcript.steps.find((s) => s.step === 'rewrap-archives')!.record;
    expect(rewrap['rewrapped']).toBe(2);
    const fresh = await release(2, 'new');
    for (const [i, p] of paths.entries()) {
      expect(await openWith(p, fresh)).toEqual(data[i]);
      await expect(openWith(p, old)).rejects.toMatchObject({ code: 'no_matching_stanza' });
    }
    for (let i = 1; i <= 5; i++) expect(await holds(`custodian-${i}`, 1)).toBe(false);
    const destroy = res.transcript.steps.find((s) => s.step === 'destroy-old-shares')!;
    expect(destroy.statements).toHaveLength(5);
    for (const s of destroy.statements)
      expect(verifyStatement(s, principalKey(r.env.roster(), s.signer))).toBe(true);
    // destruction comes after verification, which comes after the rewrap
    const order = res.transcript.steps.map((s) => s.step);
    expect(order.indexOf('destroy-old-shares')).toBeGreaterThan(order.indexOf('verify-archives'));
    old.seed.fill(0);
    fresh.seed.fill(0);
  });

  it('offboarding: the leaving custodian’s share is destroyed and their token no longer helps', async () => {
    const res = await runCeremony('offboarding', {
      env: r.env,
      params: { domain: 'land', remove: 'custodian-5' },
    });
    expect(res.transcript.status).toBe('completed');
    const e = currentEpoch(r.env.roster(), 'land');
    expect(e.epoch).toBe(3);
    expect(e.shares.map((s) => s.custodian)).not.toContain('custodian-5');
    expect(await holds('custodian-5', 2)).toBe(false);
    expect(await holds('custodian-5', 3)).toBe(false);
    const token5 = await r.env.custodian('custodian-5');
    await expect(
      token5.releaseShare({
        domain: 'land',
        epoch: 3,
        ceremony: new Uint8Array(32),
        recipientP256: (await token5.publicKeys()).transport,
        recipientXWing: (await token5.publicKeys()).xwing,
      }),
    ).rejects.toMatchObject({ code: 'object_missing' });
    const id = await release(3, 'after-offboarding');
    expect(await openWith(paths[1]!, id)).toEqual(data[1]);
    id.seed.fill(0);
  });

  it('offboarding with a lost token declares the share lost (signed by the station)', async () => {
    const env = await r.reopen();
    try {
      const res = await runCeremony('offboarding', {
        env,
        params: { domain: 'land', remove: 'custodian-4', lost: 'true' },
      });
      expect(res.transcript.status).toBe('completed');
      const d = res.transcript.steps.find((s) => s.step === 'destroy-old-shares')!;
      expect(d.record['declaredLost']).toEqual(['custodian-4']);
      const lost = d.statements.find((s) => s.type === 'share-declared-lost')!;
      expect(lost.signer).toBe('station/station-lux');
      expect(verifyStatement(lost, principalKey(env.roster(), lost.signer))).toBe(true);
    } finally {
      await env.close();
    }
    r.env = await r.reopen();
  });

  it('a rotation interrupted after the rewrap resumes (new key recovered from its holders) and completes', async () => {
    await expect(
      runCeremony('rotation', {
        env: r.env,
        params: { domain: 'land' },
        failAt: { step: 'verify-archives' },
      }),
    ).rejects.toMatchObject({ code: 'ceremony_step_failed' });
    // a new process: nothing in memory
    await r.env.close();
    r.env = await r.reopen();
    const res = await runCeremony('rotation', { env: r.env, resume: true });
    expect(res.transcript.status).toBe('completed');
    expect(res.transcript.resumptions).toHaveLength(1);
    expect(res.transcript.resumptions[0]!.redo).toEqual(['recover-new-key']);
    expect(res.transcript.steps.find((s) => s.step === 'recover-new-key')!.outcome).toBe('recovered');
    expect(res.transcript.steps.some((s) => s.outcome === 'failed' && s.step === 'verify-archives')).toBe(
      true,
    );
    const logged = (await auditEntries(r.env, 'ceremony-transcript')).find(
      (x) => x['data']['ceremonyId'] === res.transcript.ceremonyId,
    );
    expect(logged?.['data']['status']).toBe('completed');
    const e = currentEpoch(r.env.roster(), 'land');
    const id = await release(e.epoch, 'after-resume');
    for (const [i, p] of paths.entries()) expect(await openWith(p, id)).toEqual(data[i]);
    id.seed.fill(0);
  });

  it('a rotation interrupted before the rewrap resumes by releasing the old epoch again', async () => {
    await expect(
      runCeremony('rotation', {
        env: r.env,
        params: { domain: 'land' },
        failAt: { step: 'rewrap-archives' },
      }),
    ).rejects.toMatchObject({ code: 'ceremony_step_failed' });
    await r.env.close();
    r.env = await r.reopen();
    const res = await runCeremony('rotation', { env: r.env, resume: true });
    expect(res.transcript.status).toBe('completed');
    expect(res.transcript.resumptions[0]!.redo).toEqual(['old-quorum-release', 'recover-new-key']);
  });
});

/**
 * Issue 18, first window: the coordinator stored the new roster version, the transcript did not
 * record it. `--resume` records the version in force (it does not publish again, nor fail on "domain
 * listed twice"), every share stays, the ceremony is logged once, and the roster changed once.
 */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCeremony } from '../../ceremonies/index.ts';
import { keyGenerationPublishedUnrecorded, type Rehearsal } from './crash-harness.ts';
import { auditEntries, rehearsal } from './helpers.ts';

let r: Rehearsal;
beforeAll(async () => {
  r = await rehearsal();
}, 120_000);
afterAll(async () => r?.cleanup());

it('a key generation interrupted after its roster version was stored resumes and records it', async () => {
  const { id, versions } = await keyGenerationPublishedUnrecorded(r.env, 'census');
  const res = await runCeremony('key-generation', { env: r.env, resume: true });
  expect(res.transcript.ceremonyId).toBe(id);
  expect(res.transcript.status).toBe('completed');
  const publish = res.transcript.steps.findLast((s) => s.step === 'publish-roster')!;
  expect(publish.outcome).toBe('done');
  expect(publish.record['rosterVersion']).toBe(r.env.roster().version);
  expect((await r.env.coordinator.rosterVersions()).length).toBe(versions);
  for (const c of ['custodian-1', 'custodian-3', 'custodian-5'])
    expect(
      (await (await r.env.custodian(c)).listShares()).some((s) => s.domain === 'census' && s.epoch === 1),
    ).toBe(true);
  const logged = (await auditEntries(r.env, 'ceremony-transcript')).filter(
    (e) => e['data']['ceremonyId'] === id,
  );
  expect(logged).toHaveLength(1);
  expect(logged[0]!['data']['status']).toBe('completed');
}, 60_000);

/**
 * Issue 18: `--abort` of a key generation whose roster version is in force (stored before the
 * transcript recorded it) refuses in one line and destroys nothing: the roster in force, not the
 * transcript, says the key is live. The ceremony then resumes to completion.
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

const holders = ['custodian-1', 'custodian-3', 'custodian-5'];

it('an abort never destroys the shares of a key the roster in force publishes', async () => {
  const { id } = await keyGenerationPublishedUnrecorded(r.env, 'census');
  const destroyedBefore = (await auditEntries(r.env, 'hsm-intent')).filter(
    (e) => e['data']['op'] === 'share-destroy',
  ).length;
  const refused = await runCeremony('key-generation', {
    env: r.env,
    abort: true,
    abortReason: 'operator followed the error message',
  }).catch((e: { code: string; message: string }) => e);
  expect(refused).toMatchObject({ code: 'ceremony_published' });
  const message = (refused as { message: string }).message;
  expect(message).not.toContain('\n');
  expect(message).toMatch(/census\/1 is published by roster version \d+ in force/);
  for (const c of holders)
    expect(
      (await (await r.env.custodian(c)).listShares()).some((s) => s.domain === 'census' && s.epoch === 1),
    ).toBe(true);
  expect(
    (await auditEntries(r.env, 'hsm-intent')).filter((e) => e['data']['op'] === 'share-destroy'),
  ).toHaveLength(destroyedBefore);
  const done = await runCeremony('key-generation', { env: r.env, resume: true });
  expect(done.transcript.ceremonyId).toBe(id);
  expect(done.transcript.status).toBe('completed');
}, 60_000);

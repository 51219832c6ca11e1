/**
 * Issue 18, second window: the transcript file says `completed` but it was never signed and appended
 * to the log (what a crash left between the two before closing logged first). `--resume` without an
 * id finds it, signs and appends it once, and writes the signed copy; and a crash right before or
 * right after the append today is finished the same way.
 */
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { listTranscripts } from '../../ceremonies/engine.ts';
import { type CeremonyEnv, runCeremony } from '../../ceremonies/index.ts';
import { crashAt } from '../support/faults.ts';
import type { Rehearsal } from './crash-harness.ts';
import { auditEntries, rehearsal } from './helpers.ts';

let r: Rehearsal;
let env: CeremonyEnv;
beforeAll(async () => {
  r = await rehearsal();
  env = r.env;
}, 120_000);
afterAll(async () => r?.cleanup(env));

const params = (domain: string) => ({ domain, threshold: '2', custodians: 'custodian-1,custodian-3' });
const logged = async (id: string) =>
  (await auditEntries(env, 'ceremony-transcript')).filter((e) => e['data']['ceremonyId'] === id);

it('a transcript that says completed but is not in the log is logged by --resume', async () => {
  await expect(
    runCeremony('key-generation', {
      env,
      params: params('census'),
      failAt: { step: 'publish-roster', when: 'after' },
    }),
  ).rejects.toThrow(/injected failure/);
  const id = listTranscripts(r.dataDir).findLast((t) => t.status === 'running')!.ceremonyId;
  const path = join(r.dataDir, 'ceremonies', `${id}.json`);
  const t = JSON.parse(readFileSync(path, 'utf8'));
  expect(t.steps.at(-1).step).toBe('publish-roster');
  writeFileSync(path, JSON.stringify({ ...t, status: 'completed', finishedAt: new Date().toISOString() }));
  expect(await logged(id)).toHaveLength(0);

  const res = await runCeremony('key-generation', { env, resume: true });
  expect(res.transcript.ceremonyId).toBe(id);
  expect(res.transcript.status).toBe('completed');
  const entries = await logged(id);
  expect(entries).toHaveLength(1);
  expect(entries[0]!['statement']['body']['status']).toBe('completed');
  expect(existsSync(join(r.dataDir, 'ceremonies', `${id}.signed.json`))).toBe(true);
}, 60_000);

it.each(['close:before-append', 'close:after-append'])(
  'a crash at %s is finished by --resume, logged once',
  async (point) => {
    const crash = crashAt(point, join(r.dataDir, 'ceremonies'));
    await runCeremony('key-generation', {
      env,
      params: params(point.endsWith('before-append') ? 'taxes' : 'land-2'),
      faults: crash,
    }).catch(() => {});
    expect(crash.hit).toBe(point);
    crash.restore();
    await env.close();
    env = await r.reopen();
    const res = await runCeremony('key-generation', { env, resume: true });
    expect(res.transcript.status).toBe('completed');
    expect(await logged(res.transcript.ceremonyId)).toHaveLength(1);
  },
  60_000,
);

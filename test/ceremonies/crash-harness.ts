/**
 * The ceremony crash harness (docs/CEREMONIES.md §2, docs/DECISIONS.md#d53): runs a ceremony on a
 * rehearsal deployment, crashes it in process at a planned point ({@link crashAt}: the transcript
 * directory is put back as it was at that instant and the deployment reopened, so the station's
 * memory is gone), resumes as the runbook says (`--resume` without a value) until nothing is left
 * unfinished, and checks what must hold after any crash:
 * - every live epoch the roster in force publishes has every share in its holders' tokens (no
 *   published key without its shares, no share of a published key destroyed);
 * - no token holds a share of an epoch the roster does not publish (an abort leaves nothing);
 * - every transcript is closed, logged exactly once, its file and signed copy match the logged one,
 *   and a restart it names exists and names it back;
 * - one roster version per change (genesis plus one per completed roster-changing ceremony).
 *
 * `npm test` crashes at every step boundary of key generation and rotation and at one seeded point
 * of every other ceremony (the seed is printed); `npm run test:crash` (EMBASSY_TEST_CRASH=all, read
 * only by these tests) at every point, before and after every step.
 */
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { listTranscripts } from '../../ceremonies/engine.ts';
import { type CeremonyEnv, runCeremony } from '../../ceremonies/index.ts';
import { crashAt } from '../support/faults.ts';
import { auditEntries, type rehearsal } from './helpers.ts';

/** Every point: `npm run test:crash`. */
export const ALL = process.env['EMBASSY_TEST_CRASH'] === 'all';

/**
 * The step boundaries of a ceremony: before the first step and after each (`npm test`); with
 * `test:crash` before and after each step and the three points of the close too.
 */
export const boundaries = (steps: readonly string[]): string[] =>
  ALL
    ? [
        ...steps.flatMap((s) => [`before:${s}`, `after:${s}`]),
        'close:before-append',
        'close:after-append',
        'close:after-save',
      ]
    : [`before:${steps[0]}`, ...steps.map((s) => `after:${s}`)];

/** One point of `points` picked by a seed that is printed, so a failure can be replayed. */
export function seeded(name: string, points: readonly string[]): string[] {
  if (ALL) return [...points];
  const seed = Number(process.env['EMBASSY_TEST_CRASH_SEED'] ?? Date.now() % 100_000);
  const p = points[seed % points.length]!;
  console.log(`crash test ${name}: seed ${seed} → ${p} (EMBASSY_TEST_CRASH_SEED=${seed} replays it)`);
  return [p];
}

export type Rehearsal = Awaited<ReturnType<typeof rehearsal>>;

/**
 * Runs `name` with a crash at each plan in turn (the first plan on the fresh run, the next ones on
 * the resumes), then resumes without faults until nothing is unfinished. Returns the open
 * deployment (the caller's `env` was closed and reopened).
 */
export async function crashAndResume(
  r: Rehearsal,
  env: CeremonyEnv,
  name: string,
  params: Record<string, unknown>,
  plans: readonly string[],
): Promise<CeremonyEnv> {
  const dir = join(r.dataDir, 'ceremonies');
  for (const [i, plan] of plans.entries()) {
    const crash = crashAt(plan, dir);
    const error = await runCeremony(name, {
      env,
      faults: crash,
      ...(i === 0 ? { params } : { resume: true }),
    }).then(
      () => 'it completed',
      (e: Error) => e.message,
    );
    expect(crash.hit, `crash point ${plan} was reached (${error})`).toBe(plan.replace(/:\d+$/, ''));
    crash.restore();
    await env.close();
    env = await r.reopen();
  }
  for (let n = 0; n < 4 && unfinished(r.dataDir, name).length > 0; n++) {
    await runCeremony(name, { env, resume: true });
  }
  expect(unfinished(r.dataDir, name)).toEqual([]);
  return env;
}

const unfinished = (dataDir: string, name: string) =>
  listTranscripts(dataDir)
    .filter(
      (t) =>
        t.ceremony === name &&
        (t.status === 'running' ||
          !existsSync(join(dataDir, 'ceremonies', `${t.ceremonyId}.signed.json`)) ||
          (t.restartedAs !== undefined && !existsSync(join(dataDir, 'ceremonies', `${t.restartedAs}.json`)))),
    )
    .map((t) => t.ceremonyId);

/** The invariants every crash and resume must keep (see the module comment). */
export async function checkInvariants(env: CeremonyEnv, rosterChanges: (ceremony: string) => boolean) {
  const roster = env.roster();
  const live = new Set<string>();
  for (const d of roster.domains)
    for (const e of d.epochs) {
      if (e.retired === true) continue;
      live.add(`${d.name}/${e.epoch}`);
      for (const s of e.shares) {
        const held = (await (await env.custodian(s.custodian)).listShares()).some(
          (x) => x.domain === d.name && x.epoch === e.epoch,
        );
        expect(held, `${s.custodian} holds ${d.name}/${e.epoch}, which the roster in force publishes`).toBe(
          true,
        );
      }
    }
  for (const c of roster.custodians) {
    const token = await env.custodian(c.id).catch(() => undefined);
    for (const x of (await token?.listShares()) ?? [])
      expect(
        roster.domains.some((d) => d.name === x.domain && d.epochs.some((e) => e.epoch === x.epoch)),
        `${c.id} holds ${x.domain}/${x.epoch}, which no roster publishes`,
      ).toBe(true);
  }
  const logged = await auditEntries(env, 'ceremony-transcript');
  const transcripts = listTranscripts(env.dataDir);
  for (const t of transcripts) {
    const mine = logged.filter((e) => e['data']['ceremonyId'] === t.ceremonyId);
    expect(mine, `${t.ceremonyId} is in the log exactly once`).toHaveLength(1);
    expect(t.status).not.toBe('running');
    expect(mine[0]!['statement']['body']).toEqual(t);
    const signed = JSON.parse(
      readFileSync(join(env.dataDir, 'ceremonies', `${t.ceremonyId}.signed.json`), 'utf8'),
    );
    expect(signed).toEqual(mine[0]!['statement']);
    if (t.restartedAs !== undefined)
      expect(transcripts.find((x) => x.ceremonyId === t.restartedAs)?.restartOf).toBe(t.ceremonyId);
  }
  const versions = await env.coordinator.rosterVersions();
  const changes = transcripts.filter((t) => t.status === 'completed' && rosterChanges(t.ceremony)).length;
  expect(versions, 'one roster version per change').toHaveLength(1 + changes);
  expect((await auditEntries(env, 'roster-version')).length).toBe(versions.length);
}

/**
 * The first window of issue 18: a key generation interrupted inside its publish step after the
 * coordinator stored the new roster version and before the transcript recorded it. Built from
 * what every version of the engine has: a run stopped before its publish step, then the step's own
 * action run by hand, whose record the transcript never gets.
 */
export async function keyGenerationPublishedUnrecorded(env: CeremonyEnv, domain: string) {
  const { ceremony } = await import('../../ceremonies/definitions/key-generation.ts');
  const { loadTranscript } = await import('../../ceremonies/engine.ts');
  const params = { domain, threshold: '2', custodians: 'custodian-1,custodian-3,custodian-5' };
  await expect(
    runCeremony('key-generation', { env, params, failAt: { step: 'publish-roster', when: 'before' } }),
  ).rejects.toThrow(/injected failure/);
  const id = listTranscripts(env.dataDir).findLast((t) => t.status === 'running')!.ceremonyId;
  const t = loadTranscript(env.dataDir, id);
  const ok = t.steps.filter((s) => s.outcome !== 'failed');
  const ctx = {
    ceremonyId: id,
    params: ceremony.parseParams(t.params, env),
    env,
    memory: new Map(),
    transcript: t,
    faults: { at() {} },
    recordOf: (step: string) => ok.findLast((s) => s.step === step)?.record,
    deviation() {},
  };
  await ceremony.actions['publish-roster']!(ctx as never);
  return { id, versions: (await env.coordinator.rosterVersions()).length };
}

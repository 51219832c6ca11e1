/**
 * Rotation crashed at every step boundary and just after its roster version was stored, and every other ceremony (offboarding, custodian
 * enrolment, policy change, health check, unlock) at one seeded, printed point (every point under
 * `npm run test:crash`; enrolment at one point in both, the rehearsal having one spare token), then
 * resumed: the invariants of crash-harness.ts hold. Each case but rotation and enrolment runs on a
 * domain of its own, made by a key generation.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type CeremonyEnv, ceremonyByName, runCeremony } from '../../ceremonies/index.ts';
import { boundaries, checkInvariants, crashAndResume, type Rehearsal, seeded } from './crash-harness.ts';
import { rehearsal, sealSnapshot } from './helpers.ts';

const steps = (name: string) =>
  ceremonyByName(name)
    .definition.steps.filter((s) => !s.recoveryOnly)
    .map((s) => s.id);
const ROSTER_CHANGING = new Set([
  'key-generation',
  'rotation',
  'offboarding',
  'custodian-enrolment',
  'policy-change',
]);

let r: Rehearsal;
let env: CeremonyEnv;
beforeAll(async () => {
  r = await rehearsal();
  env = r.env;
  await sealSnapshot(env, 'land', 'land-a', new Uint8Array(randomBytes(2000)));
}, 120_000);
afterAll(async () => r?.cleanup(env));

let n = 0;
/** A new domain for one case, with one sealed archive. */
async function freshDomain(): Promise<string> {
  const domain = `c${++n}`;
  await runCeremony('key-generation', { env, params: { domain, threshold: '3', jobs: 'backup-job' } });
  await sealSnapshot(env, domain, `${domain}-a`, new Uint8Array(randomBytes(2000)));
  return domain;
}

type Case = [name: string, point: string, params: () => Promise<Record<string, unknown>>];
const on = (name: string, points: string[], params: Case[2]): Case[] => points.map((p) => [name, p, params]);

const cases: Case[] = [
  ...on('rotation', boundaries(steps('rotation')), async () => ({ domain: 'land' })),
  // The window inside the publish step: the coordinator stored the version, the transcript did not say so.
  ...on('rotation', ['publish-roster:after-store'], async () => ({ domain: await freshDomain() })),
  ...on('offboarding', seeded('offboarding', boundaries(steps('offboarding'))), async () => ({
    domain: await freshDomain(),
    remove: 'custodian-5',
  })),
  ...on('health-check', seeded('health-check', boundaries(steps('health-check'))), async () => ({
    domain: await freshDomain(),
  })),
  ...on('policy-change', seeded('policy-change', boundaries(steps('policy-change'))), async () => ({
    domain: await freshDomain(),
    'cool-off-seconds': '60',
  })),
  ...on('unlock', seeded('unlock', boundaries(steps('unlock'))), async () => ({
    domain: await freshDomain(),
    legalBasis: 'DRILL',
    case: 'drill-1',
    justification: 'drill',
  })),
];

// The rehearsal has one spare token, so enrolment runs once: crashed at one seeded point in both modes
// and, when that point comes before the version is stored, again inside the publish step just after
// the coordinator stored it.
const enrolmentSteps = steps('custodian-enrolment');
const enrolmentPoint = seeded('custodian-enrolment', boundaries(enrolmentSteps))[0]!;
const beforePublish = (p: string) =>
  p.startsWith('before:') ||
  (p.startsWith('after:') &&
    enrolmentSteps.indexOf(p.slice('after:'.length)) < enrolmentSteps.indexOf('publish-roster'));
const enrolment = [
  beforePublish(enrolmentPoint) ? [enrolmentPoint, 'publish-roster:after-store'] : [enrolmentPoint],
];

describe('ceremonies crashed and resumed', () => {
  it.each(cases)(
    '%s crashed at %s',
    async (name, point, params) => {
      env = await crashAndResume(r, env, name, await params(), [point]);
      await checkInvariants(env, (c) => ROSTER_CHANGING.has(c));
    },
    120_000,
  );

  it.each(enrolment)(
    'custodian-enrolment crashed at %s',
    async (...points) => {
      env = await crashAndResume(
        r,
        env,
        'custodian-enrolment',
        { id: 'custodian-6', name: 'Mart Kull', organisation: 'State Treasury' },
        points,
      );
      await checkInvariants(env, (c) => ROSTER_CHANGING.has(c));
    },
    120_000,
  );
});

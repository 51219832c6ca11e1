/**
 * Rotation crashed at every step boundary, and every other ceremony (offboarding, custodian
 * enrolment, policy change, health check, unlock) at one seeded, printed point (every point under
 * `npm run test:crash`), then resumed: the invariants of crash-harness.ts hold.
 */
import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, it } from 'vitest';
import { type CeremonyEnv, ceremonyByName } from '../../ceremonies/index.ts';
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

const cases: [string, Record<string, unknown>, string][] = [
  ...boundaries(steps('rotation')).map(
    (p) => ['rotation', { domain: 'land' }, p] as [string, Record<string, unknown>, string],
  ),
  ...seeded('offboarding', boundaries(steps('offboarding'))).map(
    (p) =>
      ['offboarding', { domain: 'land', remove: 'custodian-5' }, p] as [
        string,
        Record<string, unknown>,
        string,
      ],
  ),
  ...seeded('health-check', boundaries(steps('health-check'))).map(
    (p) => ['health-check', { domain: 'land' }, p] as [string, Record<string, unknown>, string],
  ),
  ...seeded('policy-change', boundaries(steps('policy-change'))).map(
    (p) =>
      ['policy-change', { domain: 'land', 'cool-off-seconds': '60' }, p] as [
        string,
        Record<string, unknown>,
        string,
      ],
  ),
  ...seeded('unlock', boundaries(steps('unlock'))).map(
    (p) =>
      ['unlock', { domain: 'land', legalBasis: 'DRILL', case: 'drill-1', justification: 'drill' }, p] as [
        string,
        Record<string, unknown>,
        string,
      ],
  ),
  ...seeded('custodian-enrolment', boundaries(steps('custodian-enrolment'))).map(
    (p) =>
      [
        'custodian-enrolment',
        { id: 'custodian-6', name: 'Mart Kull', organisation: 'State Treasury' },
        p,
      ] as [string, Record<string, unknown>, string],
  ),
];

describe('ceremonies crashed and resumed', () => {
  it.each(cases)(
    '%s crashed at %j → %s',
    async (name, params, point) => {
      env = await crashAndResume(r, env, name, params, [point]);
      await checkInvariants(env, (c) => ROSTER_CHANGING.has(c));
    },
    120_000,
  );
});

/**
 * Key generation crashed at every step boundary, inside every step that touches the store or a
 * token, inside the close, and during the abort and the restart that follow an unrecoverable
 * interruption (docs/DECISIONS.md#d8), then resumed: the invariants of crash-harness.ts hold.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { definition } from '../../ceremonies/definitions/key-generation.ts';
import type { CeremonyEnv } from '../../ceremonies/index.ts';
import { ALL, boundaries, checkInvariants, crashAndResume, type Rehearsal } from './crash-harness.ts';
import { rehearsal } from './helpers.ts';

const holders = ['custodian-1', 'custodian-3', 'custodian-5'];
const each = (point: string) =>
  ALL ? holders.map((_, k) => `${point}:${k + 1}`) : [`${point}:1`, `${point}:3`];

// `npm test`: every step boundary and the close, the two windows of issue 18 and a restart crashed;
// `npm run test:crash`: every point inside the steps too, and every crash during abort and restart.
const single: string[][] = [
  ...boundaries(definition.steps.map((s) => s.id)),
  ...(ALL ? [] : ['close:before-append', 'close:after-append', 'close:after-save']),
  'publish-roster:after-store',
  ...(ALL
    ? [
        ...each('import-shares:after-intent'),
        ...each('import-shares:after-import'),
        'publish-roster:before-store',
      ]
    : []),
].map((p) => [p]);

// A crash before every acceptance aborts and restarts on resume; these crash that resume too.
const twice: string[][] = (
  ALL
    ? [
        'destroy:after-intent',
        'destroy:after-destroy:2',
        'close:before-append',
        'close:after-append',
        'close:after-save',
        'before:generate-and-split',
        'after:import-shares',
      ]
    : ['close:after-append', 'before:generate-and-split']
).map((p) => ['before:accept-shares', p]);

let r: Rehearsal;
let env: CeremonyEnv;
beforeAll(async () => {
  r = await rehearsal();
  env = r.env;
}, 120_000);
afterAll(async () => r?.cleanup(env));

describe('key generation crashed anywhere, then resumed', () => {
  let n = 0;
  it.each([...single, ...twice].map((plans) => [plans.join(' then '), plans] as const))(
    'crash at %s',
    async (_, plans) => {
      env = await crashAndResume(
        r,
        env,
        'key-generation',
        { domain: `k${++n}`, threshold: '2', custodians: holders.join(',') },
        plans,
      );
      await checkInvariants(env, (c) => c === 'key-generation');
    },
    60_000,
  );
});

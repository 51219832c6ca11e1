/**
 * Domain key generation (docs/DECISIONS.md#f1): a new domain's X-Wing quorum key is generated in the
 * station, split t-of-n (every t-subset checked against the public key), each share wrapped to its
 * custodian's token and imported there, commitments and one-time health challenges recorded, every
 * custodian signs acceptance, the key is zeroised, and the public key enters a new roster version
 * signed by a root quorum. Interrupted before every acceptance: aborted (partial shares destroyed,
 * signed) and restarted with a new key (docs/DECISIONS.md#d8).
 */
import type { Statement } from '../../src/crypto/statement.ts';
import { domain as domainOf, nextVersion } from '../../src/roster/index.ts';
import type { SplitResult } from '../../src/station/key-ceremony.ts';
import type { Ceremony, StepResult } from '../engine.ts';
import {
  acceptances,
  alreadyPublished,
  destroyAndSign,
  epochFromRecord,
  importShares,
  publishedEpoch,
  publishRoster,
  refuseIfPublished,
  splitFor,
  splitRecord,
  zeroise,
} from '../lib.ts';
import {
  DOMAIN_POLICY_PARAMS,
  type DomainPolicy,
  domainPolicy,
  domainPolicyJson,
  id,
  ids,
  int,
  jobsSealing,
} from '../params.ts';
import { ALL_ROLES, type CeremonyDefinition, CeremonyError } from '../types.ts';

export interface KeyGenerationParams {
  domain: string;
  epoch: number;
  threshold: number;
  custodians: string[];
  /** The new domain's policy: unlock rules, stations that may ask, jobs that may seal. */
  policy: DomainPolicy;
}

export const definition: CeremonyDefinition = {
  name: 'key-generation',
  title: 'Domain key generation',
  purpose:
    "Creates a new domain's quorum key (X-Wing, post-quantum hybrid) as t-of-n Shamir shares held only in the custodians' tokens, and publishes its public key in a new roster version signed by a quorum of the roster root.",
  roles: ALL_ROLES,
  params: [
    { name: 'domain', description: 'the new domain', required: true, example: 'census' },
    { name: 'threshold', description: 'shares needed to unlock (t)', required: true, example: '3' },
    {
      name: 'custodians',
      description: 'share holders (default: every custodian of the roster)',
      required: false,
      example: 'custodian-1,custodian-2,custodian-3',
    },
    ...DOMAIN_POLICY_PARAMS,
  ],
  steps: [
    {
      id: 'check-roster',
      title: 'Check the roster in force',
      actor: 'administrator',
      action:
        'Verify the roster chain from the pinned genesis, confirm the domain does not exist yet and every named custodian is in the roster with a token present.',
      inputs: ['pinned roster chain', 'domain, threshold, custodians'],
      preconditions: [
        'the station is offline except for the coordinator link',
        'every custodian is present with their token',
      ],
      signOffs: ['administrator', 'witness'],
      records: ['roster version and id', 'domain, threshold, custodians'],
    },
    {
      id: 'generate-and-split',
      title: 'Generate and split the quorum key',
      actor: 'station',
      action:
        'Generate the X-Wing key in the station, split its seed t-of-n, combine every t-subset and check it against the public key, compute the salted commitment and the one-time health challenges of every share, and wrap each share to its custodian token (ECDH transport key + X-Wing outer layer).',
      inputs: ['custodians’ transport and X-Wing keys from the roster'],
      preconditions: ['roster checked'],
      signOffs: ['witness'],
      records: [
        'quorum public key and key id',
        'every share’s x, commitment and salt',
        't-subsets checked',
        'health challenge book (challenges and response hashes)',
      ],
      provides: ['split'],
    },
    {
      id: 'import-shares',
      title: 'Import each share into its custodian token',
      actor: 'custodians',
      action:
        'Each custodian logs in to their token; the token removes the X-Wing layer and unwraps the share into a sensitive object, then checks its key-check value.',
      inputs: ['import envelopes (wrapped shares)'],
      preconditions: ['shares generated in this same station session'],
      signOffs: ['witness'],
      records: ['token object id and label per custodian'],
      uses: ['split'],
    },
    {
      id: 'accept-shares',
      title: 'Every custodian signs acceptance',
      actor: 'custodians',
      action:
        'Each custodian confirms their token holds the share and signs an acceptance naming the key ceremony, x, commitment and key id.',
      inputs: ['the split record'],
      preconditions: ['every share imported'],
      signOffs: ['each-custodian', 'witness'],
      records: ['signed acceptances'],
      uses: ['split'],
    },
    {
      id: 'zeroise',
      title: 'Zeroise the key in the station',
      actor: 'station',
      action: 'Overwrite the seed, the shares and the import envelopes in the station memory.',
      inputs: [],
      preconditions: ['every acceptance signed'],
      signOffs: ['administrator', 'witness'],
      records: ['what was zeroised'],
    },
    {
      id: 'publish-roster',
      title: 'Publish the public key in a new roster version',
      actor: 'custodians',
      action:
        'Build roster version N+1 with the new domain and its epoch (quorum public key, commitments, x values, threshold); a threshold of the root custodians sign it in their tokens; the coordinator verifies and logs it.',
      inputs: ['the split record', 'roster version N'],
      preconditions: ['the key is zeroised'],
      signOffs: ['root-quorum', 'witness'],
      records: ['roster version, id and signers'],
    },
  ],
  onAbort:
    'every share of the new key already imported is destroyed in its token and each custodian signs the destruction record; nothing is published. If the roster in force already publishes the key (an interruption inside the publish step), the abort refuses and destroys nothing: resume instead, which records the published version.',
  restartAfterAbort: true,
};

const C = definition.name;

export const ceremony: Ceremony<KeyGenerationParams> = {
  definition,
  parseParams(raw, env) {
    const domain = id(C, raw, 'domain', true);
    const roster = env.roster();
    const custodians = ids(C, raw, 'custodians') ?? roster.custodians.map((c) => c.id);
    const threshold = int(C, raw, 'threshold', 2, custodians.length);
    if (threshold === undefined)
      throw new CeremonyError(
        'ceremony_bad_params',
        `${C}: --threshold is required (2..${custodians.length})`,
      );
    for (const c of custodians)
      if (!roster.custodians.some((x) => x.id === c))
        throw new CeremonyError(
          'ceremony_bad_params',
          `${C}: --custodians: "${c}" is not a custodian of roster version ${roster.version}`,
        );
    return {
      domain,
      epoch: int(C, raw, 'epoch', 0, 0xffffffff) ?? 1,
      threshold,
      custodians,
      policy: domainPolicy(C, raw, roster, { name: domain, custodians, threshold }),
    };
  },
  paramsJson: ({ policy, ...p }) => ({ ...p, ...domainPolicyJson(policy) }),
  actions: {
    async 'check-roster'({ env, params }) {
      const roster = env.roster();
      if (roster.domains.some((d) => d.name === params.domain))
        throw new CeremonyError(
          'ceremony_precondition',
          `domain "${params.domain}" already exists; rotate it instead`,
        );
      for (const c of params.custodians)
        if (!roster.custodians.some((x) => x.id === c))
          throw new CeremonyError(
            'ceremony_precondition',
            `"${c}" is not a custodian of roster version ${roster.version}`,
          );
      return {
        record: {
          rosterVersion: roster.version,
          rosterId: env.coordinator.rosterId,
          domain: params.domain,
          threshold: params.threshold,
          custodians: params.custodians,
        },
      };
    },
    async 'generate-and-split'({ env, params, memory }) {
      const split = await splitFor(env, params.domain, params.epoch, params.threshold, params.custodians);
      memory.set('split', split);
      return { record: splitRecord(split) };
    },
    async 'import-shares'({ env, memory, faults }) {
      return {
        record: await importShares(env, memory.get('split') as SplitResult, faults),
        who: [...(memory.get('split') as SplitResult).shares.map((s) => `custodian/${s.custodian}`)],
      };
    },
    async 'accept-shares'({ env, ceremonyId, recordOf }) {
      const r = await acceptances(env, ceremonyId, recordOf('generate-and-split')!);
      return { ...r, who: (r.record['acceptedBy'] as string[]).map((c) => `custodian/${c}`) };
    },
    async zeroise({ memory, recordOf }) {
      const split = memory.get('split') as SplitResult | undefined;
      for (const s of split?.shares ?? []) s.envelope.fill(0);
      const cleared = zeroise(memory, 'split');
      return {
        record: {
          zeroised: ['quorum key', 'shares', ...cleared.map(() => 'import envelopes')],
          subsetsCheckedBeforeZeroising: recordOf('generate-and-split')?.['subsetsChecked'] ?? 0,
        },
      };
    },
    async 'publish-roster'({ env, params, recordOf, faults }): Promise<StepResult> {
      // Interrupted after the coordinator stored this version: record it, do not publish again.
      const split = recordOf('generate-and-split')!;
      const done = await publishedEpoch(env, params.domain, params.epoch, split['quorumPublicKey'] as string);
      if (done) return alreadyPublished(done);
      const roster = env.roster();
      const epoch = epochFromRecord(split, env.now());
      const doc = nextVersion(roster, {
        issuedAt: new Date(
          Math.max(Date.parse(roster.issuedAt), Math.floor(env.now().getTime() / 1000) * 1000),
        ),
        domains: [
          ...roster.domains,
          {
            name: params.domain,
            custodians: params.custodians,
            threshold: params.threshold,
            minOrganisations: params.policy.minOrganisations,
            policy: params.policy.policy,
            homeStanza: false,
            epochs: [epoch],
          },
        ],
        jobs: jobsSealing(roster, params.domain, params.policy.jobs),
      });
      const res = await publishRoster(env, doc, faults);
      domainOf(env.roster(), params.domain);
      return {
        record: { rosterVersion: res.version, rosterId: res.rosterId, signers: res.signers },
        who: res.signers.map((s) => `custodian/${s}`),
      };
    },
  },
  async abort({ env, params, recordOf, faults }) {
    const destroyed: { custodian: string; objectId: string | null }[] = [];
    const notReached: string[] = [];
    const statements: Statement[] = [];
    if (recordOf('publish-roster'))
      throw new CeremonyError(
        'ceremony_closed',
        'the key is already published; rotate the domain instead of aborting',
      );
    // The roster in force, not the transcript, says whether the key is live (a crash may have hit
    // after the coordinator stored the version): its shares are never destroyed.
    refuseIfPublished(env, params.domain, params.epoch);
    const holders = params.custodians;
    for (const c of holders) {
      if (env.absent.has(c)) {
        notReached.push(c);
        continue;
      }
      const token = await env.custodian(c);
      const held = (await token.listShares()).some(
        (x) => x.domain === params.domain && x.epoch === params.epoch,
      );
      if (!held) continue;
      const r = await destroyAndSign(env, c, params.domain, params.epoch, faults);
      destroyed.push({ custodian: c, objectId: r.record?.objectId ?? null });
      statements.push(r.statement);
    }
    return { cleanup: { destroyed, notReached, published: false }, statements };
  },
};

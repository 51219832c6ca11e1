/**
 * Custodian enrolment: the new custodian's identity (ECDSA P-256), transport (ECDH P-256) and X-Wing
 * keys are generated in their own token; they sign a proof of possession; a new roster version adds
 * them (optionally to the root), signed by a quorum of the root. Joining a domain's share holders is
 * a rotation with the new custodian set.
 */
import { toBase64Url } from '../../src/crypto/statement.ts';
import { OTHER_STATEMENT } from '../../src/protocol/statements.ts';
import { custodianEntry, nextVersion } from '../../src/roster/index.ts';
import type { Ceremony, StepResult } from '../engine.ts';
import { alreadyPublished, custodianStatement, publishedWhere, publishRoster, sha256Hex } from '../lib.ts';
import { bool, id, int, paramError, reqStr, str } from '../params.ts';
import { ALL_ROLES, type CeremonyDefinition, CeremonyError } from '../types.ts';

export interface EnrolmentParams {
  id: string;
  name: string;
  organisation: string;
  tokenLabel: string;
  root: boolean;
  rootThreshold?: number;
}

export const definition: CeremonyDefinition = {
  name: 'custodian-enrolment',
  title: 'Custodian enrolment',
  purpose:
    'Adds a custodian to the roster: their keys are generated inside their own token, they prove possession by signing, and a new roster version naming them is signed by a quorum of the roster root.',
  roles: ALL_ROLES,
  params: [
    { name: 'id', description: 'the new custodian id', required: true, example: 'custodian-6' },
    { name: 'name', description: 'their full name', required: true, example: 'Mart Kull' },
    { name: 'organisation', description: 'their organisation', required: true, example: 'State Treasury' },
    { name: 'token-label', description: 'their token label (default: the id)', required: false },
    { name: 'root', description: 'also add them to the roster root', required: false, example: 'false' },
    {
      name: 'root-threshold',
      description: 'the new root threshold when they join the root',
      required: false,
    },
  ],
  steps: [
    {
      id: 'check-roster',
      title: 'Check the roster and the new custodian’s identity',
      actor: 'administrator',
      action:
        'Verify the roster chain; check the id is not taken; the witness checks the new custodian’s identity papers and appointment.',
      inputs: ['pinned roster chain', 'appointment of the new custodian'],
      preconditions: ['the new custodian is present with a freshly initialised token'],
      signOffs: ['administrator', 'witness'],
      records: ['roster version', 'id, name, organisation, token label'],
    },
    {
      id: 'generate-keys',
      title: 'Generate the keys in the new custodian’s token',
      actor: 'custodians',
      action:
        'The new custodian logs in to their token, which generates the identity and transport key pairs and the X-Wing key (seed encrypted under a token key); only public keys leave the token.',
      inputs: ['the new token and its PIN (typed by the custodian)'],
      preconditions: ['roster checked'],
      signOffs: ['witness'],
      records: ['public keys', 'token key attributes (sensitive, not extractable)'],
    },
    {
      id: 'proof-of-possession',
      title: 'The new custodian signs their enrolment',
      actor: 'custodians',
      action:
        'The new custodian’s token signs the enrolment statement naming their id, organisation and public keys.',
      inputs: ['public keys'],
      preconditions: ['keys generated'],
      signOffs: ['each-custodian', 'witness'],
      records: ['signed enrolment statement'],
    },
    {
      id: 'publish-roster',
      title: 'Publish the roster version that adds them',
      actor: 'custodians',
      action:
        'Build roster version N+1 with the new custodian (and root membership if asked); a threshold of the old and new root sign it in their tokens; the coordinator verifies and logs it.',
      inputs: ['roster version N', 'public keys'],
      preconditions: ['proof of possession verified'],
      signOffs: ['root-quorum', 'witness'],
      records: ['roster version, id and signers'],
    },
  ],
  onAbort:
    'nothing is published; the keys generated in the new token are not trusted by anyone and may be deleted.',
};

const C = definition.name;

export const ceremony: Ceremony<EnrolmentParams> = {
  definition,
  parseParams(raw) {
    const cid = id(C, raw, 'id', true);
    const root = bool(C, raw, 'root');
    const rootThreshold = int(C, raw, 'root-threshold', 1, 1024) ?? int(C, raw, 'rootThreshold', 1, 1024);
    const tokenLabel = str(C, raw, 'token-label') ?? str(C, raw, 'tokenLabel') ?? cid;
    if (Buffer.byteLength(tokenLabel) > 32) throw paramError(C, '--token-label must be at most 32 bytes');
    return {
      id: cid,
      name: reqStr(C, raw, 'name'),
      organisation: reqStr(C, raw, 'organisation'),
      tokenLabel,
      root,
      ...(rootThreshold !== undefined ? { rootThreshold } : {}),
    };
  },
  paramsJson: (p) => ({ ...p }),
  actions: {
    async 'check-roster'({ env, params }) {
      const r = env.roster();
      if (r.custodians.some((c) => c.id === params.id) || r.stations.some((s) => s.id === params.id))
        throw new CeremonyError(
          'ceremony_precondition',
          `"${params.id}" is already a principal of roster version ${r.version}`,
        );
      return {
        record: {
          rosterVersion: r.version,
          rosterId: env.coordinator.rosterId,
          id: params.id,
          name: params.name,
          organisation: params.organisation,
          tokenLabel: params.tokenLabel,
        },
      };
    },
    async 'generate-keys'({ env, params }) {
      const token = await env.custodian(params.id, params.tokenLabel);
      const keys = await token.setup();
      const facts = await token.describe('identity');
      return {
        record: {
          identityKey: toBase64Url(keys.identity),
          transportKey: toBase64Url(keys.transport),
          xwingKeyHash: sha256Hex(keys.xwing),
          identityAttributes: JSON.parse(JSON.stringify(facts)),
        },
        who: [`custodian/${params.id}`],
      };
    },
    async 'proof-of-possession'({ env, params, ceremonyId }) {
      const token = await env.custodian(params.id, params.tokenLabel);
      const keys = await token.publicKeys();
      const statement = await custodianStatement(env, params.id, OTHER_STATEMENT.enrolment, {
        ceremonyId,
        id: params.id,
        name: params.name,
        organisation: params.organisation,
        identityKey: toBase64Url(keys.identity),
        transportKey: toBase64Url(keys.transport),
        xwingKeyHash: sha256Hex(keys.xwing),
      });
      return { statements: [statement], record: { signed: true }, who: [`custodian/${params.id}`] };
    },
    async 'publish-roster'({ env, params, faults }): Promise<StepResult> {
      const roster = env.roster();
      const token = await env.custodian(params.id, params.tokenLabel);
      const keys = await token.publicKeys();
      const entry = custodianEntry({
        id: params.id,
        name: params.name,
        organisation: params.organisation,
        tokenLabel: params.tokenLabel,
        identityKey: keys.identity,
        transportKey: keys.transport,
        xwingKey: keys.xwing,
      });
      // Interrupted after the coordinator stored this version: record it, do not publish again.
      const done = await publishedWhere(env, (r) =>
        r.custodians.some((c) => c.id === entry.id && c.identityKey === entry.identityKey),
      );
      if (done) return alreadyPublished(done);
      const doc = nextVersion(roster, {
        issuedAt: new Date(
          Math.max(Date.parse(roster.issuedAt), Math.floor(env.now().getTime() / 1000) * 1000),
        ),
        custodians: [...roster.custodians, entry],
        ...(params.root
          ? {
              root: {
                custodians: [...roster.root.custodians, params.id],
                threshold: params.rootThreshold ?? roster.root.threshold,
              },
            }
          : {}),
      });
      const res = await publishRoster(env, doc, faults);
      return {
        record: { rosterVersion: res.version, rosterId: res.rosterId, signers: res.signers },
        who: res.signers.map((s) => `custodian/${s}`),
      };
    },
  },
  async abort({ recordOf }) {
    return {
      cleanup: {
        published: recordOf('publish-roster') !== undefined,
        note: 'keys generated in the new token are not in any roster version and are trusted by nobody',
      },
      statements: [],
    };
  },
};

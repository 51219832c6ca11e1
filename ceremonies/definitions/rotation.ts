/**
 * Rotation / resharing to a new epoch (docs/DECISIONS.md#f4, #d8), and, with `remove`, custodian
 * offboarding (offboarding.ts): a quorum of the old epoch releases to the station, a new key is
 * generated and split over the new custodian set, imported and accepted, published in a new roster
 * version (old epoch retired), every archive's quorum stanza is rewrapped (header only) and then
 * checked to open with the new key, and only then are the old shares destroyed, each with a signed
 * destruction record (or declared lost when the token is gone).
 */
import { createHash } from 'node:crypto';
import { parseQuorumStanza, readHeader } from '../../src/archive/header.ts';
import {
  fileSource,
  type Header,
  inPlace,
  quorumStanzas,
  recoverDek,
  replaceHeader,
  STANZA_QUORUM,
} from '../../src/archive/index.ts';
import { exactReader } from '../../src/archive/io.ts';
import { toHex } from '../../src/crypto/bytes.ts';
import { type Identity, identityFromSeed, parsePublicKey } from '../../src/crypto/keys.ts';
import type { Statement } from '../../src/crypto/statement.ts';
import { xwingKeygen } from '../../src/crypto/xwing.ts';
import { currentEpoch, domain as domainOf, nextVersion, organisationsOf } from '../../src/roster/index.ts';
import type { SplitResult } from '../../src/station/key-ceremony.ts';
import type { AbortResult, Ceremony, StepContext, StepResult } from '../engine.ts';
import type { CeremonyEnv } from '../env.ts';
import {
  acceptances,
  alreadyPublished,
  declareLost,
  destroyAndSign,
  epochFromRecord,
  importShares,
  publishedEpoch,
  publishRoster,
  quorumRelease,
  splitFor,
  splitRecord,
  zeroise,
} from '../lib.ts';
import { bool, id, ids, int, paramError, str } from '../params.ts';
import {
  ALL_ROLES,
  type CeremonyDefinition,
  CeremonyError,
  type JsonObject,
  type StepDef,
} from '../types.ts';

export interface RotationParams {
  domain: string;
  /** The live epoch being replaced and the new one. */
  oldEpoch: number;
  newEpoch: number;
  custodians: string[];
  threshold: number;
  /** Offboarding: the custodian leaving, and whether their token is lost. */
  remove?: string;
  lost: boolean;
  reason: string;
}

const steps = (offboarding: boolean): StepDef[] => [
  {
    id: 'check-roster',
    title: 'Check the roster and the archives',
    actor: 'administrator',
    action: offboarding
      ? 'Verify the roster chain, find the live epoch of the domain, the leaving custodian and the new custodian set without them; list every registered archive of the domain.'
      : 'Verify the roster chain, find the live epoch of the domain and the new custodian set and threshold; list every registered archive of the domain.',
    inputs: ['pinned roster chain', 'registered snapshots of the domain'],
    preconditions: ['a threshold of the old epoch’s holders is present with their tokens'],
    signOffs: ['administrator', 'witness'],
    records: ['old and new epoch', 'old and new custodians and threshold', 'archives to rewrap'],
  },
  {
    id: 'old-quorum-release',
    title: 'A quorum of the old epoch releases to the station',
    actor: 'custodians',
    action:
      'The station makes fresh recipient keys; a threshold of old-epoch holders each sign an approval naming this ceremony and those keys, and their tokens release their shares wrapped to them; the station checks each share against its commitment, combines, and checks the result against the old quorum public key.',
    inputs: ['old epoch commitments from the roster'],
    preconditions: ['roster checked'],
    signOffs: ['quorum', 'witness'],
    records: ['who released', 'old key id', 'signed approvals'],
    provides: ['old-key'],
    redoable: true,
  },
  {
    id: 'generate-and-split',
    title: 'Generate and split the new epoch key',
    actor: 'station',
    action:
      'Generate the new X-Wing key, split it over the new custodian set (every t-subset checked), commit to every share, precompute health challenges, and wrap each share to its custodian token.',
    inputs: ['new custodians’ transport and X-Wing keys'],
    preconditions: ['old key recovered'],
    signOffs: ['witness'],
    records: ['new quorum public key and key id', 'x, commitment, salt per share', 'health challenge book'],
    provides: ['new-key', 'split'],
  },
  {
    id: 'recover-new-key',
    title: 'Recover the new key from a quorum of its holders',
    actor: 'custodians',
    action:
      'Only after an interruption that lost the station memory once the new shares were accepted: a threshold of new-epoch holders release to the station, which recombines the new key to check the rewrapped archives.',
    inputs: ['the new epoch record'],
    preconditions: ['every new share accepted'],
    signOffs: ['quorum', 'witness'],
    records: ['who released', 'new key id'],
    provides: ['new-key'],
    recoveryOnly: true,
  },
  {
    id: 'import-shares',
    title: 'Import the new shares into the tokens',
    actor: 'custodians',
    action:
      'Each new holder’s token unwraps their share into a sensitive object and checks its key-check value.',
    inputs: ['import envelopes'],
    preconditions: ['new key split in this station session'],
    signOffs: ['witness'],
    records: ['token object per custodian'],
    uses: ['split'],
  },
  {
    id: 'accept-shares',
    title: 'Every new holder signs acceptance',
    actor: 'custodians',
    action: 'Each new holder confirms the token holds the share and signs the acceptance.',
    inputs: ['the new epoch record'],
    preconditions: ['every new share imported'],
    signOffs: ['each-custodian', 'witness'],
    records: ['signed acceptances'],
    uses: ['split'],
  },
  {
    id: 'publish-roster',
    title: 'Publish the new epoch in a new roster version',
    actor: 'custodians',
    action:
      'Build roster version N+1: the new epoch (key, commitments, threshold), the old epoch marked retired, the domain’s new custodians and threshold; a threshold of the old and new root sign it; the coordinator verifies and logs it. Backups seal to the new epoch from now on.',
    inputs: ['the new epoch record', 'roster version N'],
    preconditions: ['every acceptance signed'],
    signOffs: ['root-quorum', 'witness'],
    records: ['roster version, id and signers'],
  },
  {
    id: 'rewrap-archives',
    title: 'Rewrap every archive to the new epoch',
    actor: 'station',
    action:
      'For every archive of the domain, open its quorum stanza with the old key, write a new quorum stanza for the new key and a new header MAC; the body is copied byte for byte and the file replaced atomically. Archives that already carry the new stanza are skipped.',
    inputs: ['registered archives', 'new quorum public key'],
    preconditions: ['new epoch published'],
    signOffs: ['witness'],
    records: ['per archive: rewrapped or already done, new header digest'],
    uses: ['old-key'],
  },
  {
    id: 'verify-archives',
    title: 'Check every new stanza opens with the new key',
    actor: 'station',
    action:
      'For every archive, recover the DEK through the new stanza with the new key and check the header MAC; no old-epoch stanza may remain.',
    inputs: ['rewrapped archives'],
    preconditions: ['every archive rewrapped'],
    signOffs: ['administrator', 'witness'],
    records: ['per archive: verified'],
    uses: ['new-key'],
  },
  {
    id: 'zeroise',
    title: 'Zeroise both keys in the station',
    actor: 'station',
    action: 'Overwrite the old and the new key and every share in the station memory.',
    inputs: [],
    preconditions: ['every archive verified'],
    signOffs: ['administrator', 'witness'],
    records: ['what was zeroised'],
  },
  {
    id: 'destroy-old-shares',
    title: offboarding
      ? 'Destroy the old shares, the leaving custodian’s included'
      : 'Destroy the old epoch’s shares',
    actor: 'custodians',
    action: offboarding
      ? 'Every old holder’s token destroys its old-epoch share and the holder signs the destruction record; when the leaving custodian’s token is lost, the administrator declares their share lost (signed by the station).'
      : 'Every old holder’s token destroys its old-epoch share and the holder signs the destruction record; an absent holder’s share is declared lost.',
    inputs: ['old epoch holders'],
    preconditions: ['every archive’s new stanza verified'],
    signOffs: ['each-custodian', 'witness'],
    records: ['signed destruction records', 'shares declared lost'],
  },
];

export function rotationDefinition(offboarding: boolean): CeremonyDefinition {
  return {
    name: offboarding ? 'offboarding' : 'rotation',
    title: offboarding ? 'Custodian offboarding' : 'Epoch rotation and resharing',
    purpose: offboarding
      ? 'Removes a custodian from a domain: the key is reshared to a new epoch without them, every archive is rewrapped, and their share is destroyed in their token or declared lost.'
      : 'Replaces a domain’s quorum key with a new epoch (optionally with a new custodian set or threshold), rewraps every archive’s header to it, and destroys the old shares once every archive opens with the new key.',
    roles: ALL_ROLES,
    params: [
      { name: 'domain', description: 'the domain', required: true, example: 'land' },
      ...(offboarding
        ? [
            { name: 'remove', description: 'the leaving custodian', required: true, example: 'custodian-5' },
            {
              name: 'lost',
              description: 'their token is lost or unavailable (declare the share lost)',
              required: false,
              example: 'true',
            },
          ]
        : [
            {
              name: 'custodians',
              description: 'the new share holders (default: the current ones)',
              required: false,
              example: 'custodian-1,custodian-2,custodian-3,custodian-6',
            },
          ]),
      {
        name: 'threshold',
        description: 'the new threshold (default: the current one, capped at the holders)',
        required: false,
      },
      { name: 'reason', description: 'why (recorded)', required: false, example: 'scheduled rotation' },
    ],
    steps: steps(offboarding),
    onAbort:
      'before the new epoch is published, every imported new share is destroyed (signed) and the old epoch stays in force; after it, nothing is destroyed: the old shares are kept until a later rotation finishes the rewrap.',
    restartAfterAbort: false,
  };
}

interface ArchiveRef {
  snapshot: string;
  location: string;
}

async function archivesOf(env: CeremonyEnv, domain: string): Promise<ArchiveRef[]> {
  return (await env.coordinator.snapshots(domain)).map((s) => ({ snapshot: s.id, location: s.location }));
}

async function headerOf(path: string): Promise<Header> {
  const src = await fileSource(path);
  try {
    return await readHeader(exactReader(src));
  } finally {
    await src.close();
  }
}

const quorumKeyIds = (h: Header) =>
  h.stanzas.filter((s) => s.type === STANZA_QUORUM).map((s) => toHex(parseQuorumStanza(s.body).keyId));

export function rotationCeremony(offboarding: boolean): Ceremony<RotationParams> {
  const definition = rotationDefinition(offboarding);
  const C = definition.name;
  const newRec = (ctx: StepContext<RotationParams>) => {
    const r = ctx.recordOf('generate-and-split');
    if (!r) throw new CeremonyError('ceremony_precondition', 'no new epoch was generated in this ceremony');
    return r;
  };
  return {
    definition,
    parseParams(raw, env) {
      const domain = id(C, raw, 'domain', true);
      let d: ReturnType<typeof domainOf>;
      try {
        d = domainOf(env.roster(), domain);
      } catch {
        throw paramError(C, `no domain "${domain}" in the roster in force`);
      }
      // The old epoch is fixed when the ceremony starts (resume passes it back in).
      const oldEpoch = int(C, raw, 'oldEpoch', 0, 0xffffffff) ?? currentEpoch(env.roster(), domain).epoch;
      const remove = offboarding ? id(C, raw, 'remove', true) : undefined;
      const lost = offboarding ? bool(C, raw, 'lost') : false;
      let custodians = ids(C, raw, 'custodians') ?? d.custodians.filter((c) => c !== remove);
      if (remove && custodians.includes(remove)) custodians = custodians.filter((c) => c !== remove);
      const resuming = raw['oldEpoch'] !== undefined;
      if (remove && !resuming && !d.custodians.includes(remove))
        throw paramError(C, `"${remove}" is not a custodian of domain "${domain}"`);
      const threshold =
        int(C, raw, 'threshold', 2, custodians.length) ?? Math.min(d.threshold, custodians.length);
      if (threshold < 2 || custodians.length < 2)
        throw paramError(C, 'a domain needs at least two holders and a threshold of at least 2');
      if (remove && lost) env.absent.add(remove);
      return {
        domain,
        oldEpoch,
        newEpoch: int(C, raw, 'newEpoch', 1, 0xffffffff) ?? oldEpoch + 1,
        custodians,
        threshold,
        ...(remove ? { remove } : {}),
        lost,
        reason: str(C, raw, 'reason') ?? (offboarding ? `offboarding ${remove}` : 'rotation'),
      };
    },
    paramsJson: (p) => ({ ...p }),
    actions: {
      async 'check-roster'({ env, params }) {
        const roster = env.roster();
        const d = domainOf(roster, params.domain);
        for (const c of params.custodians)
          if (!roster.custodians.some((x) => x.id === c))
            throw new CeremonyError(
              'ceremony_precondition',
              `"${c}" is not a custodian of roster version ${roster.version}`,
            );
        if (organisationsOf(roster, params.custodians).size < d.minOrganisations)
          throw new CeremonyError(
            'ceremony_precondition',
            `the new custodians span fewer than the ${d.minOrganisations} organisations the domain requires`,
          );
        const archives = await archivesOf(env, params.domain);
        return {
          record: {
            rosterVersion: roster.version,
            rosterId: env.coordinator.rosterId,
            oldEpoch: params.oldEpoch,
            newEpoch: params.newEpoch,
            oldCustodians: d.custodians,
            newCustodians: params.custodians,
            oldThreshold: d.threshold,
            newThreshold: params.threshold,
            archives: archives.map((a) => a.snapshot),
            ...(params.remove ? { leaving: params.remove, tokenLost: params.lost } : {}),
          },
        };
      },
      async 'old-quorum-release'(ctx) {
        const r = await quorumRelease(
          ctx.env,
          ctx.ceremonyId,
          ctx.ceremonyDigest,
          ctx.params.domain,
          ctx.params.oldEpoch,
        );
        ctx.memory.set('old-key', r.identity);
        return {
          record: { releasedBy: r.releasedBy, keyId: toHex(r.identity.keyId) },
          statements: r.statements,
          who: r.releasedBy.map((c) => `custodian/${c}`),
        };
      },
      async 'generate-and-split'({ env, params, memory }) {
        const { seed } = xwingKeygen();
        const split = await splitFor(
          env,
          params.domain,
          params.newEpoch,
          params.threshold,
          params.custodians,
          seed,
        );
        memory.set('new-key', identityFromSeed(seed));
        memory.set('split', split);
        return { record: splitRecord(split) };
      },
      async 'recover-new-key'(ctx) {
        const rec = newRec(ctx);
        const epoch = epochFromRecord(rec, ctx.env.now());
        const r = await quorumRelease(
          ctx.env,
          ctx.ceremonyId,
          ctx.ceremonyDigest,
          ctx.params.domain,
          ctx.params.newEpoch,
          epoch,
        );
        ctx.memory.set('new-key', r.identity);
        return {
          record: { releasedBy: r.releasedBy, keyId: toHex(r.identity.keyId) },
          statements: r.statements,
          who: r.releasedBy.map((c) => `custodian/${c}`),
        };
      },
      async 'import-shares'({ env, memory, faults }) {
        const split = memory.get('split') as SplitResult;
        return {
          record: await importShares(env, split, faults),
          who: split.shares.map((s) => `custodian/${s.custodian}`),
        };
      },
      async 'accept-shares'(ctx) {
        const r = await acceptances(ctx.env, ctx.ceremonyId, newRec(ctx));
        const split = ctx.memory.get('split') as SplitResult | undefined;
        for (const s of split?.shares ?? []) s.envelope.fill(0);
        ctx.memory.delete('split');
        return { ...r, who: (r.record['acceptedBy'] as string[]).map((c) => `custodian/${c}`) };
      },
      async 'publish-roster'(ctx): Promise<StepResult> {
        const { env, params, faults } = ctx;
        // Interrupted after the coordinator stored this version: record it, do not publish again.
        const done = await publishedEpoch(
          env,
          params.domain,
          params.newEpoch,
          newRec(ctx)['quorumPublicKey'] as string,
        );
        if (done) return alreadyPublished(done, { retiredEpoch: params.oldEpoch });
        const roster = env.roster();
        const epoch = epochFromRecord(newRec(ctx), env.now());
        const doc = nextVersion(roster, {
          issuedAt: new Date(
            Math.max(Date.parse(roster.issuedAt), Math.floor(env.now().getTime() / 1000) * 1000),
          ),
          domains: roster.domains.map((d) =>
            d.name !== params.domain
              ? d
              : {
                  ...d,
                  custodians: params.custodians,
                  threshold: params.threshold,
                  epochs: [
                    ...d.epochs.map((e) => (e.epoch === params.oldEpoch ? { ...e, retired: true } : e)),
                    epoch,
                  ],
                },
          ),
        });
        const res = await publishRoster(env, doc, faults);
        return {
          record: {
            rosterVersion: res.version,
            rosterId: res.rosterId,
            signers: res.signers,
            retiredEpoch: params.oldEpoch,
          },
          who: res.signers.map((s) => `custodian/${s}`),
        };
      },
      async 'rewrap-archives'(ctx) {
        const rec = newRec(ctx);
        const newKey = parsePublicKey(rec['quorumPublicKey'] as string);
        const newKeyId = rec['keyId'] as string;
        const old = ctx.memory.get('old-key') as Identity;
        const out: JsonObject[] = [];
        for (const a of await archivesOf(ctx.env, ctx.params.domain)) {
          const r = await replaceHeader(await fileSource(a.location), inPlace(a.location), {
            done: (before) => quorumKeyIds(before).includes(newKeyId),
            unlock: { identities: [old] },
            stanzas: quorumStanzas([{ publicKey: newKey, epoch: ctx.params.newEpoch }]),
          });
          out.push(
            r.changed
              ? {
                  snapshot: a.snapshot,
                  status: 'rewrapped',
                  headerDigest: createHash('sha256').update(r.header.bytes).digest('hex'),
                }
              : { snapshot: a.snapshot, status: 'already' },
          );
        }
        return {
          record: { archives: out, rewrapped: out.filter((x) => x['status'] === 'rewrapped').length },
        };
      },
      async 'verify-archives'(ctx) {
        const rec = newRec(ctx);
        const newKey = ctx.memory.get('new-key') as Identity;
        if (toHex(newKey.keyId) !== rec['keyId'])
          throw new CeremonyError('ceremony_precondition', 'the key in the station is not the new epoch key');
        const oldKeyId = domainOf(ctx.env.roster(), ctx.params.domain).epochs.find(
          (e) => e.epoch === ctx.params.oldEpoch,
        )?.keyId;
        const verified: string[] = [];
        for (const a of await archivesOf(ctx.env, ctx.params.domain)) {
          const h = await headerOf(a.location);
          if (oldKeyId !== undefined && quorumKeyIds(h).includes(oldKeyId))
            throw new CeremonyError(
              'ceremony_precondition',
              `archive ${a.snapshot} still carries an old-epoch stanza`,
            );
          const { dek } = await recoverDek(h, { identities: [newKey] });
          dek.fill(0);
          verified.push(a.snapshot);
        }
        return { record: { verified, allVerified: true } };
      },
      async zeroise({ memory }) {
        const cleared = zeroise(memory, 'old-key', 'new-key', 'split');
        return { record: { zeroised: cleared.map((k) => k.replace('-key', ' epoch key')) } };
      },
      async 'destroy-old-shares'(ctx) {
        const { env, params } = ctx;
        if (ctx.recordOf('verify-archives')?.['allVerified'] !== true)
          throw new CeremonyError(
            'ceremony_precondition',
            'old shares are destroyed only after every archive verified',
          );
        const holders = (ctx.recordOf('check-roster')?.['oldCustodians'] as string[] | undefined) ?? [];
        const statements: Statement[] = [];
        const destroyed: JsonObject[] = [];
        const declaredLost: string[] = [];
        for (const c of holders) {
          if (env.absent.has(c)) {
            statements.push(
              await declareLost(
                env,
                c,
                params.domain,
                params.oldEpoch,
                c === params.remove
                  ? 'token lost or unavailable at offboarding'
                  : 'custodian absent at rotation',
              ),
            );
            declaredLost.push(c);
            continue;
          }
          const r = await destroyAndSign(env, c, params.domain, params.oldEpoch, ctx.faults);
          statements.push(r.statement);
          destroyed.push({
            custodian: c,
            objectId: r.record?.objectId ?? null,
            alreadyAbsent: r.record === null,
          });
        }
        return { record: { destroyed, declaredLost }, statements };
      },
    },
    async abort(ctx): Promise<AbortResult> {
      const { env, params } = ctx;
      const statements: Statement[] = [];
      zeroise(ctx.memory, 'old-key', 'new-key', 'split');
      const split = ctx.recordOf('generate-and-split');
      const published =
        ctx.recordOf('publish-roster') ??
        (split &&
          (await publishedEpoch(env, params.domain, params.newEpoch, split['quorumPublicKey'] as string)));
      if (published)
        return {
          cleanup: {
            newEpochLive: true,
            oldSharesKept: true,
            note: 'the new epoch is published; old shares are kept until a later rotation finishes rewrapping',
          },
          statements,
        };
      const destroyed: string[] = [];
      for (const c of params.custodians) {
        if (env.absent.has(c)) continue;
        const token = await env.custodian(c);
        if (
          !(await token.listShares()).some((x) => x.domain === params.domain && x.epoch === params.newEpoch)
        )
          continue;
        statements.push((await destroyAndSign(env, c, params.domain, params.newEpoch)).statement);
        destroyed.push(c);
      }
      return {
        cleanup: { newEpochLive: false, newSharesDestroyed: destroyed, oldEpochInForce: params.oldEpoch },
        statements,
      };
    },
  };
}

export const definition = rotationDefinition(false);
export const ceremony = rotationCeremony(false);

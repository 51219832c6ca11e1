/**
 * A complete development deployment in one directory: SoftHSM2 tokens (home, log, station,
 * custodians), custodian keys generated in their tokens, a key ceremony per domain with shares
 * imported into the tokens, a genesis roster signed by every root custodian's token, and the
 * coordinator on a store. The demo, the ceremony rehearsals, the end-to-end tests and the API
 * benchmark all build on it; production code never imports it.
 *
 * @example
 * const d = await buildDevDeployment({ dataDir: '/tmp/dev', domains: ['land'] });
 * try {
 *   const job = d.client('backup-job'); // signs requests with the job's development key
 *   await job.get('/v1/roster');
 * } finally {
 *   await d.close();
 * }
 * @module
 */
import { readFileSync } from 'node:fs';
import {
  type Custodian,
  type DevPins,
  initDevTokens,
  type LogToken,
  openCustodian,
  openLogToken,
} from '../../hsm/index.ts';
import { checkpointSignerPolicy } from '../audit/signer-policy.ts';
import { Coordinator } from '../coordinator/index.ts';
import { ed25519KeySigner } from '../crypto/ed25519-signer.ts';
import { ReleaseJournal } from '../custodian/journal.ts';
import { writeDurablySync } from '../fs/durable.ts';
import { formatVerifierKey } from '../log/note.ts';
import { CoordinatorClient, type Fetch, type PayloadSigner } from '../protocol/client.ts';
import {
  assembleSignedRoster,
  buildGenesis,
  custodianEntry,
  epochEntry,
  type RosterDoc,
  rosterIdHex,
  type SignedRoster,
  signRoster,
  tokenSigner,
} from '../roster/index.ts';
import { type SplitResult, splitQuorumKey } from '../station/key-ceremony.ts';
import { openStore, type Store, type StoreOptions } from '../store/index.ts';
import { newDevKey, rosterSigningKey, writeDevKeyFile } from './signers.ts';

/** The public anchor files an auditor reads are world-readable. */
const PUBLIC = { mode: 0o644 };

export interface DevCustodian {
  id: string;
  name: string;
  organisation: string;
}

/** Five custodians from three organisations (the demo's cast). */
export const DEV_CUSTODIANS: DevCustodian[] = [
  { id: 'custodian-1', name: 'Kadri Tamm', organisation: 'Ministry of Justice' },
  { id: 'custodian-2', name: 'Jaan Saar', organisation: 'Ministry of Justice' },
  { id: 'custodian-3', name: 'Liis Kask', organisation: 'State Treasury' },
  { id: 'custodian-4', name: 'Peeter Mägi', organisation: 'State Treasury' },
  { id: 'custodian-5', name: 'Anu Rebane', organisation: 'Information System Authority' },
];

export interface DevDeploymentOptions {
  dataDir: string;
  store?: StoreOptions;
  custodians?: DevCustodian[];
  domains?: string[];
  threshold?: number;
  minOrganisations?: number;
  coolOffSeconds?: number;
  veto?: 'any' | 'none';
  /** Per-domain custodian sets (ids of `custodians`); default: every custodian holds a share of every domain. */
  domainCustodians?: Record<string, string[]>;
  /** Per-domain policy lists (legal bases accepted, stations allowed to ask); default: the roster's whole lists. */
  domainPolicy?: Record<string, { legalBases?: string[]; stations?: string[] }>;
  /** Further registered stations besides `station-lux` (software Ed25519 keys), e.g. for foreign-station tests. */
  extraStations?: string[];
  now?: () => Date;
  log?: (line: string) => void;
}

export interface DevDeployment {
  dataDir: string;
  pins: DevPins;
  store: Store;
  coordinator: Coordinator;
  signed: SignedRoster;
  roster: RosterDoc;
  rosterPin: string;
  splits: Map<string, SplitResult>;
  custodians: Map<string, { info: DevCustodian; token: Custodian; journal: ReleaseJournal }>;
  station: { id: string; sign: PayloadSigner };
  job: { id: string; sign: PayloadSigner };
  auditor: { id: string; sign: PayloadSigner };
  logToken: LogToken;
  /** A signed-request client for a principal, over `fetch` (in-process app or HTTP). */
  client(principal: string, fetch?: Fetch, baseUrl?: string): CoordinatorClient;
  close(): Promise<void>;
}

/** Builds a development deployment in `opts.dataDir` (SoftHSM2 tokens are created there). */
export async function buildDevDeployment(opts: DevDeploymentOptions): Promise<DevDeployment> {
  const log = opts.log ?? (() => {});
  const list = opts.custodians ?? DEV_CUSTODIANS;
  const threshold = opts.threshold ?? 3;
  const now = opts.now ?? (() => new Date());
  const tokens = await initDevTokens({ dataDir: opts.dataDir, custodians: list.length });
  const pins = JSON.parse(readFileSync(tokens.pinsPath, 'utf8')) as DevPins;
  const custodians: DevDeployment['custodians'] = new Map();
  const keys = new Map<string, Awaited<ReturnType<Custodian['setup']>>>();
  for (const c of list) {
    const token = await openCustodian({ label: c.id, pin: pins[c.id]!.user });
    keys.set(c.id, await token.setup());
    custodians.set(c.id, {
      info: c,
      token,
      journal: new ReleaseJournal(`${opts.dataDir}/${c.id}-release-journal.jsonl`),
    });
  }
  const logToken = await openLogToken({ label: 'log', pin: pins['log']!.user });
  const logKey = await logToken.ed25519PublicKey().catch(() => logToken.generateEd25519());
  const splits = new Map<string, SplitResult>();
  const holders = (domain: string) => {
    const ids = opts.domainCustodians?.[domain];
    return ids ? list.filter((c) => ids.includes(c.id)) : list;
  };
  for (const domain of opts.domains ?? ['land', 'business']) {
    const split = await splitQuorumKey({
      domain,
      epoch: 1,
      threshold,
      custodians: holders(domain).map((c) => ({
        id: c.id,
        transport: keys.get(c.id)!.transport,
        xwing: keys.get(c.id)!.xwing,
      })),
    });
    for (const s of split.shares) {
      await custodians.get(s.custodian)!.token.importShare(s.envelope, {
        domain,
        epoch: 1,
        ceremony: split.ceremonyDigest,
        custodian: s.custodian,
      });
    }
    splits.set(domain, split);
    log(
      `key ceremony ${domain}: quorum key ${Buffer.from(split.keyId).toString('hex')}, ${split.shares.length} shares imported`,
    );
  }
  const station = newDevKey();
  const job = newDevKey();
  const auditor = newDevKey();
  // The software principals' key files, so the CLI can act as them against this deployment.
  for (const [name, k] of [
    ['station-lux', station],
    ['backup-job', job],
    ['auditor-1', auditor],
  ] as const)
    writeDevKeyFile(`${opts.dataDir}/${name}.pem`, k.privateKey);
  const extraStations = new Map((opts.extraStations ?? []).map((id) => [id, newDevKey()] as const));
  const issuedAt = new Date(Math.floor(now().getTime() / 1000) * 1000);
  const doc = buildGenesis({
    issuedAt,
    expires: new Date(issuedAt.getTime() + 365 * 86400_000),
    root: { custodians: list.map((c) => c.id), threshold },
    custodians: list.map((c) =>
      custodianEntry({
        id: c.id,
        name: c.name,
        organisation: c.organisation,
        tokenLabel: c.id,
        identityKey: keys.get(c.id)!.identity,
        transportKey: keys.get(c.id)!.transport,
        xwingKey: keys.get(c.id)!.xwing,
      }),
    ),
    stations: [
      {
        id: 'station-lux',
        name: 'Recovery station, Luxembourg',
        organisation: 'Information System Authority',
        signingKey: rosterSigningKey(station.publicKey),
      },
      ...[...extraStations].map(([id, k]) => ({
        id,
        name: `Recovery station ${id}`,
        organisation: 'Information System Authority',
        signingKey: rosterSigningKey(k.publicKey),
      })),
    ],
    jobs: [
      {
        id: 'backup-job',
        name: 'Nightly backup',
        signingKey: rosterSigningKey(job.publicKey),
        domains: [...splits.keys()],
      },
    ],
    auditors: [
      {
        id: 'auditor-1',
        name: 'External crypto auditor',
        signingKey: rosterSigningKey(auditor.publicKey),
      },
    ],
    log: { origin: 'data-embassy.example/audit', key: Buffer.from(logKey).toString('base64url') },
    legalBases: [
      { code: 'EMERGENCY-RESTORE', description: 'Emergency Situation Act: restore a vital service' },
      { code: 'DRILL', description: 'Scheduled recovery drill' },
    ],
    domains: [...splits.values()].map((s) => ({
      name: s.domain,
      custodians: holders(s.domain).map((c) => c.id),
      threshold,
      minOrganisations: opts.minOrganisations ?? 2,
      policy: {
        coolOffSeconds: opts.coolOffSeconds ?? 0,
        maxDeadlineSeconds: 7 * 86400,
        veto: opts.veto ?? 'any',
        maxEpochAgeDays: 365,
        ...opts.domainPolicy?.[s.domain],
      },
      homeStanza: true,
      epochs: [
        epochEntry({
          epoch: 1,
          keyCeremony: s.keyCeremonyId,
          quorumPublicKey: s.publicKey,
          threshold,
          shares: s.shares.map((x) => ({
            custodian: x.custodian,
            x: x.x,
            commitment: x.commitment.commitment,
            salt: x.commitment.salt,
          })),
          createdAt: issuedAt,
        }),
      ],
    })),
  });
  const signatures = [];
  for (const c of list)
    signatures.push(await signRoster(doc, c.id, tokenSigner(custodians.get(c.id)!.token)));
  const signed = assembleSignedRoster(doc, signatures);
  const rosterPin = rosterIdHex(doc);
  // The auditor's anchors (public): written durably, so a crash never leaves a truncated one.
  writeDurablySync(`${opts.dataDir}/roster-genesis.json`, `${JSON.stringify(signed, null, 2)}\n`, PUBLIC);
  writeDurablySync(`${opts.dataDir}/roster-pin`, `${rosterPin}\n`, PUBLIC);
  // The store's origin is the roster's log origin, whatever store the caller chose.
  const store = await openStore({ ...(opts.store ?? { dataDir: opts.dataDir }), origin: doc.log.origin });
  const origin = store.origin;
  // The checkpoint key lives in the `log` token, as `embassy serve` runs it.
  const checkpointer = await checkpointSignerPolicy({ store, dataDir: opts.dataDir, token: logToken });
  writeDurablySync(`${opts.dataDir}/log-key.vkey`, `${formatVerifierKey(origin, logKey)}\n`, PUBLIC);
  const coordinator = await Coordinator.open(store, { rosterPin, genesis: signed, now, checkpointer });
  const signers = new Map<string, { signer: string; sign: PayloadSigner }>([
    ['station-lux', { signer: 'station/station-lux', sign: ed25519KeySigner(station.privateKey) }],
    ['backup-job', { signer: 'job/backup-job', sign: ed25519KeySigner(job.privateKey) }],
    ['auditor-1', { signer: 'auditor/auditor-1', sign: ed25519KeySigner(auditor.privateKey) }],
    ...[...extraStations].map(
      ([id, k]) => [id, { signer: `station/${id}`, sign: ed25519KeySigner(k.privateKey) }] as const,
    ),
    ...list.map(
      (c) => [c.id, { signer: `custodian/${c.id}`, sign: tokenSigner(custodians.get(c.id)!.token) }] as const,
    ),
  ]);
  return {
    dataDir: opts.dataDir,
    pins,
    store,
    coordinator,
    signed,
    roster: doc,
    rosterPin,
    splits,
    custodians,
    station: { id: 'station-lux', sign: signers.get('station-lux')!.sign },
    job: { id: 'backup-job', sign: signers.get('backup-job')!.sign },
    auditor: { id: 'auditor-1', sign: signers.get('auditor-1')!.sign },
    logToken,
    client(principal, fetch, baseUrl = 'http://coordinator.invalid') {
      const s = signers.get(principal);
      if (!s) throw new Error(`no principal ${principal} in this deployment`);
      return new CoordinatorClient({
        baseUrl,
        principal,
        signer: s.signer,
        rosterId: rosterPin,
        sign: s.sign,
        ...(fetch ? { fetch } : {}),
        now,
      });
    },
    async close() {
      for (const c of custodians.values()) c.token.close();
      logToken.close();
      await store.close();
    },
  };
}

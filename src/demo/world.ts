/**
 * A complete development deployment in one directory: SoftHSM2 tokens (home, log, station,
 * custodians), custodian keys generated in their tokens, a key ceremony per domain with shares
 * imported into the tokens, a genesis roster signed by every root custodian's token, and the
 * coordinator on a store. The demo, the end-to-end tests and the API benchmark all build on it.
 */
import { createPublicKey, generateKeyPairSync, type KeyObject, sign as nodeSign } from 'node:crypto';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import {
  type Custodian,
  type DevPins,
  initDevTokens,
  type LogToken,
  openCustodian,
  openLogToken,
} from '../../hsm/index.ts';
import { CheckpointSigner } from '../audit/checkpoint.ts';
import { ed25519Signer, formatVerifierKey } from '../audit/note.ts';
import { CoordinatorClient, type Fetch, type PayloadSigner } from '../coordinator/client.ts';
import { Coordinator } from '../coordinator/service.ts';
import { ReleaseJournal } from '../custodian/journal.ts';
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

export interface WorldCustodian {
  id: string;
  name: string;
  organisation: string;
}

export const DEMO_CUSTODIANS: WorldCustodian[] = [
  { id: 'custodian-1', name: 'Kadri Tamm', organisation: 'Ministry of Justice' },
  { id: 'custodian-2', name: 'Jaan Saar', organisation: 'Ministry of Justice' },
  { id: 'custodian-3', name: 'Liis Kask', organisation: 'State Treasury' },
  { id: 'custodian-4', name: 'Peeter Mägi', organisation: 'State Treasury' },
  { id: 'custodian-5', name: 'Anu Rebane', organisation: 'Information System Authority' },
];

export interface WorldOptions {
  dataDir: string;
  store?: StoreOptions;
  custodians?: WorldCustodian[];
  domains?: string[];
  threshold?: number;
  minOrganisations?: number;
  coolOffSeconds?: number;
  veto?: 'any' | 'none';
  /** Per-domain custodian sets (ids of `custodians`); default: every custodian holds a share of every domain. */
  domainCustodians?: Record<string, string[]>;
  /** Further registered stations besides `station-lux` (software Ed25519 keys), e.g. for foreign-station tests. */
  extraStations?: string[];
  now?: () => Date;
  log?: (line: string) => void;
  /** The station's Ed25519 signing key (default: a fresh one); ceremonies persist their own. */
  stationKey?: KeyObject;
}

const ed25519 = () => generateKeyPairSync('ed25519');
const rawEd25519 = (k: KeyObject) => new Uint8Array(k.export({ format: 'der', type: 'spki' }).subarray(12));
const edSigner =
  (k: KeyObject): PayloadSigner =>
  async (p) =>
    new Uint8Array(nodeSign(null, p, k));

export interface World {
  dataDir: string;
  pins: DevPins;
  store: Store;
  coordinator: Coordinator;
  signed: SignedRoster;
  roster: RosterDoc;
  rosterPin: string;
  splits: Map<string, SplitResult>;
  custodians: Map<string, { info: WorldCustodian; token: Custodian; journal: ReleaseJournal }>;
  station: { id: string; sign: PayloadSigner };
  job: { id: string; sign: PayloadSigner };
  auditor: { id: string; sign: PayloadSigner };
  logToken: LogToken;
  /** A signed-request client for a principal, over `fetch` (in-process app or HTTP). */
  client(principal: string, fetch?: Fetch, baseUrl?: string): CoordinatorClient;
  close(): Promise<void>;
}

export async function buildWorld(opts: WorldOptions): Promise<World> {
  const log = opts.log ?? (() => {});
  const list = opts.custodians ?? DEMO_CUSTODIANS;
  const threshold = opts.threshold ?? 3;
  const now = opts.now ?? (() => new Date());
  const tokens = await initDevTokens({ dataDir: opts.dataDir, custodians: list.length });
  const pins = JSON.parse(readFileSync(tokens.pinsPath, 'utf8')) as DevPins;
  const custodians: World['custodians'] = new Map();
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
  const station = opts.stationKey
    ? { privateKey: opts.stationKey, publicKey: createPublicKey(opts.stationKey) }
    : ed25519();
  const job = ed25519();
  const auditor = ed25519();
  // Development only: the software principals' keys as PKCS#8 files (mode 0600), so the CLI can act
  // as them against this deployment (`--key DIR/station-lux.pem`). Production stations keep theirs in HSMs.
  for (const [name, k] of [
    ['station-lux', station],
    ['backup-job', job],
    ['auditor-1', auditor],
  ] as const) {
    writeFileSync(`${opts.dataDir}/${name}.pem`, k.privateKey.export({ format: 'pem', type: 'pkcs8' }), {
      mode: 0o600,
    });
  }
  const extraStations = new Map((opts.extraStations ?? []).map((id) => [id, ed25519()] as const));
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
        signingKey: {
          alg: 'ed25519',
          publicKey: Buffer.from(rawEd25519(station.publicKey)).toString('base64url'),
        },
      },
      ...[...extraStations].map(([id, k]) => ({
        id,
        name: `Recovery station ${id}`,
        organisation: 'Information System Authority',
        signingKey: {
          alg: 'ed25519' as const,
          publicKey: Buffer.from(rawEd25519(k.publicKey)).toString('base64url'),
        },
      })),
    ],
    jobs: [
      {
        id: 'backup-job',
        name: 'Nightly backup',
        signingKey: {
          alg: 'ed25519',
          publicKey: Buffer.from(rawEd25519(job.publicKey)).toString('base64url'),
        },
        domains: [...splits.keys()],
      },
    ],
    auditors: [
      {
        id: 'auditor-1',
        name: 'External crypto auditor',
        signingKey: {
          alg: 'ed25519',
          publicKey: Buffer.from(rawEd25519(auditor.publicKey)).toString('base64url'),
        },
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
  writeFileSync(`${opts.dataDir}/roster-genesis.json`, `${JSON.stringify(signed, null, 2)}\n`);
  writeFileSync(`${opts.dataDir}/roster-pin`, `${rosterPin}\n`);
  const store = await openStore(opts.store ?? { dataDir: opts.dataDir, origin: doc.log.origin });
  // The checkpoint key lives in the `log` token; the last signed (size, root) in a file outside the
  // database (DESIGN decision 6), so a rolled-back database cannot make the log sign a fork.
  const origin = doc.log.origin;
  const statePath = `${opts.dataDir}/checkpoint-state`;
  if (!existsSync(statePath)) await CheckpointSigner.init(statePath, origin);
  const checkpointer = new CheckpointSigner({
    statePath,
    origin,
    signer: ed25519Signer(origin, logKey, (m) => logToken.signEd25519(m)),
  });
  writeFileSync(`${opts.dataDir}/log-key.vkey`, `${formatVerifierKey(origin, logKey)}\n`);
  const coordinator = await Coordinator.open(store, { rosterPin, genesis: signed, now, checkpointer });
  const signers = new Map<string, { signer: string; sign: PayloadSigner }>([
    ['station-lux', { signer: 'station/station-lux', sign: edSigner(station.privateKey) }],
    ['backup-job', { signer: 'job/backup-job', sign: edSigner(job.privateKey) }],
    ['auditor-1', { signer: 'auditor/auditor-1', sign: edSigner(auditor.privateKey) }],
    ...[...extraStations].map(
      ([id, k]) => [id, { signer: `station/${id}`, sign: edSigner(k.privateKey) }] as const,
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
      if (!s) throw new Error(`no principal ${principal} in this world`);
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

/**
 * The deployment a ceremony runs against: the station's signing key, the store and coordinator
 * (roster chain, snapshots, audit log), the custodians' tokens, and the people (administrator and
 * witness). `openDeployment(dataDir)` loads it from `DIR/ceremony-deployment.json`;
 * `createRehearsal()` builds a throwaway one on SoftHSM2 tokens (initDevTokens) for `--rehearse`.
 * @module
 */
import {
  createPrivateKey,
  generateKeyPairSync,
  type KeyObject,
  sign as nodeSign,
  randomBytes,
} from 'node:crypto';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { type Custodian, initDevTokens, openCustodian, openLogToken, resolvePin } from '../hsm/index.ts';
import { CheckpointSigner } from '../src/audit/checkpoint.ts';
import { ed25519Signer } from '../src/audit/note.ts';
import { createApp } from '../src/coordinator/app.ts';
import { CoordinatorClient, type PayloadSigner } from '../src/coordinator/client.ts';
import { type Caller, Coordinator } from '../src/coordinator/service.ts';
import { ReleaseJournal } from '../src/custodian/journal.ts';
import { buildWorld, type WorldCustodian } from '../src/demo/world.ts';
import { findCustodian, type RosterDoc, tokenSigner } from '../src/roster/index.ts';
import { openStore, type Store, storeOptionsFromEnv } from '../src/store/index.ts';
import { atomicWriteFile } from './persist.ts';
import { CeremonyError } from './types.ts';

/** `DIR/ceremony-deployment.json`. */
export interface DeploymentFile {
  format: 'data-embassy/ceremony-deployment/v1';
  /** rosterId (hex) of the pinned genesis roster. */
  rosterPin: string;
  station: { id: string; keyFile: string };
  administrator: string;
  witness: string;
  /** Read PINs from DIR/dev-pins.json (SoftHSM2 development tokens only). */
  dev: boolean;
  pinFile?: string;
}

/** What a step may ask of the people in the room; rehearsals answer automatically. */
export type Confirm = (
  role: 'administrator' | 'witness',
  step: string,
  prompt: string,
) => Promise<{ who: string; note?: string }>;

export interface CeremonyEnv {
  readonly dataDir: string;
  readonly rehearsal: boolean;
  readonly store: Store;
  readonly coordinator: Coordinator;
  readonly station: { id: string; ref: string; sign: PayloadSigner };
  readonly administrator: string;
  readonly witness: string;
  readonly confirm: Confirm;
  /** Custodians that are absent (cannot present their token) in this run. */
  readonly absent: Set<string>;
  /** The roster version in force. */
  roster(): RosterDoc;
  /** Opens (once) a custodian's token by its roster token label; `tokenLabel` for one not yet enrolled. */
  custodian(id: string, tokenLabel?: string): Promise<Custodian>;
  /** A signed-request client for a principal, pinned to the roster in force, over the in-process app. */
  client(principal: string): CoordinatorClient;
  /** The custodian's local release journal. */
  journal(id: string): ReleaseJournal;
  /** A station Caller for coordinator calls made in-process. */
  stationCaller(): Caller;
  now(): Date;
  close(): Promise<void>;
}

export const DEPLOYMENT_FILE = 'ceremony-deployment.json';

const edSigner =
  (k: KeyObject): PayloadSigner =>
  async (p) =>
    new Uint8Array(nodeSign(null, p, k));

export interface OpenOptions {
  confirm?: Confirm;
  /** Custodians who cannot present their token in this run. */
  absent?: string[];
  now?: () => Date;
  /** Module path for the tokens (default: SoftHSM2, or EMBASSY_PKCS11_MODULE). */
  module?: string;
}

const autoConfirm =
  (administrator: string, witness: string): Confirm =>
  async (role) => ({ who: role === 'administrator' ? administrator : witness });

/**
 * The log's checkpoint signer, when the deployment keeps one (DIR/checkpoint-state, written when
 * the log was set up): the Ed25519 key in the `log` token, PIN from the deployment's sources.
 */
async function checkpointerOf(dir: string, origin: string, dep: DeploymentFile) {
  const statePath = join(dir, 'checkpoint-state');
  if (!existsSync(statePath)) return undefined;
  const { pin } = await resolvePin({
    label: 'log',
    dev: dep.dev,
    dataDir: dir,
    ...(dep.pinFile ? { pinFile: resolve(dir, dep.pinFile) } : {}),
  });
  const token = await openLogToken({ label: 'log', pin });
  const publicKey = await token.ed25519PublicKey();
  const signer = new CheckpointSigner({
    statePath,
    origin,
    signer: ed25519Signer(origin, publicKey, (m) => token.signEd25519(m)),
  });
  return { token, signer };
}

/** Loads the deployment of `dataDir` (DIR/ceremony-deployment.json). */
export async function openDeployment(dataDir: string, opts: OpenOptions = {}): Promise<CeremonyEnv> {
  const dir = resolve(dataDir);
  const path = join(dir, DEPLOYMENT_FILE);
  if (!existsSync(path))
    throw new CeremonyError(
      'ceremony_precondition',
      `${path} does not exist: describe the deployment (roster pin, station key) first, or use --rehearse`,
    );
  const dep = JSON.parse(readFileSync(path, 'utf8')) as DeploymentFile;
  if (dep.format !== 'data-embassy/ceremony-deployment/v1')
    throw new CeremonyError('ceremony_precondition', `${path} is not a ceremony deployment file`);
  if (dep.dev) {
    const conf = join(dir, 'softhsm2.conf');
    if (existsSync(conf) && process.env['SOFTHSM2_CONF'] === undefined) process.env['SOFTHSM2_CONF'] = conf;
  }
  const stationKey = createPrivateKey(readFileSync(resolve(dir, dep.station.keyFile)));
  const now = opts.now ?? (() => new Date());
  const store = await openStore(storeOptionsFromEnv(dir));
  const checkpoints = await checkpointerOf(dir, store.origin, dep);
  const coordinator = await Coordinator.open(store, {
    rosterPin: dep.rosterPin,
    now,
    ...(checkpoints ? { checkpointer: checkpoints.signer } : {}),
  });
  const { app } = createApp(coordinator);
  const tokens = new Map<string, Custodian>();
  const journals = new Map<string, ReleaseJournal>();
  const station = { id: dep.station.id, ref: `station/${dep.station.id}`, sign: edSigner(stationKey) };
  const env: CeremonyEnv = {
    dataDir: dir,
    rehearsal: dep.dev,
    store,
    coordinator,
    station,
    administrator: dep.administrator,
    witness: dep.witness,
    confirm: opts.confirm ?? autoConfirm(dep.administrator, dep.witness),
    absent: new Set(opts.absent ?? []),
    roster: () => coordinator.roster,
    async custodian(id, tokenLabel) {
      if (env.absent.has(id))
        throw new CeremonyError(
          'ceremony_precondition',
          `custodian "${id}" is absent: their token is not here`,
        );
      const open = tokens.get(id);
      if (open) return open;
      const label = tokenLabel ?? findCustodian(coordinator.roster, id)?.tokenLabel;
      if (label === undefined)
        throw new CeremonyError('ceremony_precondition', `"${id}" is not a custodian of the roster in force`);
      const { pin } = await resolvePin({
        label,
        dev: dep.dev,
        dataDir: dir,
        ...(dep.pinFile ? { pinFile: resolve(dir, dep.pinFile) } : {}),
        ...(opts.module ? { module: opts.module } : {}),
      });
      const token = await openCustodian({ label, pin, ...(opts.module ? { module: opts.module } : {}) });
      tokens.set(id, token);
      return token;
    },
    client(principal) {
      const isStation = principal === station.id;
      const sign: PayloadSigner = isStation
        ? station.sign
        : async (p) => tokenSigner(await env.custodian(principal))(p);
      return new CoordinatorClient({
        baseUrl: 'http://coordinator.invalid',
        principal,
        signer: isStation ? station.ref : `custodian/${principal}`,
        rosterId: coordinator.rosterId,
        sign,
        fetch: async (url, init) => app.request(url, init),
        now,
      });
    },
    journal(id) {
      let j = journals.get(id);
      if (!j) {
        mkdirSync(join(dir, 'journals'), { recursive: true });
        j = new ReleaseJournal(join(dir, 'journals', `${id}-release-journal.jsonl`));
        journals.set(id, j);
      }
      return j;
    },
    stationCaller: () => ({
      id: station.id,
      ref: station.ref,
      role: 'station',
      nonce: randomBytes(16).toString('hex'),
    }),
    now,
    async close() {
      for (const t of tokens.values()) t.close();
      tokens.clear();
      checkpoints?.token.close();
      await store.close();
    },
  };
  return env;
}

export interface RehearsalOptions {
  /** Where to build it (default: a new temporary directory). */
  dataDir?: string;
  /** Domains with an epoch-1 key in the genesis roster (default `land`). */
  domains?: string[];
  /** Custodians in the genesis roster (default 5); one spare token more is created for enrolment. */
  custodians?: number;
  threshold?: number;
  log?: (line: string) => void;
}

/**
 * A throwaway deployment on SoftHSM2 (initDevTokens): N custodian tokens plus one spare, a key per
 * domain, the genesis roster signed by every custodian token, a station key, and the store.
 * Returns the data directory; open it with {@link openDeployment}.
 */
export async function createRehearsal(opts: RehearsalOptions = {}): Promise<string> {
  const dataDir = resolve(opts.dataDir ?? mkdtempSync(join(tmpdir(), 'embassy-rehearsal-')));
  mkdirSync(dataDir, { recursive: true });
  if (existsSync(join(dataDir, DEPLOYMENT_FILE))) return dataDir;
  const n = opts.custodians ?? 5;
  await initDevTokens({ dataDir, custodians: n + 1 });
  const names = ['Kadri Tamm', 'Jaan Saar', 'Liis Kask', 'Peeter Mägi', 'Anu Rebane', 'Mart Kull'];
  const orgs = ['Ministry of Justice', 'State Treasury', 'Information System Authority'];
  const custodians: WorldCustodian[] = Array.from({ length: n }, (_, i) => ({
    id: `custodian-${i + 1}`,
    name: names[i % names.length]!,
    organisation: orgs[Math.floor(i / 2) % orgs.length]!,
  }));
  const stationKey = generateKeyPairSync('ed25519').privateKey;
  const world = await buildWorld({
    dataDir,
    custodians,
    domains: opts.domains ?? ['land'],
    threshold: opts.threshold ?? 3,
    stationKey,
    ...(opts.log ? { log: opts.log } : {}),
  });
  const rosterPin = world.rosterPin;
  await world.close();
  atomicWriteFile(
    join(dataDir, 'station-key.pem'),
    stationKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
    0o600,
  );
  const dep: DeploymentFile = {
    format: 'data-embassy/ceremony-deployment/v1',
    rosterPin,
    station: { id: 'station-lux', keyFile: 'station-key.pem' },
    administrator: 'Rehearsal administrator',
    witness: 'Rehearsal witness',
    dev: true,
  };
  atomicWriteFile(join(dataDir, DEPLOYMENT_FILE), `${JSON.stringify(dep, null, 2)}\n`, 0o600);
  writeFileSync(join(dataDir, 'REHEARSAL'), 'throwaway SoftHSM2 deployment for a ceremony rehearsal\n');
  return dataDir;
}

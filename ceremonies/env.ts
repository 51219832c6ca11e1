/**
 * The deployment a ceremony runs against: the station's signing key, the store and coordinator
 * (roster chain, snapshots, audit log), the custodians' tokens, and the people (administrator and
 * witness). `openDeployment(dataDir)` loads it from `DIR/ceremony-deployment.json`. A rehearsal
 * is a throwaway development deployment that the caller builds ({@link BuildRehearsal}: the CLI
 * injects src/devkit's), so ceremonies/ never imports development code.
 * @module
 */
import { createPrivateKey, randomBytes } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { type Custodian, openCustodian, openLogToken, resolvePin } from '../hsm/index.ts';
import { checkpointSignerPolicy, checkpointStatePath } from '../src/audit/signer-policy.ts';
import { createApp } from '../src/coordinator/app.ts';
import type { Caller } from '../src/coordinator/caller.ts';
import { Coordinator } from '../src/coordinator/index.ts';
import { ed25519KeySigner } from '../src/crypto/ed25519-signer.ts';
import { ReleaseJournal } from '../src/custodian/journal.ts';
import { CoordinatorClient, type PayloadSigner } from '../src/protocol/client.ts';
import { findCustodian, type RosterDoc, tokenSigner } from '../src/roster/index.ts';
import { openStore, type Store, storeOptionsFromEnv } from '../src/store/index.ts';
import { type DeploymentFile, readDeploymentFile } from './deployment-file.ts';
import { CeremonyError } from './types.ts';

/**
 * Builds a throwaway development deployment for a rehearsal (in `dataDir`, else a new temporary
 * directory; an existing one is reused) and returns its data directory, which holds
 * DIR/ceremony-deployment.json. Injected by the caller: `embassy ceremony run --rehearse` passes
 * src/devkit's `createRehearsal`.
 */
export type BuildRehearsal = (opts: { dataDir?: string; log?: (line: string) => void }) => Promise<string>;

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
 * the log was set up): the Ed25519 key in the `log` token, PIN from the deployment's sources, under
 * the policy `embassy serve` runs (src/audit/signer-policy.ts).
 */
async function checkpointerOf(dir: string, store: Store, dep: DeploymentFile) {
  if (!existsSync(checkpointStatePath(dir))) return undefined;
  const { pin } = await resolvePin({
    label: 'log',
    dev: dep.dev,
    dataDir: dir,
    ...(dep.pinFile ? { pinFile: resolve(dir, dep.pinFile) } : {}),
  });
  const token = await openLogToken({ label: 'log', pin });
  const signer = (await checkpointSignerPolicy({ store, dataDir: dir, token }))!;
  return { token, signer };
}

/** Loads the deployment of `dataDir` (DIR/ceremony-deployment.json). */
export async function openDeployment(dataDir: string, opts: OpenOptions = {}): Promise<CeremonyEnv> {
  const dir = resolve(dataDir);
  const dep = readDeploymentFile(dir);
  if (dep.dev) {
    const conf = join(dir, 'softhsm2.conf');
    if (existsSync(conf) && process.env['SOFTHSM2_CONF'] === undefined) process.env['SOFTHSM2_CONF'] = conf;
  }
  const stationKey = createPrivateKey(readFileSync(resolve(dir, dep.station.keyFile)));
  const now = opts.now ?? (() => new Date());
  const store = await openStore(storeOptionsFromEnv(dir));
  const checkpoints = await checkpointerOf(dir, store, dep);
  const coordinator = await Coordinator.open(store, {
    rosterPin: dep.rosterPin,
    now,
    ...(checkpoints ? { checkpointer: checkpoints.signer } : {}),
  });
  const { app } = createApp(coordinator);
  const tokens = new Map<string, Custodian>();
  const journals = new Map<string, ReleaseJournal>();
  const station = {
    id: dep.station.id,
    ref: `station/${dep.station.id}`,
    sign: ed25519KeySigner(stationKey),
  };
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

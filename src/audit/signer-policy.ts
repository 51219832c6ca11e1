/**
 * The coordinator's checkpoint-signing policy, decided in one place: with a log token, checkpoints
 * are signed by the token's Ed25519 key (the coordinator signs at start, after every ceremony close
 * and on its schedule), and the last signed checkpoint is kept in `<dataDir>/checkpoint-state`,
 * outside the database, so a restored database cannot make the signer sign a fork
 * (docs/DECISIONS.md#d6). A missing state file is created only for a log that has never had a signed
 * checkpoint; otherwise it must be restored, never re-created. Without a token, checkpoints are not
 * signed.
 *
 * @example
 * const token = label ? await openLogToken(access) : undefined;
 * const checkpointer = await checkpointSignerPolicy({ store, dataDir, token });
 * const coordinator = await Coordinator.open(store, { rosterPin, ...(checkpointer ? { checkpointer } : {}) });
 * @module
 */
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import type { LogToken } from '../../hsm/index.ts';
import { EmbassyError } from '../errors.ts';
import { ed25519Signer } from '../log/note.ts';
import type { Store } from '../store/index.ts';
import { latestCheckpoint } from './log.ts';
import { CheckpointSigner } from './signer.ts';

export type SignerPolicyErrorCode = 'checkpoint_state_missing';
export class SignerPolicyError extends EmbassyError<SignerPolicyErrorCode> {}

export interface SignerPolicyOptions {
  store: Store;
  /** The coordinator's local state directory (holds `checkpoint-state`). */
  dataDir: string;
  /** The opened log token; none means checkpoints are not signed. */
  token?: Pick<LogToken, 'ed25519PublicKey' | 'signEd25519'>;
}

/** Where the last signed checkpoint of a coordinator with data directory `dataDir` is kept. */
export const checkpointStatePath = (dataDir: string): string => join(dataDir, 'checkpoint-state');

/**
 * The checkpoint signer a coordinator runs with, or undefined without a token.
 * @throws {SignerPolicyError} `checkpoint_state_missing` when the log has signed checkpoints but the state file is gone
 */
export async function checkpointSignerPolicy(
  opts: SignerPolicyOptions,
): Promise<CheckpointSigner | undefined> {
  const { store, token } = opts;
  if (token === undefined) return undefined;
  const statePath = checkpointStatePath(opts.dataDir);
  if (!existsSync(statePath)) {
    if (await latestCheckpoint(store.db))
      throw new SignerPolicyError(
        'checkpoint_state_missing',
        `${statePath} is missing but the log has signed checkpoints: restore it, never re-create it`,
      );
    await CheckpointSigner.init(statePath, store.origin);
  }
  const publicKey = await token.ed25519PublicKey();
  return new CheckpointSigner({
    statePath,
    origin: store.origin,
    signer: ed25519Signer(store.origin, publicKey, (m) => token.signEd25519(m)),
  });
}

// The coordinator's checkpoint-signing policy (src/audit/signer-policy.ts): no token, no signer; a
// new log gets its state file; a log with signed checkpoints and no state file is refused.
import { generateKeyPairSync, sign } from 'node:crypto';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckpointSigner } from '../../src/audit/signer.ts';
import { checkpointSignerPolicy, checkpointStatePath } from '../../src/audit/signer-policy.ts';
import { openStore } from '../../src/store/index.ts';
import { type TestWorld, testWorld } from '../coordinator/world.ts';

const { publicKey, privateKey } = generateKeyPairSync('ed25519');
const token = {
  ed25519PublicKey: async () =>
    new Uint8Array(publicKey.export({ format: 'der', type: 'spki' }).subarray(-32)),
  signEd25519: async (m: Uint8Array) => new Uint8Array(sign(null, m, privateKey)),
};

describe('checkpoint signer policy', () => {
  let w: TestWorld;
  const dirs: string[] = [];
  const tmp = () => {
    const d = mkdtempSync(join(tmpdir(), 'embassy-signer-policy-'));
    dirs.push(d);
    return d;
  };
  beforeAll(async () => {
    w = await testWorld('sqlite');
  });
  afterAll(async () => {
    await w?.cleanup();
    for (const d of dirs) rmSync(d, { recursive: true, force: true });
  });

  it('signs nothing without a log token', async () => {
    expect(await checkpointSignerPolicy({ store: w.store, dataDir: tmp() })).toBeUndefined();
  });

  it('starts the state file of a log that has never signed a checkpoint', async () => {
    const dataDir = tmp();
    const store = await openStore({ dataDir });
    try {
      const signer = await checkpointSignerPolicy({ store, dataDir, token });
      expect(signer).toBeInstanceOf(CheckpointSigner);
      expect(existsSync(checkpointStatePath(dataDir))).toBe(true);
    } finally {
      await store.close();
    }
  });

  it('refuses to re-create the state file of a log with signed checkpoints', async () => {
    await w.coordinator.checkpoint();
    const dataDir = tmp();
    await expect(checkpointSignerPolicy({ store: w.store, dataDir, token })).rejects.toMatchObject({
      code: 'checkpoint_state_missing',
    });
    expect(existsSync(checkpointStatePath(dataDir))).toBe(false);
  });
});

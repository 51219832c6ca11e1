// Export from a real store (SQLite and PostgreSQL), atomic write, and verification of the file.
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { exportBundle, readBundle, writeBundle } from '../../src/audit/bundle.ts';
import { appendEntry, issueCheckpoint } from '../../src/audit/log.ts';
import { CheckpointSigner } from '../../src/audit/signer.ts';
import { verifyBundle } from '../../src/audit/verify.ts';
import { formatVerifierKey } from '../../src/log/note.ts';
import type { Store } from '../../src/store/index.ts';
import { factories, freshStore } from '../store/helpers.ts';
import { logSigner, ORIGIN, resolveKey, storyInputs } from './bundle_helpers.ts';

describe.each(factories)('bundles from a store on $name', (f) => {
  let store: Store;
  let done: () => Promise<void>;
  let dir: string;
  let cs: CheckpointSigner;
  const logKey = formatVerifierKey(ORIGIN, logSigner.publicKey);
  beforeAll(async () => {
    ({ store, done } = await freshStore(f, { origin: ORIGIN }));
    dir = mkdtempSync(join(tmpdir(), 'embassy-bundle-'));
    await CheckpointSigner.init(join(dir, 'state'), ORIGIN);
    cs = new CheckpointSigner({ statePath: join(dir, 'state'), origin: ORIGIN, signer: logSigner });
  });
  afterAll(async () => {
    await done();
    rmSync(dir, { recursive: true, force: true });
  });

  it('refuses to export before any checkpoint', async () => {
    await expect(exportBundle(store)).rejects.toMatchObject({ code: 'bundle_no_checkpoint' });
  });

  it('exports up to the latest checkpoint, writes atomically, and the file verifies anchored', async () => {
    await store.transaction((trx) =>
      trx
        .insertInto('roster_versions')
        .values({
          version: 1,
          roster_id: 'ab'.repeat(32),
          signed_json: '{"signatures":[],"version":"1"}',
          created_at: 'x',
        })
        .execute(),
    );
    const inputs = await storyInputs(5);
    for (const [k, input] of inputs.entries()) {
      await store.transaction((trx) => appendEntry(trx, input));
      if (k === 3) await issueCheckpoint(store, cs);
    }
    const first = await exportBundle(store);
    expect(first.treeSize).toBe(4);
    const trusted = first.checkpoints.at(-1)!;
    const cp = await issueCheckpoint(store, cs);
    await store.transaction((trx) => appendEntry(trx, { kind: 'late', actor: 'coordinator' })); // not checkpointed yet

    const path = join(dir, 'audit.bundle.json');
    const w = await writeBundle(store, path);
    expect(w).toEqual({ path, treeSize: cp.size, checkpoints: 2 });
    expect(readdirSync(dir).filter((n) => n.includes('.tmp-'))).toEqual([]);
    const b = await readBundle(path);
    const r = verifyBundle(b, { logKey, trustedCheckpoint: trusted, resolveKey });
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({
      anchored: true,
      entries: cp.size,
      checkpoints: 2,
      root: cp.root,
      statementsVerified: 3,
    });
    expect((b as { rosterVersions: unknown[] }).rosterVersions).toEqual([
      { version: 1, rosterId: 'ab'.repeat(32), signed: { signatures: [], version: '1' } },
    ]);

    // `head` includes the uncheckpointed tail, which the verifier names
    const all = await exportBundle(store, { upTo: 'head' });
    const r2 = verifyBundle(all, { logKey });
    expect(r2.findings.map((x) => [x.code, x.seq])).toEqual([['ENTRY_NOT_CHECKPOINTED', cp.size]]);
  });

  it('leaves no file behind when the write fails', async () => {
    const path = join(dir, 'missing-dir', 'b.json');
    await expect(writeBundle(store, path)).rejects.toThrow();
    expect(existsSync(path)).toBe(false);
  });
});

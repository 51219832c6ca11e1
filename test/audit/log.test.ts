// The audit log's database side, on SQLite and PostgreSQL.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  AuditLogError,
  appendEntry,
  consistencyProof,
  entries,
  inclusionProof,
  issueCheckpoint,
  latestCheckpoint,
  rootAt,
  treeHead,
} from '../../src/audit/log.ts';
import { CheckpointSigner } from '../../src/audit/signer.ts';
import { fromHex, toHex } from '../../src/crypto/bytes.ts';
import { type JsonValue, parseCanonical } from '../../src/crypto/jcs.ts';
import { signStatement } from '../../src/crypto/statement.ts';
import { openCheckpoint } from '../../src/log/checkpoint.ts';
import { leafHash, MerkleTree, verifyConsistency, verifyInclusion } from '../../src/log/merkle.ts';
import { ed25519Verifier, softwareEd25519Signer } from '../../src/log/note.ts';
import type { Store } from '../../src/store/index.ts';
import { factories, freshStore } from '../store/helpers.ts';

const ORIGIN = 'test.example/audit';
const utf8 = (s: string) => new TextEncoder().encode(s);

describe.each(factories)('audit log on $name', (f) => {
  let store: Store;
  let done: () => Promise<void>;
  let dir: string;
  beforeAll(async () => {
    ({ store, done } = await freshStore(f, { origin: ORIGIN }));
    dir = mkdtempSync(join(tmpdir(), 'embassy-log-'));
  });
  afterAll(async () => {
    await done();
    rmSync(dir, { recursive: true, force: true });
  });

  it('appends in the transaction of the change; a rollback drops both', async () => {
    const r = await store.transaction(async (trx) => {
      await trx.insertInto('nonces').values({ principal_id: 'p', nonce: 'kept', seen_at: 't' }).execute();
      return appendEntry(trx, { kind: 'test-change', actor: 'coordinator', data: { nonce: 'kept' } });
    });
    expect(r.seq).toBe(0);
    await expect(
      store.transaction(async (trx) => {
        await trx
          .insertInto('nonces')
          .values({ principal_id: 'p', nonce: 'dropped', seen_at: 't' })
          .execute();
        await appendEntry(trx, { kind: 'test-change', actor: 'coordinator', data: { nonce: 'dropped' } });
        throw new Error('the change failed after its entry');
      }),
    ).rejects.toThrow('the change failed');
    // and an entry that is refused aborts the change
    await expect(
      store.transaction(async (trx) => {
        await trx
          .insertInto('nonces')
          .values({ principal_id: 'p', nonce: 'refused', seen_at: 't' })
          .execute();
        await appendEntry(trx, { kind: 'test-change', actor: 'coordinator', data: { userPin: '1234' } });
      }),
    ).rejects.toMatchObject({ code: 'audit_secret_field' });
    const nonces = await store.db.selectFrom('nonces').select('nonce').execute();
    expect(nonces.map((n) => n.nonce)).toEqual(['kept']);
    const head = await treeHead(store.db);
    expect(head.size).toBe(1);
    const [e] = await entries(store.db, 0, 10);
    const v = parseCanonical(utf8(e!.entry)) as Record<string, unknown>;
    expect(v).toMatchObject({
      v: 1,
      origin: ORIGIN,
      seq: '0',
      prev: '0'.repeat(64),
      kind: 'test-change',
      actor: 'coordinator',
      data: { nonce: 'kept' },
    });
    expect(v.time).toMatch(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/);
    expect(e!.leafHash).toBe(toHex(leafHash(utf8(e!.entry))));
    expect(head.root).toBe(e!.leafHash);
  });

  it('refuses an append outside store.transaction', async () => {
    await expect(
      store.db.transaction().execute((trx) => appendEntry(trx, { kind: 'x', actor: 'coordinator' })),
    ).rejects.toMatchObject({ code: 'audit_not_in_transaction' });
  });

  it('refuses secret-looking fields and malformed entries with a clear error', async () => {
    const bad: { data: Record<string, JsonValue> }[] = [
      { data: { share: 'AAAA' } },
      { data: { nested: [{ wrappedShare: 'x' }] } },
      { data: { dek: 'x' } },
      { data: { stationPrivateKey: 'x' } },
      { data: { secret: 1 } },
      { data: { seed: 'x' } },
      { data: { note: '-----BEGIN PRIVATE KEY-----\nMC4…' } },
    ];
    for (const b of bad) {
      const err = await store
        .transaction((trx) => appendEntry(trx, { kind: 'x', actor: 'coordinator', ...b }))
        .catch((e) => e);
      expect(err).toBeInstanceOf(AuditLogError);
      expect(err.code).toBe('audit_secret_field');
      expect(err.message).not.toContain('MC4');
      expect(err.message).toMatch(/^audit entry refused: \/data\//);
    }
    // public facts with similar names are fine
    await store.transaction((trx) =>
      appendEntry(trx, {
        kind: 'x',
        actor: 'coordinator',
        data: { shareCommitment: 'ab', rosterPin: 'cd', blobHash: 'ef', sharesReleased: 2 },
      }),
    );
    for (const input of [
      { kind: 'Bad Kind', actor: 'coordinator' },
      { kind: 'x', actor: '' },
      { kind: 'x', actor: 'coordinator', data: { n: Number.NaN } },
      { kind: 'x', actor: 'coordinator', statement: { type: 'approval' } },
    ])
      await expect(
        // biome-ignore lint/suspicious/noExplicitAny: bad input on purpose
        store.transaction((trx) => appendEntry(trx, input as any)),
      ).rejects.toMatchObject({ code: 'audit_bad_entry' });
  });

  it('embeds a signed statement verbatim; the actor must be its signer; its body is guarded too', async () => {
    const station = softwareEd25519Signer('station/ee-1');
    const stmt = await signStatement(
      { type: 'unlock-request', roster: 'ab'.repeat(32), signer: 'station/ee-1', body: { ceremony: 'c-1' } },
      (p) => station.sign(p),
    );
    const r = await store.transaction((trx) =>
      appendEntry(trx, {
        kind: 'unlock-request',
        actor: 'station/ee-1',
        statement: stmt,
        data: { ceremony: 'c-1' },
      }),
    );
    const [e] = await entries(store.db, r.seq, r.seq + 1);
    expect((parseCanonical(utf8(e!.entry)) as { statement: unknown }).statement).toEqual(stmt);
    await expect(
      store.transaction((trx) =>
        appendEntry(trx, { kind: 'unlock-request', actor: 'coordinator', statement: stmt }),
      ),
    ).rejects.toMatchObject({ code: 'audit_bad_entry' });
    const leaky = await signStatement(
      { type: 'release', roster: 'ab'.repeat(32), signer: 'station/ee-1', body: { dek: 'x' } },
      (p) => station.sign(p),
    );
    await expect(
      store.transaction((trx) =>
        appendEntry(trx, { kind: 'release', actor: 'station/ee-1', statement: leaky }),
      ),
    ).rejects.toMatchObject({ code: 'audit_secret_field' });
  });

  it('serves roots and proofs equal to an in-memory tree, and chains prev leaf hashes', async () => {
    for (let i = 0; i < 37; i++)
      await store.transaction((trx) =>
        appendEntry(trx, { kind: 'filler', actor: 'coordinator', data: { i } }),
      );
    const head = await treeHead(store.db);
    const all = await entries(store.db, 0, head.size);
    expect(all.map((e) => e.seq)).toEqual([...Array(head.size).keys()]);
    const tree = MerkleTree.fromLeafHashes(all.map((e) => leafHash(utf8(e.entry))));
    expect(head.root).toBe(toHex(tree.root()));
    for (let i = 1; i < all.length; i++)
      expect((parseCanonical(utf8(all[i]!.entry)) as { prev: string }).prev).toBe(all[i - 1]!.leafHash);
    for (const size of [1, 2, 7, 16, 17, head.size]) {
      expect(await rootAt(store.db, size)).toBe(toHex(tree.rootAt(size)));
      for (const seq of [0, Math.floor(size / 2), size - 1]) {
        const p = await inclusionProof(store.db, seq, size);
        expect(p.proof).toEqual(tree.inclusionProof(seq, size).map(toHex));
        expect(verifyInclusion(fromHex(p.leafHash), seq, size, p.proof.map(fromHex), fromHex(p.root))).toBe(
          true,
        );
      }
      for (const s1 of [1, Math.max(1, size - 3), size]) {
        const c = await consistencyProof(store.db, s1, size);
        expect(c.proof).toEqual(tree.consistencyProof(s1, size).map(toHex));
        expect(verifyConsistency(s1, size, fromHex(c.root1), fromHex(c.root2), c.proof.map(fromHex))).toBe(
          true,
        );
      }
    }
    await expect(inclusionProof(store.db, 0, head.size + 1)).rejects.toMatchObject({
      code: 'audit_bad_range',
    });
    await expect(consistencyProof(store.db, 0, 3)).rejects.toMatchObject({ code: 'audit_bad_range' });
    await expect(entries(store.db, 5, 2)).rejects.toMatchObject({ code: 'audit_bad_range' });
  });

  it('issues checkpoints of committed state and refuses loudly after a rollback', async () => {
    const statePath = join(dir, `state-${f.name}`);
    await CheckpointSigner.init(statePath, ORIGIN);
    const signer = softwareEd25519Signer(ORIGIN);
    const cs = new CheckpointSigner({ statePath, origin: ORIGIN, signer });
    expect(await latestCheckpoint(store.db)).toBeNull();
    const c1 = await issueCheckpoint(store, cs);
    const head = await treeHead(store.db);
    expect(c1).toMatchObject({ size: head.size, root: head.root });
    const v = ed25519Verifier(ORIGIN, signer.publicKey);
    expect(toHex(openCheckpoint(c1.note, [v], ORIGIN).root)).toBe(head.root);
    await store.transaction((trx) =>
      appendEntry(trx, { kind: 'ceremony-close', actor: 'coordinator', data: { ceremony: 'c-1' } }),
    );
    const c2 = await issueCheckpoint(store, cs); // needs a consistency proof from c1
    expect(c2.size).toBe(c1.size + 1);
    expect((await latestCheckpoint(store.db))!.note).toBe(c2.note);
    // issuing again without new entries re-signs the same head
    expect((await issueCheckpoint(store, cs)).size).toBe(c2.size);

    // simulate a rolled-back database: drop the last entry behind the log's back
    const last = c2.size - 1;
    await store.db.deleteFrom('audit_entries').where('seq', '=', last).execute();
    await store.db.updateTable('log_head').set({ size: last, root: c1.root }).where('id', '=', 1).execute();
    const err = await issueCheckpoint(store, cs).catch((e) => e);
    expect(err).toMatchObject({ code: 'audit_checkpoint_refused', reason: 'checkpoint_rollback' });
    // a signer of another log is refused before signing
    const otherPath = join(dir, `other-${f.name}`);
    await CheckpointSigner.init(otherPath, 'other.example/log');
    const other = new CheckpointSigner({
      statePath: otherPath,
      origin: 'other.example/log',
      signer: softwareEd25519Signer('other.example/log'),
    });
    await expect(issueCheckpoint(store, other)).rejects.toMatchObject({ code: 'audit_origin_mismatch' });
  });
});

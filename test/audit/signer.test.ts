// The CheckpointSigner: it signs only checkpoints consistent with the last one it signed (kept in a
// file outside the database), and refuses loudly otherwise.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CheckpointSigner } from '../../src/audit/signer.ts';
import { CheckpointError, formatCheckpoint, openCheckpoint } from '../../src/log/checkpoint.ts';
import { EMPTY_ROOT, leafHash, MerkleTree } from '../../src/log/merkle.ts';
import { ed25519Verifier, NoteError, softwareEd25519Signer } from '../../src/log/note.ts';

const ORIGIN = 'embassy.example.gov/audit';
const signer = softwareEd25519Signer(ORIGIN, new Uint8Array(32).fill(9));
const verifier = ed25519Verifier(signer.name, signer.publicKey);
const tree = MerkleTree.fromLeafHashes(Array.from({ length: 40 }, (_, i) => leafHash(Uint8Array.of(i))));

const code = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    if (e instanceof CheckpointError || e instanceof NoteError) return e.code;
    throw e;
  }
  return 'ok';
};

describe('CheckpointSigner', () => {
  let dir: string;
  let statePath: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'cp-'));
    statePath = join(dir, 'log-state');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('good_ signs a growing, consistent log and the notes open', async () => {
    await CheckpointSigner.init(statePath, ORIGIN);
    const cs = new CheckpointSigner({ statePath, origin: ORIGIN, signer });
    const n0 = await cs.sign(0, EMPTY_ROOT);
    expect(openCheckpoint(n0, [verifier], ORIGIN).size).toBe(0);
    await cs.sign(5, tree.rootAt(5));
    await cs.sign(5, tree.rootAt(5)); // re-signing the same checkpoint is fine
    const note = await cs.sign(40, tree.root(), tree.consistencyProof(5, 40));
    const c = openCheckpoint(note, [verifier], ORIGIN);
    expect(c.size).toBe(40);
    expect(c.root).toEqual(tree.root());
    expect(readFileSync(statePath, 'utf8')).toBe(
      formatCheckpoint({ origin: ORIGIN, size: 40, root: tree.root() }),
    );
    // A fresh signer (a restart) picks up the state from the file.
    const again = new CheckpointSigner({ statePath, origin: ORIGIN, signer });
    expect((await again.last()).size).toBe(40);
  });

  it('fail_ refuses a rollback, a fork, and a missing or bad consistency proof', async () => {
    await CheckpointSigner.init(statePath, ORIGIN);
    const cs = new CheckpointSigner({ statePath, origin: ORIGIN, signer });
    await cs.sign(10, tree.rootAt(10));
    expect(await code(cs.sign(9, tree.rootAt(9)))).toBe('checkpoint_rollback');
    expect(await code(cs.sign(0, EMPTY_ROOT))).toBe('checkpoint_rollback');
    expect(await code(cs.sign(10, tree.rootAt(11)))).toBe('checkpoint_fork');
    expect(await code(cs.sign(20, tree.rootAt(20)))).toBe('checkpoint_inconsistent');
    expect(await code(cs.sign(20, tree.rootAt(20), tree.consistencyProof(9, 20)))).toBe(
      'checkpoint_inconsistent',
    );
    const other = MerkleTree.fromLeafHashes(
      Array.from({ length: 20 }, (_, i) => leafHash(Uint8Array.of(i, 1))),
    );
    expect(await code(cs.sign(20, other.root(), other.consistencyProof(10, 20)))).toBe(
      'checkpoint_inconsistent',
    );
    expect(await code(cs.sign(20, other.root(), tree.consistencyProof(10, 20)))).toBe(
      'checkpoint_inconsistent',
    );
    // Nothing refused changed the state.
    expect((await cs.last()).size).toBe(10);
    expect(await code(cs.sign(20, tree.rootAt(20), tree.consistencyProof(10, 20)))).toBe('ok');
  });

  it('fail_ refuses a fork even when two requests race', async () => {
    await CheckpointSigner.init(statePath, ORIGIN);
    const cs = new CheckpointSigner({ statePath, origin: ORIGIN, signer });
    await cs.sign(4, tree.rootAt(4));
    const forked = MerkleTree.fromLeafHashes(
      Array.from({ length: 8 }, (_, i) => leafHash(Uint8Array.of(i < 4 ? i : 99))),
    );
    expect(forked.rootAt(4)).toEqual(tree.rootAt(4));
    const results = await Promise.all([
      code(cs.sign(8, tree.rootAt(8), tree.consistencyProof(4, 8))),
      code(cs.sign(8, forked.root(), forked.consistencyProof(4, 8))),
    ]);
    expect(results).toEqual(['ok', 'checkpoint_fork']);
    // Two signer objects on one state file share the queue.
    const cs2 = new CheckpointSigner({ statePath, origin: ORIGIN, signer });
    const both = await Promise.all([
      code(cs.sign(12, tree.rootAt(12), tree.consistencyProof(8, 12))),
      code(cs2.sign(12, forked.rootAt(4), [])),
    ]);
    expect(both).toEqual(['ok', 'checkpoint_fork']);
  });

  it('fail_ missing, corrupt or foreign state; init refuses to overwrite', async () => {
    const cs = new CheckpointSigner({ statePath, origin: ORIGIN, signer });
    expect(await code(cs.sign(1, tree.rootAt(1)))).toBe('checkpoint_state_missing');
    await CheckpointSigner.init(statePath, ORIGIN);
    expect(await code(CheckpointSigner.init(statePath, ORIGIN))).toBe('checkpoint_state_exists');
    writeFileSync(statePath, 'garbage');
    expect(await code(cs.sign(1, tree.rootAt(1)))).toBe('checkpoint_state_corrupt');
    writeFileSync(
      statePath,
      formatCheckpoint({ origin: 'other.example/log', size: 1, root: tree.rootAt(1) }),
    );
    expect(await code(cs.sign(1, tree.rootAt(1)))).toBe('checkpoint_wrong_origin');
  });

  it('init from a trusted checkpoint resumes a log whose state file was lost', async () => {
    await CheckpointSigner.init(statePath, ORIGIN, { origin: ORIGIN, size: 30, root: tree.rootAt(30) });
    const cs = new CheckpointSigner({ statePath, origin: ORIGIN, signer });
    expect(await code(cs.sign(30, tree.rootAt(31)))).toBe('checkpoint_fork');
    expect(await code(cs.sign(40, tree.root(), tree.consistencyProof(30, 40)))).toBe('ok');
  });

  it('fail_ openCheckpoint: wrong origin, wrong key, malformed body', async () => {
    await CheckpointSigner.init(statePath, ORIGIN);
    const cs = new CheckpointSigner({ statePath, origin: ORIGIN, signer });
    const note = await cs.sign(3, tree.rootAt(3));
    expect(() => openCheckpoint(note, [verifier], 'other.example/log')).toThrow(CheckpointError);
    const stranger = softwareEd25519Signer(ORIGIN);
    expect(() => openCheckpoint(note, [ed25519Verifier(stranger.name, stranger.publicKey)])).toThrow(
      NoteError,
    );
  });

  it('property: whatever it is asked, it never signs two inconsistent checkpoints', async () => {
    const honest = tree;
    const op = fc.record({
      size: fc.integer({ min: 0, max: 40 }),
      fork: fc.boolean(),
      proofFrom: fc.oneof(
        fc.constant('last' as const),
        fc.constant('none' as const),
        fc.integer({ min: 1, max: 40 }),
      ),
    });
    await fc.assert(
      fc.asyncProperty(
        fc.integer({ min: 0, max: 39 }),
        fc.array(op, { maxLength: 12 }),
        async (prefix, ops) => {
          const forked = MerkleTree.fromLeafHashes(
            Array.from({ length: 40 }, (_, i) =>
              leafHash(i < prefix ? Uint8Array.of(i) : Uint8Array.of(i, 7)),
            ),
          );
          const path = join(dir, `state-${Math.random().toString(36).slice(2)}`);
          await CheckpointSigner.init(path, ORIGIN);
          const cs = new CheckpointSigner({ statePath: path, origin: ORIGIN, signer });
          const signed: { size: number; root: Uint8Array; t: MerkleTree }[] = [];
          for (const o of ops) {
            const t = o.fork ? forked : honest;
            const last = await cs.last();
            const from = o.proofFrom === 'last' ? last.size : o.proofFrom === 'none' ? 0 : o.proofFrom;
            const proof = from >= 1 && from <= o.size ? t.consistencyProof(from, o.size) : [];
            try {
              const note = await cs.sign(o.size, t.rootAt(o.size), proof);
              const c = openCheckpoint(note, [verifier], ORIGIN);
              signed.push({ size: c.size, root: c.root, t });
            } catch (e) {
              expect(e).toBeInstanceOf(CheckpointError);
            }
          }
          for (const a of signed)
            for (const b of signed) if (b.size <= a.size) expect(b.root).toEqual(a.t.rootAt(b.size));
        },
      ),
      { numRuns: 60 },
    );
  });
});

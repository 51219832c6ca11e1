// Two real processes append concurrently to one database: the log stays gapless and consistent, and
// every state change has exactly its entry.
import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { entries, inclusionProof, treeHead } from '../../src/audit/log.ts';
import { fromHex, toHex } from '../../src/crypto/bytes.ts';
import { parseCanonical } from '../../src/crypto/jcs.ts';
import { leafHash, MerkleTree, verifyInclusion } from '../../src/log/merkle.ts';
import { factories } from '../store/helpers.ts';

const child = fileURLToPath(new URL('./log_child.ts', import.meta.url));
const N = 60;

function start(opts: unknown, name: string) {
  const p = spawn(process.execPath, ['--import', 'tsx', child, JSON.stringify(opts), name, String(N)], {
    stdio: ['pipe', 'pipe', 'pipe'],
  });
  let err = '';
  p.stderr.on('data', (d) => {
    err += d;
  });
  const ready = new Promise<void>((resolve, reject) => {
    p.stdout.once('data', () => resolve());
    p.once('exit', (code) => reject(new Error(`child ${name} exited early (${code}): ${err}`)));
  });
  const exited = new Promise<number>((resolve) => p.once('exit', (code) => resolve(code ?? -1)));
  return { p, ready, exited, stderr: () => err };
}

describe.each(factories)('two processes appending on $name', (f) => {
  it('produce a gapless, consistent log with one entry per change', async () => {
    const db = f.create();
    const store = await db.open(); // creates and migrates the database before the children start
    try {
      const a = start(db.options, 'proc-a');
      const b = start(db.options, 'proc-b');
      await Promise.all([a.ready, b.ready]);
      a.p.stdin.write('go\n');
      b.p.stdin.write('go\n');
      const [ca, cb] = await Promise.all([a.exited, b.exited]);
      expect([ca, cb, a.stderr(), b.stderr()]).toEqual([0, 0, '', '']);

      const head = await treeHead(store.db);
      expect(head.size).toBe(2 * N);
      const all = await entries(store.db, 0, head.size);
      expect(all.map((e) => e.seq)).toEqual([...Array(2 * N).keys()]);
      const tree = new MerkleTree();
      const seen = new Set<string>();
      let prev = '0'.repeat(64);
      let interleaved = 0;
      let lastActor = '';
      for (const e of all) {
        const v = parseCanonical(new TextEncoder().encode(e.entry)) as {
          seq: string;
          prev: string;
          actor: string;
          data: { i: number };
        };
        expect(v.seq).toBe(String(e.seq));
        expect(v.prev).toBe(prev);
        prev = e.leafHash;
        tree.append(leafHash(new TextEncoder().encode(e.entry)));
        seen.add(`${v.actor}/${v.data.i}`);
        if (lastActor !== '' && v.actor !== lastActor) interleaved++;
        lastActor = v.actor;
      }
      expect(seen.size).toBe(2 * N);
      expect(head.root).toBe(toHex(tree.root()));
      const nonces = await store.db.selectFrom('nonces').select(['principal_id', 'nonce']).execute();
      expect(nonces).toHaveLength(2 * N);
      const p = await inclusionProof(store.db, N, head.size);
      expect(
        verifyInclusion(fromHex(p.leafHash), N, head.size, p.proof.map(fromHex), fromHex(head.root)),
      ).toBe(true);
      // not a proof of concurrency, but a sanity check that the two really ran side by side
      expect(interleaved).toBeGreaterThan(0);
    } finally {
      await store.close();
      await db.cleanup();
    }
  });
});

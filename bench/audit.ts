/**
 * `npm run bench:audit` — audit log benchmark (issue 5 §4). Not a timed test.
 *
 * Part 1 (done here): offline verification of a generated 1,000,000-entry log, the work
 * `embassy audit verify` does without a database: read every entry, check it is canonical JCS
 * (re-canonicalise, compare byte for byte), hash it into the tree (RFC 9162, node:crypto), compare the
 * root at every checkpoint, and verify every checkpoint's Ed25519 signed note. Also: Merkle proofs and
 * the per-entry cost of actor signatures (ECDSA P-256 / Ed25519 via node:crypto), which dominate a real
 * bundle in proportion to how many entries carry one.
 *
 * Part 2: durable appends/s on SQLite (file, WAL, synchronous=FULL) and PostgreSQL (DATABASE_URL or
 * the test database of test/support/pg.ts, a throwaway schema), one entry per committed transaction, from one caller and
 * from 16 concurrent callers (serialised by the store's writer lock), and 100 entries per transaction.
 *
 * Options (env): BENCH_AUDIT_ENTRIES (default 1000000), BENCH_AUDIT_CHECKPOINT_EVERY (default 1000),
 * BENCH_AUDIT_APPENDS (default 2000), BENCH_AUDIT_PG_URL (default DATABASE_URL, else
 * EMBASSY_TEST_DATABASE_URL, else postgres://postgres@127.0.0.1:5432/test; "off" skips PostgreSQL).
 */
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { p256 } from '@noble/curves/nist.js';
import { sql } from 'kysely';
import { appendEntry } from '../src/audit/log.ts';
import { CheckpointSigner } from '../src/audit/signer.ts';
import { ed25519KeySigner, ed25519RawPublicKey } from '../src/crypto/ed25519-signer.ts';
import { jcs, parseCanonical } from '../src/crypto/jcs.ts';
import {
  type StatementKey,
  signStatement,
  verifyEcdsaP256Sha256,
  verifyStatement,
} from '../src/crypto/statement.ts';
import { openCheckpoint } from '../src/log/checkpoint.ts';
import { CompactRange, leafHash, MerkleTree, verifyConsistency, verifyInclusion } from '../src/log/merkle.ts';
import { ed25519Verifier, softwareEd25519Signer } from '../src/log/note.ts';
import { openStore, type Store } from '../src/store/index.ts';
import { TEST_DATABASE_URL } from '../test/support/pg.ts';

const N = Number(process.env.BENCH_AUDIT_ENTRIES ?? 1_000_000);
const EVERY = Number(process.env.BENCH_AUDIT_CHECKPOINT_EVERY ?? 1000);
const ORIGIN = 'embassy.example.gov/audit';
const now = () => performance.now();
const fmt = (ms: number) => `${(ms / 1000).toFixed(2)} s`;
const rate = (n: number, ms: number) => `${Math.round((n / ms) * 1000).toLocaleString('en')}/s`;

const rows: [string, string, string][] = [];
const row = (what: string, ms: number, n: number) => {
  rows.push([what, fmt(ms), rate(n, ms)]);
  console.error(`  ${what}: ${fmt(ms)} (${rate(n, ms)})`);
};

// ---- generate the bundle (not timed as verification) ----
console.error(`generating ${N.toLocaleString('en')} entries, a checkpoint every ${EVERY} …`);
let t = now();
const entries: Uint8Array[] = new Array(N);
const kinds = ['approval', 'unlock-request', 'snapshot-registered', 'release', 'ceremony-close'];
for (let i = 0; i < N; i++) {
  entries[i] = jcs({
    origin: ORIGIN,
    seq: String(i),
    time: new Date(1_790_000_000_000 + i * 1000).toISOString().replace('.000Z', 'Z'),
    kind: kinds[i % kinds.length]!,
    ceremony: `c-${(i >> 4).toString(16).padStart(8, '0')}`,
    digest: (i * 2654435761).toString(16).padStart(64, '0').slice(-64),
  });
}
const gen = now() - t;
const totalBytes = entries.reduce((a, e) => a + e.length, 0);
console.error(`  entries: ${fmt(gen)}, ${(totalBytes / 1e6).toFixed(1)} MB of JCS`);

t = now();
const dir = mkdtempSync(join(tmpdir(), 'bench-audit-'));
const statePath = join(dir, 'log-state');
await CheckpointSigner.init(statePath, ORIGIN);
const signer = softwareEd25519Signer(ORIGIN, new Uint8Array(32).fill(5));
const cs = new CheckpointSigner({ statePath, origin: ORIGIN, signer });
const tree = new MerkleTree();
const checkpoints: string[] = [];
let lastSize = 0;
for (let i = 0; i < N; i++) {
  tree.append(leafHash(entries[i]!));
  if ((i + 1) % EVERY === 0 || i === N - 1) {
    const size = i + 1;
    const proof = lastSize > 0 ? tree.consistencyProof(lastSize, size) : [];
    checkpoints.push(await cs.sign(size, tree.root(), proof));
    lastSize = size;
  }
}
const build = now() - t;
row(
  `log side: append ${N.toLocaleString('en')} leaves (MerkleTree) + sign ${checkpoints.length} checkpoints (fsync'd state)`,
  build,
  N,
);
rmSync(dir, { recursive: true, force: true });

// ---- offline verification ----
console.error('verifying …');
const verifier = ed25519Verifier(ORIGIN, signer.publicKey);

// (a) hashing only
t = now();
{
  const r = new CompactRange();
  for (let i = 0; i < N; i++) r.append(leafHash(entries[i]!));
  r.root();
}
const hashOnly = now() - t;
row('leaf + node hashing only (CompactRange)', hashOnly, N);

// (b) canonical check only
t = now();
for (let i = 0; i < N; i++) parseCanonical(entries[i]!);
const canon = now() - t;
row('JCS strict re-canonicalisation of every entry', canon, N);

// (c) checkpoints only
t = now();
for (const c of checkpoints) openCheckpoint(c, [verifier], ORIGIN);
const cps = now() - t;
row(`open ${checkpoints.length} checkpoints (Ed25519 verify + strict parse)`, cps, checkpoints.length);

// (d) the whole offline pass
t = now();
{
  const r = new CompactRange();
  let next = 0;
  const opened = checkpoints.map((c) => openCheckpoint(c, [verifier], ORIGIN));
  for (let i = 0; i < N; i++) {
    const e = entries[i]!;
    const v = parseCanonical(e) as { origin: string; seq: string };
    if (v.origin !== ORIGIN || v.seq !== String(i)) throw new Error(`entry ${i}: wrong origin or sequence`);
    r.append(leafHash(e));
    const cp = opened[next];
    if (cp !== undefined && cp.size === i + 1) {
      if (!Buffer.from(r.root()).equals(Buffer.from(cp.root)))
        throw new Error(`checkpoint ${cp.size}: root mismatch`);
      next++;
    }
  }
  if (next !== opened.length) throw new Error('not every checkpoint was reached');
}
const total = now() - t;
row(`TOTAL offline verify: ${N.toLocaleString('en')} entries, ${checkpoints.length} checkpoints`, total, N);

// (e) proofs against the built tree
t = now();
const P = 100_000;
for (let k = 0; k < P; k++) {
  const i = (k * 7919) % N;
  const proof = tree.inclusionProof(i, N);
  if (!verifyInclusion(leafHash(entries[i]!), i, N, proof, tree.root())) throw new Error('inclusion failed');
}
row(`inclusion proof generate + verify at n=${N.toLocaleString('en')}`, now() - t, P);
t = now();
const C = 10_000;
const rootN = tree.root();
for (let k = 1; k <= C; k++) {
  const m = Math.max(1, Math.floor((N / C) * k) - 1);
  if (!verifyConsistency(m, N, tree.rootAt(m), rootN, tree.consistencyProof(m, N)))
    throw new Error('consistency failed');
}
row(`consistency proof (rootAt + generate + verify) at n=${N.toLocaleString('en')}`, now() - t, C);

// (f) actor signatures: the per-entry cost if every entry carried one
const S = 20_000;
const sk = p256.utils.randomSecretKey();
const pk = p256.getPublicKey(sk);
const msgs = Array.from({ length: S }, (_, i) => jcs({ i }));
const ecdsaSigs = msgs.map((m) => p256.sign(m, sk));
t = now();
for (let i = 0; i < S; i++) if (!verifyEcdsaP256Sha256(pk, msgs[i]!, ecdsaSigs[i]!)) throw new Error('ecdsa');
const ecdsa = now() - t;
row('ECDSA P-256 verify (node:crypto)', ecdsa, S);
t = now();
for (let i = 0; i < 2000; i++) if (!p256.verify(ecdsaSigs[i]!, msgs[i]!, pk)) throw new Error('noble');
row('ECDSA P-256 verify (@noble/curves, for comparison)', now() - t, 2000);
const ed = generateKeyPairSync('ed25519');
const edRaw = ed25519RawPublicKey(ed.publicKey);
const unsigned = { type: 'approval', roster: '00'.repeat(32), signer: 'station/a', body: { n: 1 } };
const stmt = await signStatement(unsigned, ed25519KeySigner(ed.privateKey));
const key: StatementKey = { alg: 'ed25519', publicKey: edRaw };
t = now();
for (let i = 0; i < S; i++) if (!verifyStatement(stmt, key)) throw new Error('ed25519');
row('Ed25519 statement verify (payload + node:crypto)', now() - t, S);

// ---- durable appends (Part 2) ----
const APPENDS = Number(process.env.BENCH_AUDIT_APPENDS ?? 2000);
const PG_URL = process.env.BENCH_AUDIT_PG_URL ?? process.env.DATABASE_URL ?? TEST_DATABASE_URL;
const appendRows: [string, string, string, string][] = [];

async function benchAppends(label: string, store: Store): Promise<void> {
  const one = (i: number) =>
    store.transaction(async (trx) => {
      await trx
        .insertInto('nonces')
        .values({ principal_id: 'bench', nonce: String(i), seen_at: new Date().toISOString() })
        .execute();
      await appendEntry(trx, { kind: 'bench', actor: 'coordinator', data: { i, digest: 'ab'.repeat(32) } });
    });
  for (let i = 0; i < 50; i++) await one(-1 - i); // warm-up
  let t0 = now();
  for (let i = 0; i < APPENDS; i++) await one(i);
  let ms = now() - t0;
  appendRows.push([label, '1 caller, 1 entry + 1 row per transaction', fmt(ms), rate(APPENDS, ms)]);
  console.error(`  ${label} sequential: ${rate(APPENDS, ms)}`);
  let next = APPENDS;
  t0 = now();
  await Promise.all(
    Array.from({ length: 16 }, async () => {
      while (next < 2 * APPENDS) await one(next++);
    }),
  );
  ms = now() - t0;
  appendRows.push([label, '16 concurrent callers, 1 entry per transaction', fmt(ms), rate(APPENDS, ms)]);
  console.error(`  ${label} 16 callers: ${rate(APPENDS, ms)}`);
  const B = 100;
  const batches = Math.max(1, Math.floor(APPENDS / B));
  t0 = now();
  for (let b = 0; b < batches; b++)
    await store.transaction(async (trx) => {
      for (let k = 0; k < B; k++)
        await appendEntry(trx, { kind: 'bench', actor: 'coordinator', data: { b, k } });
    });
  ms = now() - t0;
  appendRows.push([label, `${B} entries per transaction`, fmt(ms), rate(batches * B, ms)]);
  console.error(`  ${label} batched: ${rate(batches * B, ms)}`);
}

console.error(`durable appends (${APPENDS.toLocaleString('en')} per run) …`);
{
  const sdir = mkdtempSync(join(tmpdir(), 'bench-audit-sqlite-'));
  const store = await openStore({ dataDir: sdir });
  try {
    await benchAppends('SQLite (WAL, synchronous=FULL)', store);
  } finally {
    await store.close();
    rmSync(sdir, { recursive: true, force: true });
  }
}
if (PG_URL !== 'off') {
  const schema = `bench_${randomBytes(6).toString('hex')}`;
  let store: Store | undefined;
  try {
    store = await openStore({ databaseUrl: PG_URL, schema });
    await benchAppends('PostgreSQL (local, fsync on)', store);
    await sql`drop schema ${sql.id(schema)} cascade`.execute(store.db);
  } catch (e) {
    console.error(`  PostgreSQL skipped: ${(e as Error).message}`);
    appendRows.push(['PostgreSQL', 'not measured', '-', (e as Error).message]);
  } finally {
    await store?.close();
  }
}

console.log(
  `\n## bench:audit — offline verification (${new Date().toISOString().slice(0, 10)}, node ${process.version})\n`,
);
console.log('| step | time | rate |');
console.log('|---|---|---|');
for (const [a, b, c] of rows) console.log(`| ${a} | ${b} | ${c} |`);
const perEntryEcdsa = ecdsa / S;
console.log(
  `\nExtrapolated: if every one of ${N.toLocaleString('en')} entries carried an ECDSA P-256 statement, ` +
    `signature checks would add ${fmt(perEntryEcdsa * N)} (node:crypto) to the ${fmt(total)} above.`,
);
console.log(
  `\n### durable appends (${APPENDS.toLocaleString('en')} per row; each transaction commits to disk)\n`,
);
console.log('| database | shape | time | appends/s |');
console.log('|---|---|---|---|');
for (const [a, b, c, d] of appendRows) console.log(`| ${a} | ${b} | ${c} | ${d} |`);

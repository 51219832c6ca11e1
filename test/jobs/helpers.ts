// Shared fixtures of the job tests: small sealed archives on disk, registered in a real SQLite store,
// and a runner for the job child process (test/jobs/child.ts) that a test can SIGKILL at a crash point.
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { mkdirSync, readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { HomeHsm } from '../../hsm/index.ts';
import { readHeader } from '../../src/archive/header.ts';
import { homeWrapper } from '../../src/archive/home.ts';
import { atomicFileSink, bufferSource, exactReader } from '../../src/archive/io.ts';
import { sealArchive } from '../../src/archive/seal.ts';
import { entries, treeHead } from '../../src/audit/log.ts';
import { toHex } from '../../src/crypto/bytes.ts';
import { type Identity, identityFromSeed } from '../../src/crypto/keys.ts';
import { xwingKeygen } from '../../src/crypto/xwing.ts';
import type { Store } from '../../src/store/index.ts';

export const CHILD = fileURLToPath(new URL('./child.ts', import.meta.url));

export const newIdentity = (): Identity => identityFromSeed(xwingKeygen().seed);

export const plaintextOf = (i: number) => Buffer.from(`registry row ${i}\n`.repeat(50 + i * 37));

/** Seals `n` archives of domain `land` to `id` (epoch 1) into `dir`, registered in `store`. */
export async function sealArchives(
  store: Store,
  dir: string,
  n: number,
  id: Identity,
  home?: HomeHsm,
  opts: { register?: boolean; prefix?: string; firstSequence?: number } = {},
): Promise<string[]> {
  mkdirSync(dir, { recursive: true });
  const paths: string[] = [];
  for (let i = 0; i < n; i++) {
    const snapshotId = `${opts.prefix ?? 'land'}-${String(i).padStart(4, '0')}`;
    const path = join(dir, `${snapshotId}.emb`);
    const res = await sealArchive(bufferSource(plaintextOf(i)), await atomicFileSink(path), {
      manifest: {
        domain: 'land',
        snapshotId,
        sealEpoch: 1,
        createdAt: '2026-01-02T00:00:00Z',
        contentType: 'text/csv',
      },
      recipients: [{ publicKey: id.publicKey, epoch: 1 }],
      ...(home ? { home: [homeWrapper(home)] } : {}),
      threads: 0,
    });
    if (opts.register !== false)
      await store.db
        .insertInto('snapshots')
        .values({
          id: snapshotId,
          domain: 'land',
          seal_epoch: 1,
          size: res.archiveBytes,
          digest: createHash('sha256').update(res.header.bytes).digest('hex'),
          location: path,
          sequence: (opts.firstSequence ?? 1) + i,
          manifest_json: '{}',
          registered_by: 'job/backup-land',
          registered_at: new Date().toISOString(),
        })
        .execute();
    paths.push(path);
  }
  return paths;
}

export async function headerOf(path: string) {
  const bytes = new Uint8Array(readFileSync(path));
  const src = bufferSource(bytes);
  const h = await readHeader(exactReader(src));
  return { header: h, body: bytes.subarray(h.bytes.length), bytes };
}

export interface ChildResult {
  code: number | null;
  signal: NodeJS.Signals | null;
  stdout: string;
  stderr: string;
}

/** Runs the job child with `cfg` (JSON in JOB_CFG) and an optional crash plan. */
export function runChild(cfg: object, crash?: string, env: NodeJS.ProcessEnv = {}): Promise<ChildResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, ['--import', 'tsx', CHILD], {
      env: {
        ...process.env,
        ...env,
        JOB_CFG: JSON.stringify(cfg),
        EMBASSY_TEST_KILL_AT: crash ?? '',
      },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => {
      stdout += d;
    });
    child.stderr.on('data', (d) => {
      stderr += d;
    });
    child.on('error', reject);
    child.on('exit', (code, signal) => resolve({ code, signal, stdout, stderr }));
  });
}

/** Audit entries (parsed) of this log, all of them. */
export async function auditEntries(
  store: Store,
): Promise<{ kind: string; data?: Record<string, unknown> }[]> {
  const size = (await treeHead(store.db)).size;
  if (size === 0) return [];
  return (await entries(store.db, 0, size)).map((e) => JSON.parse(e.entry));
}

export const inodes = (paths: string[]) => paths.map((p) => statSync(p).ino);
/** The durable write's temporaries (src/fs/durable.ts) left in `dir`. */
export const tempsIn = (dir: string) => readdirSync(dir).filter((n) => /\.tmp-\d+-[0-9a-f]{12}$/.test(n));
export const hex = toHex;

// The key-age policy job on a real SQLite store: an epoch older than policy.maxEpochAgeDays, or a
// failed share health check, opens exactly one rotation request (audit entry) per domain and epoch,
// also across reruns and concurrent runs.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { keyAgeJob, ROTATION_REQUIRED } from '../../src/jobs/key-age.ts';
import { openStore } from '../../src/store/index.ts';
import { genesis } from '../roster/fixtures.ts';
import { auditEntries } from './helpers.ts';

const dirs: string[] = [];
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

async function freshStore() {
  const dataDir = mkdtempSync(join(tmpdir(), 'embassy-keyage-'));
  dirs.push(dataDir);
  return openStore({ dataDir });
}

// genesis(): domain land, epoch 1 created 2026-01-01, maxEpochAgeDays 365
const roster = genesis();

describe('key-age job', () => {
  it('opens nothing while the epoch is young and every share is healthy', async () => {
    const store = await freshStore();
    const r = await keyAgeJob({ store, roster, actor: 'rekey-job', now: new Date('2026-06-01T00:00:00Z') });
    expect(r.requests).toEqual([]);
    expect(await auditEntries(store)).toEqual([]);
    await store.close();
  });

  it('opens exactly one rotation request for an old epoch, across reruns and concurrent runs', async () => {
    const store = await freshStore();
    const now = new Date('2027-02-01T00:00:00Z');
    const runs = await Promise.all(
      [1, 2, 3].map(() => keyAgeJob({ store, roster, actor: 'rekey-job', now })),
    );
    const again = await keyAgeJob({ store, roster, actor: 'rekey-job', now });
    const all = [...runs, again].flatMap((r) => r.requests);
    expect(all.filter((q) => q.opened)).toHaveLength(1);
    expect(new Set(all.map((q) => q.seq)).size).toBe(1);
    const entries = (await auditEntries(store)).filter((e) => e.kind === ROTATION_REQUIRED);
    expect(entries).toHaveLength(1);
    expect(entries[0]!.data).toMatchObject({
      domain: 'land',
      epoch: 1,
      custodians: ['alice', 'bob', 'carol', 'dave', 'erin'],
      reasons: [{ reason: 'epoch-age', ageDays: 396, maxEpochAgeDays: 365 }],
    });
    await store.close();
  });

  it('opens one request when a custodian share failed its health check, and not another for age later', async () => {
    const store = await freshStore();
    const r = await keyAgeJob({
      store,
      roster,
      actor: 'rekey-job',
      now: new Date('2026-03-01T00:00:00Z'),
      healthFailures: [
        { domain: 'land', epoch: 1, custodian: 'bob', reason: 'wrong-response' },
        { domain: 'land', epoch: 0, custodian: 'carol' }, // another epoch: ignored
        { domain: 'census', epoch: 1, custodian: 'dave' }, // another domain: ignored
      ],
    });
    expect(r.requests).toHaveLength(1);
    expect(r.requests[0]).toMatchObject({
      opened: true,
      reasons: [{ reason: 'health-check', custodian: 'bob', detail: 'wrong-response' }],
    });
    const later = await keyAgeJob({
      store,
      roster,
      actor: 'rekey-job',
      now: new Date('2027-06-01T00:00:00Z'),
    });
    expect(later.requests[0]!.opened).toBe(false);
    expect((await auditEntries(store)).filter((e) => e.kind === ROTATION_REQUIRED)).toHaveLength(1);
    await store.close();
  });
});

/**
 * An in-process development deployment (src/devkit/) for HTTP-level tests: the real Hono app,
 * requests through app.request, on SQLite or PostgreSQL (a random schema, dropped by `cleanup`).
 */
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { atomicFileSink, bufferSource } from '../../src/archive/index.ts';
import { registerSnapshot, sealSnapshot } from '../../src/backup/index.ts';
import { createApp } from '../../src/coordinator/app.ts';
import {
  buildDevDeployment,
  type DevDeployment,
  type DevDeploymentOptions,
} from '../../src/devkit/deployment.ts';
import type { Fetch } from '../../src/protocol/client.ts';
import type { StoreOptions } from '../../src/store/index.ts';
import { TEST_DATABASE_URL } from '../support/pg.ts';

export type Dialect = 'sqlite' | 'postgres';
export const DIALECTS: Dialect[] = ['sqlite', 'postgres'];

export interface TestWorld extends DevDeployment {
  app: ReturnType<typeof createApp>['app'];
  fetch: Fetch;
  archives: string;
  /** The PostgreSQL schema of this world (postgres only). */
  schema?: string;
  /** Seals `data` for a domain into the embassy store and registers it (`<archive>.reg` beside it); returns the snapshot id. */
  snapshot(domain: string, data: Uint8Array, opts?: { random?: (n: number) => Uint8Array }): Promise<string>;
  cleanup(): Promise<void>;
}

let sequence = 0;

export async function testWorld(
  dialect: Dialect,
  opts: Partial<DevDeploymentOptions> = {},
): Promise<TestWorld> {
  const dataDir = mkdtempSync(join(tmpdir(), 'embassy-coord-'));
  const schema = `t_${randomBytes(6).toString('hex')}`;
  const store: StoreOptions | undefined =
    dialect === 'postgres'
      ? {
          databaseUrl: TEST_DATABASE_URL,
          schema,
          origin: 'data-embassy.example/audit',
        }
      : undefined;
  const world = await buildDevDeployment({
    dataDir,
    domains: ['land', 'business'],
    ...(store ? { store } : {}),
    ...opts,
  });
  const { app } = createApp(world.coordinator);
  const fetch: Fetch = async (url, init) => app.request(url, init);
  const archives = join(dataDir, 'embassy-store');
  mkdirSync(archives, { recursive: true });
  return {
    ...world,
    app,
    fetch,
    archives,
    ...(dialect === 'postgres' ? { schema } : {}),
    async snapshot(domain, data, o = {}) {
      const id = `${domain}-${++sequence}-${randomBytes(3).toString('hex')}`;
      const path = join(archives, id);
      const job = world.client('backup-job', fetch);
      await sealSnapshot(bufferSource(data), await atomicFileSink(path, 0o644), {
        roster: world.roster,
        domain,
        client: job,
        snapshotId: id,
        contentType: 'text/csv',
        sequence: Date.now() * 1000 + sequence,
        now: () => new Date('2026-11-27T00:00:00Z'),
        threads: 0,
        ...(o.random ? { random: o.random } : {}),
      });
      await registerSnapshot(job, path, { now: () => world.coordinator.clock });
      return id;
    },
    async cleanup() {
      await world.close();
      if (dialect === 'postgres') {
        const pg = await import('pg');
        const c = new pg.default.Client({ connectionString: TEST_DATABASE_URL });
        await c.connect();
        await c.query(`drop schema if exists ${schema} cascade`);
        await c.end();
      }
      rmSync(dataDir, { recursive: true, force: true });
    },
  };
}

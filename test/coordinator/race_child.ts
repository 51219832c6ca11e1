/**
 * One coordinator process for race_two_processes.test.ts: opens its own store and Coordinator on
 * the given PostgreSQL schema, prints "ready", waits for the go file, then sends every captured
 * request of its list to its own Hono app at once and prints the answers as JSON.
 * Usage: node --import tsx race_child.ts <schema> <rosterPin> <requests.json> <go-file>
 */
import { existsSync, readFileSync } from 'node:fs';
import { createApp } from '../../src/coordinator/app.ts';
import { Coordinator } from '../../src/coordinator/index.ts';
import { openStore } from '../../src/store/index.ts';
import { TEST_DATABASE_URL } from '../support/pg.ts';

const [schema, rosterPin, file, go] = process.argv.slice(2) as [string, string, string, string];
const requests = JSON.parse(readFileSync(file, 'utf8')) as {
  tag: string;
  url: string;
  init: RequestInit & { headers: Record<string, string> };
}[];
const store = await openStore({
  databaseUrl: TEST_DATABASE_URL,
  schema,
  origin: 'data-embassy.example/audit',
});
const coordinator = await Coordinator.open(store, { rosterPin });
const { app } = createApp(coordinator);
await app.request('/healthz'); // warm the pool
process.stdout.write('ready\n');
while (!existsSync(go)) await new Promise((r) => setTimeout(r, 2));
const results = await Promise.all(
  requests.map(async (r) => {
    const res = await app.request(r.url, r.init);
    const body = (await res.json()) as { error?: { code: string } };
    return { tag: r.tag, status: res.status, code: body.error?.code ?? null };
  }),
);
await store.close();
process.stdout.write(`${JSON.stringify(results)}\n`);

// Child process for log_concurrency.test.ts: appends N entries, each with a state change, to the
// store given as JSON in argv[2]; prints "ready" then waits for "go" on stdin so both children start
// together; exits 0 when done.
import { appendEntry } from '../../src/audit/log.ts';
import { openStore, type StoreOptions } from '../../src/store/index.ts';

const opts = JSON.parse(process.argv[2]!) as StoreOptions;
const name = process.argv[3]!;
const n = Number(process.argv[4]!);
const store = await openStore(opts);
process.stdout.write('ready\n');
await new Promise<void>((resolve) => process.stdin.once('data', () => resolve()));
for (let i = 0; i < n; i++) {
  await store.transaction(async (trx) => {
    await trx
      .insertInto('nonces')
      .values({ principal_id: name, nonce: String(i), seen_at: new Date().toISOString() })
      .execute();
    await appendEntry(trx, { kind: 'test-change', actor: name, data: { i } });
  });
}
await store.close();
process.exit(0);

// The job as a real child process for the kill -9 tests: JOB_CFG (JSON) says which job and where;
// EMBASSY_TEST_KILL_AT (a plan for test/support/faults.ts) makes it SIGKILL itself at a crash
// point. Prints the result as JSON on stdout.
import { readFileSync } from 'node:fs';
import { openHome } from '../../hsm/index.ts';
import { fromHex } from '../../src/crypto/bytes.ts';
import { identityFromSeed } from '../../src/crypto/keys.ts';
import { archivesFromStore } from '../../src/jobs/common.ts';
import { homeRotateJob } from '../../src/jobs/home-rotate.ts';
import { rewrapJob } from '../../src/jobs/rewrap.ts';
import { openStore } from '../../src/store/index.ts';
import { killAt } from '../support/faults.ts';

interface Cfg {
  job: 'rewrap' | 'home';
  dataDir: string;
  stateDir: string;
  oldSeed?: string;
  newPublicKey?: string;
  pinsPath?: string;
  batchSize?: number;
  concurrency?: number;
}

const cfg = JSON.parse(process.env['JOB_CFG'] ?? '{}') as Cfg;
const faults = killAt(process.env['EMBASSY_TEST_KILL_AT']);
const store = await openStore({ dataDir: cfg.dataDir });
try {
  if (cfg.job === 'rewrap') {
    const r = await rewrapJob({
      domain: 'land',
      identities: [identityFromSeed(fromHex(cfg.oldSeed!))],
      recipient: { publicKey: fromHex(cfg.newPublicKey!), epoch: 2 },
      archives: await archivesFromStore(store, 'land'),
      stateDir: cfg.stateDir,
      store,
      actor: 'station-ee',
      batchSize: cfg.batchSize ?? 4,
      concurrency: cfg.concurrency ?? 2,
      faults,
    });
    process.stdout.write(JSON.stringify(r));
  } else {
    const pins = JSON.parse(readFileSync(cfg.pinsPath!, 'utf8')) as Record<string, { user: string }>;
    const home = await openHome({ label: 'home', pin: pins['home']!.user });
    try {
      const r = await homeRotateJob({
        home,
        archives: await archivesFromStore(store),
        stateDir: cfg.stateDir,
        store,
        actor: 'restore-officer',
        batchSize: cfg.batchSize ?? 3,
        concurrency: cfg.concurrency ?? 2,
        faults,
      });
      process.stdout.write(JSON.stringify(r));
    } finally {
      home.close();
    }
  }
} finally {
  await store.close();
}

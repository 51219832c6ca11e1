import { readFileSync } from 'node:fs';
import pino from 'pino';
import { openLogToken } from '../../../hsm/index.ts';
import { checkpointSignerPolicy } from '../../audit/signer-policy.ts';
import { Coordinator } from '../../coordinator/index.ts';
import { startServer } from '../../coordinator/server.ts';
import { parseSignedRoster } from '../../roster/index.ts';
import { openStore, storeOptionsFromEnv } from '../../store/index.ts';
import { type Command, parse, positiveInt } from '../command.ts';
import { dataDirOf, HSM_HELP, hsmOptions, tokenAccess } from '../hsm.ts';
import { rosterPin } from '../remote.ts';

const help = `
Usage: embassy serve [--port N] [--host H] [--data-dir DIR] [--roster-pin HEX] [--roster FILE]

Runs the coordinator: the HTTP API for roster, snapshots, unlock ceremonies and the audit log
(OpenAPI at /openapi.json, reference at /docs, /healthz, /metrics). It keeps only public keys,
signed statements and wrapped blobs. Store: SQLite in DIR (default), or PostgreSQL when
DATABASE_URL is set. Logs are JSON lines on stderr. --port 0 picks a free port; the URL is printed.

Options:
  --port N           port (default 8700; 0 = any free port)
  --host H           address to bind (default 127.0.0.1)
  --data-dir DIR     local state (default $EMBASSY_DATA_DIR or ./.embassy)
  --roster-pin HEX   the genesis roster id (default $EMBASSY_ROSTER_PIN or DIR/roster-pin)
  --roster FILE      the signed genesis roster, for a store that holds none yet
  --log-token LABEL  sign checkpoints with the Ed25519 key in this token (after every ceremony
                     close and on a schedule); the last signed checkpoint is kept in
                     DIR/checkpoint-state, outside the database
${HSM_HELP}
`;

export const serve: Command = {
  name: 'serve',
  summary: 'run the coordinator HTTP service',
  help,
  async run(argv) {
    const { values } = parse(
      argv,
      {
        port: { type: 'string' },
        host: { type: 'string' },
        'roster-pin': { type: 'string' },
        roster: { type: 'string' },
        'log-token': { type: 'string' },
        ...hsmOptions,
      },
      help,
    );
    const dataDir = dataDirOf(values);
    const store = await openStore(storeOptionsFromEnv(dataDir));
    const genesis = values.roster ? parseSignedRoster(readFileSync(values.roster, 'utf8')) : undefined;
    const label = values['log-token'];
    const token = label ? await openLogToken(await tokenAccess(label, values)) : undefined;
    const checkpointer = await checkpointSignerPolicy({ store, dataDir, ...(token ? { token } : {}) });
    const coordinator = await Coordinator.open(store, {
      rosterPin: rosterPin(values),
      ...(genesis ? { genesis } : {}),
      ...(checkpointer ? { checkpointer } : {}),
    });
    await coordinator.checkpoint();
    const log = pino({ base: { service: 'embassy-coordinator' } }, pino.destination(2));
    const server = await startServer(coordinator, {
      port: positiveInt(values.port, '--port', 8700),
      host: values.host ?? '127.0.0.1',
      log,
    });
    process.stdout.write(`${server.url}\n`);
    // Serve until SIGINT or SIGTERM, then stop cleanly: a requested stop is a success.
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    await new Promise((stop) => {
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    });
    await server.close();
    await store.close();
    token?.close();
    return 0;
  },
};

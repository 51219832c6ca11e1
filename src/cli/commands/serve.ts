import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import pino from 'pino';
import { openLogToken } from '../../../hsm/index.ts';
import { latestCheckpoint } from '../../audit/log.ts';
import { CheckpointSigner } from '../../audit/signer.ts';
import { startServer } from '../../coordinator/server.ts';
import { Coordinator } from '../../coordinator/index.ts';
import { ed25519Signer } from '../../log/note.ts';
import { parseSignedRoster } from '../../roster/index.ts';
import { openStore, storeOptionsFromEnv } from '../../store/index.ts';
import { type Command, parse, positiveInt } from '../command.ts';
import { UsageError } from '../errors.ts';
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
    let checkpointer: CheckpointSigner | undefined;
    const label = values['log-token'];
    if (label) {
      const logToken = await openLogToken(await tokenAccess(label, values));
      const statePath = join(dataDir, 'checkpoint-state');
      if (!existsSync(statePath)) {
        if (await latestCheckpoint(store.db)) {
          throw new UsageError(
            `${statePath} is missing but the log has signed checkpoints: restore it, never re-create it`,
          );
        }
        await CheckpointSigner.init(statePath, store.origin);
      }
      const publicKey = await logToken.ed25519PublicKey();
      checkpointer = new CheckpointSigner({
        statePath,
        origin: store.origin,
        signer: ed25519Signer(store.origin, publicKey, (m) => logToken.signEd25519(m)),
      });
    }
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
    const stop = async () => {
      await server.close();
      await store.close();
      process.exit(0);
    };
    process.removeAllListeners('SIGINT');
    process.removeAllListeners('SIGTERM');
    process.once('SIGINT', stop);
    process.once('SIGTERM', stop);
    await new Promise(() => {}); // serve until a signal
  },
};

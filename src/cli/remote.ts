/**
 * CLI access to a coordinator: its URL, the pinned roster (fetched and verified from
 * `--roster-pin`, never trusted from the coordinator), and a signer for the acting principal —
 * a custodian token, or a software Ed25519 key file for stations, jobs and auditors.
 */
import { createPrivateKey } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { openCustodian } from '../../hsm/index.ts';
import { ed25519KeySigner } from '../crypto/ed25519-signer.ts';
import { CoordinatorClient } from '../protocol/client.ts';
import { principalKey, type RosterDoc, tokenSigner, verifyRosterChain } from '../roster/index.ts';
import { UsageError } from './errors.ts';
import { dataDirOf, type HsmArgs, tokenAccess } from './hsm.ts';

export const remoteOptions = {
  coordinator: { type: 'string' },
  'roster-pin': { type: 'string' },
  as: { type: 'string' },
  key: { type: 'string' },
} as const;

export const REMOTE_HELP = `
Coordinator options:
  --coordinator URL    the coordinator (default $EMBASSY_COORDINATOR or http://127.0.0.1:8700)
  --roster-pin HEX     SHA-256 of the genesis roster, pinned out of band (default $EMBASSY_ROSTER_PIN,
                       else DIR/roster-pin in development)
  --as ID              the roster principal to act as
  --key FILE           that principal's Ed25519 key (PKCS#8 PEM), for stations, jobs and auditors`;

export interface RemoteArgs extends HsmArgs {
  coordinator?: string;
  'roster-pin'?: string;
  as?: string;
  key?: string;
}

export function coordinatorUrl(args: RemoteArgs): string {
  return args.coordinator ?? process.env.EMBASSY_COORDINATOR ?? 'http://127.0.0.1:8700';
}

export function rosterPin(args: RemoteArgs): string {
  const pin = args['roster-pin'] ?? process.env.EMBASSY_ROSTER_PIN ?? readDevPin(args);
  if (!pin)
    throw new UsageError('no roster pin: give --roster-pin HEX (the genesis roster id, pinned out of band)');
  return pin.trim();
}

function readDevPin(args: RemoteArgs): string | undefined {
  try {
    return readFileSync(`${dataDirOf(args)}/roster-pin`, 'utf8');
  } catch {
    return undefined;
  }
}

/** Fetches every roster version and verifies the chain from the pin: the roster this client trusts. */
export async function pinnedRoster(args: RemoteArgs): Promise<{ roster: RosterDoc; rosterId: string }> {
  const anon = new CoordinatorClient({
    baseUrl: coordinatorUrl(args),
    principal: '',
    signer: '',
    rosterId: '0'.repeat(64),
    sign: async () => new Uint8Array(0),
  });
  const { versions } = await anon.get<{ versions: unknown[] }>('/v1/roster');
  const { current } = verifyRosterChain(rosterPin(args), versions, new Date());
  return { roster: current.roster, rosterId: current.rosterId };
}

export async function softwareClient(args: RemoteArgs) {
  if (!args.as || !args.key) throw new UsageError('give --as ID and --key FILE for this principal');
  const { roster, rosterId } = await pinnedRoster(args);
  const sign = ed25519KeySigner(createPrivateKey(readFileSync(args.key)));
  const role = principalKey(roster, args.as).role;
  return {
    roster,
    client: new CoordinatorClient({
      baseUrl: coordinatorUrl(args),
      principal: args.as,
      signer: `${role}/${args.as}`,
      rosterId,
      sign,
    }),
  };
}

/** A custodian acting through its token (label = --token, default the custodian id). */
export async function custodianClient(args: RemoteArgs & { token?: string }) {
  if (!args.as) throw new UsageError('give --as CUSTODIAN-ID');
  const { roster, rosterId } = await pinnedRoster(args);
  const token = await openCustodian(await tokenAccess(args.token ?? args.as, args));
  return {
    roster,
    token,
    client: new CoordinatorClient({
      baseUrl: coordinatorUrl(args),
      principal: args.as,
      signer: `custodian/${args.as}`,
      rosterId,
      sign: tokenSigner(token),
    }),
  };
}

/**
 * Builders of unsigned roster versions, for ceremonies, tests and the demo. Every builder returns a
 * document that passed {@link parseRosterDoc} (frozen; `structuredClone` it to edit), or throws
 * {@link RosterError}.
 *
 * @example
 * const v1 = buildGenesis({ issuedAt, expires, root: { custodians: ['alice', 'bob'], threshold: 2 },
 *                           custodians: [custodianEntry({...}), …], log: { origin, key } });
 * const v2 = nextVersion(v1, { issuedAt: later, domains: [...v1.domains, land] });
 * @module
 */
import { toHex } from '../crypto/bytes.ts';
import { formatPublicKey, keyId } from '../crypto/keys.ts';
import { toBase64Url } from '../crypto/statement.ts';
import { parseRosterDoc } from './check.ts';
import {
  type Auditor,
  type Custodian,
  type Domain,
  type Epoch,
  type Job,
  type LegalBasis,
  type Log,
  ROSTER_FORMAT,
  type Root,
  type RosterDoc,
  type Share,
  type Station,
  toRosterTime,
} from './schema.ts';
import { rosterIdHex } from './sign.ts';

type Time = string | Date;
const time = (t: Time): string => (typeof t === 'string' ? t : toRosterTime(t));

export interface GenesisInput {
  issuedAt: Time;
  expires: Time;
  root: Root;
  custodians: Custodian[];
  stations?: Station[];
  jobs?: Job[];
  auditors?: Auditor[];
  log: Log;
  legalBases?: LegalBasis[];
  domains?: Domain[];
}

/** Version 1 (genesis) from its parts; absent lists are empty. @throws {RosterError} */
export function buildGenesis(input: GenesisInput): RosterDoc {
  return parseRosterDoc({
    format: ROSTER_FORMAT,
    version: 1,
    issuedAt: time(input.issuedAt),
    expires: time(input.expires),
    root: input.root,
    custodians: input.custodians,
    stations: input.stations ?? [],
    jobs: input.jobs ?? [],
    auditors: input.auditors ?? [],
    log: input.log,
    legalBases: input.legalBases ?? [],
    domains: input.domains ?? [],
  });
}

export type VersionChanges = Partial<GenesisInput>;

/**
 * Version N+1 of `current`: `version` + 1, `previous` = rosterId(current), and the given members
 * replaced (absent ones kept, including the times). @throws {RosterError}
 */
export function nextVersion(current: RosterDoc, changes: VersionChanges = {}): RosterDoc {
  const { issuedAt, expires, ...rest } = changes;
  return parseRosterDoc({
    ...structuredClone(current),
    ...structuredClone(rest),
    version: current.version + 1,
    previous: rosterIdHex(current),
    issuedAt: issuedAt === undefined ? current.issuedAt : time(issuedAt),
    expires: expires === undefined ? current.expires : time(expires),
  });
}

/** A custodian entry from raw public keys. */
export function custodianEntry(c: {
  id: string;
  name: string;
  organisation: string;
  tokenLabel: string;
  identityKey: Uint8Array;
  transportKey: Uint8Array;
  xwingKey: Uint8Array;
}): Custodian {
  return {
    id: c.id,
    name: c.name,
    organisation: c.organisation,
    tokenLabel: c.tokenLabel,
    identityKey: toBase64Url(c.identityKey),
    transportKey: toBase64Url(c.transportKey),
    xwingKey: toBase64Url(c.xwingKey),
  };
}

/** An epoch entry from the raw quorum public key: its text form and keyId are derived. */
export function epochEntry(e: {
  epoch: number;
  keyCeremony: string;
  quorumPublicKey: Uint8Array;
  threshold: number;
  shares: { custodian: string; x: number; commitment: Uint8Array; salt: Uint8Array }[];
  createdAt: Time;
  retired?: boolean;
}): Epoch {
  const shares: Share[] = e.shares.map((s) => ({
    custodian: s.custodian,
    x: s.x,
    commitment: toHex(s.commitment),
    salt: toBase64Url(s.salt),
  }));
  return {
    epoch: e.epoch,
    keyCeremony: e.keyCeremony,
    quorumPublicKey: formatPublicKey(e.quorumPublicKey),
    keyId: toHex(keyId(e.quorumPublicKey)),
    threshold: e.threshold,
    shares,
    createdAt: time(e.createdAt),
    ...(e.retired === undefined ? {} : { retired: e.retired }),
  };
}

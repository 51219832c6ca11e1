/**
 * What binds a restore to what was registered (docs/DECISIONS.md#d4, docs/DECISIONS.md#d15,
 * docs/DECISIONS.md#d36). Before any key is tried the station checks that the archive's manifest
 * names the requested snapshot and domain; before any chunk is decrypted, that its maker signature and the job's signed registration
 * verify against the roster version each names (inside the verified history), and that both name the
 * same manifest and sequence. While the body streams it hashes it, and before any output is committed
 * it compares that digest with the registered `bodyDigest`. So neither a forged archive (anyone can
 * encrypt to the quorum public key), nor another or an older archive handed back under this id, nor a
 * body re-encrypted by a DEK holder (the maker signature binds only the DEK's commitment) is restored.
 *
 * The registration comes from the coordinator's log or, without it, from `<archive>.reg`. A logged
 * registration was accepted only against the roster version current when it was logged, so a key that
 * a later version removed still counts for what it registered before.
 *
 * @example
 * const bind = restoreBinding({ history, domain: 'land', registrations });
 * const b = bind('land-2026-11-30', 'store/land-2026-11-30');
 * await openArchive(src, sink, { identities: [quorum], manifest: b.manifest, maker: b.maker, bodyDigest: b.bodyDigest });
 * b.made(); // { maker: 'job/backup-job', sequence: 42, createdAt: '2026-11-30T02:00:00Z' }
 */
import { readFileSync } from 'node:fs';
import {
  ArchiveError,
  checkMakerFacts,
  type MakerFacts,
  type Manifest,
  type OpenOptions,
} from '../archive/index.ts';
import { toHex } from '../crypto/bytes.ts';
import { parseStatement, type Statement, verifyStatement } from '../crypto/statement.ts';
import { EmbassyError } from '../errors.ts';
import { registrationFile, SnapshotBody, STATEMENT } from '../protocol/statements.ts';
import { jobMaySeal, principalKey, type RosterDoc, rosterIdHex, type SignedRoster } from '../roster/index.ts';

/** A registration as the coordinator lists it: the snapshot id and the job's signed statement. */
export interface Registration {
  id: string;
  statement: Statement;
}

/** Every roster version of the verified history, by rosterId (hex). */
export type RosterHistory = ReadonlyMap<string, RosterDoc>;

export type RestoreRefusedCode = 'wrong_snapshot' | 'not_registered' | 'registration_mismatch';

/** An archive that is not the registered one for the requested snapshot; the message names the snapshot. */
export class RestoreRefused extends EmbassyError<RestoreRefusedCode> {}

/**
 * The history of `current`: it and every earlier version reachable through `previous` among `versions`
 * (e.g. the coordinator's `/v1/roster`). Each link is a SHA-256 inside a version already trusted, so
 * the served versions need no further check; a version not linked from `current` is ignored.
 */
export function rosterHistory(current: RosterDoc, versions: readonly SignedRoster[]): RosterHistory {
  const byId = new Map(versions.map((v) => [rosterIdHex(v.roster), v.roster]));
  const history = new Map<string, RosterDoc>();
  for (let doc: RosterDoc | undefined = current; doc; doc = doc.previous ? byId.get(doc.previous) : undefined)
    history.set(rosterIdHex(doc), doc);
  return history;
}

/**
 * Throws unless `s` is signed by a job that, in the roster version `s` names, may seal for `domain`
 * and whose key there verifies the signature.
 */
function signedByJob(history: RosterHistory, s: Statement, domain: string, what: string): void {
  const roster = history.get(s.roster);
  if (!roster)
    throw new ArchiveError('maker_mismatch', `${what} names a roster version outside the verified history`);
  const [role, id] = s.signer.split('/');
  if (role !== 'job' || !id || !jobMaySeal(roster, id, domain)) {
    throw new ArchiveError(
      'maker_mismatch',
      `${what} is signed by "${s.signer}", who may not seal for domain "${domain}" in roster version ${roster.version}`,
    );
  }
  let ok = false;
  try {
    ok = verifyStatement(s, principalKey(roster, s.signer));
  } catch {
    ok = false;
  }
  if (!ok)
    throw new ArchiveError(
      'maker_mismatch',
      `${what} does not verify against roster version ${roster.version}`,
    );
}

/** The registration of `id`: the logged one, else `<archive>.reg`, else none. */
function registrationOf(logged: readonly Registration[], id: string, archivePath: string): Statement {
  const r = logged.find((x) => x.id === id);
  if (r) return r.statement;
  let bytes: Buffer;
  try {
    bytes = readFileSync(registrationFile(archivePath));
  } catch {
    throw new RestoreRefused(
      'not_registered',
      `snapshot ${id} has no registration (none logged, no .reg file)`,
    );
  }
  try {
    return parseStatement(bytes);
  } catch (e) {
    throw new RestoreRefused(
      'not_registered',
      `snapshot ${id}: ${registrationFile(archivePath)} is not a signed statement (${(e as Error).message})`,
    );
  }
}

export interface BindingContext {
  history: RosterHistory;
  /** The domain the signed unlock request names. */
  domain: string;
  /** Registrations from the coordinator's log (may be empty when it is unreachable). */
  registrations: readonly Registration[];
}

/** Who made an archive, as its checked maker signature says, and when its manifest says it was sealed. */
export interface Made {
  maker: string;
  sequence: number;
  createdAt: string;
}

export interface Binding {
  manifest: NonNullable<OpenOptions['manifest']>;
  maker: NonNullable<OpenOptions['maker']>;
  bodyDigest: NonNullable<OpenOptions['bodyDigest']>;
  /** The maker facts, once the maker check passed. */
  made(): Made;
}

/** The checks that bind the restore of `snapshotId` from `archivePath` to its registration. */
export function restoreBinding(ctx: BindingContext) {
  return (snapshotId: string, archivePath: string): Binding => {
    const mismatch = (why: string) =>
      new RestoreRefused(
        'registration_mismatch',
        `snapshot ${snapshotId} does not match its registration: ${why}`,
      );
    const manifest = (m: Manifest) => {
      if (m.snapshotId !== snapshotId || m.domain !== ctx.domain) {
        throw new RestoreRefused(
          'wrong_snapshot',
          `snapshot ${snapshotId}: the archive holds snapshot ${m.snapshotId} of domain ${m.domain}, not the requested one of domain ${ctx.domain}`,
        );
      }
    };
    let registered: string | undefined;
    let made: Made | undefined;
    return {
      manifest,
      maker(s: Statement | undefined, f: MakerFacts) {
        const m = f.manifest;
        manifest(m);
        if (!s) throw new ArchiveError('unsigned', `archive ${snapshotId} carries no maker signature`);
        const body = checkMakerFacts(s, f);
        signedByJob(ctx.history, s, ctx.domain, `the maker signature of snapshot ${snapshotId}`);
        const r = registrationOf(ctx.registrations, snapshotId, archivePath);
        if (r.type !== STATEMENT.snapshot) throw mismatch('the registration is not a snapshot-registration');
        signedByJob(ctx.history, r, ctx.domain, `the registration of snapshot ${snapshotId}`);
        const parsed = SnapshotBody.safeParse(r.body);
        if (!parsed.success) throw mismatch('the registration body is malformed');
        const rb = parsed.data;
        if (rb.id !== snapshotId || rb.domain !== ctx.domain)
          throw mismatch(`it registers snapshot ${rb.id} of domain ${rb.domain}`);
        if (rb.sequence !== body.sequence)
          throw mismatch(`sequence ${body.sequence}, registered ${rb.sequence} (an older archive?)`);
        if (rb.manifestHash !== body.manifest) throw mismatch('manifest differs');
        registered = rb.bodyDigest;
        made = { maker: s.signer, sequence: body.sequence, createdAt: m.createdAt };
      },
      bodyDigest(digest: Uint8Array) {
        if (registered === undefined) throw mismatch('the registration was not checked');
        if (toHex(digest) !== registered) throw mismatch('body digest differs');
      },
      made() {
        if (!made) throw mismatch('the registration was not checked');
        return made;
      },
    };
  };
}

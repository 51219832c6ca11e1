/**
 * The rewrap job (docs/DECISIONS.md#f4, #d8): after a rotation, every archive of a domain gets a
 * quorum stanza for the new epoch in place of the old one. Header only: the body (salt, commitment,
 * chunks) is copied byte for byte, home and unknown stanzas are kept, and the archive stays
 * self-contained. The old epoch's key exists only inside the station during the rotation ceremony,
 * so this is a library function the station calls with the old identity and the new public key.
 *
 * Crash safety (invariant 8): each archive's header is replaced through the archive module's one
 * header-replacement path (`replaceHeader`): a temporary file beside it, fsynced, checked and renamed
 * over the original; directories are fsynced before a batch is recorded; a
 * batch is recorded first in the audit log (one `rekey-rewrap-batch` entry) and then in the journal.
 * A rerun skips archives whose quorum stanza already names the new key id, so kill -9 at any point
 * followed by a rerun finishes the work with nothing rewrapped twice and nothing skipped.
 *
 * @example
 * const r = await rewrapJob({
 *   domain: 'land', identities: [identityFromSeed(oldSeed)],
 *   recipient: { publicKey: newPublicKey, epoch: 2 },
 *   archives: await archivesFromStore(store, 'land'), stateDir: '.embassy/jobs',
 *   store, actor: 'station-1' });
 * if (!r.complete) throw new Error('keep the old shares: some archives are not rewrapped');
 * @module
 */
import { createHash } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { ArchiveError } from '../archive/errors.ts';
import { type Header, parseQuorumStanza, STANZA_QUORUM, verifyHeaderMac } from '../archive/header.ts';
import { fileSource } from '../archive/io.ts';
import { inPlace, quorumStanzas, replaceHeader } from '../archive/rekey.ts';
import { equalCt, toHex } from '../crypto/bytes.ts';
import type { JsonValue } from '../crypto/jcs.ts';
import { type Identity, keyId as keyIdOf } from '../crypto/keys.ts';
import { describeError } from '../errors.ts';
import { fsyncDir, removeStaleTemps } from '../fs/durable.ts';
import { type Faults, noFaults } from '../fs/faults.ts';
import type { Store } from '../store/index.ts';
import {
  type ArchiveRef,
  AuditRecorder,
  failureOf,
  type JobCounters,
  JobError,
  Journal,
  newCounters,
  pool,
  progressLine,
} from './common.ts';

export interface RewrapRecipient {
  /** The new epoch's X-Wing quorum public key (1216 bytes). */
  publicKey: Uint8Array;
  epoch: number;
  /** The key id the roster names for the new epoch; checked against `publicKey` when given. */
  keyId?: Uint8Array;
}

export interface RewrapJobOptions {
  domain: string;
  /** The old epoch's identity (or identities), reconstructed in the station. Never stored or logged. */
  identities: Identity[];
  recipient: RewrapRecipient;
  /** The archives to rewrap: {@link archivesFromStore} or {@link archivesFromDirectory}. */
  archives: ArchiveRef[];
  /** Directory of the job journal (`<stateDir>/<jobId>.journal`), e.g. `<dataDir>/jobs`. */
  stateDir: string;
  /** Audit entries go to this store's log (in their own transactions); without it, only the journal. */
  store?: Store;
  /** Principal recorded as the audit entries' actor (the station's roster id). */
  actor: string;
  /** Default `rewrap-<domain>-e<epoch>-<first 16 hex digits of the new key id>`. */
  jobId?: string;
  /** Archives in flight at once (default 16): overlaps fsync with the HPKE work. */
  concurrency?: number;
  /** Archives per journal/audit batch (default 256). */
  batchSize?: number;
  /** Progress line on stderr (default: only when stderr is a TTY). */
  progress?: boolean;
  /** Called after each batch with the counters of this run. */
  onProgress?: (c: Readonly<JobCounters>, done: number, total: number) => void;
  /** Crash injection for tests (the test-support CLI wrapper); none by default. */
  faults?: Faults;
}

export interface ArchiveFailure {
  id: string;
  code: string;
  message: string;
}

export interface RewrapResult {
  jobId: string;
  journalPath: string;
  total: number;
  /** Archives recorded as done over all runs of this job. */
  done: number;
  counters: JobCounters;
  failed: ArchiveFailure[];
  /** True iff every listed archive is recorded as done: only then may old-epoch shares be destroyed. */
  complete: boolean;
}

type Outcome =
  | { id: string; how: 'rewrapped' | 'found'; header: string; bytes: number; path: string }
  | { id: string; how: 'failed'; code: string; message: string };

export const defaultRewrapJobId = (domain: string, recipient: RewrapRecipient): string =>
  `rewrap-${domain}-e${recipient.epoch}-${toHex(keyIdOf(recipient.publicKey)).slice(0, 16)}`;

/** Runs (or resumes) the rewrap job. Per-archive failures are returned, not thrown. @throws {JobError} */
export async function rewrapJob(opts: RewrapJobOptions): Promise<RewrapResult> {
  if (opts.identities.length === 0) throw new JobError('bad_argument', 'the old epoch identity is required');
  const faults = opts.faults ?? noFaults;
  const newKid = keyIdOf(opts.recipient.publicKey);
  if (opts.recipient.keyId !== undefined && !equalCt(opts.recipient.keyId, newKid))
    throw new JobError('bad_argument', 'the new public key does not match the key id the roster names');
  if (opts.identities.some((i) => equalCt(i.keyId, newKid)))
    throw new JobError('bad_argument', 'the new key is one of the old identities');
  const ids = new Set<string>();
  for (const a of opts.archives) {
    if (ids.has(a.id)) throw new JobError('bad_argument', `archive id "${a.id}" is listed twice`);
    ids.add(a.id);
  }
  const jobId = opts.jobId ?? defaultRewrapJobId(opts.domain, opts.recipient);
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]{0,127}$/.test(jobId))
    throw new JobError('bad_argument', 'a job id is 1..128 of [A-Za-z0-9._-]');
  mkdirSync(opts.stateDir, { recursive: true, mode: 0o700 });
  const journalPath = join(opts.stateDir, `${jobId}.journal`);
  const journal = Journal.open(journalPath);
  try {
    const identity = {
      t: 'job',
      kind: 'rewrap',
      domain: opts.domain,
      toKeyId: toHex(newKid),
      toEpoch: opts.recipient.epoch,
    };
    const have = journal.find('job');
    if (have === undefined) journal.append(identity);
    else if (
      have['kind'] !== 'rewrap' ||
      have['domain'] !== opts.domain ||
      have['toKeyId'] !== identity.toKeyId
    )
      throw new JobError('journal_mismatch', `journal ${journalPath} belongs to another job`);

    const audit = await AuditRecorder.open(opts.store, opts.actor, jobId, journal);
    // Batches the audit log holds but the journal missed (a crash between the two): journal them now.
    const batches = journal.all('batch');
    for (let k = batches.length; ; k++) {
      const d = audit.logged(`batch-${k}`);
      if (d === undefined) break;
      journal.append({ t: 'batch', k, done: d['archives'] as JsonValue[] });
    }
    const done = new Set<string>();
    for (const b of journal.all('batch')) for (const a of b['done'] as { id: string }[]) done.add(a.id);

    await audit.record('rekey-rewrap-start', 'start', {
      domain: opts.domain,
      fromKeyIds: opts.identities.map((i) => toHex(i.keyId)),
      toKeyId: toHex(newKid),
      toEpoch: opts.recipient.epoch,
      archives: opts.archives.length,
    });

    const counters = newCounters();
    const failed: ArchiveFailure[] = [];
    const todo = opts.archives.filter((a) => !done.has(a.id));
    await removeStaleTemps(todo.map((a) => dirname(a.path)));
    counters.skipped += opts.archives.length - todo.length;
    const total = opts.archives.length;
    const bar = progressLine(`rewrap ${opts.domain}`, total, opts.progress);
    bar.update(done.size);
    const batchSize = Math.max(1, opts.batchSize ?? 256);
    for (let i = 0; i < todo.length; i += batchSize) {
      const batch = todo.slice(i, i + batchSize);
      const outcomes = await pool(batch, opts.concurrency ?? 16, (a) =>
        rewrapOne(a, opts.domain, opts.identities, opts.recipient, newKid, faults),
      );
      const dirs = new Set<string>();
      const ok: { id: string; how: string; header: string }[] = [];
      const bad: ArchiveFailure[] = [];
      for (const o of outcomes) {
        counters.scanned++;
        if (o.how === 'failed') {
          bad.push({ id: o.id, code: o.code, message: o.message });
          continue;
        }
        ok.push({ id: o.id, how: o.how, header: o.header });
        if (o.how === 'rewrapped') {
          counters.rewritten++;
          counters.bytesWritten += o.bytes;
          dirs.add(dirname(o.path));
        } else counters.skipped++;
      }
      for (const d of dirs) await fsyncDir(d);
      faults.at('rewrap:before-audit');
      const k = journal.all('batch').length;
      if (ok.length > 0) {
        await audit.record('rekey-rewrap-batch', `batch-${k}`, {
          domain: opts.domain,
          toKeyId: toHex(newKid),
          toEpoch: opts.recipient.epoch,
          archives: ok,
        });
        faults.at('rewrap:before-journal');
        journal.append({ t: 'batch', k, done: ok });
        for (const a of ok) done.add(a.id);
      }
      counters.failed += bad.length;
      failed.push(...bad);
      bar.update(done.size);
      opts.onProgress?.(counters, done.size, total);
      faults.at('rewrap:after-batch');
    }
    bar.end();
    const complete = opts.archives.every((a) => done.has(a.id));
    if (complete)
      await audit.record('rekey-rewrap-complete', 'complete', {
        domain: opts.domain,
        toKeyId: toHex(newKid),
        toEpoch: opts.recipient.epoch,
        archives: total,
      });
    return { jobId, journalPath, total, done: done.size, counters, failed, complete };
  } finally {
    journal.close();
  }
}

/** Rewraps one archive (or finds it done); never throws. */
async function rewrapOne(
  ref: ArchiveRef,
  domain: string,
  identities: Identity[],
  recipient: RewrapRecipient,
  newKid: Uint8Array,
  faults: Faults,
): Promise<Outcome> {
  try {
    return await rewrapFile(ref, domain, identities, recipient, newKid, faults);
  } catch (e) {
    return { id: ref.id, how: 'failed', ...failureOf(e) };
  }
}

const sha256Hex = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

async function rewrapFile(
  ref: ArchiveRef,
  domain: string,
  identities: Identity[],
  recipient: RewrapRecipient,
  newKid: Uint8Array,
  faults: Faults,
): Promise<Outcome> {
  const src = await fileSource(ref.path).catch((e) => {
    throw new JobError('archive_unreadable', `cannot open archive ${ref.id}: ${describeError(e)}`);
  });
  const r = await replaceHeader(src, inPlace(ref.path, { syncDir: false }), {
    done(old) {
      if (old.manifest.domain !== domain)
        throw new JobError('wrong_domain', `archive ${ref.id} belongs to domain "${old.manifest.domain}"`);
      return quorumOf(old).some((q) => equalCt(q.keyId, newKid));
    },
    unlock: { identities },
    stanzas: quorumStanzas([recipient]),
    check: (old, fresh, dek) => verifyNewHeader(ref.id, old, fresh, dek!, recipient, newKid),
    fail: (why) => new JobError('verify_failed', `archive ${ref.id}: ${why}`),
    faults: { at: (step) => faults.at(`rewrap:${step}`) },
  }).catch((e) => {
    if (e instanceof ArchiveError && e.code === 'no_matching_stanza')
      throw new JobError('no_old_key', `archive ${ref.id} has no quorum stanza for the old epoch key`);
    throw e;
  });
  const header = sha256Hex(r.header.bytes);
  return r.changed
    ? { id: ref.id, how: 'rewrapped', header, bytes: r.bytes, path: ref.path }
    : { id: ref.id, how: 'found', header, bytes: 0, path: ref.path };
}

const quorumOf = (h: Header) =>
  h.stanzas.filter((s) => s.type === STANZA_QUORUM).map((s) => parseQuorumStanza(s.body));

/**
 * What the station can verify of a new header without the new private key (which it no longer holds
 * after the split): the manifest is unchanged, the MAC verifies under the DEK, the one quorum stanza
 * names the new key id and epoch and has the right size, every other stanza is byte-identical.
 */
function verifyNewHeader(
  id: string,
  old: Header,
  fresh: Header,
  dek: Uint8Array,
  recipient: RewrapRecipient,
  newKid: Uint8Array,
): void {
  const fail = (why: string) => new JobError('verify_failed', `new header of archive ${id}: ${why}`);
  if (!equalCt(fresh.manifestBytes, old.manifestBytes)) throw fail('manifest changed');
  try {
    verifyHeaderMac(fresh, dek);
  } catch {
    throw fail('header MAC does not verify');
  }
  const q = quorumOf(fresh);
  if (q.length !== 1) throw fail('expected exactly one quorum stanza');
  const parsed = q[0]!;
  if (!equalCt(parsed.keyId, newKid) || parsed.epoch !== recipient.epoch)
    throw fail('quorum stanza names the wrong key or epoch');
  const keptOld = old.stanzas.filter((s) => s.type !== STANZA_QUORUM);
  const keptNew = fresh.stanzas.filter((s) => s.type !== STANZA_QUORUM);
  if (
    keptOld.length !== keptNew.length ||
    keptOld.some((s, i) => s.type !== keptNew[i]!.type || !equalCt(s.body, keptNew[i]!.body))
  )
    throw fail('other stanzas changed');
}

/**
 * The station's check of an archive's maker signature (docs/DECISIONS.md#d4), before any chunk is
 * decrypted: signed by a job of the pinned roster that may seal for the domain, naming exactly this
 * manifest and body, and carrying the sequence the job's own signed registration logged for this
 * snapshot — so a forged archive (anyone can encrypt to a public key) or an older archive handed
 * back by the foreign data centre is refused.
 */
import { ArchiveError, checkMakerFacts, type MakerFacts } from '../archive/index.ts';
import { type Statement, verifyStatement } from '../crypto/statement.ts';
import { type SnapshotBody, STATEMENT } from '../protocol/statements.ts';
import { jobMaySeal, principalKey, type RosterDoc } from '../roster/index.ts';

export interface Registration {
  id: string;
  statement: Statement;
}

function signedByJob(roster: RosterDoc, s: Statement, domain: string, what: string): void {
  const [role, id] = s.signer.split('/');
  if (role !== 'job' || !id || !jobMaySeal(roster, id, domain)) {
    throw new ArchiveError(
      'maker_mismatch',
      `${what} is signed by "${s.signer}", who may not seal for domain "${domain}"`,
    );
  }
  let ok = false;
  try {
    ok = verifyStatement(s, principalKey(roster, s.signer));
  } catch {
    ok = false;
  }
  if (!ok) throw new ArchiveError('maker_mismatch', `${what} does not verify against the pinned roster`);
}

export function makerVerifier(roster: RosterDoc, registrations: Registration[]) {
  return (s: Statement | undefined, f: MakerFacts): void => {
    if (!s) throw new ArchiveError('unsigned', `archive ${f.manifest.snapshotId} carries no maker signature`);
    const body = checkMakerFacts(s, f);
    signedByJob(roster, s, body.domain, "the archive's maker signature");
    const reg = registrations.find((r) => r.id === body.snapshotId);
    if (!reg)
      throw new ArchiveError('maker_mismatch', `snapshot ${body.snapshotId} has no logged registration`);
    const r = reg.statement;
    if (r.type !== STATEMENT.snapshot)
      throw new ArchiveError('maker_mismatch', 'the registration is not a snapshot-registration');
    signedByJob(roster, r, body.domain, 'the snapshot registration');
    const rb = r.body as unknown as SnapshotBody;
    if (rb.id !== body.snapshotId || rb.domain !== body.domain || rb.sequence !== body.sequence) {
      throw new ArchiveError(
        'maker_mismatch',
        `archive ${body.snapshotId} has sequence ${body.sequence}, but the job registered ${rb.sequence}: not the registered archive (a rollback?)`,
      );
    }
  };
}

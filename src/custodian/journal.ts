/**
 * The custodian client's local release journal (docs/DECISIONS.md#d2): a share is released at most
 * once per ceremony and per recipient key, whatever the coordinator asks. It is the append-only
 * journal of src/fs: the check and the append happen under its exclusive lock (a second client of
 * the same token, in this process or another, is refused while one records), and the entry is
 * fsynced before the token releases, so a crash between the two refuses a second release rather
 * than allowing one. A torn final line is an entry whose write never returned (the token did not
 * release), so dropping it is safe; any other unreadable line refuses every release.
 * @module
 */
import { createHash } from 'node:crypto';
import { toHex } from '../crypto/bytes.ts';
import { EmbassyError } from '../errors.ts';
import { Journal, readJournal } from '../fs/journal.ts';

export interface JournalEntry {
  ceremony: string;
  recipient: string;
  domain: string;
  epoch: number;
  at: string;
}

/** A release this token already made (for this ceremony or to this recipient key). */
export class AlreadyReleased extends EmbassyError<'already_released'> {
  constructor(message: string) {
    super('already_released', message);
  }
}

const HEX = /^[0-9a-f]{2,}$/;

function isEntry(v: unknown): v is JournalEntry {
  const e = v as Partial<JournalEntry> | null;
  return (
    typeof e === 'object' &&
    e !== null &&
    typeof e.ceremony === 'string' &&
    HEX.test(e.ceremony) &&
    typeof e.recipient === 'string' &&
    HEX.test(e.recipient) &&
    typeof e.domain === 'string' &&
    Number.isInteger(e.epoch) &&
    typeof e.at === 'string'
  );
}

export class ReleaseJournal {
  constructor(readonly path: string) {}

  /** The releases recorded so far (read without the lock). */
  entries(): JournalEntry[] {
    return readJournal(this.path, isEntry);
  }

  /**
   * Records the intent to release, durably, before the token may release.
   * @throws {AlreadyReleased} if this ceremony or recipient key was released to before.
   * @throws {import('../fs/journal.ts').JournalError} if the journal is locked or corrupt.
   */
  record(r: {
    ceremony: Uint8Array;
    recipientP256: Uint8Array;
    recipientXWing: Uint8Array;
    domain: string;
    epoch: number;
  }): void {
    const ceremony = toHex(r.ceremony);
    const recipient = createHash('sha256').update(r.recipientP256).update(r.recipientXWing).digest('hex');
    const journal = Journal.open(this.path, isEntry);
    try {
      for (const e of journal.records) {
        if (e.ceremony === ceremony)
          throw new AlreadyReleased(
            `this token already released its share for ceremony ${ceremony.slice(0, 16)}…`,
          );
        if (e.recipient === recipient)
          throw new AlreadyReleased('this token already released a share to this recipient key');
      }
      journal.append({ ceremony, recipient, domain: r.domain, epoch: r.epoch, at: new Date().toISOString() });
    } finally {
      journal.close();
    }
  }
}

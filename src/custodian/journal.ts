/**
 * The custodian client's local release journal (docs/DECISIONS.md#d2): a share is released at most
 * once per ceremony and per recipient key, whatever the coordinator asks. The entry is written and
 * fsynced before the token releases, so a crash between the two refuses a second release rather
 * than allowing one.
 */
import { createHash } from 'node:crypto';
import { closeSync, fsyncSync, openSync, readFileSync, writeSync } from 'node:fs';
import { toHex } from '../crypto/bytes.ts';

export interface JournalEntry {
  ceremony: string;
  recipient: string;
  domain: string;
  epoch: number;
  at: string;
}

export class JournalError extends Error {
  readonly code = 'already_released';
}

export class ReleaseJournal {
  constructor(readonly path: string) {}

  entries(): JournalEntry[] {
    let text: string;
    try {
      text = readFileSync(this.path, 'utf8');
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw e;
    }
    return text
      .split('\n')
      .filter((l) => l.trim() !== '')
      .map((l) => JSON.parse(l) as JournalEntry);
  }

  /** Records the intent to release; throws if this ceremony or recipient key was released to before. */
  record(r: {
    ceremony: Uint8Array;
    recipientP256: Uint8Array;
    recipientXWing: Uint8Array;
    domain: string;
    epoch: number;
  }) {
    const ceremony = toHex(r.ceremony);
    const recipient = createHash('sha256').update(r.recipientP256).update(r.recipientXWing).digest('hex');
    for (const e of this.entries()) {
      if (e.ceremony === ceremony)
        throw new JournalError(
          `this token already released its share for ceremony ${ceremony.slice(0, 16)}…`,
        );
      if (e.recipient === recipient)
        throw new JournalError('this token already released a share to this recipient key');
    }
    const entry: JournalEntry = {
      ceremony,
      recipient,
      domain: r.domain,
      epoch: r.epoch,
      at: new Date().toISOString(),
    };
    const fd = openSync(this.path, 'a', 0o600);
    try {
      writeSync(fd, `${JSON.stringify(entry)}\n`);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
  }
}

// The custodian's release journal records each release durably and survives a torn write: an
// entry whose write never returned (so the token released nothing) is dropped.
import { appendFileSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReleaseJournal } from '../../src/custodian/journal.ts';
import { release, tempDirs } from './helpers.ts';

const tmp = tempDirs();

describe('release journal', () => {
  it('good: records a release durably with mode 0600 and reads it back', () => {
    const path = join(tmp(), 'c1-release-journal.jsonl');
    const j = new ReleaseJournal(path);
    expect(j.entries()).toEqual([]);
    j.record(release(1, 1));
    j.record(release(2, 2));
    expect(j.entries().map((e) => e.ceremony.slice(0, 2))).toEqual(['01', '02']);
    expect(statSync(path).mode & 0o777).toBe(0o600);
    expect(readFileSync(path, 'utf8').endsWith('\n')).toBe(true);
  });

  it('good: a torn final entry (its write never returned, so nothing was released) is dropped', () => {
    const path = join(tmp(), 'j.jsonl');
    const j = new ReleaseJournal(path);
    j.record(release(1, 1));
    const line = readFileSync(path, 'utf8');
    appendFileSync(path, line.replaceAll('01', '03').slice(0, 40));
    j.record(release(3, 3));
    expect(j.entries().map((e) => e.ceremony.slice(0, 2))).toEqual(['01', '03']);
    expect(() => j.record(release(3, 4))).toThrow(expect.objectContaining({ code: 'already_released' }));
  });
});

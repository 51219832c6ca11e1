// The append-only journal: records read back after a reopen, a torn tail cut at the byte offset of
// the last complete record so the next append starts on its own line, and the lock released on close.
import { appendFileSync, existsSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal, readJournal } from '../../src/fs/journal.ts';
import { tempDirs } from './helpers.ts';

const tmp = tempDirs();
type Rec = { n: number };
const isRec = (v: unknown): v is Rec => typeof (v as Rec | null)?.n === 'number';

describe('journal', () => {
  it('appends JSON Lines, one newline each, and reads them back after a reopen', () => {
    const path = join(tmp(), 'x.journal');
    const j = Journal.open(path, isRec);
    expect(j.records).toEqual([]);
    j.append({ n: 1 }, { n: 2 });
    j.append({ n: 3 });
    expect(existsSync(`${path}.lock`)).toBe(true);
    j.close();
    expect(existsSync(`${path}.lock`)).toBe(false);
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n{"n":2}\n{"n":3}\n');
    expect(statSync(path).mode & 0o777).toBe(0o600);
    const again = Journal.open(path, isRec);
    expect(again.records).toEqual([{ n: 1 }, { n: 2 }, { n: 3 }]);
    again.close();
  });

  it('cuts a torn tail on open, even one that parses, and appends after the last complete record', () => {
    const path = join(tmp(), 'x.journal');
    const j = Journal.open(path, isRec);
    j.append({ n: 1 });
    j.close();
    appendFileSync(path, '{"n":2}'); // complete JSON, but its newline never made it
    expect(readJournal(path, isRec)).toEqual([{ n: 1 }]);
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n{"n":2}'); // reading alone cuts nothing
    const k = Journal.open(path, isRec);
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n');
    k.append({ n: 3 });
    k.close();
    expect(readFileSync(path, 'utf8')).toBe('{"n":1}\n{"n":3}\n');
  });

  it('skips blank lines; a missing journal reads as empty', () => {
    const path = join(tmp(), 'x.journal');
    expect(readJournal(path, isRec)).toEqual([]);
    appendFileSync(path, '\n{"n":1}\n\n');
    expect(readJournal(path, isRec)).toEqual([{ n: 1 }]);
  });
});

// Property: whatever bytes a crash leaves after the last newline, the reader returns exactly the
// complete records before it and the byte offset where they end; reopening cuts the file there and
// the next append reads back after them.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Journal, parseJournal } from '../../src/fs/journal.ts';
import { tempDirs } from './helpers.ts';

const tmp = tempDirs();
type Rec = { n: number; s: string };
const isRec = (v: unknown): v is Rec =>
  typeof (v as Rec | null)?.n === 'number' && typeof (v as Rec | null)?.s === 'string';
const records = fc.array(fc.record({ n: fc.integer(), s: fc.string({ unit: 'binary' }) }), { maxLength: 8 });
const lines = (rs: Rec[]) => Buffer.from(rs.map((r) => `${JSON.stringify(r)}\n`).join(''));

describe('journal reader over torn tails', () => {
  it('keeps the complete records and cuts at the byte offset of the last newline', () => {
    fc.assert(
      fc.property(records, fc.uint8Array({ maxLength: 64 }), (rs, junk) => {
        const torn = junk.filter((b) => b !== 10); // a tail is torn: it has no newline
        const body = lines(rs);
        const { records: got, end } = parseJournal(Buffer.concat([body, torn]), isRec);
        expect(got).toEqual(rs);
        expect(end).toBe(body.length);
      }),
    );
  });

  it('a torn prefix of a record is dropped; the records before it stay', () => {
    fc.assert(
      fc.property(records, fc.record({ n: fc.integer(), s: fc.string() }), fc.nat(), (rs, next, cut) => {
        const line = Buffer.from(`${JSON.stringify(next)}\n`);
        const partial = line.subarray(0, cut % line.length); // never the newline
        const { records: got, end } = parseJournal(Buffer.concat([lines(rs), partial]), isRec);
        expect(got).toEqual(rs);
        expect(end).toBe(lines(rs).length);
      }),
    );
  });

  it('reopening a torn journal cuts it and appends after the complete records', () => {
    const dir = tmp();
    let i = 0;
    fc.assert(
      fc.property(records, fc.uint8Array({ maxLength: 32 }), (rs, junk) => {
        const path = join(dir, `j${i++}`);
        writeFileSync(path, Buffer.concat([lines(rs), junk.filter((b) => b !== 10)]));
        const j = Journal.open(path, isRec);
        expect(j.records).toEqual(rs);
        j.append({ n: -1, s: 'after' });
        j.close();
        const k = Journal.open(path, isRec);
        expect(k.records).toEqual([...rs, { n: -1, s: 'after' }]);
        k.close();
      }),
      { numRuns: 50 },
    );
  });
});

// The job journal: a torn final record (no newline) is dropped and the next append starts on its own
// line; a corrupt middle line is refused; the lock keeps a second live run out and is taken over
// from a dead process.
import { spawnSync } from 'node:child_process';
import { appendFileSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { Journal } from '../../src/jobs/common.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'embassy-journal-'));
  dirs.push(d);
  return d;
};
afterEach(() => {
  for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
});

describe('job journal', () => {
  it('drops a torn final record and appends after the last complete one', () => {
    const path = join(tmp(), 'j.journal');
    const j = Journal.open(path);
    j.append({ t: 'job', kind: 'x' }, { t: 'batch', k: 0 });
    j.close();
    appendFileSync(path, '{"t":"batch","k":1}'); // killed before the newline
    const j2 = Journal.open(path);
    expect(j2.records.map((r) => r.t)).toEqual(['job', 'batch']);
    j2.append({ t: 'batch', k: 1 });
    j2.close();
    expect(readFileSync(path, 'utf8')).toBe(
      '{"t":"job","kind":"x"}\n{"t":"batch","k":0}\n{"t":"batch","k":1}\n',
    );
  });

  it('refuses a corrupt complete line', () => {
    const path = join(tmp(), 'j.journal');
    writeFileSync(path, '{"t":"job"}\nnot json\n{"t":"x"}\n');
    expect(() => Journal.open(path)).toThrow(expect.objectContaining({ code: 'journal_corrupt' }));
  });

  it('keeps a second run out while the first lives; takes over a dead holder', () => {
    const path = join(tmp(), 'j.journal');
    const j = Journal.open(path);
    expect(() => Journal.open(path)).toThrow(expect.objectContaining({ code: 'journal_locked' }));
    j.close();
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    writeFileSync(`${path}.lock`, dead);
    const j2 = Journal.open(path);
    j2.close();
  });
});

// The journal refuses a corrupt complete line, a second opener while a live holder has it (in this
// process or another), and appends after close; it takes over a lock whose holder is dead.
import { spawn, spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Journal } from '../../src/fs/journal.ts';
import { tempDirs } from './helpers.ts';

const tmp = tempDirs();
type Rec = { n: number };
const isRec = (v: unknown): v is Rec => typeof (v as Rec | null)?.n === 'number';

describe('journal refusals', () => {
  it('refuses a corrupt complete line, and a line that is not a record', () => {
    const dir = tmp();
    writeFileSync(join(dir, 'a'), '{"n":1}\nnot json\n{"n":2}\n');
    expect(() => Journal.open(join(dir, 'a'), isRec)).toThrow(
      expect.objectContaining({ code: 'journal_corrupt' }),
    );
    writeFileSync(join(dir, 'b'), '{"n":1}\n{"m":2}\n');
    expect(() => Journal.open(join(dir, 'b'), isRec)).toThrow(
      expect.objectContaining({ code: 'journal_corrupt' }),
    );
    // the refusal released the lock and changed nothing
    writeFileSync(join(dir, 'b'), '{"n":1}\n');
    Journal.open(join(dir, 'b'), isRec).close();
    expect(readFileSync(join(dir, 'b'), 'utf8')).toBe('{"n":1}\n');
  });

  it('refuses a second opener in the same process while the first holds it', () => {
    const path = join(tmp(), 'j');
    const j = Journal.open(path, isRec);
    expect(() => Journal.open(path, isRec)).toThrow(expect.objectContaining({ code: 'journal_locked' }));
    j.close();
    Journal.open(path, isRec).close();
  });

  it('refuses while another live process holds it', async () => {
    const path = join(tmp(), 'j');
    const holder = spawn(process.execPath, ['-e', 'setTimeout(() => {}, 30000)']);
    try {
      writeFileSync(`${path}.lock`, String(holder.pid));
      expect(() => Journal.open(path, isRec)).toThrow(expect.objectContaining({ code: 'journal_locked' }));
    } finally {
      holder.kill('SIGKILL');
      await new Promise((r) => holder.once('exit', r));
    }
    Journal.open(path, isRec).close(); // its holder is gone now: taken over
  });

  it('takes over the lock of a dead process, and one left with our own pid by an earlier process', () => {
    const path = join(tmp(), 'j');
    const dead = spawnSync(process.execPath, [
      '-e',
      'process.stdout.write(String(process.pid))',
    ]).stdout.toString();
    writeFileSync(`${path}.lock`, dead);
    Journal.open(path, isRec).close();
    writeFileSync(`${path}.lock`, String(process.pid)); // pids repeat across container restarts
    const j = Journal.open(path, isRec);
    expect(readFileSync(`${path}.lock`, 'utf8')).toBe(String(process.pid));
    j.close();
  });

  it('refuses appends after close', () => {
    const j = Journal.open(join(tmp(), 'j'), isRec);
    j.close();
    expect(() => j.append({ n: 1 })).toThrow(/closed/);
  });
});

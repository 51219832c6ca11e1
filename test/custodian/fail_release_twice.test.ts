// The custodian's release journal never allows a second release for one ceremony or one recipient
// key, also across processes racing for it; a corrupt file or a live holder of its lock refuses all.
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ReleaseJournal } from '../../src/custodian/journal.ts';
import { release, tempDirs } from './helpers.ts';

const CHILD = join(import.meta.dirname, 'release_child.ts');
const tmp = tempDirs();

const child = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const c = spawn(process.execPath, ['--import', 'tsx', CHILD, path], {
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    let out = '';
    c.stdout.on('data', (d) => {
      out += d;
    });
    c.on('error', reject);
    c.on('exit', () => resolve(out));
  });

describe('release journal refusals', () => {
  it('fail: a second release for the same ceremony or to the same recipient key is refused', () => {
    const j = new ReleaseJournal(join(tmp(), 'j.jsonl'));
    j.record(release(1, 1));
    expect(() => j.record(release(1, 2))).toThrow(expect.objectContaining({ code: 'already_released' }));
    expect(() => j.record(release(2, 1))).toThrow(expect.objectContaining({ code: 'already_released' }));
    expect(j.entries()).toHaveLength(1);
  });

  it('fail: of clients racing in separate processes, exactly one records the release', async () => {
    const path = join(tmp(), 'j.jsonl');
    const outs = await Promise.all([1, 2, 3, 4].map(() => child(path)));
    expect(outs.filter((o) => o === 'recorded')).toHaveLength(1);
    for (const o of outs) expect(['recorded', 'already_released', 'journal_locked']).toContain(o);
    expect(new ReleaseJournal(path).entries()).toHaveLength(1);
  }, 30_000);

  it('fail: a corrupt entry or a live holder of the lock refuses every release', () => {
    const dir = tmp();
    const corrupt = new ReleaseJournal(join(dir, 'a.jsonl'));
    writeFileSync(corrupt.path, '{"ceremony":"01"}\n');
    expect(() => corrupt.record(release(1, 1))).toThrow(expect.objectContaining({ code: 'journal_corrupt' }));
    const locked = new ReleaseJournal(join(dir, 'b.jsonl'));
    writeFileSync(`${locked.path}.lock`, String(process.ppid)); // a live process
    expect(() => locked.record(release(1, 1))).toThrow(expect.objectContaining({ code: 'journal_locked' }));
    expect(locked.entries()).toEqual([]);
  });
});

import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embassy } from '../cli/run.ts';

describe('embassy demo (npm run demo)', () => {
  const base = mkdtempSync(join(tmpdir(), 'embassy-demo-'));

  it('runs the whole story, every check holds, and it can run again over its own directory', () => {
    const dir = join(base, 'demo');
    for (let run = 0; run < 2; run++) {
      const r = embassy(['demo', '--data-dir', dir]);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
      const out = r.stdout.toString();
      expect(out).toContain('✔ restored land register equals the original byte for byte');
      expect(out).toContain('✔ the ceremony is closed and the coordinator deleted the wrapped shares');
      expect(out).toContain('✔ a second release by the same custodian is refused by its journal');
      expect(out).toContain(
        '✔ no findings: tree, checkpoints, signatures, roster chain and ceremony policy all verify',
      );
      expect(out).toContain('Every check held.');
      expect(out).not.toMatch(/PIN[^s]*:\s*\S{8,}/);
    }
  });

  it('refuses to wipe a directory it did not make', () => {
    const foreign = join(base, 'foreign');
    mkdirSync(foreign);
    writeFileSync(join(foreign, 'keep.txt'), 'important');
    const r = embassy(['demo', '--data-dir', foreign]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/exists and was not made by the demo/);
  });
});

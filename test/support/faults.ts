/**
 * Crash injection for the kill -9 tests: a {@link Faults} that SIGKILLs this process (a real
 * crash: no handler runs) the k-th time it reaches a planned point.
 *
 * A plan is `point[:k],…`, k 1-based and 1 when omitted; a point may hold colons itself
 * (`rewrap:before-rename:3`, `before:challenge-custodians`).
 *
 * @example
 * await rewrapJob({ ...opts, faults: killAt('rewrap:before-rename:3') });
 */
import type { Faults } from '../../src/fs/faults.ts';

export function killAt(plan: string | undefined): Faults {
  const at = new Map<string, number>();
  for (const part of (plan ?? '').split(',').filter((p) => p !== '')) {
    const m = /^(.*):(\d+)$/.exec(part);
    at.set(m ? m[1]! : part, m ? Number(m[2]) : 1);
  }
  const seen = new Map<string, number>();
  return {
    at(point) {
      const k = at.get(point);
      if (k === undefined) return;
      const n = (seen.get(point) ?? 0) + 1;
      seen.set(point, n);
      if (n === k) process.kill(process.pid, 'SIGKILL');
    },
  };
}

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
import { existsSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Faults } from '../../src/fs/faults.ts';

export function killAt(plan: string | undefined): Faults {
  const kill = killPlan(plan);
  return {
    at(point) {
      if (kill(point)) process.kill(process.pid, 'SIGKILL');
    },
  };
}

/** A plan `point[:k],…` as a predicate: true the k-th time a planned point is reached. */
function killPlan(plan: string | undefined): (point: string) => boolean {
  const at = new Map<string, number>();
  for (const part of (plan ?? '').split(',').filter((p) => p !== '')) {
    const m = /^(.*):(\d+)$/.exec(part);
    at.set(m ? m[1]! : part, m ? Number(m[2]) : 1);
  }
  const seen = new Map<string, number>();
  return (point) => {
    const k = at.get(point);
    if (k === undefined) return false;
    const n = (seen.get(point) ?? 0) + 1;
    seen.set(point, n);
    return n === k;
  };
}

/** The error a {@link crashAt} plan throws where a real crash would stop the process. */
export class SimulatedCrash extends Error {
  constructor(readonly point: string) {
    super(`simulated crash at ${point}`);
  }
}

/**
 * An in-process crash for the ceremony crash tests (cheaper than a spawned SIGKILL): at the planned
 * point (`point[:k]`) it snapshots the files of `dir` (the transcripts) and throws; `restore()` then
 * puts `dir` back as it was at that instant, so the error handling that ran after the throw leaves no
 * trace, and what remains on disk, in the store and in the tokens is what a kill -9 there leaves.
 * The caller drops the process's memory by closing the deployment and opening it again.
 *
 * @example
 * const crash = crashAt('publish-roster:after-store', join(dataDir, 'ceremonies'));
 * await runCeremony('key-generation', { env, params, faults: crash }).catch(() => {});
 * crash.restore();
 */
export function crashAt(plan: string, dir: string): Faults & { hit?: string; restore(): void } {
  const kill = killPlan(plan);
  let snapshot: Map<string, Buffer> | undefined;
  const state: Faults & { hit?: string; restore(): void } = {
    at(point) {
      if (state.hit !== undefined || !kill(point)) return;
      state.hit = point;
      snapshot = new Map(
        (existsSync(dir) ? readdirSync(dir) : []).map((f) => [f, readFileSync(join(dir, f))] as const),
      );
      throw new SimulatedCrash(point);
    },
    restore() {
      if (!snapshot) return;
      for (const f of existsSync(dir) ? readdirSync(dir) : []) if (!snapshot.has(f)) rmSync(join(dir, f));
      for (const [f, bytes] of snapshot) writeFileSync(join(dir, f), bytes);
    },
  };
  return state;
}

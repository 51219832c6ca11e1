/**
 * Job metrics in the Prometheus text format, written to `<stateDir>/<job>.prom` after each run (the
 * node_exporter textfile-collector convention: batch jobs have no scrape endpoint).
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { writeDurably } from '../fs/durable.ts';
import type { JobCounters } from './common.ts';

export async function writeJobMetrics(
  stateDir: string,
  job: 'rewrap' | 'home-rotate' | 'key-age',
  m: {
    counters?: JobCounters;
    total?: number;
    done?: number;
    complete: boolean;
    extra?: Record<string, number>;
  },
  now = new Date(),
): Promise<string> {
  const l = `{job="${job}"}`;
  const lines = [
    '# HELP embassy_job_last_run_timestamp_seconds When the job last finished a run.',
    '# TYPE embassy_job_last_run_timestamp_seconds gauge',
    `embassy_job_last_run_timestamp_seconds${l} ${Math.floor(now.getTime() / 1000)}`,
    '# HELP embassy_job_complete 1 when the job has nothing left to do.',
    '# TYPE embassy_job_complete gauge',
    `embassy_job_complete${l} ${m.complete ? 1 : 0}`,
  ];
  if (m.total !== undefined && m.done !== undefined) {
    lines.push(
      '# TYPE embassy_job_archives gauge',
      `embassy_job_archives${l} ${m.total}`,
      `embassy_job_archives_done${l} ${m.done}`,
    );
  }
  if (m.counters) {
    lines.push(
      '# HELP embassy_job_run_archives Archives by outcome in the last run.',
      '# TYPE embassy_job_run_archives gauge',
    );
    for (const k of ['scanned', 'rewritten', 'skipped', 'failed'] as const) {
      lines.push(`embassy_job_run_archives{job="${job}",outcome="${k}"} ${m.counters[k]}`);
    }
    lines.push(
      '# TYPE embassy_job_run_bytes_written gauge',
      `embassy_job_run_bytes_written${l} ${m.counters.bytesWritten}`,
    );
  }
  for (const [k, v] of Object.entries(m.extra ?? {}))
    lines.push(`# TYPE embassy_job_${k} gauge`, `embassy_job_${k}${l} ${v}`);
  mkdirSync(stateDir, { recursive: true });
  const path = join(stateDir, `${job}.prom`);
  await writeDurably(path, `${lines.join('\n')}\n`, { mode: 0o644 });
  return path;
}

/**
 * Shared benchmark helpers: run a command, time it, and sample its peak RSS (VmHWM from /proc,
 * which covers all its threads), then print a Markdown table with ratios to a reference.
 */
import { spawn } from 'node:child_process';
import { createReadStream, createWriteStream, readFileSync } from 'node:fs';

export interface Measured {
  seconds: number;
  peakRssMiB: number;
}

export async function measure(
  cmd: string,
  args: string[],
  opts: { stdin?: string; stdout?: string } = {},
): Promise<Measured> {
  const start = performance.now();
  const child = spawn(cmd, args, { stdio: ['pipe', 'pipe', 'pipe'] });
  if (opts.stdin) createReadStream(opts.stdin).pipe(child.stdin);
  else child.stdin.end();
  child.stdout.pipe(createWriteStream(opts.stdout ?? '/dev/null'));
  let stderr = '';
  child.stderr.on('data', (d) => {
    stderr += d;
  });
  let peak = 0;
  const sample = () => {
    try {
      const m = /VmHWM:\s+(\d+) kB/.exec(readFileSync(`/proc/${child.pid}/status`, 'utf8'));
      if (m) peak = Math.max(peak, Number(m[1]));
    } catch {}
  };
  const timer = setInterval(sample, 10);
  const code = await new Promise<number | null>((res) => child.on('exit', (c) => res(c)));
  clearInterval(timer);
  if (code !== 0) throw new Error(`${cmd} ${args.join(' ')} failed (${code}): ${stderr.trim()}`);
  return { seconds: (performance.now() - start) / 1000, peakRssMiB: peak / 1024 };
}

/** The median run of several, by time. */
export async function median(runs: number, f: () => Promise<Measured>): Promise<Measured> {
  const all: Measured[] = [];
  for (let i = 0; i < runs; i++) all.push(await f());
  all.sort((a, b) => a.seconds - b.seconds);
  return all[Math.floor(all.length / 2)]!;
}

export function table(header: string[], rows: (string | number)[][]): string {
  const line = (cells: (string | number)[]) => `| ${cells.join(' | ')} |`;
  return [line(header), line(header.map(() => '---')), ...rows.map(line)].join('\n');
}

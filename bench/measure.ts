/**
 * Shared benchmark helpers: run a command, time it, and sample its peak RSS (VmHWM from /proc,
 * which covers all its threads), then print a Markdown table with ratios to a reference.
 */
import { spawn } from 'node:child_process';
import { closeSync, openSync, readFileSync } from 'node:fs';

export interface Measured {
  seconds: number;
  peakRssMiB: number;
}

export async function measure(
  cmd: string,
  args: string[],
  opts: { stdin?: string; stdout?: string } = {},
): Promise<Measured> {
  // The child gets the files themselves as stdin/stdout (as a shell redirection would), so no
  // bytes pass through this process: a pipe here would cost a core the measured tool competes for.
  const stdin = openSync(opts.stdin ?? '/dev/null', 'r');
  const stdout = openSync(opts.stdout ?? '/dev/null', 'w');
  const start = performance.now();
  const child = spawn(cmd, args, { stdio: [stdin, stdout, 'pipe'] });
  closeSync(stdin);
  closeSync(stdout);
  let stderr = '';
  child.stderr!.on('data', (d) => {
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

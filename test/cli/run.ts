import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export const BIN = fileURLToPath(new URL('../../bin/embassy.mjs', import.meta.url));

export interface Run {
  status: number | null;
  stdout: Buffer;
  stderr: string;
}

/** Runs the real CLI in a child process, as a user would. */
export function embassy(
  args: string[],
  opts: { input?: Uint8Array; cwd?: string; env?: NodeJS.ProcessEnv } = {},
): Run {
  const r = spawnSync(process.execPath, [BIN, ...args], {
    input: opts.input,
    cwd: opts.cwd,
    env: { ...process.env, ...opts.env },
    maxBuffer: 1 << 30,
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

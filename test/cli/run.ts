import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
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

/**
 * `embassy audit export` of a development deployment, then `embassy audit verify` against the
 * anchors the deployment keeps for its auditor (DIR/roster-pin, DIR/log-key.vkey).
 */
export function exportAndVerify(dir: string, extra: string[] = []): Run {
  const bundle = join(dir, `audit-bundle-${Date.now()}.json`);
  const exported = embassy(['audit', 'export', '-o', bundle, '--data-dir', dir]);
  if (exported.status !== 0) return exported;
  return embassy([
    'audit',
    'verify',
    bundle,
    '--roster-pin',
    readFileSync(join(dir, 'roster-pin'), 'utf8').trim(),
    '--log-key',
    `@${join(dir, 'log-key.vkey')}`,
    ...extra,
  ]);
}

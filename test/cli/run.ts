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

/** The test-support CLI (test/support/embassy-with-faults.ts): {@link embassy} with faults and a clock set by `env`. */
export function embassyForTests(args: string[], env: NodeJS.ProcessEnv): Run {
  const r = spawnSync(process.execPath, ['--import', 'tsx', WITH_TEST_SUPPORT, ...args], {
    env: { ...process.env, ...env },
  });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr.toString() };
}

const WITH_TEST_SUPPORT = fileURLToPath(new URL('../support/embassy-with-faults.ts', import.meta.url));

/** `embassy ceremony run key-generation` on the deployment in `dir`: a new `domain`, 3 of its custodians, more `--param`s. */
export const keyGeneration = (dir: string, domain: string, params: string[] = []): Run =>
  embassy([
    'ceremony',
    'run',
    'key-generation',
    '--data-dir',
    dir,
    '--param',
    `domain=${domain}`,
    '--param',
    'threshold=3',
    ...params.flatMap((p) => ['--param', p]),
  ]);

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

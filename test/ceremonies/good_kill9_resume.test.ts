import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embassy, exportAndVerify } from '../cli/run.ts';

const WITH_FAULTS = join(import.meta.dirname, '..', 'support', 'embassy-with-faults.ts');

// A ceremony process killed with SIGKILL between steps (a real crash: no handler runs; the CLI's
// test-support wrapper injects it) is resumed by the next run from its persisted transcript, which
// says so, and the result verifies offline.
describe('kill -9 during a ceremony, then --resume', () => {
  it('a health check killed between steps, and a key generation killed inside its publish step, resume and complete', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'embassy-kill9-')), 'r');
    let r = embassy([
      'ceremony',
      'run',
      'key-generation',
      '--rehearse',
      '--data-dir',
      dir,
      '--param',
      'domain=census',
      '--param',
      'threshold=3',
    ]);
    expect(r.stderr).toBe('');
    const killed = spawnSync(
      process.execPath,
      [
        '--import',
        'tsx',
        WITH_FAULTS,
        ...['ceremony', 'run', 'health-check', '--rehearse', '--data-dir', dir, '--param', 'domain=census'],
      ],
      { env: { ...process.env, EMBASSY_TEST_KILL_AT: 'before:challenge-custodians' } },
    );
    expect(killed.signal).toBe('SIGKILL');
    const unfinished = readdirSync(join(dir, 'ceremonies'))
      .filter((f) => f.startsWith('cer-health-check') && f.endsWith('.json') && !f.endsWith('.signed.json'))
      .map((f) => JSON.parse(readFileSync(join(dir, 'ceremonies', f), 'utf8')));
    expect(unfinished).toHaveLength(1);
    expect(unfinished[0].status).not.toBe('completed');
    r = embassy(['ceremony', 'run', 'health-check', '--rehearse', '--data-dir', dir, '--resume', 'latest']);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toMatch(new RegExp(`${unfinished[0].ceremonyId} completed`));
    const done = JSON.parse(
      readFileSync(join(dir, 'ceremonies', `${unfinished[0].ceremonyId}.json`), 'utf8'),
    );
    expect(done.status).toBe('completed');
    expect(JSON.stringify(done)).toMatch(/resum/i);
    const v = exportAndVerify(dir);
    expect(v.stdout.toString()).toContain('findings: none');
    expect(v.status).toBe(0);

    // Killed after the coordinator stored the new roster version, before the transcript recorded it:
    // a bare --resume, as the runbook writes it, records the version in force and completes.
    const keyGen = ['ceremony', 'run', 'key-generation', '--rehearse', '--data-dir', dir];
    const killedInPublish = spawnSync(
      process.execPath,
      ['--import', 'tsx', WITH_FAULTS, ...keyGen, '--param', 'domain=taxes', '--param', 'threshold=2'],
      { env: { ...process.env, EMBASSY_TEST_KILL_AT: 'publish-roster:after-store' } },
    );
    expect(killedInPublish.signal).toBe('SIGKILL');
    r = embassy([...keyGen, '--resume']);
    expect(r.stderr.toString()).toBe('');
    expect(r.stdout.toString()).toMatch(/cer-key-generation-\S+ completed/);
    expect(exportAndVerify(dir).status).toBe(0);
  });
});

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runbook } from '../../ceremonies/index.ts';
import { embassy } from './run.ts';

describe('embassy ceremony list | runbook | run --rehearse', () => {
  it('lists every ceremony and prints the runbook generated from its definition', () => {
    const list = embassy(['ceremony', 'list']).stdout.toString();
    for (const name of [
      'key-generation',
      'custodian-enrolment',
      'unlock',
      'rotation',
      'offboarding',
      'health-check',
    ]) {
      expect(list).toContain(name);
      const r = embassy(['ceremony', 'runbook', name]);
      expect(r.status).toBe(0);
      expect(r.stdout.toString()).toBe(runbook(name));
      expect(r.stdout.toString()).toBe(
        readFileSync(new URL(`../../ceremonies/runbooks/${name}.md`, import.meta.url), 'utf8'),
      );
    }
    const bad = embassy(['ceremony', 'runbook', 'coronation']);
    expect(bad.status).not.toBe(0);
    expect(bad.stderr).toMatch(/^embassy: no ceremony "coronation"; known: /);
  });

  it('rehearses a key generation and then a health check of the new domain on throwaway tokens', () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'embassy-rehearsal-')), 'r');
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
    expect(r.stdout.toString()).toMatch(/completed; transcript in the audit log at seq \d+/);
    r = embassy([
      'ceremony',
      'run',
      'health-check',
      '--rehearse',
      '--data-dir',
      dir,
      '--param',
      'domain=census',
    ]);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toMatch(/ceremony cer-health-check-\S+ completed/);
    const missing = embassy([
      'ceremony',
      'run',
      'key-generation',
      '--rehearse',
      '--data-dir',
      dir,
      '--param',
      'domain=pensions',
    ]);
    expect(missing.status).not.toBe(0);
    expect(missing.stderr).toMatch(/^embassy: key-generation: --threshold is required/);
  });
});

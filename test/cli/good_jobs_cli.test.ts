import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { embassy, exportAndVerify, keyGeneration } from './run.ts';

const dir = join(mkdtempSync(join(tmpdir(), 'embassy-jobs-cli-')), 'deployment');

beforeAll(() => {
  expect(embassy(['demo', '--data-dir', dir]).status).toBe(0);
});

describe('embassy jobs', () => {
  it('home-rotate rewraps every home stanza inside the HSM; the archives still open at home', () => {
    const r = embassy(['jobs', 'home-rotate', '--home-hsm', 'home', '--dev', '--data-dir', dir]);
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toMatch(
      /^[0-9a-f]{32} → [0-9a-f]{32}: 2\/2 archives, 0 failed, old key retired/,
    );
    const archive = join(dir, 'embassy-store', 'business-20261127-0001.emb');
    const opened = embassy(['open', '--home-hsm', 'home', '--dev', '--data-dir', dir, archive]);
    expect(opened.stderr).toBe('');
    expect(opened.stdout.equals(readFileSync(join(dir, 'registries', 'business-register.json')))).toBe(true);
    const metrics = readFileSync(join(dir, 'jobs', 'home-rotate.prom'), 'utf8');
    expect(metrics).toContain('embassy_job_complete{job="home-rotate"} 1');
    expect(metrics).toContain('embassy_job_run_archives{job="home-rotate",outcome="rewritten"} 2');
  });

  it('key-age finds nothing to rotate in fresh epochs', () => {
    const r = embassy(['jobs', 'key-age', '--data-dir', dir]);
    expect(r.stdout.toString()).toBe('checked 2 domains; rotation requests: none\n');
  });

  it('refuses an unknown job with one line', () => {
    const r = embassy(['jobs', 'compost', '--data-dir', dir]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe('embassy: give one of: key-age, home-rotate, rewrap\n');
  });
});

describe('embassy ceremony run on the demo deployment (not a rehearsal)', () => {
  it('generates a new domain key into the custodian tokens and publishes it in a new roster version', () => {
    const r = keyGeneration(dir, 'census');
    expect(r.stderr).toBe('');
    expect(r.stdout.toString()).toMatch(
      /ceremony cer-key-generation-\S+ completed; transcript in the audit log at seq \d+/,
    );
    const v = exportAndVerify(dir);
    expect(v.stdout.toString()).toContain('findings: none');
  });
});

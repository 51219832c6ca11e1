import { type ChildProcess, spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { BIN, embassy, exportAndVerify } from './run.ts';

// The whole unlock through the CLI against a real `embassy serve`, over the deployment the demo leaves.
const dir = join(mkdtempSync(join(tmpdir(), 'embassy-cli-ceremony-')), 'deployment');
let server: ChildProcess;
let url = '';

beforeAll(async () => {
  expect(embassy(['demo', '--data-dir', dir]).status).toBe(0);
  server = spawn(
    process.execPath,
    [BIN, 'serve', '--port', '0', '--data-dir', dir, '--log-token', 'log', '--dev'],
    {
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  url = await new Promise<string>((resolve, reject) => {
    server.stdout!.on('data', (d: Buffer) => resolve(d.toString().trim()));
    server.on('exit', (code) => reject(new Error(`serve exited ${code}`)));
  });
});

afterAll(() => {
  server?.kill('SIGTERM');
});

const as = (id: string) => ['--coordinator', url, '--data-dir', dir, '--as', id];
const keyOf = (id: string) => ['--key', join(dir, `${id}.pem`)];

describe('embassy serve | snapshot | station | custodian | audit', () => {
  it('runs a drill unlock end to end and the auditor verifies the log offline', () => {
    const input = join(dir, 'pensions.csv');
    const data = Buffer.from('person;pension_eur\n38001010000;734\n'.repeat(5000));
    writeFileSync(input, data);
    const sealed = join(dir, 'pensions.emb');
    let r = embassy([
      'snapshot',
      'seal',
      ...as('backup-job'),
      ...keyOf('backup-job'),
      '--domain',
      'land',
      '--snapshot-id',
      'land-drill-1',
      '-o',
      sealed,
      input,
    ]);
    expect(r.stderr).toBe('');
    r = embassy(['snapshot', 'register', sealed, ...as('backup-job'), ...keyOf('backup-job')]);
    expect(r.stderr).toBe('');
    r = embassy([
      'station',
      'request',
      ...as('station-lux'),
      ...keyOf('station-lux'),
      '--domain',
      'land',
      '--snapshot',
      'land-drill-1',
      '--legal-basis',
      'DRILL',
      '--case',
      'DRILL-2026-11',
      '--reason',
      'quarterly recovery drill',
    ]);
    expect(r.stderr).toBe('');
    const id = r.stdout.toString().trim();
    expect(id).toMatch(/^cer-[0-9a-f]{32}$/);
    const shown = embassy(['custodian', 'show', id, ...as('custodian-2'), '--dev']);
    expect(shown.stdout.toString()).toContain('legal basis   DRILL, case DRILL-2026-11');
    const noYes = embassy(['custodian', 'approve', id, ...as('custodian-2'), '--dev']);
    expect(noYes.status).not.toBe(0);
    expect(noYes.stderr).toContain('embassy: not on a terminal: add --yes to confirm');
    for (const c of ['custodian-2', 'custodian-4', 'custodian-5']) {
      r = embassy(['custodian', 'approve', id, ...as(c), '--dev', '--yes']);
      expect(r.stderr).not.toMatch(/embassy:/);
      expect(r.status).toBe(0);
    }
    for (const c of ['custodian-2', 'custodian-4', 'custodian-5']) {
      r = embassy(['custodian', 'release', id, ...as(c), '--dev']);
      expect(r.stderr).toBe('');
    }
    const twice = embassy(['custodian', 'release', id, ...as('custodian-2'), '--dev']);
    expect(twice.status).not.toBe(0);
    expect(twice.stderr.split('\n').filter(Boolean)).toHaveLength(1);
    const out = join(dir, 'drill-restore');
    r = embassy(['station', 'unlock', id, '-o', out, ...as('station-lux'), ...keyOf('station-lux')]);
    expect(r.stderr).toBe('');
    expect(readFileSync(join(out, 'land-drill-1')).equals(data)).toBe(true);

    r = exportAndVerify(dir);
    expect(r.stdout.toString(), r.stdout.toString()).toContain('findings: none');
    expect(r.stdout.toString()).toContain('UNANCHORED');
    expect(r.stdout.toString(), r.stdout.toString()).toMatch(new RegExp(`${id}\\s+policy ok`));
    expect(r.status).toBe(0);
  });
});

import { mkdirSync, mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { embassy, embassyForTests, keyGeneration, type Run } from './run.ts';

// Exit statuses are a contract (docs/DECISIONS.md#d24): 1 for a failure or any finding, 2 for a
// command line that cannot be run as given; either way one line on stderr and no stack trace.
const root = mkdtempSync(join(tmpdir(), 'embassy-exit-fail-'));
const dir = join(root, 'deployment');
const key = join(root, 'key.txt');
const other = join(root, 'other.txt');
const sealed = join(root, 'sealed.emb');
// Nothing listens on port 1: every remote command fails to reach its coordinator.
const dead = ['--coordinator', 'http://127.0.0.1:1', '--roster-pin', '0'.repeat(64), '--data-dir', root];

function expectStatus(r: Run, status: 1 | 2, message?: RegExp): void {
  expect(r.status, r.stderr).toBe(status);
  const lines = r.stderr.split('\n').filter(Boolean);
  expect(lines.at(-1)).toMatch(/^embassy: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  if (message) expect(lines.at(-1)).toMatch(message);
}

beforeAll(() => {
  expect(embassy(['demo', '--data-dir', dir]).status).toBe(0);
  expect(embassy(['keygen', '-o', key]).status).toBe(0);
  expect(embassy(['keygen', '-o', other]).status).toBe(0);
  writeFileSync(join(root, 'in.txt'), 'parcel;owner\n');
  const pub = embassy(['keygen', '-y', key]).stdout.toString().trim();
  expect(embassy(['seal', '-r', pub, '-o', sealed, join(root, 'in.txt')]).status).toBe(0);
});

describe('usage errors exit 2', () => {
  it.each([
    ['keygen', ['keygen', 'extra'], /unexpected argument "extra"/],
    ['seal', ['seal', '-r', 'embassy1x'], /public key/],
    ['open', ['open', sealed], /no key: give -i KEYFILE/],
    ['inspect', ['inspect', 'a', 'b'], /at most one file/],
    ['serve', ['serve', '--port'], /argument missing|Option '--port/],
    ['custodian', ['custodian', 'frob'], /give one of: pending/],
    ['station', ['station', 'request', '--as', 'station-lux'], /--key FILE|request needs/],
    ['snapshot', ['snapshot', 'seal', '--domain', 'land'], /seal needs --domain D and -o OUT/],
    ['audit', ['audit', 'frob'], /give one of: export/],
    ['ceremony', ['ceremony', 'runbook', 'coronation'], /no ceremony "coronation"/],
    ['jobs', ['jobs', 'compost'], /give one of: key-age/],
    ['demo', ['demo', '--frobnicate'], /Unknown option '--frobnicate'/],
    ['an unknown command', ['frobnicate'], /unknown command "frobnicate"/],
  ])('%s', (_name, args, message) => expectStatus(embassy(args as string[]), 2, message as RegExp));

  it('a ceremony without a required parameter', () =>
    expectStatus(
      embassy(['ceremony', 'run', 'key-generation', '--data-dir', dir, '--param', 'domain=pensions']),
      2,
      /--threshold is required/,
    ));
});

describe('failures exit 1', () => {
  it('keygen over an existing key file', () =>
    expectStatus(embassy(['keygen', '-o', key]), 1, /already exists; refusing to overwrite/));
  it('seal of a missing input', () => {
    const pub = embassy(['keygen', '-y', key]).stdout.toString().trim();
    expectStatus(embassy(['seal', '-r', pub, join(root, 'missing')]), 1, /no such file or directory/);
  });
  it('open with the wrong key', () =>
    expectStatus(embassy(['open', '-i', other, sealed]), 1, /no stanza opens with this key/));
  it('inspect of something that is not an archive', () =>
    expectStatus(embassy(['inspect', join(root, 'in.txt')]), 1));
  it('serve on a store that holds no roster', () => {
    const empty = join(root, 'empty');
    mkdirSync(empty);
    expectStatus(embassy(['serve', '--data-dir', empty, '--roster-pin', '0'.repeat(64)]), 1);
  });
  it('custodian, station and snapshot without a coordinator', () => {
    for (const args of [
      ['custodian', 'pending', '--as', 'custodian-1', '--dev', ...dead],
      ['station', 'status', 'cer-x', '--as', 'station-lux', '--key', join(dir, 'station-lux.pem'), ...dead],
      ['snapshot', 'list', '--as', 'backup-job', '--key', join(dir, 'backup-job.pem'), ...dead],
    ])
      expectStatus(embassy(args), 1);
  });
  it('audit verify of a missing bundle, audit export into a missing directory', () => {
    const pin = readFileSync(join(dir, 'roster-pin'), 'utf8').trim();
    expectStatus(
      embassy(['audit', 'verify', join(root, 'missing.json'), '--roster-pin', pin, '--log-key', 'x']),
      1,
    );
    expectStatus(embassy(['audit', 'export', '-o', join(root, 'no-dir', 'b.json'), '--data-dir', dir]), 1);
  });
  it('ceremony run against a directory that holds no deployment', () =>
    expectStatus(
      embassy(['ceremony', 'run', 'health-check', '--data-dir', root, '--param', 'domain=land']),
      1,
    ));
  it('jobs key-age under a roster pin that does not match', () =>
    expectStatus(embassy(['jobs', 'key-age', '--data-dir', dir, '--roster-pin', 'ab'.repeat(32)]), 1));
  it('demo in a directory it did not make', () =>
    expectStatus(embassy(['demo', '--data-dir', root]), 1, /was not made by the demo/));
});

describe('findings exit 1', () => {
  const pin = () => readFileSync(join(dir, 'roster-pin'), 'utf8').trim();
  const verify = (bundle: string, extra: string[] = ['--roster-pin', pin()]) =>
    embassy(['audit', 'verify', bundle, ...extra, '--log-key', `@${join(dir, 'log-key.vkey')}`]);

  it('audit verify: a clean bundle 0, a tampered one 1 naming the finding, {} 1, no pin 2', () => {
    const bundle = join(dir, 'audit-bundle.json');
    const clean = verify(bundle);
    expect(clean.stdout.toString()).toContain('findings: none');
    expect(clean.status).toBe(0);
    const text = readFileSync(bundle, 'utf8');
    const at = text.indexOf('custodian-1');
    const tampered = join(root, 'tampered.json');
    writeFileSync(tampered, `${text.slice(0, at)}custodian-7${text.slice(at + 11)}`);
    const t = verify(tampered);
    expect(t.stdout.toString()).toMatch(/entry 0: \S+: entry 0 was altered/);
    expectStatus(t, 1, /the bundle has \d+ findings/);
    const empty = join(root, 'empty.json');
    writeFileSync(empty, '{}');
    expectStatus(verify(empty), 1, /finding/);
    expectStatus(verify(bundle, []), 2, /verify needs --roster-pin/);
  });

  it('jobs rewrap with an archive it cannot rewrap', () => {
    const to = embassy(['keygen', '-y', key]).stdout.toString().trim();
    const r = embassy([
      'jobs',
      'rewrap',
      '--domain',
      'land',
      '-i',
      other,
      '--to',
      to,
      '--epoch',
      '2',
      '--data-dir',
      dir,
    ]);
    expect(r.stdout.toString()).toMatch(/1 failed/);
    expectStatus(r, 1, /rewrap incomplete: 1 of 1 archives not rewrapped/);
  });

  it('a health check with a share absent', () => {
    const kg = keyGeneration(dir, 'census');
    expect(kg.status, kg.stderr).toBe(0);
    const r = embassy([
      'ceremony',
      'run',
      'health-check',
      '--data-dir',
      dir,
      '--param',
      'domain=census',
      '--absent',
      'custodian-1',
    ]);
    expectStatus(r, 1, /health check not passed: custodian-1 absent/);
  });

  it('jobs key-age with an epoch older than its policy allows (clock injected by the test-support CLI)', () => {
    const kg = keyGeneration(dir, 'pensions', ['max-epoch-age-days=1']);
    expect(kg.status, kg.stderr).toBe(0);
    const inTwoDays = new Date(Date.now() + 2 * 86400_000).toISOString();
    const r = embassyForTests(['jobs', 'key-age', '--data-dir', dir], { EMBASSY_TEST_NOW: inTwoDays });
    expect(r.stdout.toString()).toContain('pensions/1 opened');
    expectStatus(r, 1, /key age: rotation due for pensions\/1/);
    // Today nothing is due: the request stays in the log, but the clock says the epoch is young.
    expect(embassy(['jobs', 'key-age', '--data-dir', dir]).status).toBe(0);
  });
});

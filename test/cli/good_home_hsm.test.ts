import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { initDevTokens } from '../../hsm/dev/init.ts';
import { embassy } from './run.ts';

// `embassy seal/open --home-hsm` against real SoftHSM2 tokens made by hsm:init.
const dir = mkdtempSync(join(tmpdir(), 'embassy-home-'));
const key = join(dir, 'key.txt');
const plain = join(dir, 'register.csv');
const data = Buffer.from('parcel;owner\n12-004;Tamm\n'.repeat(2000));
const hsm = ['--data-dir', dir, '--dev'];

beforeAll(async () => {
  await initDevTokens({ dataDir: dir, custodians: 1 });
  embassy(['keygen', '-o', key]);
  writeFileSync(plain, data);
});

describe('home HSM stanza through the CLI', () => {
  it('seals with a home stanza and opens with the home HSM alone, or with the quorum key', () => {
    const pub = embassy(['keygen', '-y', key]).stdout.toString().trim();
    const sealed = join(dir, 'register.emb');
    const s = embassy([
      'seal',
      '-r',
      pub,
      '--domain',
      'land',
      '--home-hsm',
      'home',
      ...hsm,
      '-o',
      sealed,
      plain,
    ]);
    expect(s.stderr).toBe('');
    expect(s.status).toBe(0);
    expect(embassy(['inspect', sealed]).stdout.toString()).toMatch(/home {4}kek [0-9a-f]{32}/);
    const viaHome = embassy(['open', '--home-hsm', 'home', ...hsm, sealed]);
    expect(viaHome.status).toBe(0);
    expect(viaHome.stdout.equals(data)).toBe(true);
    const viaQuorum = embassy(['open', '-i', key, sealed]);
    expect(viaQuorum.stdout.equals(data)).toBe(true);
  });

  it('refuses without a PIN source, with one line naming the sources', () => {
    const sealed = join(dir, 'register.emb');
    const r = embassy(['open', '--home-hsm', 'home', '--data-dir', dir, sealed], { input: Buffer.alloc(0) });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^embassy: no PIN for token "home"/);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });

  it('refuses a wrong PIN without echoing it', () => {
    const pinFile = join(dir, 'wrong-pin');
    writeFileSync(pinFile, 'not-the-pin-4711');
    const r = embassy([
      'open',
      '--home-hsm',
      'home',
      '--data-dir',
      dir,
      '--pin-file',
      pinFile,
      join(dir, 'register.emb'),
    ]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toMatch(/^embassy: .*wrong .*PIN/i);
    expect(r.stderr).not.toContain('not-the-pin-4711');
  });

  it('refuses an archive whose home stanza was tampered with', () => {
    const sealed = readFileSync(join(dir, 'register.emb'));
    const info = JSON.parse(embassy(['inspect', '--json', join(dir, 'register.emb')]).stdout.toString());
    const bad = Buffer.from(sealed);
    bad[info.headerBytes - 32 - 5] = bad[info.headerBytes - 32 - 5]! ^ 1; // inside the wrapped DEK
    const badPath = join(dir, 'bad.emb');
    writeFileSync(badPath, bad);
    const r = embassy(['open', '--home-hsm', 'home', ...hsm, '-o', join(dir, 'out'), badPath]);
    expect(r.status).not.toBe(0);
    expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  });
});

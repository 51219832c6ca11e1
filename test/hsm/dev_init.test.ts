import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { initDevTokens } from '../../hsm/dev/init.ts';
import { MODULE } from './helpers.ts';

const dirs: string[] = [];
const tmp = () => {
  const d = mkdtempSync(join(tmpdir(), 'embassy-init-'));
  dirs.push(d);
  return d;
};
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

const tool = (conf: string, args: string[]) =>
  spawnSync('pkcs11-tool', ['--module', MODULE, ...args], {
    env: { ...process.env, SOFTHSM2_CONF: conf },
    encoding: 'utf8',
  });

describe('hsm:init (development tokens)', () => {
  it('good_init: own config and token dir, tokens, 0600 PIN file, home KEK; pkcs11-tool can inspect', async () => {
    const dir = tmp();
    const r = await initDevTokens({ dataDir: dir, custodians: 2 });
    expect(r.labels).toEqual(['home', 'log', 'station', 'custodian-1', 'custodian-2']);
    expect(r.created).toEqual(r.labels);
    expect(readFileSync(r.confPath, 'utf8')).toContain(`directories.tokendir = ${join(dir, 'tokens')}/`);
    expect(statSync(r.pinsPath).mode & 0o777).toBe(0o600);
    const pins = JSON.parse(readFileSync(r.pinsPath, 'utf8'));
    expect(Object.keys(pins)).toEqual(r.labels);
    for (const l of r.labels) {
      expect(pins[l].user).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(pins[l].so).toMatch(/^[A-Za-z0-9_-]{16}$/);
      expect(pins[l].user).not.toBe(pins[l].so);
    }
    const slots = tool(r.confPath, ['--list-slots']);
    expect(slots.status).toBe(0);
    for (const l of r.labels) expect(slots.stdout).toMatch(new RegExp(`token label\\s*:\\s*${l}\\b`));
    const objs = tool(r.confPath, [
      '--token-label',
      'home',
      '--login',
      '--pin',
      pins.home.user,
      '--list-objects',
    ]);
    expect(objs.status, objs.stderr).toBe(0);
    expect(objs.stdout).toContain('Secret Key Object; AES length 32');
    expect(objs.stdout).toContain('label:      home-kek');
    expect(objs.stdout).toContain(`ID:         ${r.homeKekId}`);
    expect(objs.stdout).toMatch(/Usage:\s+wrap, unwrap\n/);
    expect(objs.stdout).toContain('Access:     sensitive, always sensitive, never extractable, local');

    // again: nothing created, same KEK, same PINs
    const again = await initDevTokens({ dataDir: dir, custodians: 2 });
    expect(again.created).toEqual([]);
    expect(again.homeKekId).toBe(r.homeKekId);
    expect(JSON.parse(readFileSync(r.pinsPath, 'utf8'))).toEqual(pins);
    // growing the custodian set creates only the new tokens
    const grown = await initDevTokens({ dataDir: dir, custodians: 3 });
    expect(grown.created).toEqual(['custodian-3']);
  });

  it('fail_orphan_tokens: tokens whose PINs are unknown are a clear error', async () => {
    const dir = tmp();
    const r = await initDevTokens({ dataDir: dir, custodians: 1 });
    writeFileSync(r.pinsPath, '{}');
    await expect(initDevTokens({ dataDir: dir, custodians: 1 })).rejects.toMatchObject({
      code: 'provisioning_failed',
      message: expect.stringContaining('already exist'),
    });
  });

  it('fail_foreign_conf: a softhsm2.conf pointing elsewhere is not overwritten', async () => {
    const dir = tmp();
    writeFileSync(join(dir, 'softhsm2.conf'), 'directories.tokendir = /var/lib/softhsm/tokens/\n');
    await expect(initDevTokens({ dataDir: dir })).rejects.toMatchObject({ code: 'provisioning_failed' });
  });

  it('good_cli: npm run hsm:init -- --data-dir DIR --custodians 1 prints no PIN and exits 0', () => {
    const dir = tmp();
    const r = spawnSync(
      'npm',
      ['run', '--silent', 'hsm:init', '--', '--data-dir', dir, '--custodians', '1'],
      {
        encoding: 'utf8',
        env: { ...process.env, SOFTHSM2_CONF: '' },
      },
    );
    expect(r.status, r.stderr).toBe(0);
    expect(r.stdout).toContain(`export SOFTHSM2_CONF=${join(dir, 'softhsm2.conf')}`);
    const pins = JSON.parse(readFileSync(join(dir, 'dev-pins.json'), 'utf8'));
    for (const p of Object.values(pins) as { user: string; so: string }[]) {
      expect(r.stdout + r.stderr).not.toContain(p.user);
      expect(r.stdout + r.stderr).not.toContain(p.so);
    }
    const bad = spawnSync('npm', ['run', '--silent', 'hsm:init', '--', '--bogus'], { encoding: 'utf8' });
    expect(bad.status).not.toBe(0);
    expect(bad.stderr.trim().split('\n')).toHaveLength(1);
    expect(bad.stderr).toContain('unknown option --bogus');
  });
});

import { mkdtempSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { embassy } from './run.ts';

const dir = mkdtempSync(join(tmpdir(), 'embassy-cli-'));
const keyfile = join(dir, 'key.txt');

describe('embassy keygen | seal | open | inspect', () => {
  it('--help works for the tool and every command', () => {
    const r = embassy(['--help']);
    expect(r.status).toBe(0);
    expect(r.stdout.toString()).toContain('Commands:');
    for (const c of ['keygen', 'seal', 'open', 'inspect']) {
      const h = embassy([c, '--help']);
      expect(h.status).toBe(0);
      expect(h.stdout.toString()).toContain(`Usage: embassy ${c}`);
    }
  });

  it('keygen writes a 0600 key file, prints the public key last, and refuses to overwrite', () => {
    const r = embassy(['keygen', '-o', keyfile]);
    expect(r.status).toBe(0);
    const lines = r.stdout.toString().trim().split('\n');
    expect(lines.at(-1)).toMatch(/^embassy1[0-9a-z]+$/);
    expect(statSync(keyfile).mode & 0o777).toBe(0o600);
    expect(readFileSync(keyfile, 'utf8')).toContain('EMBASSY-SECRET-KEY-1');
    const again = embassy(['keygen', '-o', keyfile]);
    expect(again.status).not.toBe(0);
    expect(again.stderr).toBe(`embassy: ${keyfile} already exists; refusing to overwrite a key file\n`);
    expect(embassy(['keygen', '-y', keyfile]).stdout.toString().trim()).toBe(lines.at(-1));
  });

  it('seals and opens files and pipes, byte for byte', () => {
    const pub = embassy(['keygen', '-y', keyfile]).stdout.toString().trim();
    const input = join(dir, 'parcels.csv');
    const data = Buffer.alloc(100_000, 'parcel;owner;area\n');
    writeFileSync(input, data);
    const sealed = join(dir, 'parcels.emb');
    expect(embassy(['seal', '-r', pub, '--domain', 'land', '-o', sealed, input]).status).toBe(0);
    const out = join(dir, 'parcels.out');
    expect(embassy(['open', '-i', keyfile, '-o', out, sealed]).status).toBe(0);
    expect(readFileSync(out).equals(data)).toBe(true);
    expect(statSync(out).mode & 0o777).toBe(0o600);
    // stdin to stdout, both ways
    const piped = embassy(['seal', '-r', pub], { input: data });
    expect(piped.status).toBe(0);
    const back = embassy(['open', '-i', keyfile], { input: piped.stdout });
    expect(back.status).toBe(0);
    expect(back.stdout.equals(data)).toBe(true);
    const info = embassy(['inspect', sealed]);
    expect(info.stdout.toString()).toContain('domain:        land');
    expect(info.stdout.toString()).toContain('name:          parcels.csv');
    const json = JSON.parse(embassy(['inspect', '--json', sealed]).stdout.toString());
    expect(json.plaintextBytes).toBe(data.length);
  });
});

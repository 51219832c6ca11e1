import { spawn, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { isTempName } from '../../src/fs/durable.ts';
import { BIN, embassy } from './run.ts';

// Output safety (docs/DECISIONS.md#d24): an output is renamed only over a regular file or a new
// name, a device is written into, and a run killed with SIGKILL leaves a temporary that the next run
// in that directory removes.
const dir = mkdtempSync(join(tmpdir(), 'embassy-output-'));
const key = join(dir, 'key.txt');
const sealed = join(dir, 'big.emb');
const data = Buffer.alloc(8_000_000, 'parcel;owner;area\n');

beforeAll(() => {
  expect(embassy(['keygen', '-o', key]).status).toBe(0);
  const pub = embassy(['keygen', '-y', key]).stdout.toString().trim();
  writeFileSync(join(dir, 'big.csv'), data);
  expect(embassy(['seal', '-r', pub, '-o', sealed, join(dir, 'big.csv')]).status).toBe(0);
});

describe('embassy open into a device', () => {
  it('a full device: ENOSPC, exit 1, the device node still a device, no temporary', () => {
    // The CI runs the tests as root; a device node cannot be made otherwise, and skipping would hide it.
    expect(process.getuid?.(), 'this test must run as root (mknod)').toBe(0);
    const out = join(dir, 'dev');
    mkdirSync(out);
    const full = join(out, 'full');
    const mk = spawnSync('mknod', [full, 'c', '1', '7']);
    expect(mk.status, mk.stderr.toString()).toBe(0);
    const r = embassy(['open', '-i', key, '-o', full, sealed]);
    expect(r.stderr).toBe(`embassy: ${full}: no space left on device\n`);
    expect(r.status).toBe(1);
    expect(statSync(full).isCharacterDevice()).toBe(true);
    expect(readdirSync(out)).toEqual(['full']);
  });
});

describe('embassy open killed with SIGKILL', () => {
  it('leaves a temporary that the next open in that directory removes', async () => {
    const out = join(dir, 'killed');
    mkdirSync(out);
    const archive = readFileSync(sealed);
    const child = spawn(process.execPath, [BIN, 'open', '-i', key, '-o', join(out, 'restored')], {
      stdio: ['pipe', 'ignore', 'pipe'],
    });
    const exited = new Promise<NodeJS.Signals | null>((res) => child.on('exit', (_c, sig) => res(sig)));
    // All but the end of the archive, and the input stays open: the open waits before its last
    // block with the earlier blocks of plaintext (1 MiB each, several in flight) in its temporary.
    child.stdin.write(archive.subarray(0, archive.length - 100_000));
    const temps = () => readdirSync(out).filter(isTempName);
    const deadline = Date.now() + 90_000;
    while (!(temps().length === 1 && statSync(join(out, temps()[0]!)).size > 0)) {
      expect(Date.now(), 'the temporary never appeared').toBeLessThan(deadline);
      await new Promise((r) => setTimeout(r, 100));
    }
    child.kill('SIGKILL');
    expect(await exited).toBe('SIGKILL');
    const [left] = temps();
    expect(readFileSync(join(out, left!)).subarray(0, 100)).toEqual(data.subarray(0, 100)); // plaintext
    expect(readdirSync(out)).toEqual([left]);

    const again = embassy(['open', '-i', key, '-o', join(out, 'restored'), sealed]);
    expect(again.stderr).toBe('');
    expect(again.status).toBe(0);
    expect(readdirSync(out)).toEqual(['restored']);
    expect(readFileSync(join(out, 'restored')).equals(data)).toBe(true);
  }, 120_000);
});

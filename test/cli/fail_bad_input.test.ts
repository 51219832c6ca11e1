import { chmodSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import { embassy } from './run.ts';

// Every bad input: non-zero exit, exactly one line on stderr naming the problem, no stack trace,
// and no output file (not even a temporary one) left behind.
const dir = mkdtempSync(join(tmpdir(), 'embassy-bad-'));
const key = join(dir, 'key.txt');
const other = join(dir, 'other.txt');
const sealedPath = join(dir, 'good.emb');
let sealed: Buffer;
let headerLen: number;
const CH = 16400;

beforeAll(() => {
  embassy(['keygen', '-o', key]);
  embassy(['keygen', '-o', other]);
  const pub = embassy(['keygen', '-y', key]).stdout.toString().trim();
  // 2 full chunks and a short final chunk of 7232 bytes
  writeFileSync(join(dir, 'in.bin'), Buffer.alloc(40_000, 'abc'));
  expect(
    embassy([
      'seal',
      '-r',
      pub,
      '--domain',
      'land',
      '--snapshot-id',
      's1',
      '-o',
      sealedPath,
      join(dir, 'in.bin'),
    ]).status,
  ).toBe(0);
  sealed = readFileSync(sealedPath);
  headerLen = JSON.parse(embassy(['inspect', '--json', sealedPath]).stdout.toString()).headerBytes;
});

function expectRefused(archive: Uint8Array, message: string | RegExp, args: string[] = ['-i', key]) {
  const outDir = mkdtempSync(join(dir, 'out-'));
  const input = join(outDir, 'in.emb');
  writeFileSync(input, archive);
  const r = embassy(['open', ...args, '-o', join(outDir, 'restored'), input]);
  expect(r.status).not.toBe(0);
  expect(r.stderr.split('\n').filter(Boolean)).toHaveLength(1);
  expect(r.stderr).toMatch(/^embassy: /);
  expect(r.stderr).not.toMatch(/\n\s+at /);
  expect(r.stderr).toMatch(message);
  expect(readdirSync(outDir)).toEqual(['in.emb']);
}

const flip = (at: number) => {
  const b = Buffer.from(sealed);
  b[at] = b[at]! ^ 0x01;
  return b;
};
const body = () => headerLen + 56;

describe('embassy open refuses bad archives with one clear line', () => {
  it('wrong key', () => expectRefused(sealed, 'embassy: no stanza opens with this key', ['-i', other]));
  it('flipped magic', () => expectRefused(flip(0), 'not a data-embassy archive'));
  it('unknown version', () => {
    const b = Buffer.from(sealed);
    b[7] = 2;
    expectRefused(b, 'archive version 2 is not supported');
  });
  it('flipped manifest byte (still valid JSON)', () => {
    const b = Buffer.from(sealed.toString('latin1').replace('"domain":"land"', '"domain":"lane"'), 'latin1');
    expectRefused(b, 'the stanza for this key does not open: the archive header was modified');
  });
  it('manifest that is not canonical JSON', () => {
    const b = Buffer.from(
      sealed.toString('latin1').replace('"domain":"land"', '"domain":"lan\\u0064"'),
      'latin1',
    );
    // the length grew, so fix the length field to isolate the canonical-form check
    b.writeUInt32BE(b.readUInt32BE(8) + 5, 8);
    expectRefused(b, 'archive manifest is not in canonical (RFC 8785) form');
  });
  it('flipped stanza ciphertext', () => expectRefused(flip(headerLen - 40), 'archive header was modified'));
  it('flipped stanza key id', () => {
    const stanzaStart = 8 + 4 + sealed.readUInt32BE(8) + 1 + 5;
    expectRefused(flip(stanzaStart), 'no stanza opens with this key');
  });
  it('flipped header MAC', () => expectRefused(flip(headerLen - 1), 'header MAC does not verify'));
  it('flipped salt', () => expectRefused(flip(headerLen + 3), 'commitment check failed'));
  it('flipped commitment', () => expectRefused(flip(headerLen + 30), 'commitment check failed'));
  it('flipped body byte', () => expectRefused(flip(body() + 100), 'chunk 0 failed authentication'));
  it('flipped tag of the final chunk', () =>
    expectRefused(flip(sealed.length - 1), 'chunk 2 failed authentication'));
  it('truncated at a chunk boundary', () =>
    expectRefused(sealed.subarray(0, body() + 2 * CH), 'archive is truncated: the final chunk is missing'));
  it('truncated in the middle of a chunk', () =>
    expectRefused(sealed.subarray(0, body() + CH + 500), 'chunk 1 failed authentication'));
  it('truncated to a few bytes of a chunk', () =>
    expectRefused(sealed.subarray(0, body() + 2 * CH + 5), 'truncated in the middle of a chunk'));
  it('truncated inside the header', () => expectRefused(sealed.subarray(0, 100), 'archive is truncated'));
  it('appended bytes', () =>
    expectRefused(Buffer.concat([sealed, Buffer.from('extra')]), 'chunk 2 failed authentication'));
  it('swapped chunks', () => {
    const b = Buffer.from(sealed);
    sealed.copy(b, body(), body() + CH, body() + 2 * CH);
    sealed.copy(b, body() + CH, body(), body() + CH);
    expectRefused(b, 'chunk 0 failed authentication');
  });
  it('absurd manifest length', () => {
    const b = Buffer.from(sealed);
    b.writeUInt32BE(0xfffffff0, 8);
    expectRefused(b, 'absurd manifest length');
  });
  it('absurd stanza length', () => {
    const b = Buffer.from(sealed);
    b.writeUInt32BE(0x7fffffff, 8 + 4 + sealed.readUInt32BE(8) + 1 + 1);
    expectRefused(b, 'absurd length');
  });
  it('empty input', () => expectRefused(Buffer.alloc(0), 'embassy: input is empty'));
});

describe('embassy refuses bad arguments with one clear line', () => {
  it('a directory as input', () => {
    const r = embassy(['open', '-i', key, dir]);
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe(`embassy: ${dir} is a directory\n`);
  });
  it('an unwritable output path', () => {
    const locked = join(dir, 'locked');
    mkdirSync(locked);
    const target = join(dir, 'no-such-dir', 'out');
    const r = embassy(['open', '-i', key, '-o', target, sealedPath]);
    expect(r.stderr).toBe(`embassy: ${target}: no such file or directory\n`);
    expect(r.status).not.toBe(0);
    if (process.getuid?.() !== 0) {
      chmodSync(locked, 0o500);
      expect(embassy(['open', '-i', key, '-o', join(locked, 'out'), sealedPath]).stderr).toMatch(
        /permission denied/,
      );
    }
  });
  it('a missing input file', () => {
    const r = embassy(['open', '-i', key, join(dir, 'missing.emb')]);
    expect(r.stderr).toBe(`embassy: ${join(dir, 'missing.emb')}: no such file or directory\n`);
  });
  it('a mistyped public key', () => {
    const pub = embassy(['keygen', '-y', key]).stdout.toString().trim();
    const typo = `${pub.slice(0, 20)}${pub[20] === 'q' ? 'p' : 'q'}${pub.slice(21)}`;
    const r = embassy(['seal', '-r', typo], { input: Buffer.from('x') });
    expect(r.status).not.toBe(0);
    expect(r.stderr).toBe('embassy: public key is malformed or mistyped (checksum does not match)\n');
  });
  it('no recipient, unknown option, unknown command', () => {
    expect(embassy(['seal'], { input: Buffer.from('x') }).stderr).toBe(
      'embassy: no recipient: give -r PUBKEY or -R FILE\n',
    );
    expect(embassy(['open', '--frobnicate']).stderr).toBe(
      "embassy: Unknown option '--frobnicate' (see --help)\n",
    );
    expect(embassy(['frobnicate']).stderr).toBe(
      'embassy: unknown command "frobnicate" (see embassy --help)\n',
    );
  });
});

import { createHash } from 'node:crypto';
import { readdirSync, readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { embassy } from '../cli/run.ts';
import { decodeArchive, parseIdentities } from './independent-decoder.ts';

// docs/FORMAT.md claims to be enough to write an independent decoder: this one (written from the
// document alone) and `embassy open` must agree on every known-answer vector.
const DIR = new URL('../vectors/archive/', import.meta.url);
const KEY = new URL('key.txt', DIR);

interface Vector {
  file: string;
  description: string;
  expect: string;
  plaintextLength?: number;
  plaintextSha256?: string;
}

const index: Vector[] = JSON.parse(readFileSync(new URL('index.json', DIR), 'utf8'));
const seeds = parseIdentities(readFileSync(KEY, 'utf8'));

describe('an independent decoder from docs/FORMAT.md agrees with embassy open (test/vectors/archive)', () => {
  it('covers every vector in the directory', () => {
    const listed = index.map((v) => v.file).sort();
    expect(
      readdirSync(DIR)
        .filter((f) => f.endsWith('.emb'))
        .sort(),
    ).toEqual(listed);
    expect(listed.some((f) => f.startsWith('good_'))).toBe(true);
  });

  for (const v of index) {
    it(`${v.file}: ${v.description} → ${v.expect}`, () => {
      const bytes = readFileSync(new URL(v.file, DIR));
      const mine = decodeArchive(bytes, seeds);
      const cli = embassy(['open', '-i', KEY.pathname], { input: bytes });
      if (v.file.startsWith('good_')) {
        expect(mine.ok ? 'ok' : `${mine.code}: ${mine.detail}`).toBe('ok');
        expect(cli.status, cli.stderr).toBe(0);
        const plaintext = mine.ok ? Buffer.from(mine.plaintext) : Buffer.alloc(0);
        expect(plaintext.equals(cli.stdout)).toBe(true);
        expect(plaintext.length).toBe(v.plaintextLength);
        expect(createHash('sha256').update(plaintext).digest('hex')).toBe(v.plaintextSha256);
      } else {
        expect(v.file.startsWith('fail_')).toBe(true);
        expect(mine.ok ? 'ok' : mine.code).toBe(v.expect);
        expect(cli.status).toBe(1);
      }
    });
  }
});

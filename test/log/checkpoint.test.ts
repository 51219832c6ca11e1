// tlog-checkpoint bodies: strict parsing and formatting, and the rule by which one checkpoint may
// follow another.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CheckpointError,
  checkExtends,
  formatCheckpoint,
  parseCheckpoint,
} from '../../src/log/checkpoint.ts';
import { EMPTY_ROOT, leafHash, MerkleTree } from '../../src/log/merkle.ts';

const ORIGIN = 'embassy.example.gov/audit';
const tree = MerkleTree.fromLeafHashes(Array.from({ length: 40 }, (_, i) => leafHash(Uint8Array.of(i))));

describe('checkpoint body', () => {
  it('good_ formats and parses the three lines', () => {
    const text = formatCheckpoint({ origin: ORIGIN, size: 0, root: EMPTY_ROOT });
    expect(text).toBe(`${ORIGIN}\n0\n47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=\n`);
    expect(parseCheckpoint(text)).toEqual({ origin: ORIGIN, size: 0, root: EMPTY_ROOT });
    const c = { origin: ORIGIN, size: 40, root: tree.root() };
    expect(parseCheckpoint(formatCheckpoint(c))).toEqual(c);
  });
  const root = '47DEQpj8HBSa+/TImW+5JCeuQeRkm5NMpJWZG3hSuFU=';
  const bad: [string, string][] = [
    ['leading zero', `o\n01\n${root}\n`],
    ['sign', `o\n+1\n${root}\n`],
    ['negative', `o\n-1\n${root}\n`],
    ['too large', `o\n9007199254740992\n${root}\n`],
    ['empty origin', `\n1\n${root}\n`],
    ['short root', 'o\n1\nAAAA\n'],
    ['non-canonical root', `o\n1\n${root.replace('U=', 'V=')}\n`],
    ['no final newline', `o\n1\n${root}`],
    ['extension line', `o\n1\n${root}\next\n`],
    ['missing root', 'o\n1\n'],
    ['carriage return', `o\r\n1\n${root}\n`],
  ];
  for (const [what, text] of bad)
    it(`fail_ ${what}`, () => expect(() => parseCheckpoint(text)).toThrow(CheckpointError));
  it('random and mutated input throws only CheckpointError', () => {
    const base = formatCheckpoint({ origin: ORIGIN, size: 123, root: tree.root() });
    const mutated = fc
      .tuple(fc.nat(), fc.nat(3), fc.string({ unit: 'binary', maxLength: 3 }))
      .map(([i, d, s]) => base.slice(0, i % base.length) + s + base.slice((i % base.length) + d));
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), mutated), (s) => {
        try {
          const c = parseCheckpoint(s);
          expect(formatCheckpoint(c)).toBe(s);
        } catch (e) {
          expect(e).toBeInstanceOf(CheckpointError);
        }
      }),
      { numRuns: 2000 },
    );
  });
});

describe('checkExtends', () => {
  const at = (size: number, t = tree) => ({ origin: ORIGIN, size, root: t.rootAt(size) });
  const code = (f: () => void): string => {
    try {
      f();
    } catch (e) {
      if (e instanceof CheckpointError) return e.code;
      throw e;
    }
    return 'ok';
  };
  it('good_ from the empty tree, the same checkpoint, and a proven extension', () => {
    expect(code(() => checkExtends(at(0), at(40), []))).toBe('ok');
    expect(code(() => checkExtends(at(7), at(7), []))).toBe('ok');
    expect(code(() => checkExtends(at(7), at(40), tree.consistencyProof(7, 40)))).toBe('ok');
  });
  it('fail_ rollback, fork and a missing or wrong proof', () => {
    const other = MerkleTree.fromLeafHashes(
      Array.from({ length: 40 }, (_, i) => leafHash(Uint8Array.of(i, 1))),
    );
    expect(code(() => checkExtends(at(8), at(7), []))).toBe('checkpoint_rollback');
    expect(code(() => checkExtends(at(7), at(7, other), []))).toBe('checkpoint_fork');
    expect(code(() => checkExtends(at(7), at(40), []))).toBe('checkpoint_inconsistent');
    expect(code(() => checkExtends(at(7), at(40, other), other.consistencyProof(7, 40)))).toBe(
      'checkpoint_inconsistent',
    );
  });
});

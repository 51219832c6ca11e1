// Property tests: random trees, every proof verifies, any tampering fails; the in-memory tree agrees
// with a naive recursive RFC 9162 reference (MTH, PATH, SUBPROOF written straight from the RFC).
import { createHash } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  CompactRange,
  EMPTY_ROOT,
  leafHash,
  MerkleError,
  MerkleTree,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../../src/log/merkle.ts';

const H = (...parts: Uint8Array[]) => {
  const c = createHash('sha256');
  for (const p of parts) c.update(p);
  return new Uint8Array(c.digest());
};
const k = (n: number) => 2 ** Math.ceil(Math.log2(n) - 1);
function mth(d: Uint8Array[]): Uint8Array {
  if (d.length === 0) return H();
  if (d.length === 1) return d[0]!;
  const s = k(d.length);
  return H(Uint8Array.of(1), mth(d.slice(0, s)), mth(d.slice(s)));
}
function path(m: number, d: Uint8Array[]): Uint8Array[] {
  if (d.length <= 1) return [];
  const s = k(d.length);
  return m < s
    ? [...path(m, d.slice(0, s)), mth(d.slice(s))]
    : [...path(m - s, d.slice(s)), mth(d.slice(0, s))];
}
function subproof(m: number, d: Uint8Array[], b: boolean): Uint8Array[] {
  if (m === d.length) return b ? [] : [mth(d)];
  const s = k(d.length);
  return m <= s
    ? [...subproof(m, d.slice(0, s), b), mth(d.slice(s))]
    : [...subproof(m - s, d.slice(s), false), mth(d.slice(0, s))];
}

// Entries are prefixed with their index, so leaf hashes are distinct and no tampering can hit a twin.
const leavesArb = (min: number, max: number) =>
  fc
    .array(fc.uint8Array({ maxLength: 8 }), { minLength: min, maxLength: max })
    .map((es) => es.map((e, i) => leafHash(Uint8Array.of(i >> 8, i & 0xff, ...e))));

const eqProofs = (a: Uint8Array[], b: Uint8Array[]) =>
  a.length === b.length && a.every((x, i) => Buffer.from(x).equals(b[i]!));

const flip = (b: Uint8Array, bit: number) => {
  const c = b.slice();
  c[(bit >> 3) % c.length]! ^= 1 << (bit & 7);
  return c;
};

describe('MerkleTree against the RFC 9162 reference', () => {
  it('roots, inclusion and consistency proofs match for every size and index', () => {
    fc.assert(
      fc.property(leavesArb(0, 70), (leaves) => {
        const tree = MerkleTree.fromLeafHashes(leaves);
        const range = new CompactRange();
        for (let n = 0; n <= leaves.length; n++) {
          const d = leaves.slice(0, n);
          expect(tree.rootAt(n)).toEqual(mth(d));
          expect(range.root()).toEqual(mth(d));
          expect(rootOf(d)).toEqual(mth(d));
          if (n < leaves.length) range.append(leaves[n]!);
          for (let m = 0; m < n; m++) expect(tree.inclusionProof(m, n)).toEqual(path(m, d));
          for (let m = 1; m <= n; m++) expect(tree.consistencyProof(m, n)).toEqual(subproof(m, d, true));
        }
      }),
      { numRuns: 30 },
    );
  });
});

describe('inclusion proofs', () => {
  it('every proof in a random tree verifies', () => {
    fc.assert(
      fc.property(leavesArb(1, 300), fc.nat(), fc.nat(), (leaves, a, b) => {
        const tree = MerkleTree.fromLeafHashes(leaves);
        const n = 1 + (a % leaves.length);
        const i = b % n;
        const proof = tree.inclusionProof(i, n);
        expect(verifyInclusion(leaves[i]!, i, n, proof, tree.rootAt(n))).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('tampering with any proof element, the index, the size, the leaf or the root fails', () => {
    fc.assert(
      fc.property(leavesArb(2, 200), fc.nat(), fc.nat(), fc.nat(), fc.nat(255), (leaves, a, b, c, bit) => {
        const tree = MerkleTree.fromLeafHashes(leaves);
        const n = 2 + (a % (leaves.length - 1));
        const i = b % n;
        const proof = tree.inclusionProof(i, n);
        const root = tree.rootAt(n);
        const leaf = leaves[i]!;
        const j = c % proof.length;
        const changed = proof.map((p, x) => (x === j ? flip(p, bit) : p));
        expect(verifyInclusion(leaf, i, n, changed, root)).toBe(false);
        expect(verifyInclusion(leaf, i, n, proof.slice(1), root)).toBe(false);
        expect(verifyInclusion(leaf, i, n, [...proof, root], root)).toBe(false);
        expect(verifyInclusion(leaf, i, n, [leaf, ...proof], root)).toBe(false);
        expect(verifyInclusion(flip(leaf, bit), i, n, proof, root)).toBe(false);
        expect(verifyInclusion(leaf, i, n, proof, flip(root, bit))).toBe(false);
        for (const i2 of [i + 1, i - 1, i ^ 1, i ^ 2, n]) {
          if (i2 !== i) expect(verifyInclusion(leaf, i2, n, proof, root)).toBe(false);
        }
        // A changed size is judged against the real root of that size: the old proof passes only
        // where it is also the right proof for the new size (RFC 9162 binds size through the root;
        // against the old root an unknown larger size can pass, e.g. leaf 0 of 3 leaves vs size 4).
        for (const n2 of [n + 1, n - 1, n * 2, n >> 1, 0]) {
          if (n2 === n || n2 > leaves.length) continue;
          const ok = verifyInclusion(leaf, i, n2, proof, tree.rootAt(n2));
          const same = n2 > i && eqProofs(tree.inclusionProof(i, n2), proof);
          expect(ok).toBe(same);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('consistency proofs', () => {
  it('every proof between random sizes verifies', () => {
    fc.assert(
      fc.property(leavesArb(1, 300), fc.nat(), fc.nat(), (leaves, a, b) => {
        const tree = MerkleTree.fromLeafHashes(leaves);
        const n2 = 1 + (a % leaves.length);
        const n1 = 1 + (b % n2);
        const proof = tree.consistencyProof(n1, n2);
        expect(verifyConsistency(n1, n2, tree.rootAt(n1), tree.rootAt(n2), proof)).toBe(true);
      }),
      { numRuns: 300 },
    );
  });

  it('tampering with any proof element, either size or either root fails', () => {
    fc.assert(
      fc.property(leavesArb(2, 200), fc.nat(), fc.nat(), fc.nat(), fc.nat(255), (leaves, a, b, c, bit) => {
        const tree = MerkleTree.fromLeafHashes(leaves);
        const n2 = 2 + (a % (leaves.length - 1));
        const n1 = 1 + (b % (n2 - 1));
        const proof = tree.consistencyProof(n1, n2);
        const r1 = tree.rootAt(n1);
        const r2 = tree.rootAt(n2);
        const j = c % proof.length;
        expect(
          verifyConsistency(
            n1,
            n2,
            r1,
            r2,
            proof.map((p, x) => (x === j ? flip(p, bit) : p)),
          ),
        ).toBe(false);
        expect(verifyConsistency(n1, n2, r1, r2, proof.slice(0, -1))).toBe(false);
        expect(verifyConsistency(n1, n2, r1, r2, [...proof, r2])).toBe(false);
        expect(verifyConsistency(n1, n2, flip(r1, bit), r2, proof)).toBe(false);
        expect(verifyConsistency(n1, n2, r1, flip(r2, bit), proof)).toBe(false);
        expect(verifyConsistency(n1, n2, r2, r1, proof)).toBe(false);
        for (const m of [n1 + 1, n1 - 1, n1 ^ 2, 0]) {
          if (m === n1 || m < 0 || m > leaves.length) continue;
          const ok = verifyConsistency(m, n2, tree.rootAt(m), r2, proof);
          const same = m > 0 && m <= n2 && eqProofs(tree.consistencyProof(m, n2), proof);
          expect(ok).toBe(same);
        }
        for (const m of [n2 + 1, n2 - 1, n2 * 2, n2 >> 1]) {
          if (m === n2 || m > leaves.length) continue;
          const ok = verifyConsistency(n1, m, r1, tree.rootAt(m), proof);
          const same = m >= n1 && eqProofs(tree.consistencyProof(n1, m), proof);
          expect(ok).toBe(same);
        }
      }),
      { numRuns: 300 },
    );
  });
});

describe('edges', () => {
  it('rejects malformed input without throwing', () => {
    const l = leafHash(new Uint8Array(0));
    expect(verifyInclusion(l, 0, 1, [], l)).toBe(true);
    expect(verifyInclusion(l, 0, 1, null, l)).toBe(true);
    expect(verifyInclusion(new Uint8Array(0), 0, 1, [], new Uint8Array(0))).toBe(false);
    expect(verifyInclusion(l, -1, 1, [], l)).toBe(false);
    expect(verifyInclusion(l, 0.5, 1, [], l)).toBe(false);
    expect(verifyInclusion(l, 0, 2 ** 60, [], l)).toBe(false);
    expect(verifyConsistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])).toBe(false);
    expect(verifyConsistency(1, 1, l, l, [])).toBe(true);
    expect(verifyConsistency(1, 2, l, l, [new Uint8Array(31)])).toBe(false);
  });
  it('generators throw MerkleError on bad arguments', () => {
    const t = MerkleTree.fromLeafHashes([leafHash(Uint8Array.of(1)), leafHash(Uint8Array.of(2))]);
    expect(() => t.inclusionProof(2, 2)).toThrow(MerkleError);
    expect(() => t.inclusionProof(0, 3)).toThrow(MerkleError);
    expect(() => t.consistencyProof(0, 2)).toThrow(MerkleError);
    expect(() => t.consistencyProof(2, 1)).toThrow(MerkleError);
    expect(() => t.append(new Uint8Array(31))).toThrow(MerkleError);
    expect(() => new CompactRange().append(new Uint8Array(33))).toThrow(MerkleError);
  });
  it('returns copies that callers may mutate', () => {
    const t = MerkleTree.fromLeafHashes([leafHash(Uint8Array.of(1))]);
    const r = t.root();
    r[0]! ^= 1;
    expect(t.root()).not.toEqual(r);
    const leaf = t.leaf(0);
    leaf[0]! ^= 1;
    expect(t.leaf(0)).not.toEqual(leaf);
  });
});

// Roots and proofs folded from stored subtree hashes (plan, fold, appendToFrontier) agree with
// MerkleTree for random trees.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import {
  appendToFrontier,
  consistencyRanges,
  fold,
  frontierRoot,
  inclusionRanges,
  leafHash,
  MerkleTree,
  plan,
  verifyConsistency,
  verifyInclusion,
} from '../../src/log/merkle.ts';

/** A node store built the way appendEntry builds it: leaves plus every completed node. */
function build(n: number) {
  const tree = new MerkleTree();
  const nodes = new Map<string, Uint8Array>();
  let frontier: Uint8Array[] = [];
  for (let i = 0; i < n; i++) {
    const leaf = leafHash(Uint8Array.of(i & 0xff, i >> 8));
    tree.append(leaf);
    nodes.set(`0:${i}`, leaf);
    const r = appendToFrontier(frontier, i, leaf);
    frontier = r.frontier;
    for (const c of r.completed) nodes.set(`${c.level}:${c.idx}`, c.hash);
  }
  const get = (level: number, idx: number) => {
    const h = nodes.get(`${level}:${idx}`);
    if (h === undefined) throw new Error(`missing node ${level}:${idx}`);
    return h;
  };
  return { tree, frontier, get };
}

describe('roots and proofs from stored nodes', () => {
  it('match MerkleTree for random sizes and indices', () => {
    fc.assert(
      fc.property(fc.integer({ min: 1, max: 300 }), fc.nat(), fc.nat(), (n, a, b) => {
        const { tree, frontier, get } = build(n);
        expect(Buffer.from(frontierRoot(frontier))).toEqual(Buffer.from(tree.root()));
        const m = (a % n) + 1;
        expect(Buffer.from(fold({ start: 0, end: m }, get))).toEqual(Buffer.from(tree.rootAt(m)));
        const idx = b % m;
        const inc = inclusionRanges(idx, m).map((r) => fold(r, get));
        expect(inc.map((x) => Buffer.from(x))).toEqual(
          tree.inclusionProof(idx, m).map((x) => Buffer.from(x)),
        );
        expect(verifyInclusion(tree.leaf(idx), idx, m, inc, tree.rootAt(m))).toBe(true);
        const s1 = (b % m) + 1;
        const con = consistencyRanges(s1, m).map((r) => fold(r, get));
        expect(con.map((x) => Buffer.from(x))).toEqual(
          tree.consistencyProof(s1, m).map((x) => Buffer.from(x)),
        );
        expect(verifyConsistency(s1, m, tree.rootAt(s1), tree.rootAt(m), con)).toBe(true);
        // every planned node exists (get would throw otherwise)
        for (const r of plan([...inclusionRanges(idx, m), ...consistencyRanges(s1, m)])) get(r.level, r.idx);
      }),
      { numRuns: 200 },
    );
  });
  it('the empty range is the empty root', () => {
    const { get } = build(1);
    expect(Buffer.from(fold({ start: 0, end: 0 }, get)).toString('hex')).toBe(
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
    );
  });
});

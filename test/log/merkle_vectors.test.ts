// transparency-dev/merkle test data (vendored in test/vectors/merkle, provenance in SOURCES.md):
// 98 inclusion and 98 consistency cases, each `wantErr` true or false; hashes in standard base64.
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/crypto/bytes.ts';
import {
  EMPTY_ROOT,
  leafHash,
  MerkleTree,
  rootOf,
  verifyConsistency,
  verifyInclusion,
} from '../../src/log/merkle.ts';

const root = fileURLToPath(new URL('../vectors/merkle/', import.meta.url));
const b64 = (s: string) => new Uint8Array(Buffer.from(s, 'base64'));

function files(dir: string): string[] {
  return readdirSync(dir).flatMap((f) => {
    const p = join(dir, f);
    return statSync(p).isDirectory() ? files(p) : p.endsWith('.json') ? [p] : [];
  });
}

const inclusion = files(join(root, 'inclusion'));
const consistency = files(join(root, 'consistency'));

describe('merkle vectors', () => {
  it('has all 196 cases', () => {
    expect(inclusion.length).toBe(98);
    expect(consistency.length).toBe(98);
  });

  for (const f of inclusion) {
    const t = JSON.parse(readFileSync(f, 'utf8'));
    it(`inclusion ${f.slice(root.length)}: ${t.desc} (wantErr ${t.wantErr})`, () => {
      const ok = verifyInclusion(
        b64(t.leafHash),
        t.leafIdx,
        t.treeSize,
        (t.proof ?? []).map(b64),
        b64(t.root),
      );
      expect(ok).toBe(!t.wantErr);
    });
  }

  for (const f of consistency) {
    const t = JSON.parse(readFileSync(f, 'utf8'));
    it(`consistency ${f.slice(root.length)}: ${t.desc} (wantErr ${t.wantErr})`, () => {
      const ok = verifyConsistency(t.size1, t.size2, b64(t.root1), b64(t.root2), (t.proof ?? []).map(b64));
      expect(ok).toBe(!t.wantErr);
    });
  }
});

// transparency-dev/merkle testonly/constants.go, as listed in docs/NOTES-FORMATS.md §3.
const LEAVES = [
  '',
  '00',
  '10',
  '2021',
  '3031',
  '40414243',
  '5051525354555657',
  '606162636465666768696a6b6c6d6e6f',
];
const ROOTS = [
  '6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d',
  'fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125',
  'aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77',
  'd37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7',
  '4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4',
  '76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef',
  'ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c',
  '5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328',
];

describe('merkle test tree roots', () => {
  const hashes = LEAVES.map((l) => leafHash(fromHex(l)));
  it('empty tree is SHA-256("")', () => {
    expect(toHex(EMPTY_ROOT)).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
    expect(toHex(rootOf([]))).toBe(toHex(EMPTY_ROOT));
    expect(toHex(new MerkleTree().root())).toBe(toHex(EMPTY_ROOT));
  });
  for (let n = 1; n <= 8; n++) {
    it(`root of the first ${n} leaves`, () => {
      expect(toHex(rootOf(hashes.slice(0, n)))).toBe(ROOTS[n - 1]);
      const tree = MerkleTree.fromLeafHashes(hashes);
      expect(toHex(tree.rootAt(n))).toBe(ROOTS[n - 1]);
      expect(toHex(MerkleTree.fromLeafHashes(hashes.slice(0, n)).root())).toBe(ROOTS[n - 1]);
    });
  }
  it('generates the vendored happy-path proofs', () => {
    const tree = MerkleTree.fromLeafHashes(hashes);
    const inc = JSON.parse(readFileSync(join(root, 'inclusion/1/happy-path.json'), 'utf8'));
    expect(
      tree.inclusionProof(inc.leafIdx, inc.treeSize).map((p) => Buffer.from(p).toString('base64')),
    ).toEqual(inc.proof);
    for (const d of ['1', '2', '3', '4']) {
      const c = JSON.parse(readFileSync(join(root, `consistency/${d}/happy-path.json`), 'utf8'));
      if (c.size2 > 8) continue;
      expect(tree.consistencyProof(c.size1, c.size2).map((p) => Buffer.from(p).toString('base64'))).toEqual(
        c.proof ?? [],
      );
    }
  });
});

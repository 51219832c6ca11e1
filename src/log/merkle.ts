/**
 * RFC 9162 (= RFC 6962) Merkle tree hashing over SHA-256: leaf and node hashes, tree roots, inclusion
 * and consistency proofs (generation and verification), and an append-only in-memory tree whose
 * appends cost O(log n) amortised hashes and whose proofs cost O(log² n) lookups.
 *
 * - Empty tree: `SHA-256("")`.
 * - Leaf: `SHA-256(0x00 ‖ entry)`; node: `SHA-256(0x01 ‖ left ‖ right)`.
 * - A tree of `n > 1` leaves splits at `k`, the largest power of two strictly below `n`.
 *
 * Verification follows RFC 9162 §2.1.3.2 and §2.1.4.2, plus the three checks transparency-dev/merkle
 * applies before the consistency algorithm: `size1 == 0` fails (even against an equal empty tree),
 * `size1 > size2` fails, and `size1 == size2` passes iff the proof is empty and the roots are equal.
 * Verifiers return `false` for every malformed input (wrong hash length, negative or unsafe integer,
 * wrong proof length) and never throw. Generators throw {@link MerkleError} on bad arguments.
 *
 * A log kept in a database stores the hash of every complete, aligned subtree: node (level, idx) covers
 * the leaves [idx·2^level, (idx+1)·2^level). Any subtree range the RFC algorithms need decomposes into
 * O(log n) such nodes ({@link perfectNodes}), so a root or a proof costs O(log² n) node lookups done in
 * one batch: *plan* the nodes ({@link plan}), fetch them, then *fold* ({@link fold}). The in-memory
 * {@link MerkleTree} uses the same ranges, so both give the same proofs (property-tested in
 * test/log/merkle_nodes.test.ts).
 *
 * Hashing uses node:crypto (one-shot `hash`) for speed: about 2 M node hashes per second per core.
 *
 * @example
 * const tree = new MerkleTree();
 * for (const e of entries) tree.append(leafHash(e));
 * const proof = tree.inclusionProof(3, tree.size);
 * verifyInclusion(leafHash(entries[3]), 3, tree.size, proof, tree.root()); // true
 * verifyConsistency(5, tree.size, tree.rootAt(5), tree.root(), tree.consistencyProof(5, tree.size)); // true
 * @module
 */
import { hash as nodeHash } from 'node:crypto';
import { EmbassyError } from '../errors.ts';

/** Length of every hash in the tree. */
export const HASH_SIZE = 32;

/** Error codes raised by proof generation and tree construction. */
export type MerkleErrorCode = 'merkle_bad_hash' | 'merkle_bad_size' | 'merkle_bad_index';

/** The only error this module throws (verifiers never throw: they return `false`). */
export class MerkleError extends EmbassyError<MerkleErrorCode> {}

const sha256 = (data: Uint8Array): Uint8Array => {
  const b = nodeHash('sha256', data, 'buffer');
  return new Uint8Array(b.buffer, b.byteOffset, b.length);
};

/** SHA-256 of the empty string: the root of the tree with no leaves. */
export const EMPTY_ROOT: Uint8Array = sha256(new Uint8Array(0));

/**
 * RFC 9162 leaf hash: `SHA-256(0x00 ‖ entry)`.
 * @example toHex(leafHash(new Uint8Array(0))) // '6e340b9c…afa01d'
 */
export function leafHash(entry: Uint8Array): Uint8Array {
  const buf = new Uint8Array(entry.length + 1);
  buf.set(entry, 1);
  return sha256(buf);
}

const scratch = new Uint8Array(1 + 2 * HASH_SIZE);
scratch[0] = 0x01;

/** RFC 9162 interior node hash: `SHA-256(0x01 ‖ left ‖ right)`; both children must be 32 bytes. */
export function nodeHashOf(left: Uint8Array, right: Uint8Array): Uint8Array {
  if (left.length !== HASH_SIZE || right.length !== HASH_SIZE)
    throw new MerkleError('merkle_bad_hash', 'node children must be 32-byte hashes');
  scratch.set(left, 1);
  scratch.set(right, 1 + HASH_SIZE);
  return sha256(scratch);
}

// Internal, unchecked: callers guarantee 32-byte inputs.
function h(left: Uint8Array, right: Uint8Array): Uint8Array {
  scratch.set(left, 1);
  scratch.set(right, 1 + HASH_SIZE);
  return sha256(scratch);
}

const isSize = (n: unknown): n is number => typeof n === 'number' && Number.isSafeInteger(n) && n >= 0;

function eqBytes(a: Uint8Array, b: Uint8Array): boolean {
  if (a.length !== b.length) return false;
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return false;
  return true;
}

/** Largest power of two strictly below `n` (n ≥ 2). */
function splitPoint(n: number): number {
  let k = 1;
  while (k * 2 < n) k *= 2;
  return k;
}

const isPow2 = (n: number): boolean => n > 0 && 2 ** Math.floor(Math.log2(n)) === n;

/** `n >> 1` for safe integers up to 2^53 (`>>` truncates to 32 bits). */
const half = (n: number): number => Math.floor(n / 2);

/**
 * Verifies an RFC 9162 inclusion proof (§2.1.3.2): that `leaf` (a leaf *hash*) is at `index` in the
 * tree of `size` leaves whose root is `root`.
 * @example verifyInclusion(leafHash(entry), 0, 1, [], leafHash(entry)) // true
 */
export function verifyInclusion(
  leaf: Uint8Array,
  index: number,
  size: number,
  proof: readonly Uint8Array[] | null,
  root: Uint8Array,
): boolean {
  if (!isSize(index) || !isSize(size) || index >= size) return false;
  if (!(leaf instanceof Uint8Array) || leaf.length !== HASH_SIZE) return false;
  if (!(root instanceof Uint8Array)) return false;
  const path = proof ?? [];
  let fn = index;
  let sn = size - 1;
  let r = leaf;
  for (const p of path) {
    if (!(p instanceof Uint8Array) || p.length !== HASH_SIZE) return false;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      r = h(p, r);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      r = h(r, p);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return sn === 0 && eqBytes(r, root);
}

/**
 * Verifies an RFC 9162 consistency proof (§2.1.4.2): that the tree of `size2` leaves with root
 * `root2` extends the tree of `size1` leaves with root `root1`. `size1 == 0` always fails (a proof
 * from the empty tree is meaningless: callers decide that rule themselves).
 * @example verifyConsistency(4, 8, root4, root8, proof) // true for a proof from consistencyProof(4, 8)
 */
export function verifyConsistency(
  size1: number,
  size2: number,
  root1: Uint8Array,
  root2: Uint8Array,
  proof: readonly Uint8Array[] | null,
): boolean {
  if (!isSize(size1) || !isSize(size2)) return false;
  if (!(root1 instanceof Uint8Array) || !(root2 instanceof Uint8Array)) return false;
  const path = proof ?? [];
  if (size1 === 0) return false;
  if (size1 > size2) return false;
  if (size1 === size2) return path.length === 0 && eqBytes(root1, root2);
  if (path.length === 0) return false;
  for (const p of path) if (!(p instanceof Uint8Array) || p.length !== HASH_SIZE) return false;
  if (root1.length !== HASH_SIZE) return false;
  const full = isPow2(size1) ? [root1, ...path] : [...path];
  let fn = size1 - 1;
  let sn = size2 - 1;
  while (fn % 2 === 1) {
    fn = half(fn);
    sn = half(sn);
  }
  let fr = full[0]!;
  let sr = full[0]!;
  for (let i = 1; i < full.length; i++) {
    const c = full[i]!;
    if (sn === 0) return false;
    if (fn % 2 === 1 || fn === sn) {
      fr = h(c, fr);
      sr = h(c, sr);
      if (fn % 2 === 0) {
        while (fn % 2 === 0 && fn !== 0) {
          fn = half(fn);
          sn = half(sn);
        }
      }
    } else {
      sr = h(sr, c);
    }
    fn = half(fn);
    sn = half(sn);
  }
  return eqBytes(fr, root1) && eqBytes(sr, root2) && sn === 0;
}

/** A growable array of 32-byte hashes stored in one buffer. */
class HashArray {
  private buf = new Uint8Array(HASH_SIZE * 16);
  length = 0;
  push(x: Uint8Array): void {
    if ((this.length + 1) * HASH_SIZE > this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf.set(x, this.length * HASH_SIZE);
    this.length++;
  }
  /** A view (not a copy) of element `i`; valid until the next push. */
  at(i: number): Uint8Array {
    return this.buf.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE);
  }
}

/** A stored node: level 0 is a leaf hash. */
export interface NodeRef {
  readonly level: number;
  readonly idx: number;
}

/** A subtree range [start, end) of leaves, as the RFC algorithms use them. */
export interface Range {
  readonly start: number;
  readonly end: number;
}

/** The aligned perfect subtrees that make up [start, end), left to right. */
export function perfectNodes(r: Range): NodeRef[] {
  const out: NodeRef[] = [];
  let s = r.start;
  while (s < r.end) {
    let size = 1;
    let level = 0;
    while (s % (size * 2) === 0 && s + size * 2 <= r.end) {
      size *= 2;
      level++;
    }
    out.push({ level, idx: s / size });
    s += size;
  }
  return out;
}

/** The subtree ranges of an RFC 9162 inclusion proof of leaf `index` in a tree of `n`, leaf to root. */
export function inclusionRanges(index: number, n: number): Range[] {
  if (!isSize(n) || !isSize(index) || index >= n)
    throw new MerkleError('merkle_bad_index', `leaf index ${index} ≥ size ${n}`);
  const out: Range[] = [];
  let start = 0;
  let end = n;
  let m = index;
  while (end - start > 1) {
    const k = splitPoint(end - start);
    if (m < k) {
      out.push({ start: start + k, end });
      end = start + k;
    } else {
      out.push({ start, end: start + k });
      start += k;
      m -= k;
    }
  }
  return out.reverse();
}

/** The subtree ranges of an RFC 9162 consistency proof from `n1` to `n2` leaves (0 < n1 ≤ n2). */
export function consistencyRanges(n1: number, n2: number): Range[] {
  if (!isSize(n1) || !isSize(n2) || n1 > n2)
    throw new MerkleError('merkle_bad_size', `old size ${n1} > new size ${n2}`);
  if (n1 === 0)
    throw new MerkleError('merkle_bad_size', 'a consistency proof from the empty tree is meaningless');
  if (n1 === n2) return [];
  const out: Range[] = [];
  let start = 0;
  let end = n2;
  let m = n1;
  let b = true;
  while (true) {
    if (m === end - start) {
      if (!b) out.push({ start, end });
      break;
    }
    const k = splitPoint(end - start);
    if (m <= k) {
      out.push({ start: start + k, end });
      end = start + k;
    } else {
      out.push({ start, end: start + k });
      start += k;
      m -= k;
      b = false;
    }
  }
  return out.reverse();
}

/** Every node needed to compute the hashes of `ranges` (deduplicated). */
export function plan(ranges: readonly Range[]): NodeRef[] {
  const seen = new Map<string, NodeRef>();
  for (const r of ranges) for (const n of perfectNodes(r)) seen.set(`${n.level}:${n.idx}`, n);
  return [...seen.values()];
}

/** Looks a node up; must return the 32-byte hash of every planned node. */
export type NodeLookup = (level: number, idx: number) => Uint8Array;

/** Folds subtree roots, leftmost first, right to left into one root (a fresh copy). */
function foldRoots(parts: readonly Uint8Array[]): Uint8Array {
  if (parts.length === 0) return EMPTY_ROOT.slice();
  let acc = parts[parts.length - 1]!;
  for (let i = parts.length - 2; i >= 0; i--) acc = nodeHashOf(parts[i]!, acc);
  return acc === parts[parts.length - 1] ? acc.slice() : acc;
}

/** MTH of the range from stored nodes (the empty range [0, 0) gives the empty root). */
export function fold(r: Range, get: NodeLookup): Uint8Array {
  return foldRoots(perfectNodes(r).map((n) => get(n.level, n.idx)));
}

/**
 * Appends leaf `index` (its hash `leaf`) to a compact range (`frontier`: perfect subtree roots,
 * largest first) and returns the new frontier and the nodes this append completed (levels ≥ 1),
 * which a stored log keeps for {@link fold}.
 */
export function appendToFrontier(
  frontier: readonly Uint8Array[],
  index: number,
  leaf: Uint8Array,
): { frontier: Uint8Array[]; completed: (NodeRef & { hash: Uint8Array })[] } {
  const stack = frontier.slice();
  const completed: (NodeRef & { hash: Uint8Array })[] = [];
  let node = leaf;
  let n = index;
  let level = 0;
  while (n % 2 === 1) {
    node = nodeHashOf(stack.pop()!, node);
    n = half(n);
    level++;
    completed.push({ level, idx: Math.floor(index / 2 ** level), hash: node });
  }
  stack.push(node);
  return { frontier: stack, completed };
}

/** Root of a compact range (perfect subtree roots, largest first). */
export function frontierRoot(frontier: readonly Uint8Array[]): Uint8Array {
  return foldRoots(frontier);
}

/**
 * Append-only Merkle tree kept in memory: the hashes of every complete (perfect, aligned) subtree,
 * level by level, about 64 bytes per leaf. `append` costs O(1) amortised hashes (O(log n) worst case);
 * `root`, `rootAt`, and both proof generators cost O(log² n) hashes of lookups and folds.
 * All returned hashes are fresh copies.
 */
export class MerkleTree {
  private readonly levels: HashArray[] = [new HashArray()];

  /** Builds a tree from leaf hashes (each 32 bytes). */
  static fromLeafHashes(leaves: Iterable<Uint8Array>): MerkleTree {
    const t = new MerkleTree();
    for (const l of leaves) t.append(l);
    return t;
  }

  /** Number of leaves. */
  get size(): number {
    return this.levels[0]!.length;
  }

  /** Appends one leaf hash (use {@link leafHash} on the entry bytes); returns its index. */
  append(leaf: Uint8Array): number {
    if (!(leaf instanceof Uint8Array) || leaf.length !== HASH_SIZE)
      throw new MerkleError('merkle_bad_hash', 'leaf hash must be 32 bytes');
    const index = this.size;
    this.levels[0]!.push(leaf);
    // Every time a level gains an element at an odd position, its pair is complete: hash upward.
    let level = 0;
    let n = index + 1;
    while (n % 2 === 0) {
      const cur = this.levels[level]!;
      const parent = h(cur.at(n - 2), cur.at(n - 1));
      if (this.levels.length === level + 1) this.levels.push(new HashArray());
      this.levels[level + 1]!.push(parent);
      level++;
      n = this.levels[level]!.length;
    }
    return index;
  }

  /** The stored leaf hash at `index` (a copy). */
  leaf(index: number): Uint8Array {
    if (!isSize(index) || index >= this.size)
      throw new MerkleError('merkle_bad_index', 'leaf index out of range');
    return this.levels[0]!.at(index).slice();
  }

  /** MTH of leaves [start, end), end > start, where [start, end) is an RFC 9162 subtree range. */
  private subtree(start: number, end: number): Uint8Array {
    return fold({ start, end }, (level, idx) => this.levels[level]!.at(idx));
  }

  private checkSize(n: number): void {
    if (!isSize(n) || n > this.size)
      throw new MerkleError('merkle_bad_size', `tree size ${n} is out of range`);
  }

  /** Root of the whole tree. */
  root(): Uint8Array {
    return this.rootAt(this.size);
  }

  /** Root of the first `n` leaves (0 ≤ n ≤ size). */
  rootAt(n: number): Uint8Array {
    this.checkSize(n);
    return n === 0 ? EMPTY_ROOT.slice() : this.subtree(0, n);
  }

  /** RFC 9162 §2.1.3.1 inclusion proof for leaf `index` in the tree of the first `n` leaves. */
  inclusionProof(index: number, n: number = this.size): Uint8Array[] {
    this.checkSize(n);
    return inclusionRanges(index, n).map((r) => this.subtree(r.start, r.end));
  }

  /** RFC 9162 §2.1.4.1 consistency proof from the first `n1` leaves to the first `n2` (0 < n1 ≤ n2). */
  consistencyProof(n1: number, n2: number = this.size): Uint8Array[] {
    this.checkSize(n2);
    return consistencyRanges(n1, n2).map((r) => this.subtree(r.start, r.end));
  }
}

/**
 * Root of a list of leaf hashes (RFC 9162 MTH), in O(n) hashes and O(log n) memory.
 * @example toHex(rootOf([])) // 'e3b0c442…7852b855'
 */
export function rootOf(leaves: Iterable<Uint8Array>): Uint8Array {
  const range = new CompactRange();
  for (const l of leaves) range.append(l);
  return range.root();
}

/**
 * The compact range [0, n) of an append-only tree: the roots of its perfect subtrees, O(log n) hashes
 * in all. It is what a verifier needs to recompute roots while streaming entries: `append` costs O(1)
 * amortised hashes, `root` O(log n). It cannot produce proofs; use {@link MerkleTree} for those.
 * @example
 * const r = new CompactRange();
 * for (const e of entries) r.append(leafHash(e));
 * r.root(); // the same as new MerkleTree(...).root()
 */
export class CompactRange {
  /** Perfect subtree roots, largest (leftmost) first; sizes are the binary digits of `size`. */
  private readonly stack: Uint8Array[] = [];
  private n = 0;

  get size(): number {
    return this.n;
  }

  append(leaf: Uint8Array): void {
    if (!(leaf instanceof Uint8Array) || leaf.length !== HASH_SIZE)
      throw new MerkleError('merkle_bad_hash', 'leaf hash must be 32 bytes');
    let node: Uint8Array = leaf.slice();
    let n = this.n;
    while (n % 2 === 1) {
      node = h(this.stack.pop()!, node);
      n = half(n);
    }
    this.stack.push(node);
    this.n++;
  }

  root(): Uint8Array {
    return frontierRoot(this.stack);
  }
}

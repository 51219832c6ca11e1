/**
 * RFC 9162 roots and proofs computed from stored node hashes, for a log kept in a database.
 *
 * The store keeps the hash of every complete, aligned subtree: node (level, idx) covers the leaves
 * [idx·2^level, (idx+1)·2^level). Any subtree range the RFC algorithms need decomposes into O(log n) such
 * nodes, so a root or a proof costs O(log² n) node lookups, done in one batch: first *plan* which nodes
 * are needed ({@link plan}), fetch them, then *fold* ({@link fold}). The results equal
 * {@link MerkleTree}'s (property-tested in test/audit/log_nodes.test.ts).
 * @module
 */
import { EMPTY_ROOT, type NodeRef, nodeHashOf, perfectNodes, type Range } from './merkle.ts';

export { consistencyRanges, inclusionRanges, type NodeRef, perfectNodes, type Range } from './merkle.ts';

/** Every node needed to compute the hashes of `ranges` (deduplicated). */
export function plan(ranges: readonly Range[]): NodeRef[] {
  const seen = new Map<string, NodeRef>();
  for (const r of ranges) for (const n of perfectNodes(r)) seen.set(`${n.level}:${n.idx}`, n);
  return [...seen.values()];
}

/** Looks a node up; must return the 32-byte hash of every planned node. */
export type NodeLookup = (level: number, idx: number) => Uint8Array;

/** MTH of the range (the empty range [0, 0) gives the empty root). */
export function fold(r: Range, get: NodeLookup): Uint8Array {
  if (r.end === r.start) return EMPTY_ROOT.slice();
  const parts = perfectNodes(r).map((n) => get(n.level, n.idx));
  let acc = parts[parts.length - 1]!;
  for (let i = parts.length - 2; i >= 0; i--) acc = nodeHashOf(parts[i]!, acc);
  return acc;
}

/**
 * Appends leaf `index` (its hash `leaf`) to a compact range (`frontier`: perfect subtree roots,
 * largest first) and returns the new frontier and the nodes this append completed (levels ≥ 1).
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
    n = Math.floor(n / 2);
    level++;
    completed.push({ level, idx: Math.floor(index / 2 ** level), hash: node });
  }
  stack.push(node);
  return { frontier: stack, completed };
}

/** Root of a compact range. */
export function frontierRoot(frontier: readonly Uint8Array[]): Uint8Array {
  if (frontier.length === 0) return EMPTY_ROOT.slice();
  let acc = frontier[frontier.length - 1]!;
  for (let i = frontier.length - 2; i >= 0; i--) acc = nodeHashOf(frontier[i]!, acc);
  return acc;
}

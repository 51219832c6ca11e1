/**
 * Audit bundles (docs/AUDIT-BUNDLE.md §1): the whole log up to a signed checkpoint, its checkpoints
 * and the roster versions, in one JSON file an auditor verifies offline (`verifyBundle`,
 * src/audit/verify.ts).
 *
 * @example
 * await writeBundle(store, 'audit.bundle.json'); // { path, treeSize, checkpoints }
 * const bundle = await readBundle('audit.bundle.json'); // unknown until verified
 * @module
 */
import { readFile } from 'node:fs/promises';
import type { JsonValue } from '../crypto/jcs.ts';
import { EmbassyError } from '../errors.ts';
import { writeDurably } from '../fs/durable.ts';
import type { Store } from '../store/index.ts';
import { entries as readEntries, checkpoints as storedCheckpoints, treeHead } from './log.ts';

/** The bundle format identifier. */
export const BUNDLE_FORMAT = 'data-embassy/audit-bundle/v1';

export type BundleErrorCode =
  | 'bundle_no_checkpoint'
  | 'bundle_bad_log_key'
  | 'bundle_bad_trusted_checkpoint'
  | 'bundle_unreadable';

export class BundleError extends EmbassyError<BundleErrorCode> {}

/** A roster version as the bundle carries it: the signed document, verbatim. */
export interface BundleRosterVersion {
  readonly version: number;
  /** Hex roster ID the coordinator recorded (recomputed by the roster check, never trusted). */
  readonly rosterId: string;
  readonly signed: JsonValue;
}

/** An audit bundle (docs/AUDIT-BUNDLE.md). */
export interface Bundle {
  readonly format: typeof BUNDLE_FORMAT;
  readonly origin: string;
  readonly exportedAt: string;
  /** Number of entries: `entries.length`. */
  readonly treeSize: number;
  /** Entry `i`'s exact RFC 8785 text; its UTF-8 bytes are leaf `i`. */
  readonly entries: readonly string[];
  /** Signed checkpoint notes, ascending tree size. */
  readonly checkpoints: readonly string[];
  readonly rosterVersions: readonly BundleRosterVersion[];
}

export interface ExportOptions {
  /**
   * `checkpoint` (default): entries up to the latest signed checkpoint, so that every exported entry is
   * covered by a signature; fails with `bundle_no_checkpoint` if none was issued. `head`: every
   * committed entry (a verifier reports the uncheckpointed tail).
   */
  readonly upTo?: 'checkpoint' | 'head';
}

/** Reads the log, its checkpoints and the roster versions into a bundle. */
export async function exportBundle(store: Store, opts: ExportOptions = {}): Promise<Bundle> {
  const head = await treeHead(store.db);
  let size = head.size;
  if ((opts.upTo ?? 'checkpoint') === 'checkpoint') {
    const cps = await storedCheckpoints(store.db, head.size);
    const last = cps.at(-1);
    if (last === undefined)
      throw new BundleError(
        'bundle_no_checkpoint',
        'no checkpoint has been issued yet: issue one before exporting',
      );
    size = last.size;
  }
  const out: string[] = [];
  while (out.length < size) {
    const page = await readEntries(store.db, out.length, size);
    if (page.length === 0) break;
    for (const e of page) out.push(e.entry);
  }
  const cps = await storedCheckpoints(store.db, size);
  const rosters = await store.db.selectFrom('roster_versions').selectAll().orderBy('version').execute();
  return {
    format: BUNDLE_FORMAT,
    origin: head.origin,
    exportedAt: new Date().toISOString(),
    treeSize: out.length,
    entries: out,
    checkpoints: cps.map((c) => c.note),
    rosterVersions: rosters.map((r) => ({
      version: Number(r.version),
      rosterId: r.roster_id,
      signed: JSON.parse(r.signed_json) as JsonValue,
    })),
  };
}

/**
 * Exports a bundle to `path` atomically: a temporary file in the same directory, fsync, rename,
 * fsync of the directory. No partial file is left on failure.
 */
export async function writeBundle(
  store: Store,
  path: string,
  opts: ExportOptions = {},
): Promise<{ path: string; treeSize: number; checkpoints: number }> {
  const bundle = await exportBundle(store, opts);
  await writeDurably(path, `${JSON.stringify(bundle)}\n`, { mode: 0o644 });
  return { path, treeSize: bundle.treeSize, checkpoints: bundle.checkpoints.length };
}

/** Reads a bundle file (JSON); its contents are checked by `verifyBundle`, not here. */
export async function readBundle(path: string): Promise<unknown> {
  let text: string;
  try {
    text = await readFile(path, 'utf8');
  } catch (e) {
    throw new BundleError('bundle_unreadable', `cannot read bundle ${path}: ${(e as Error).message}`, {
      cause: e,
    });
  }
  try {
    return JSON.parse(text) as unknown;
  } catch {
    throw new BundleError('bundle_unreadable', `bundle ${path} is not JSON`);
  }
}

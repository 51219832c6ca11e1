/**
 * Registering a sealed snapshot: the backup job signs a snapshot-registration (id, domain, epoch,
 * size, the manifest's hash, the body's digest, location, and the sequence its maker signature
 * carries), posts it to the coordinator, which logs it, and writes the same signed statement beside
 * the archive as `<archive>.reg`, so a station can check a restore against it with or without the
 * coordinator (docs/DECISIONS.md#d15, docs/DECISIONS.md#d36).
 *
 * @example
 * const body = await registerSnapshot(job, 'store/land.emb', { location: 's3://embassy/land.emb' });
 * // store/land.emb.reg now holds the signed registration
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { z } from 'zod';
import { encodeManifest, fileSource, inspectArchive } from '../archive/index.ts';
import { jcs } from '../crypto/jcs.ts';
import { writeDurably } from '../fs/durable.ts';
import type { CoordinatorClient } from '../protocol/client.ts';
import { registrationFile, type SnapshotBody, STATEMENT } from '../protocol/statements.ts';

/** A snapshot-registration body as signed (ids as plain strings). */
export type Registration = z.input<typeof SnapshotBody>;

export interface RegisterOptions {
  /** Where the archive is kept (default: `path`). */
  location?: string;
  now?: () => Date;
}

/** SHA-256 of the bytes of `path` from `start` to the end, hex. */
const digestFrom = (path: string, start: number) =>
  new Promise<string>((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path, { start })
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });

/**
 * The registration body of the archive at `path`, unsigned: `bodyDigest` is the SHA-256 of every byte
 * after the header (docs/FORMAT.md). An archive without a maker stanza gets the clock as its sequence.
 * @throws {ArchiveError} for a file that is not an archive
 */
export async function registrationOf(path: string, opts: RegisterOptions = {}): Promise<Registration> {
  const now = opts.now ?? (() => new Date());
  const info = await inspectArchive(await fileSource(path));
  const maker = info.stanzas.find((x) => x.type === 'maker');
  return {
    id: info.manifest.snapshotId,
    domain: info.manifest.domain,
    sealEpoch: info.manifest.sealEpoch,
    size: info.headerBytes + info.bodyBytes,
    manifestHash: createHash('sha256').update(encodeManifest(info.manifest)).digest('hex'),
    bodyDigest: await digestFrom(path, info.headerBytes),
    location: opts.location ?? path,
    sequence: maker?.type === 'maker' ? maker.sequence : now().getTime(),
    createdAt: now().toISOString(),
  };
}

/**
 * Registers the archive at `path` through the job's client, then writes the signed registration to
 * `<path>.reg` (durably); returns the registered body.
 * @throws {ArchiveError} for a file that is not an archive, {@link CoordinatorError} when refused
 */
export async function registerSnapshot(
  client: CoordinatorClient,
  path: string,
  opts: RegisterOptions = {},
): Promise<Registration> {
  const body = await registrationOf(path, opts);
  const statement = await client.statement(STATEMENT.snapshot, body);
  await client.post('/v1/snapshots', statement);
  await writeDurably(registrationFile(path), jcs(statement), { mode: 0o644 });
  return body;
}

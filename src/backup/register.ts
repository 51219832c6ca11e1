/**
 * Registering a sealed snapshot: the backup job signs a snapshot-registration (id, domain, epoch,
 * size, SHA-256 digest, location, and the sequence its maker signature carries) and posts it to the
 * coordinator, which logs it. A station later checks an archive against this logged registration.
 *
 * @example
 * const body = await registerSnapshot(job, 'store/land.emb', { location: 's3://embassy/land.emb' });
 * @module
 */
import { createHash } from 'node:crypto';
import { createReadStream } from 'node:fs';
import type { z } from 'zod';
import { fileSource, inspectArchive } from '../archive/index.ts';
import type { CoordinatorClient } from '../protocol/client.ts';
import { type SnapshotBody, STATEMENT } from '../protocol/statements.ts';

/** A snapshot-registration body as signed (ids as plain strings). */
export type Registration = z.input<typeof SnapshotBody>;

export interface RegisterOptions {
  /** Where the archive is kept (default: `path`). */
  location?: string;
  now?: () => Date;
}

const digestOf = (path: string) =>
  new Promise<string>((resolve, reject) => {
    const h = createHash('sha256');
    createReadStream(path)
      .on('data', (d) => h.update(d))
      .on('end', () => resolve(h.digest('hex')))
      .on('error', reject);
  });

/**
 * Registers the archive at `path` through the job's client; returns the registered body. An archive
 * without a maker stanza is registered with the clock as its sequence.
 * @throws {ArchiveError} for a file that is not an archive, {@link CoordinatorError} when refused
 */
export async function registerSnapshot(
  client: CoordinatorClient,
  path: string,
  opts: RegisterOptions = {},
): Promise<Registration> {
  const now = opts.now ?? (() => new Date());
  const info = await inspectArchive(await fileSource(path));
  const maker = info.stanzas.find((x) => x.type === 'maker');
  const body: Registration = {
    id: info.manifest.snapshotId,
    domain: info.manifest.domain,
    sealEpoch: info.manifest.sealEpoch,
    size: info.headerBytes + info.bodyBytes,
    digest: await digestOf(path),
    location: opts.location ?? path,
    sequence: maker?.type === 'maker' ? maker.sequence : now().getTime(),
    createdAt: now().toISOString(),
  };
  await client.post('/v1/snapshots', await client.statement(STATEMENT.snapshot, body));
  return body;
}

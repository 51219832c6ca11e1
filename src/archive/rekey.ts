/**
 * Re-keying rewrites stanzas only: the DEK is recovered with a current key, new quorum stanzas are
 * made for the new keys, the header MAC is recomputed, and the body is copied byte for byte.
 * Home stanzas and stanzas of unknown types are kept as they are.
 *
 * @example
 * await rewrapArchive(fileSource('a.emb'), atomicFileSink('a.emb'), {
 *   identities: [oldEpochIdentity], recipients: [{ publicKey: newKey, epoch: 2 }] });
 */
import { randomBytes } from 'node:crypto';
import { verifyBodyHeader } from '../crypto/chunked.ts';
import { asArchiveError } from './body.ts';
import { ArchiveError } from './errors.ts';
import {
  bodyContext,
  encodeHeader,
  type Header,
  headerMac,
  makeQuorumStanza,
  readHeader,
  STANZA_QUORUM,
} from './header.ts';
import { bufferSource, exactReader, readFull, type Sink, type Source } from './io.ts';
import { type KeyOptions, recoverDek } from './open.ts';
import type { QuorumRecipient } from './seal.ts';

export interface RewrapOptions extends KeyOptions {
  /** The quorum stanzas of the new header (all old quorum stanzas are replaced). */
  recipients: QuorumRecipient[];
  random?: (n: number) => Uint8Array;
}

export async function rewrapArchive(src: Source, sink: Sink, opts: RewrapOptions): Promise<Header> {
  try {
    if (opts.recipients.length === 0)
      throw new ArchiveError('bad_argument', 'at least one quorum recipient is needed');
    const random = opts.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
    const readExact = exactReader(src);
    const old = await readHeader(readExact);
    const { dek } = await recoverDek(old, opts);
    const bodyHeader = await readExact(56);
    try {
      // The body must belong to this DEK before we vouch for it under new keys.
      verifyBodyHeader(dek, bodyContext(old.manifestBytes), bodyHeader);
      const kept = old.stanzas.filter((s) => s.type !== STANZA_QUORUM);
      const quorum = [];
      for (const r of opts.recipients) {
        quorum.push(
          await makeQuorumStanza(old.manifest, old.manifestBytes, dek, r.publicKey, r.epoch, random(64)),
        );
      }
      const stanzas = [...quorum, ...kept];
      const headerBytes = encodeHeader(
        old.manifestBytes,
        stanzas,
        headerMac(dek, old.version, old.manifestBytes, stanzas),
      );
      await sink.write(headerBytes);
      await sink.write(bodyHeader);
      const buf = new Uint8Array(1 << 20);
      for (let n = await readFull(src, buf); n > 0; n = await readFull(src, buf))
        await sink.write(buf.slice(0, n));
      await sink.commit();
      return await readHeader(exactReader(bufferSource(headerBytes)));
    } catch (e) {
      throw asArchiveError(e);
    } finally {
      dek.fill(0);
    }
  } catch (e) {
    await sink.abort();
    throw e;
  } finally {
    await src.close();
  }
}

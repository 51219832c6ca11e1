/**
 * Header replacement, the one path every re-keying takes (the rewrap job, the home-key rotation,
 * the rotation ceremony): read the header, let the caller build the new stanzas, write the new
 * header and copy the body byte for byte, then commit the output. Re-keying never touches the
 * body: the C2SP chunked body is bound to the manifest, not to any key (docs/FORMAT.md §2).
 *
 * With keys to `unlock` the DEK is recovered, the body's key commitment is checked against it
 * before anything is vouched for under new keys, and the header MAC is recomputed. Without them
 * only stanzas outside the MAC (home stanzas, rewrapped inside the home HSM) may change, and the
 * old MAC is kept.
 *
 * @example
 * // every quorum stanza replaced by one for the new epoch key, the file replaced durably
 * await replaceHeader(await fileSource('a.emb'), inPlace('a.emb'), {
 *   unlock: { identities: [oldEpochIdentity] },
 *   stanzas: quorumStanzas([{ publicKey: newKey, epoch: 2 }]),
 * });
 * @module
 */
import { randomBytes } from 'node:crypto';
import { stat } from 'node:fs/promises';
import { equalCt } from '../crypto/bytes.ts';
import { BODY_HEADER_SIZE, verifyBodyHeader } from '../crypto/chunked.ts';
import { openDurably } from '../fs/durable.ts';
import { type Faults, noFaults } from '../fs/faults.ts';
import { asArchiveError } from './body.ts';
import { ArchiveError } from './errors.ts';
import {
  bodyContext,
  encodeHeader,
  type Header,
  headerMac,
  macCovers,
  makeQuorumStanza,
  readHeader,
  STANZA_QUORUM,
  type Stanza,
} from './header.ts';
import { bufferSource, exactReader, fileSource, readFull, type Sink, type Source } from './io.ts';
import { type KeyOptions, recoverDek } from './open.ts';
import type { QuorumRecipient } from './seal.ts';

/**
 * Where a replacement can be stopped by a test's fault injection: after the new header is written,
 * before the output is committed (renamed over the archive) and after.
 */
export type ReplaceStep = 'mid-write' | 'before-rename' | 'after-rename';

export interface HeaderRewrite {
  /** Looks at the old header first: true leaves the archive as it is (already done); throw to refuse it. */
  done?: (old: Header) => boolean;
  /** Keys that recover the DEK; without them only stanzas outside the header MAC may change. */
  unlock?: KeyOptions;
  /** The new stanza list, from the old header and (when unlocked) the DEK. */
  stanzas: (old: Header, dek: Uint8Array | undefined) => Promise<Stanza[]>;
  /** Checks the new header, parsed back from its bytes, before anything is written; throw to refuse. */
  check?: (old: Header, fresh: Header, dek: Uint8Array | undefined) => void;
  /** The error for a written copy that does not verify (default: an ArchiveError `bad_header`). */
  fail?: (why: string) => Error;
  /** Fault injection for crash tests (src/fs/faults.ts): `faults.at(step)` at each {@link ReplaceStep}. */
  faults?: Faults;
}

export type Replacement =
  | { changed: false; header: Header }
  | { changed: true; header: Header /** Bytes written. */; bytes: number };

/** A sink that can read back what it holds before the commit (a file sink, after its fsync). */
export interface ReplaceSink extends Sink {
  readBack?(n: number): Promise<Uint8Array>;
}

/**
 * Replaces the header of the archive read from `src`; `out` opens the output only when there is
 * something to write. The source is closed, and an opened output aborted on any failure.
 * @throws {ArchiveError} and whatever the callbacks throw
 */
export async function replaceHeader(
  src: Source & { size?: number },
  out: () => Promise<ReplaceSink>,
  rw: HeaderRewrite,
): Promise<Replacement> {
  const fail = rw.fail ?? ((why: string) => new ArchiveError('bad_header', why));
  const faults = rw.faults ?? noFaults;
  let sink: ReplaceSink | undefined;
  let dek: Uint8Array | undefined;
  try {
    const readExact = exactReader(src);
    const old = await readHeader(readExact);
    if (rw.done?.(old)) return { changed: false, header: old };
    let bodyHeader: Uint8Array | undefined;
    if (rw.unlock !== undefined) {
      dek = (await recoverDek(old, rw.unlock)).dek;
      bodyHeader = await readExact(BODY_HEADER_SIZE);
      // The body must belong to this DEK before we vouch for it under new keys.
      verifyBodyHeader(dek, bodyContext(old.manifestBytes), bodyHeader);
    }
    const stanzas = await rw.stanzas(old, dek);
    if (dek === undefined && !sameCovered(old.stanzas, stanzas))
      throw new ArchiveError(
        'bad_argument',
        'without the DEK only stanzas outside the header MAC can change',
      );
    const mac = dek === undefined ? old.mac : headerMac(dek, old.version, old.manifestBytes, stanzas);
    const headerBytes = encodeHeader(old.manifestBytes, stanzas, mac);
    const fresh = await readHeader(exactReader(bufferSource(headerBytes)));
    rw.check?.(old, fresh, dek);

    sink = await out();
    await sink.write(headerBytes);
    faults.at('mid-write');
    let bytes = headerBytes.length;
    if (bodyHeader !== undefined) {
      await sink.write(bodyHeader);
      bytes += bodyHeader.length;
    }
    const buf = new Uint8Array(1 << 20);
    for (let n = await readFull(src, buf); n > 0; n = await readFull(src, buf)) {
      await sink.write(buf.slice(0, n));
      bytes += n;
    }
    if (src.size !== undefined && bytes !== src.size - old.bytes.length + headerBytes.length)
      throw fail('changed size while its header was replaced');
    if (sink.readBack !== undefined && !equalCt(await sink.readBack(headerBytes.length), headerBytes))
      throw fail('the written header does not read back');
    faults.at('before-rename');
    await sink.commit();
    faults.at('after-rename');
    return { changed: true, header: fresh, bytes };
  } catch (e) {
    await sink?.abort();
    throw asArchiveError(e);
  } finally {
    dek?.fill(0);
    await src.close();
  }
}

/** Stanzas under the header MAC are the same, in the same order. */
function sameCovered(a: Stanza[], b: Stanza[]): boolean {
  const x = a.filter((s) => macCovers(s.type));
  const y = b.filter((s) => macCovers(s.type));
  return x.length === y.length && x.every((s, i) => s.type === y[i]!.type && equalCt(s.body, y[i]!.body));
}

/**
 * The output that replaces the archive at `path` durably (src/fs/durable.ts): a temporary file
 * beside it with the archive's mode, fsynced and read back before it is renamed over the archive.
 * `syncDir: false` leaves the directory fsync to a caller that replaces many archives in one directory.
 */
export function inPlace(path: string, opts: { syncDir?: boolean } = {}): () => Promise<ReplaceSink> {
  return async () => {
    const file = await openDurably(path, { mode: (await stat(path)).mode & 0o777 });
    return {
      write: (buf) => file.write(buf),
      commit: () => file.commit({ syncDir: opts.syncDir ?? true }),
      abort: () => file.abort(),
      async readBack(n) {
        await file.finish();
        if (file.tempPath === undefined) throw new ArchiveError('bad_argument', `${path} is not a file`);
        const back = await fileSource(file.tempPath);
        try {
          const b = new Uint8Array(n);
          return b.subarray(0, await readFull(back, b));
        } finally {
          await back.close();
        }
      },
    };
  };
}

/**
 * The quorum rewrite: every quorum stanza replaced by one per recipient (in that order, first),
 * home stanzas and stanzas of unknown types kept as they are. Needs the DEK (`unlock`).
 */
export function quorumStanzas(
  recipients: QuorumRecipient[],
  random: (n: number) => Uint8Array = (n) => new Uint8Array(randomBytes(n)),
): HeaderRewrite['stanzas'] {
  if (recipients.length === 0)
    throw new ArchiveError('bad_argument', 'at least one quorum recipient is needed');
  return async (old, dek) => {
    if (dek === undefined) throw new ArchiveError('bad_argument', 'a quorum rewrite needs the DEK');
    const quorum: Stanza[] = [];
    for (const r of recipients)
      quorum.push(
        await makeQuorumStanza(old.manifest, old.manifestBytes, dek, r.publicKey, r.epoch, random(64)),
      );
    return [...quorum, ...old.stanzas.filter((s) => s.type !== STANZA_QUORUM)];
  };
}

export interface RewrapOptions extends KeyOptions {
  /** The quorum stanzas of the new header (all old quorum stanzas are replaced). */
  recipients: QuorumRecipient[];
  random?: (n: number) => Uint8Array;
}

/**
 * Rewraps an archive stream to new quorum recipients: {@link replaceHeader} with
 * {@link quorumStanzas}, for any source and sink. Returns the new header.
 *
 * @example
 * await rewrapArchive(bufferSource(sealed), sink, {
 *   identities: [oldEpochIdentity], recipients: [{ publicKey: newKey, epoch: 2 }] });
 */
export async function rewrapArchive(src: Source, sink: Sink, opts: RewrapOptions): Promise<Header> {
  const { recipients, random, ...unlock } = opts;
  let started = false;
  try {
    const stanzas = quorumStanzas(recipients, random);
    started = true; // from here replaceHeader closes the source
    return (await replaceHeader(src, async () => sink, { unlock, stanzas })).header;
  } catch (e) {
    await sink.abort(); // the caller opened this sink: abort it whatever failed
    if (!started) await src.close();
    throw e;
  }
}

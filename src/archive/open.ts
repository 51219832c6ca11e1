/**
 * Opening: parse the header, recover the DEK from a stanza this caller can open whose DEK verifies the
 * header MAC, check the body's key commitment before any chunk, then release plaintext chunk by chunk, each
 * only after its tag verified. A file output appears only when the final chunk verified.
 *
 * @example
 * await openArchive(fileSource('land.emb'), atomicFileSink('land.csv'), { identities });
 */
import { createHash, type Hash } from 'node:crypto';
import { verifyBodyHeader } from '../crypto/chunked.ts';
import type { Identity } from '../crypto/keys.ts';
import type { Statement } from '../crypto/statement.ts';
import { asArchiveError, type PumpOptions, pumpBody } from './body.ts';
import { ArchiveError } from './errors.ts';
import {
  bodyContext,
  DEK_SIZE,
  type Header,
  type HomeStanza,
  openQuorumStanza,
  readHeader,
  verifyHeaderMac,
} from './header.ts';
import { exactReader, type Sink, type Source } from './io.ts';
import { type MakerFacts, parseMakerStanza, STANZA_MAKER } from './maker.ts';
import type { Manifest } from './manifest.ts';
import { type ParsedStanza, parseStanzas } from './stanzas.ts';

/** Unwraps a home stanza inside an HSM; `undefined` when this HSM does not hold its key. */
export interface HomeUnwrapper {
  unwrapDek(stanza: HomeStanza): Promise<Uint8Array | undefined>;
}

export interface KeyOptions {
  identities?: Identity[];
  home?: HomeUnwrapper;
}

export type OpenOptions = KeyOptions &
  PumpOptions & {
    /**
     * Checks the maker's signature (docs/DECISIONS.md#d4) after the header MAC and the key commitment,
     * before any chunk: receives the maker stanza's statement (undefined if the archive has none) and
     * the facts it must name. Throw to refuse the archive.
     */
    maker?: (statement: Statement | undefined, facts: MakerFacts) => void | Promise<void>;
    /** Receives the manifest as soon as the header parsed, before any key is tried. Throw to refuse the archive. */
    manifest?: (manifest: Manifest) => void | Promise<void>;
    /**
     * Receives the SHA-256 of every byte after the header (salt, commitment, chunks: the registration's
     * `bodyDigest`, docs/FORMAT.md), hashed while the body streams, once the last chunk verified and
     * before the output is committed. Throw to refuse the archive: nothing is committed.
     */
    bodyDigest?: (digest: Uint8Array) => void | Promise<void>;
  };

export interface Unlocked {
  dek: Uint8Array;
  via: { kind: 'quorum'; keyId: Uint8Array; epoch: number } | { kind: 'home'; kekId: Uint8Array };
}

/**
 * Finds the DEK by trying every stanza the caller holds a key for (after refusing a malformed stanza
 * anywhere, {@link parseStanzas}), in header order, until one yields a
 * DEK under which the header MAC verifies. Stopping at the first stanza that opens would let a stanza
 * copied in from another archive (a home stanza is outside the MAC) block a restore: it unwraps, but
 * to another archive's DEK, or fails to unwrap. When none verifies, the error is that of the first
 * stanza tried (`stanza_open_failed`, `header_mac_mismatch`, or the HSM's own error).
 */
export async function recoverDek(header: Header, keys: KeyOptions): Promise<Unlocked> {
  let firstError: unknown;
  for (const s of parseStanzas(header)) {
    let unlocked: Unlocked | undefined;
    try {
      unlocked = await tryStanza(header, s, keys);
      if (!unlocked) continue;
      if (unlocked.dek.length !== DEK_SIZE)
        throw new ArchiveError('stanza_open_failed', 'stanza holds a malformed DEK');
      verifyHeaderMac(header, unlocked.dek);
      return unlocked;
    } catch (e) {
      unlocked?.dek.fill(0);
      firstError ??= e;
    }
  }
  throw firstError ?? new ArchiveError('no_matching_stanza', 'no stanza opens with this key');
}

/** Opens one stanza with the caller's keys; `undefined` when the caller holds no key for it. */
async function tryStanza(header: Header, s: ParsedStanza, keys: KeyOptions): Promise<Unlocked | undefined> {
  if (s.kind === 'quorum' && keys.identities) {
    const q = s.quorum;
    const id = keys.identities.find((i) => Buffer.compare(i.keyId, q.keyId) === 0);
    if (!id) return undefined;
    return { dek: await openQuorumStanza(header, q, id.seed, id.keyId), via: { kind: 'quorum', ...q } };
  }
  if (s.kind === 'home' && keys.home) {
    const dek = await keys.home.unwrapDek(s.home);
    return dek && { dek, via: { kind: 'home', kekId: s.home.kekId } };
  }
  return undefined;
}

export async function openArchive(
  src: Source,
  sink: Sink,
  opts: OpenOptions,
): Promise<{ header: Header; via: Unlocked['via']; plaintextBytes: number }> {
  try {
    const readExact = exactReader(src);
    const header = await readHeader(readExact);
    await opts.manifest?.(header.manifest);
    const { dek, via } = await recoverDek(header, opts);
    let keys: ReturnType<typeof verifyBodyHeader>;
    const bodyHeader = await readExact(56);
    try {
      keys = verifyBodyHeader(dek, bodyContext(header.manifestBytes), bodyHeader);
    } catch (e) {
      throw asArchiveError(e);
    } finally {
      dek.fill(0);
    }
    if (opts.maker) {
      const stanza = header.stanzas.find((s) => s.type === STANZA_MAKER);
      await opts.maker(stanza ? parseMakerStanza(stanza.body) : undefined, {
        manifest: header.manifest,
        manifestBytes: header.manifestBytes,
        bodyHeader,
      });
    }
    const hash = opts.bodyDigest && createHash('sha256').update(bodyHeader);
    const plaintextBytes = await pumpBody('open', hash ? hashing(src, hash) : src, sink, keys, opts);
    if (hash) await opts.bodyDigest?.(new Uint8Array(hash.digest()));
    await sink.commit();
    return { header, via, plaintextBytes };
  } catch (e) {
    await sink.abort();
    throw e;
  } finally {
    await src.close();
  }
}

/** `src`, feeding every byte it yields into `hash` as it is read (one pass over the body). */
function hashing(src: Source, hash: Hash): Source {
  return {
    async read(buf) {
      const n = await src.read(buf);
      hash.update(buf.subarray(0, n));
      return n;
    },
    close: () => src.close(),
  };
}

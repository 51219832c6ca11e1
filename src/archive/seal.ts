/**
 * Sealing: a fresh DEK per archive, wrapped to each quorum key (HPKE/X-Wing) and optionally under
 * the home HSM's key; the body is C2SP chunked encryption bound to the manifest.
 *
 * @example
 * await sealArchive(fileSource('land.csv'), atomicFileSink('land.emb'), {
 *   manifest, recipients: [{ publicKey, epoch: 1 }] });
 */
import { randomBytes } from 'node:crypto';
import { startBody } from '../crypto/chunked.ts';
import { type PumpOptions, pumpBody } from './body.ts';
import { ArchiveError } from './errors.ts';
import {
  bodyContext,
  DEK_SIZE,
  encodeHeader,
  type Header,
  headerMac,
  makeHomeStanza,
  makeQuorumStanza,
  readHeader,
  type Stanza,
  VERSION,
} from './header.ts';
import { bufferSource, exactReader, type Sink, type Source } from './io.ts';
import { type MakerSigner, makeMakerStanza } from './maker.ts';
import { encodeManifest, type Manifest } from './manifest.ts';

export interface QuorumRecipient {
  /** The domain's X-Wing quorum public key for `epoch`. */
  publicKey: Uint8Array;
  epoch: number;
}

/** Wraps a DEK under a key that stays in an HSM (the home stanza, AES key wrap with padding). */
export interface HomeWrapper {
  kekId: Uint8Array;
  wrapDek(dek: Uint8Array): Promise<Uint8Array>;
}

export interface SealOptions extends PumpOptions {
  manifest: Manifest;
  recipients: QuorumRecipient[];
  home?: HomeWrapper[];
  /** The backup job's signature over manifest, body commitment and sequence (docs/DECISIONS.md#d4). */
  maker?: MakerSigner;
  /** Randomness for DEK, encapsulation seeds and salt, in that order. Injected only for test vectors. */
  random?: (n: number) => Uint8Array;
}

export interface SealResult {
  header: Header;
  plaintextBytes: number;
  archiveBytes: number;
}

export async function sealArchive(src: Source, sink: Sink, opts: SealOptions): Promise<SealResult> {
  try {
    if (opts.recipients.length === 0)
      throw new ArchiveError('bad_argument', 'at least one quorum recipient is needed');
    const random = opts.random ?? ((n: number) => new Uint8Array(randomBytes(n)));
    const manifestBytes = encodeManifest(opts.manifest);
    const dek = random(DEK_SIZE);
    const stanzas: Stanza[] = [];
    for (const r of opts.recipients) {
      stanzas.push(
        await makeQuorumStanza(opts.manifest, manifestBytes, dek, r.publicKey, r.epoch, random(64)),
      );
    }
    for (const h of opts.home ?? [])
      stanzas.push(makeHomeStanza({ kekId: h.kekId, wrapped: await h.wrapDek(dek) }));
    const { keys, header: bodyHeader } = startBody(dek, bodyContext(manifestBytes), random(24));
    if (opts.maker) stanzas.push(await makeMakerStanza(opts.maker, opts.manifest, manifestBytes, bodyHeader));
    const headerBytes = encodeHeader(manifestBytes, stanzas, headerMac(dek, VERSION, manifestBytes, stanzas));
    dek.fill(0);
    await sink.write(headerBytes);
    await sink.write(bodyHeader);
    let plaintextBytes = 0;
    const bodyBytes = await pumpBody('seal', src, sink, keys, {
      ...opts,
      onProgress: (n) => {
        plaintextBytes = n;
        opts.onProgress?.(n);
      },
    });
    await sink.commit();
    const header = await readHeader(exactReader(bufferSource(headerBytes)));
    return { header, plaintextBytes, archiveBytes: headerBytes.length + bodyHeader.length + bodyBytes };
  } catch (e) {
    await sink.abort();
    throw e;
  } finally {
    await src.close();
  }
}

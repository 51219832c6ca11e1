import { createCipheriv, createDecipheriv } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import {
  encodeHeader,
  makeHomeStanza,
  parseHomeStanza,
  readHeader,
  STANZA_HOME,
  type Stanza,
} from '../../src/archive/header.ts';
import {
  ArchiveError,
  bufferSink,
  bufferSource,
  type HomeUnwrapper,
  type HomeWrapper,
  openArchive,
} from '../../src/archive/index.ts';
import { exactReader } from '../../src/archive/io.ts';
import { utf8 } from '../../src/crypto/bytes.ts';
import { alice, bob, manifest, seal } from './helpers.ts';

// docs/FORMAT.md §8 step 4: a reader tries every stanza it holds a key for until the header MAC
// verifies. Home stanzas are outside the MAC, so anyone with write access to the store can copy
// another archive's home stanza in front of the genuine one: it unwraps (same home key), but to
// the other archive's DEK. That must not block a routine home restore.

/** AES-256 key wrap with padding in software, standing in for the home HSM. */
const kek = new Uint8Array(32).fill(9);
const kekId = utf8('home-kek-1');
const iv = Buffer.from('a65959a6', 'hex');
const home: HomeWrapper = {
  kekId,
  wrapDek: async (dek) => new Uint8Array(createCipheriv('id-aes256-wrap-pad', kek, iv).update(dek)),
};
const unwrapper: HomeUnwrapper = {
  async unwrapDek(stanza) {
    if (Buffer.compare(stanza.kekId, kekId) !== 0) return undefined;
    const d = createDecipheriv('id-aes256-wrap-pad', kek, iv);
    return new Uint8Array(Buffer.concat([d.update(stanza.wrapped), d.final()]));
  },
};

const plaintext = utf8('parcel;owner\n1;Tamm\n');
const other = { ...manifest, snapshotId: 'land-20261126' };

async function split(archive: Uint8Array) {
  const header = await readHeader(exactReader(bufferSource(archive)));
  return { header, body: archive.subarray(header.bytes.length) };
}

/** The archive with `extra` stanzas placed before its own (the MAC is kept: it does not cover them). */
async function withStanzasFirst(archive: Uint8Array, extra: Stanza[], keep = (_: Stanza) => true) {
  const { header, body } = await split(archive);
  const stanzas = [...extra, ...header.stanzas.filter(keep)];
  return new Uint8Array(Buffer.concat([encodeHeader(header.manifestBytes, stanzas, header.mac), body]));
}

const homeStanzaOf = async (archive: Uint8Array) =>
  (await split(archive)).header.stanzas.find((s) => s.type === STANZA_HOME)!;

const openHome = async (archive: Uint8Array) => {
  const sink = bufferSink();
  const res = await openArchive(bufferSource(archive), sink, { home: unwrapper, threads: 0 });
  return { via: res.via, plaintext: sink.result() };
};

describe('open tries every stanza until the header MAC verifies', () => {
  it('a home stanza copied in from another archive and placed first does not block a home restore', async () => {
    const mine = await seal(plaintext, { home: [home] });
    const theirs = await seal(utf8('another snapshot'), { home: [home], manifest: other });
    const tampered = await withStanzasFirst(mine, [await homeStanzaOf(theirs)]);
    const res = await openHome(tampered);
    expect(Buffer.from(res.plaintext).toString()).toBe(Buffer.from(plaintext).toString());
    expect(res.via).toEqual({ kind: 'home', kekId });
  });

  it('a home stanza that fails to unwrap, placed first, does not block either', async () => {
    const mine = await seal(plaintext, { home: [home] });
    const { kekId: id, wrapped } = parseHomeStanza((await homeStanzaOf(mine)).body);
    const garbage = makeHomeStanza({ kekId: id, wrapped: new Uint8Array(wrapped.length).fill(1) });
    const res = await openHome(await withStanzasFirst(mine, [garbage]));
    expect(Buffer.from(res.plaintext).toString()).toBe(Buffer.from(plaintext).toString());
  });

  it("only another archive's home stanza: refused with header_mac_mismatch, nothing written", async () => {
    const mine = await seal(plaintext, { home: [home] });
    const theirs = await seal(utf8('another snapshot'), { home: [home], manifest: other });
    const swapped = await withStanzasFirst(mine, [await homeStanzaOf(theirs)], (s) => s.type !== STANZA_HOME);
    const err = await openHome(swapped).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ArchiveError);
    expect((err as ArchiveError).code).toBe('header_mac_mismatch');
  });

  it('a quorum key holder opens through the later stanza its key matches, whatever comes first', async () => {
    const archive = await seal(plaintext, {
      recipients: [
        { publicKey: bob.publicKey, epoch: 1 },
        { publicKey: alice.publicKey, epoch: 2 },
      ],
      home: [home],
    });
    const sink = bufferSink();
    const res = await openArchive(bufferSource(archive), sink, {
      identities: [alice],
      home: unwrapper,
      threads: 0,
    });
    expect(res.via).toMatchObject({ kind: 'quorum', epoch: 2 });
    expect(Buffer.from(sink.result()).toString()).toBe(Buffer.from(plaintext).toString());
  });
});

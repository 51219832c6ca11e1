// Builds audit bundles in memory, the way the store writes them, for the verification tests.

import { BUNDLE_FORMAT, type Bundle } from '../../src/audit/bundle.ts';
import { buildEntry, type EntryInput } from '../../src/audit/log.ts';
import { toHex } from '../../src/crypto/bytes.ts';
import { canonicalize } from '../../src/crypto/jcs.ts';
import { type StatementKey, signStatement } from '../../src/crypto/statement.ts';
import { formatCheckpoint } from '../../src/log/checkpoint.ts';
import { leafHash, MerkleTree } from '../../src/log/merkle.ts';
import { formatVerifierKey, type Signer, signNote, softwareEd25519Signer } from '../../src/log/note.ts';

export const ORIGIN = 'bundle.example/audit';
export const ROSTER = 'ab'.repeat(32);
export const logSigner: Signer = softwareEd25519Signer(ORIGIN, new Uint8Array(32).fill(7));
export const LOG_KEY = formatVerifierKey(ORIGIN, logSigner.publicKey);
const enc = new TextEncoder();

export const station = softwareEd25519Signer('station/ee-1', new Uint8Array(32).fill(8));
export const custodians = ['custodian/a', 'custodian/b', 'custodian/c'].map((name, i) =>
  softwareEd25519Signer(name, new Uint8Array(32).fill(20 + i)),
);
export const keys = new Map<string, StatementKey>(
  [station, ...custodians].map((s) => [s.name, { alg: 'ed25519', publicKey: s.publicKey }]),
);
export const resolveKey = (q: { signer: string }) => keys.get(q.signer) ?? null;

/** Entry texts from inputs, with seq and prev chained as appendEntry does. */
export function entryTexts(inputs: readonly EntryInput[], start = 0, prev0 = '0'.repeat(64)): string[] {
  const out: string[] = [];
  let prev = prev0;
  inputs.forEach((input, k) => {
    const text = canonicalize(
      buildEntry(ORIGIN, start + k, prev, {
        ...input,
        time: new Date(Date.UTC(2026, 0, 1, 0, 0, start + k)),
      }),
    );
    out.push(text);
    prev = toHex(leafHash(enc.encode(text)));
  });
  return out;
}

export const treeOf = (texts: readonly string[]) =>
  MerkleTree.fromLeafHashes(texts.map((t) => leafHash(enc.encode(t))));

/** A signed checkpoint note of the first `size` entries, signed directly (no CheckpointSigner). */
export async function checkpointNote(
  texts: readonly string[],
  size: number,
  signer: Signer = logSigner,
): Promise<string> {
  const root = treeOf(texts.slice(0, size)).root();
  return signNote(formatCheckpoint({ origin: ORIGIN, size, root }), [signer]);
}

export async function bundleOf(
  texts: readonly string[],
  checkpointSizes: readonly number[],
): Promise<Bundle> {
  return {
    format: BUNDLE_FORMAT,
    origin: ORIGIN,
    exportedAt: '2026-01-02T00:00:00.000Z',
    treeSize: texts.length,
    entries: [...texts],
    checkpoints: await Promise.all(checkpointSizes.map((s) => checkpointNote(texts, s))),
    rosterVersions: [],
  };
}

/** A small story: an unlock request, approvals, releases, a close, and filler entries. */
export async function storyInputs(filler = 10): Promise<EntryInput[]> {
  const req = await signStatement(
    {
      type: 'unlock-request',
      roster: ROSTER,
      signer: station.name,
      body: { ceremony: 'c-1', domain: 'land' },
    },
    (p) => station.sign(p),
  );
  const inputs: EntryInput[] = [
    { kind: 'roster-version', actor: 'coordinator', data: { rosterId: ROSTER, version: '1' } },
    { kind: 'unlock-request', actor: station.name, statement: req, data: { ceremony: 'c-1' } },
  ];
  for (const c of custodians.slice(0, 2)) {
    const st = await signStatement(
      {
        type: 'approval',
        roster: ROSTER,
        signer: c.name,
        body: { ceremony: 'c-1', request: 'ff'.repeat(32) },
      },
      (p) => c.sign(p),
    );
    inputs.push({ kind: 'approval', actor: c.name, statement: st, data: { ceremony: 'c-1' } });
  }
  for (const c of custodians.slice(0, 2))
    inputs.push({ kind: 'release', actor: c.name, data: { ceremony: 'c-1', blobHash: 'cd'.repeat(32) } });
  inputs.push({ kind: 'ceremony-close', actor: 'coordinator', data: { ceremony: 'c-1', reason: 'done' } });
  for (let i = 0; i < filler; i++)
    inputs.push({ kind: 'snapshot-registered', actor: 'job/backup', data: { id: `s-${i}` } });
  return inputs;
}

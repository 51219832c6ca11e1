// The inputs and computed values of the worked example in docs/AUDIT-LOG.md.

import { toHex } from '../../src/crypto/bytes.ts';
import { canonicalize, jcs } from '../../src/crypto/jcs.ts';
import { rosterIdOf, signStatement, statementPayload } from '../../src/crypto/statement.ts';
import { formatCheckpoint } from '../../src/log/checkpoint.ts';
import { leafHash, MerkleTree } from '../../src/log/merkle.ts';
import { formatVerifierKey, signNote, softwareEd25519Signer } from '../../src/log/note.ts';

export async function workedExample() {
  const origin = 'embassy.example/audit';
  const logKey = softwareEd25519Signer(origin, new Uint8Array(32).fill(0x01));
  const station = softwareEd25519Signer('station/ee-1', new Uint8Array(32).fill(0x02));
  const roster = { version: '1', domains: ['land'] };
  const rosterId = toHex(rosterIdOf(roster));
  const request = await signStatement(
    {
      type: 'unlock-request',
      roster: rosterId,
      signer: 'station/ee-1',
      body: { ceremony: 'c-1', domain: 'land', deadline: '2026-01-02T00:00:00Z' },
    },
    (p) => station.sign(p),
  );
  const entries = [
    { v: 1, origin, seq: '0', time: '2026-01-01T00:00:00Z', kind: 'roster-version', data: { rosterId } },
    { v: 1, origin, seq: '1', time: '2026-01-01T00:05:00Z', kind: 'unlock-request', statement: request },
    {
      v: 1,
      origin,
      seq: '2',
      time: '2026-01-01T00:06:00Z',
      kind: 'ceremony-close',
      data: { ceremony: 'c-1' },
    },
  ];
  const bytes = entries.map(jcs);
  const leaves = bytes.map(leafHash);
  const tree = MerkleTree.fromLeafHashes(leaves);
  const body = formatCheckpoint({ origin, size: 3, root: tree.root() });
  const note = await signNote(body, [logKey]);
  return {
    origin,
    vkey: formatVerifierKey(origin, logKey.publicKey),
    stationKey: toHex(station.publicKey),
    rosterId,
    payload: toHex(statementPayload(request)),
    sig: request.sig,
    entryTexts: entries.map(canonicalize),
    leaves: leaves.map(toHex),
    root: toHex(tree.root()),
    proof1: tree.inclusionProof(1, 3).map(toHex),
    body,
    note,
    tree,
  };
}

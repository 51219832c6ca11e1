// The worked example in docs/AUDIT-LOG.md: every value printed there is recomputed here from the
// example's inputs with the library, and must appear in the document verbatim.
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toHex } from '../../src/crypto/bytes.ts';
import { signingPayload } from '../../src/crypto/statement.ts';
import { openCheckpoint } from '../../src/log/checkpoint.ts';
import { verifyInclusion } from '../../src/log/merkle.ts';
import { parseVerifierKey } from '../../src/log/note.ts';
import { workedExample } from './worked_example.ts';

describe('docs/AUDIT-LOG.md worked example', () => {
  const doc = readFileSync(new URL('../../docs/AUDIT-LOG.md', import.meta.url), 'utf8');
  it('every value in the document is what the library computes', async () => {
    const x = await workedExample();
    for (const v of [
      x.vkey,
      x.stationKey,
      x.rosterId,
      x.payload,
      x.sig,
      ...x.entryTexts,
      ...x.leaves,
      x.root,
      ...x.proof1,
      x.body,
      x.note,
    ])
      expect(doc).toContain(v);
  });
  it('the example verifies end to end', async () => {
    const x = await workedExample();
    const c = openCheckpoint(x.note, [parseVerifierKey(x.vkey)], x.origin);
    expect(toHex(c.root)).toBe(x.root);
    const leaf = Uint8Array.from(Buffer.from(x.leaves[1]!, 'hex'));
    const proof = x.proof1.map((h) => Uint8Array.from(Buffer.from(h, 'hex')));
    expect(verifyInclusion(leaf, 1, 3, proof, c.root)).toBe(true);
    expect(signingPayload('unlock-request', Buffer.from(x.rosterId, 'hex'), {})).toHaveLength(32);
  });
});

// docs/ROSTER.md §6: every value of the worked example is recomputed here, so the doc cannot drift.
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/crypto/bytes.ts';
import { canonicalize, jcs } from '../../src/crypto/jcs.ts';
import { rosterIdOf } from '../../src/crypto/statement.ts';
import { rosterIdHex, rosterSigningPayload, verifyRosterChain } from '../../src/roster/index.ts';
import { workedExample, workedSignatures } from './worked_example.ts';

const md = readFileSync(new URL('../../docs/ROSTER.md', import.meta.url), 'utf8');
const section = md.slice(md.indexOf('## 6. Worked example'));
const grab = (re: RegExp, text = section): string => {
  const m = re.exec(text);
  if (m === null) throw new Error(`not in docs/ROSTER.md: ${re}`);
  return m[1]!;
};

/** Compares the doc's abbreviated JSON (strings with `…` cut in the middle) with the real document. */
function matches(shown: unknown, real: unknown, at = ''): void {
  if (typeof shown === 'string' && shown.includes('…')) {
    const [head, tail] = shown.split('…') as [string, string];
    expect(typeof real, at).toBe('string');
    expect((real as string).startsWith(head) && (real as string).endsWith(tail), at).toBe(true);
    return;
  }
  if (typeof shown !== 'object' || shown === null) {
    expect(real, at).toEqual(shown);
    return;
  }
  expect(Object.keys(real as object).sort(), at).toEqual(Object.keys(shown).sort());
  for (const [k, v] of Object.entries(shown)) matches(v, (real as Record<string, unknown>)[k], `${at}/${k}`);
}

describe('docs/ROSTER.md worked example', () => {
  const doc = workedExample();

  it('the shown document is the example document', () => {
    const json = grab(/The document, with the long X-Wing keys cut \(`…`\):\n\n```json\n([\s\S]*?)\n```/);
    matches(JSON.parse(json), doc);
  });

  it('the JCS bytes, rosterId, payload and signatures are exact', () => {
    const text = grab(/<summary>JCS of the example document<\/summary>\n\n```\n(.*)\n```/);
    expect(text).toBe(canonicalize(doc));
    expect(utf8(text).length).toBe(Number(grab(/exact JCS bytes \((\d+) bytes/)));
    const id = grab(/rosterId \(the `--roster-pin`\) = `([0-9a-f]{64})`/);
    expect(rosterIdHex(doc)).toBe(id);
    expect(createHash('sha256').update(text).digest('hex')).toBe(id);

    const prefix = grab(/is the 23 bytes `([0-9a-f]+)`/, md);
    expect(prefix).toBe(toHex(utf8('data-embassy/v1/roster\u0000')));
    const stmt = jcs({ body: doc, roster: id, signer: 'custodian/alice', type: 'roster' });
    expect(stmt.length).toBe(Number(grab(/and the (\d+)-byte JCS of/)));
    const payload = createHash('sha256')
      .update(Buffer.from(prefix, 'hex'))
      .update(rosterIdOf(doc))
      .update(stmt);
    const shownPayload = grab(/alice's signing payload = `([0-9a-f]{64})`/);
    expect(payload.digest('hex')).toBe(shownPayload);
    expect(toHex(rosterSigningPayload(doc, 'alice'))).toBe(shownPayload);

    const [a, b] = workedSignatures(doc);
    expect(grab(/alice's signature \(deterministic, RFC 6979\) = `([A-Za-z0-9_-]+)`/)).toBe(a!.sig);
    expect(grab(/bob's signature \(deterministic, RFC 6979\) = `([A-Za-z0-9_-]+)`/)).toBe(b!.sig);
    const signed = { roster: JSON.parse(text), signatures: [a, b] };
    const chain = verifyRosterChain(id, [signed], new Date('2026-06-01T00:00:00Z'));
    expect(chain.current.rosterId).toBe(id);
  });
});

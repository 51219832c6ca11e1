// Property tests on random logs: an untouched bundle has no finding; any single change, deletion,
// swap, byte flip or unsigned append is detected, with a finding that names the entry.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { EntryInput } from '../../src/audit/log.ts';
import { verifyBundle } from '../../src/audit/verify.ts';
import { canonicalize, parseCanonical } from '../../src/crypto/jcs.ts';
import { bundleOf, checkpointNote, entryTexts, LOG_KEY } from './bundle_helpers.ts';

const inputArb: fc.Arbitrary<EntryInput> = fc.record({
  kind: fc.constantFrom('approval', 'veto', 'release', 'snapshot-registered', 'ceremony-close'),
  actor: fc.constantFrom('coordinator', 'custodian/a', 'job/backup'),
  data: fc.dictionary(
    fc.constantFrom('ceremony', 'id', 'digest', 'n', 'note'),
    fc.oneof(fc.string({ maxLength: 8 }), fc.integer()),
  ),
});

const logArb = fc.array(inputArb, { minLength: 2, maxLength: 40 }).chain((inputs) =>
  fc.record({
    inputs: fc.constant(inputs),
    // checkpoint sizes, always including the full size (entries past it are a separate case)
    sizes: fc
      .uniqueArray(fc.integer({ min: 1, max: inputs.length }), { maxLength: 4 })
      .map((s) => [...new Set([...s, inputs.length])].sort((a, b) => a - b)),
    at: fc.nat({ max: inputs.length - 1 }),
    pos: fc.nat(),
  }),
);

describe('verifyBundle on random logs', () => {
  it('an untouched bundle has no finding; anchored on any of its checkpoints', async () => {
    await fc.assert(
      fc.asyncProperty(logArb, async ({ inputs, sizes, at }) => {
        const texts = entryTexts(inputs);
        const b = await bundleOf(texts, sizes);
        const r = verifyBundle(b, {
          logKey: LOG_KEY,
          trustedCheckpoint: await checkpointNote(texts, at + 1),
        });
        expect(r.findings).toEqual([]);
        expect(r.anchored).toBe(true);
      }),
      { numRuns: 50 },
    );
  });

  it('any single mutation is detected and the finding names the entry', async () => {
    const mutations = ['change', 'flip', 'delete', 'swap', 'append'] as const;
    await fc.assert(
      fc.asyncProperty(logArb, fc.constantFrom(...mutations), async ({ inputs, sizes, at, pos }, m) => {
        const texts = entryTexts(inputs);
        const b = await bundleOf(texts, sizes);
        let t = texts.slice();
        let named = at;
        if (m === 'change') {
          const v = parseCanonical(t[at]!) as Record<string, unknown>;
          t[at] = canonicalize({ ...v, data: { ...(v.data as object), x: 'tampered' } });
        } else if (m === 'flip') {
          const s = t[at]!;
          const p = pos % s.length;
          t[at] = s.slice(0, p) + String.fromCharCode(s.charCodeAt(p) ^ (1 << (pos % 5))) + s.slice(p + 1);
        } else if (m === 'delete') {
          t.splice(at, 1);
        } else if (m === 'swap') {
          const j = at === t.length - 1 ? at - 1 : at;
          [t[j], t[j + 1]] = [t[j + 1]!, t[j]!];
          named = j;
        } else {
          t = entryTexts([...inputs, { kind: 'release', actor: 'custodian/a', data: { forged: 1 } }]);
          named = texts.length;
        }
        const r = verifyBundle({ ...b, entries: t, treeSize: t.length }, { logKey: LOG_KEY });
        expect(r.findings.length).toBeGreaterThan(0);
        expect(r.findings.map((f) => f.seq)).toContain(named);
      }),
      { numRuns: 300 },
    );
  });
});

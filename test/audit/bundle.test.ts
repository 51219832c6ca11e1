// Offline verification of audit bundles: the issue-5 detection list, each finding naming the entry.
import { describe, expect, it } from 'vitest';
import type { Bundle } from '../../src/audit/bundle.ts';
import { type EntryCheck, type Finding, verifyBundle } from '../../src/audit/verify.ts';
import { canonicalize, parseCanonical } from '../../src/crypto/jcs.ts';
import { formatVerifierKey, softwareEd25519Signer } from '../../src/log/note.ts';
import {
  bundleOf,
  checkpointNote,
  entryTexts,
  LOG_KEY,
  ORIGIN,
  resolveKey,
  storyInputs,
} from './bundle_helpers.ts';

const codes = (fs: readonly Finding[]) => fs.map((f) => f.code);
const has = (fs: readonly Finding[], code: string, seq?: number) =>
  fs.some((f) => f.code === code && (seq === undefined || f.seq === seq));

/** Rewrites entry `i`'s data (still canonical JSON, same seq and prev). */
function tamper(texts: string[], i: number): string[] {
  const out = texts.slice();
  const v = parseCanonical(out[i]!) as Record<string, unknown>;
  out[i] = canonicalize({ ...v, data: { ...(v.data as object), tampered: true } });
  return out;
}

describe('verifyBundle', async () => {
  const texts = entryTexts(await storyInputs(13)); // 20 entries
  const N = texts.length;
  const good = await bundleOf(texts, [5, 10, N]);
  const trusted10 = await checkpointNote(texts, 10);

  it('a clean bundle has no findings, verifies statements, and is anchored by a trusted checkpoint', () => {
    const r = verifyBundle(good, { logKey: LOG_KEY, trustedCheckpoint: trusted10, resolveKey });
    expect(r.findings).toEqual([]);
    expect(r).toMatchObject({
      anchored: true,
      entries: N,
      checkpoints: 3,
      latestCheckpoint: N,
      statementsVerified: 3,
    });
    const c = r.ceremonies.find((x) => x.id === 'c-1')!;
    expect(c).toMatchObject({
      approvedBy: ['custodian/a', 'custodian/b'],
      releasedBy: ['custodian/a', 'custodian/b'],
      closed: true,
      closeReason: 'done',
    });
  });

  it('without a trusted checkpoint it reports "unanchored", not a finding', () => {
    const r = verifyBundle(good, { logKey: LOG_KEY });
    expect(r.findings).toEqual([]);
    expect(r.anchored).toBe(false);
    expect(r.notes.join('\n')).toMatch(/^unanchored/);
    expect(r.notes.join('\n')).toMatch(/3 embedded statements not verified/);
  });

  it("an entry's byte changed (still canonical) is named", async () => {
    const r = verifyBundle({ ...good, entries: tamper(texts, 7) }, { logKey: LOG_KEY });
    expect(has(r.findings, 'ENTRY_ALTERED', 7)).toBe(true);
    expect(has(r.findings, 'checkpoint_root_mismatch')).toBe(true);
    // the last entry has no successor: the checkpoint names it
    const last = verifyBundle({ ...good, entries: tamper(texts, N - 1) }, { logKey: LOG_KEY });
    expect(has(last.findings, 'checkpoint_root_mismatch', N - 1)).toBe(true);
  });

  it('a raw byte flip anywhere in any entry is detected and names the entry', () => {
    for (const i of [0, 3, 9, N - 1]) {
      const t = texts.slice();
      const s = t[i]!;
      for (const pos of [0, Math.floor(s.length / 2), s.length - 1]) {
        const flipped = s.slice(0, pos) + String.fromCharCode(s.charCodeAt(pos) ^ 1) + s.slice(pos + 1);
        t[i] = flipped;
        const r = verifyBundle({ ...good, entries: t }, { logKey: LOG_KEY });
        expect(r.findings.length).toBeGreaterThan(0);
        expect(r.findings.some((f) => f.seq === i)).toBe(true);
      }
    }
  });

  it('an entry deleted is named', () => {
    const t = texts.filter((_, i) => i !== 6);
    const r = verifyBundle({ ...good, entries: t, treeSize: t.length }, { logKey: LOG_KEY });
    expect(has(r.findings, 'ENTRY_MISSING', 6)).toBe(true);
    expect(has(r.findings, 'ENTRY_ALTERED')).toBe(false);
    // the last entry deleted: the checkpoint covering it names it
    const t2 = texts.slice(0, -1);
    const r2 = verifyBundle({ ...good, entries: t2, treeSize: t2.length }, { logKey: LOG_KEY });
    expect(has(r2.findings, 'checkpoint_beyond_entries', N - 1)).toBe(true);
  });

  it('two entries swapped are named', () => {
    const t = texts.slice();
    [t[4], t[5]] = [t[5]!, t[4]!];
    const r = verifyBundle({ ...good, entries: t }, { logKey: LOG_KEY });
    expect(has(r.findings, 'ENTRY_OUT_OF_ORDER', 4)).toBe(true);
    expect(has(r.findings, 'checkpoint_root_mismatch')).toBe(true);
  });

  it('an entry appended after the checkpoint without a new checkpoint is named', async () => {
    const t = entryTexts(await storyInputs(14)); // same story, one more entry
    expect(t.slice(0, N)).toEqual(texts);
    const r = verifyBundle({ ...good, entries: t, treeSize: t.length }, { logKey: LOG_KEY });
    expect(codes(r.findings)).toEqual(['ENTRY_NOT_CHECKPOINTED']);
    expect(r.findings[0]!.seq).toBe(N);
  });

  it('a fork (two checkpoints of one size, different roots) is detected', async () => {
    const other = tamper(texts, 2);
    const forked: Bundle = { ...good, checkpoints: [...good.checkpoints, await checkpointNote(other, 10)] };
    const r = verifyBundle(forked, { logKey: LOG_KEY });
    expect(has(r.findings, 'checkpoint_fork', 9)).toBe(true);
    // and a trusted checkpoint from the other branch: the bundle is a fork of what the auditor saw
    const r2 = verifyBundle(good, { logKey: LOG_KEY, trustedCheckpoint: await checkpointNote(other, 12) });
    expect(has(r2.findings, 'FORK', 11)).toBe(true);
    expect(r2.anchored).toBe(false);
  });

  it('a rollback to an older state than the trusted checkpoint is detected', async () => {
    const old = await bundleOf(texts.slice(0, 10), [5, 10]);
    const r = verifyBundle(old, { logKey: LOG_KEY, trustedCheckpoint: await checkpointNote(texts, N) });
    expect(has(r.findings, 'ROLLBACK', 10)).toBe(true);
    expect(r.anchored).toBe(false);
    // entries present but the bundle's signatures stop before the trusted size: still a rollback
    const cut = await bundleOf(texts, [5]);
    const r2 = verifyBundle(cut, { logKey: LOG_KEY, trustedCheckpoint: trusted10 });
    expect(has(r2.findings, 'ROLLBACK')).toBe(true);
  });

  it('trusts only the log key the auditor brings, never keys from the bundle', async () => {
    // (a key whose base64 has no '+': note.ts's parseVerifierKey splits the whole text on '+')
    let mallory = softwareEd25519Signer(ORIGIN);
    while (formatVerifierKey(ORIGIN, mallory.publicKey).split('+').length !== 3)
      mallory = softwareEd25519Signer(ORIGIN);
    const forged = { ...good, checkpoints: [await checkpointNote(tamper(texts, 1), N, mallory)] };
    const r = verifyBundle({ ...forged, entries: tamper(texts, 1) }, { logKey: LOG_KEY });
    expect(has(r.findings, 'checkpoint_bad_signature')).toBe(true);
    expect(has(r.findings, 'ENTRY_NOT_CHECKPOINTED', 0)).toBe(true);
    // the same bundle verifies only under mallory's key, which an auditor would never be given
    const r2 = verifyBundle(forged, { logKey: formatVerifierKey(ORIGIN, mallory.publicKey) });
    expect(has(r2.findings, 'checkpoint_root_mismatch')).toBe(true);
  });

  it('checks actor signatures with the given resolver', () => {
    const t = texts.slice();
    const v = parseCanonical(t[2]!) as { statement: { sig: string } };
    const sig = v.statement.sig;
    const bad = `${sig.slice(0, 10)}${sig[10] === 'A' ? 'B' : 'A'}${sig.slice(11)}`;
    t[2] = canonicalize({ ...(v as object), statement: { ...v.statement, sig: bad } });
    const r = verifyBundle({ ...good, entries: t }, { logKey: LOG_KEY, resolveKey });
    expect(has(r.findings, 'statement_bad_signature', 2)).toBe(true);
    const r2 = verifyBundle(good, {
      logKey: LOG_KEY,
      resolveKey: (q) => (q.signer === 'custodian/b' ? null : resolveKey(q)),
    });
    expect(codes(r2.findings)).toEqual(['statement_unknown_signer']);
    expect(r2.findings[0]!.seq).toBe(3);
  });

  it('runs pluggable checks per kind, merges their ceremonies and findings', () => {
    const seen: number[] = [];
    const check: EntryCheck = {
      name: 'threshold-3',
      kinds: ['approval', 'release'],
      begin: (ctx) => expect(ctx.origin).toBe(ORIGIN),
      entry: (e, seq, report) => {
        seen.push(seq);
        if (e.kind === 'release' && seen.filter((s) => s < seq).length < 3)
          report({ code: 'RELEASE_BEFORE_QUORUM', seq, message: `entry ${seq}: release before quorum` });
      },
      ceremonies: () => [{ id: 'c-1', policy: 'violated' }],
    };
    const r = verifyBundle(good, { logKey: LOG_KEY, checks: [check] });
    expect(seen).toEqual([2, 3, 4, 5]);
    expect(r.findings).toEqual([
      { code: 'RELEASE_BEFORE_QUORUM', seq: 4, message: 'entry 4: release before quorum' },
    ]);
    expect(r.ceremonies.find((c) => c.id === 'c-1')).toMatchObject({ policy: 'violated', closed: true });
  });

  it('flags secret-looking fields, wrong origins and malformed bundles; refuses bad anchors', async () => {
    const t = texts.slice();
    const v = parseCanonical(t[8]!) as Record<string, unknown>;
    t[8] = canonicalize({ ...v, data: { dek: 'x' } });
    expect(
      has(verifyBundle({ ...good, entries: t }, { logKey: LOG_KEY }).findings, 'ENTRY_SECRET_FIELD', 8),
    ).toBe(true);
    const w = texts.slice();
    w[3] = canonicalize({ ...(parseCanonical(w[3]!) as object), origin: 'elsewhere/log' });
    expect(
      has(verifyBundle({ ...good, entries: w }, { logKey: LOG_KEY }).findings, 'ENTRY_WRONG_ORIGIN', 3),
    ).toBe(true);
    for (const b of [null, [], { format: 'x' }, { ...good, entries: [1] }, { ...good, treeSize: 3 }])
      expect(codes(verifyBundle(b, { logKey: LOG_KEY }).findings)).toEqual(['bundle_malformed']);
    expect(() => verifyBundle(good, { logKey: 'nonsense' })).toThrow(
      expect.objectContaining({ code: 'bundle_bad_log_key' }),
    );
    const foreign = await checkpointNote(texts, 10, softwareEd25519Signer(ORIGIN));
    expect(() => verifyBundle(good, { logKey: LOG_KEY, trustedCheckpoint: foreign })).toThrow(
      expect.objectContaining({ code: 'bundle_bad_trusted_checkpoint' }),
    );
  });

  it('caps repeated findings and summarises the rest', () => {
    const r = verifyBundle({ ...good, checkpoints: [] }, { logKey: LOG_KEY, maxFindingsPerCode: 5 });
    expect(r.findings.filter((f) => f.code === 'ENTRY_NOT_CHECKPOINTED')).toHaveLength(6);
    expect(r.findings.at(-1)!.message).toMatch(/^15 more ENTRY_NOT_CHECKPOINTED/);
  });
});

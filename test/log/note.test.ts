// C2SP signed-note: the spec's example, golang.org/x/mod's example keys, Wycheproof Ed25519 against the
// verifier we use, the verifier rules, and fuzzing the parser (only NoteError may escape).
import { readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { fromHex, utf8 } from '../../src/crypto/bytes.ts';
import {
  ed25519Signer,
  ed25519Verifier,
  ed25519Verify,
  formatNote,
  formatVerifierKey,
  keyId,
  MAX_SIGNATURES,
  NoteError,
  openNote,
  parseNote,
  parseVerifierKey,
  signNote,
  softwareEd25519Signer,
} from '../../src/log/note.ts';

// Example section of c2sp.org/signed-note. The copy of signed-note.md in the search index (C2SP/C2SP
// @ 0552876) predates that section; these bytes are as quoted, identically, by several independent
// implementations citing C2SP/C2SP @ d4c16da. They are self-authenticating: the key ID must match the
// key, and the signature must verify under it.
const SPEC_VKEY = 'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k';
const SPEC_NOTE =
  'This is an example message.\n\n\u2014 example.com/foo Uw2QOkn8srV1yJGh2VYRlL1Tnagv1YEq6TfXppzi2ONncAlTgK7Ztg1ERYNZXsYjOBH3mFXmRKuwHjG1Yu72IneyaQM=\n';

// golang.org/x/mod/sumdb/note note_test.go (as quoted by third parties; self-authenticating likewise).
const GO_TEXT =
  "If you think cryptography is the answer to your problem,\nthen you don't know what your problem is.\n";
const PETER = 'PeterNeumann+c74f20a3+ARpc2QcUPDhMQegwxbzhKqiBfsVkmqq/LDE4izWy10TW';
const ENOCH = 'EnochRoot+af0cfe78+ATtqJ7zOtqQtYqOo0CpvDXNlMhV3HeJDpjrASKGLWdop';
const GO_NOTE = `${GO_TEXT}\n\u2014 PeterNeumann x08go/ZJkuBS9UG/SffcvIAQxVBtiFupLLr8pAcElZInNIuGUgYN1FFYC2pZSNXgKvqfqdngotpRZb6KE6RyyBwJnAM=\n\u2014 EnochRoot rwz+eBzmZa0SO3NbfRGzPCpDckykFXSdeX+MNtCOXm2/5n2tiOHp+vAF1aGrQ5ovTG01oOTGwnWLox33WWd1RvMc+QQ=\n`;

const errCode = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof NoteError) return e.code;
    throw e;
  }
  return 'ok';
};

describe('good_ published examples', () => {
  it('the signed-note spec example verifies', () => {
    const v = parseVerifierKey(SPEC_VKEY);
    expect(v.name).toBe('example.com/foo');
    expect(v.keyId).toBe(0x530d903a);
    expect(formatVerifierKey(v.name, v.publicKey)).toBe(SPEC_VKEY);
    const opened = openNote(SPEC_NOTE, [v]);
    expect(opened.text).toBe('This is an example message.\n');
    expect(opened.verified).toEqual([v]);
    expect(formatNote(parseNote(SPEC_NOTE))).toBe(SPEC_NOTE);
  });
  it('the golang.org/x/mod example verifies under both keys, and under either alone', () => {
    const peter = parseVerifierKey(PETER);
    const enoch = parseVerifierKey(ENOCH);
    expect(openNote(GO_NOTE, [peter, enoch]).verified).toEqual([peter, enoch]);
    const onlyPeter = openNote(GO_NOTE, [peter]);
    expect(onlyPeter.verified).toEqual([peter]);
    expect(onlyPeter.unknown.map((s) => s.name)).toEqual(['EnochRoot']);
    expect(openNote(GO_NOTE, [enoch]).text).toBe(GO_TEXT);
  });
});

describe('Wycheproof ed25519_test.json against ed25519Verify (node:crypto)', () => {
  const file = JSON.parse(
    readFileSync(new URL('../vectors/wycheproof/ed25519_test.json', import.meta.url), 'utf8'),
  );
  let n = 0;
  for (const g of file.testGroups) {
    for (const t of g.tests) {
      n++;
      it(`tc ${t.tcId} (${t.result}) ${t.comment}`, () => {
        const ok = ed25519Verify(fromHex(g.publicKey.pk), fromHex(t.msg), fromHex(t.sig));
        expect(ok).toBe(t.result === 'valid');
      });
    }
  }
  it('has all 151 cases', () => expect(n).toBe(151));
});

describe('verifier rules', () => {
  const alice = softwareEd25519Signer('alice.example/log', new Uint8Array(32).fill(1));
  const bob = softwareEd25519Signer('bob.example/witness', new Uint8Array(32).fill(2));
  const va = ed25519Verifier(alice.name, alice.publicKey);
  const vb = ed25519Verifier(bob.name, bob.publicKey);

  it('good_ signs and opens with one and two keys', async () => {
    const note = await signNote('hello\n\nworld\n', [alice, bob]);
    expect(openNote(note, [va]).text).toBe('hello\n\nworld\n');
    expect(openNote(note, [va, vb]).verified).toEqual([va, vb]);
  });
  it('good_ ignores unknown keys, including same name with another ID and same ID with another name', async () => {
    const note = await signNote('x\n', [alice]);
    const sameName = ed25519Verifier(alice.name, bob.publicKey);
    const sameId = { ...va, name: 'other.example/log' };
    expect(errCode(() => openNote(note, [sameName]))).toBe('note_unverified');
    expect(errCode(() => openNote(note, [sameId]))).toBe('note_unverified');
    const forged = { ...va, keyId: va.keyId, verify: () => false };
    expect(errCode(() => openNote(note, [forged]))).toBe('note_bad_signature');
  });
  it('fail_ a failing known key rejects the note even when another verifies', async () => {
    const note = await signNote('x\n', [alice, bob]);
    const parsed = parseNote(note);
    const sig = parsed.signatures[1]!.signature.slice();
    sig[0]! ^= 1;
    const bad = formatNote({
      text: parsed.text,
      signatures: [parsed.signatures[0]!, { ...parsed.signatures[1]!, signature: sig }],
    });
    expect(openNote(bad, [va]).verified).toEqual([va]);
    expect(errCode(() => openNote(bad, [va, vb]))).toBe('note_bad_signature');
  });
  it('fail_ text changed after signing', async () => {
    const note = await signNote('x\n', [alice]);
    expect(errCode(() => openNote(note.replace('x', 'y'), [va]))).toBe('note_bad_signature');
  });
  it('fail_ ambiguous verifier list', () => {
    expect(errCode(() => openNote(SPEC_NOTE, [va, { ...va }]))).toBe('note_ambiguous_key');
  });
  it('accepts 16 signatures and refuses more than MAX_SIGNATURES', async () => {
    const many = Array.from({ length: 16 }, (_, i) => softwareEd25519Signer(`k${i}.example`));
    const note = await signNote('t\n', many);
    expect(openNote(note, [ed25519Verifier(many[15]!.name, many[15]!.publicKey)]).text).toBe('t\n');
    const sig = parseNote(note).signatures[0]!;
    const tooMany = formatNote({ text: 't\n', signatures: Array(MAX_SIGNATURES + 1).fill(sig) });
    expect(errCode(() => parseNote(tooMany))).toBe('note_too_many_signatures');
  });
  it('an HSM-style signer (ed25519Signer over a sign function) is checked before use', async () => {
    const hsm = ed25519Signer(alice.name, alice.publicKey, (m) => alice.sign(m));
    expect(hsm.keyId).toBe(keyId(alice.name, 1, alice.publicKey));
    expect(openNote(await signNote('a\n', [hsm]), [va]).text).toBe('a\n');
    const wrongHandle = ed25519Signer(alice.name, alice.publicKey, (m) => bob.sign(m));
    await expect(signNote('a\n', [wrongHandle])).rejects.toMatchObject({ code: 'note_signer_mismatch' });
    await expect(signNote('a\n', [{ ...alice, keyId: 1 }])).rejects.toMatchObject({
      code: 'note_signer_mismatch',
    });
  });
  it('fail_ bad texts and names when signing', async () => {
    await expect(signNote('no newline', [alice])).rejects.toMatchObject({ code: 'note_bad_text' });
    await expect(signNote('tab\there\n', [alice])).rejects.toMatchObject({ code: 'note_bad_text' });
    await expect(signNote('', [alice])).rejects.toMatchObject({ code: 'note_bad_text' });
    expect(errCode(() => softwareEd25519Signer('has space'))).toBe('note_bad_key_name');
    expect(errCode(() => softwareEd25519Signer('a+b'))).toBe('note_bad_key_name');
    expect(errCode(() => softwareEd25519Signer(''))).toBe('note_bad_key_name');
  });
});

describe('fail_ malformed notes and verifier keys', () => {
  const cases: [string, string][] = [
    ['no blank line', 'text\n\u2014 example.com/foo AAAAAAA=\n'],
    ['no signatures', 'text\n\n'],
    ['no final newline', SPEC_NOTE.slice(0, -1)],
    ['ascii dashes', SPEC_NOTE.replace('\u2014', '--')],
    ['carriage return', SPEC_NOTE.replace('message.', 'message.\r')],
    ['bad base64', SPEC_NOTE.replace('aQM=', 'aQM')],
    ['non-canonical base64', SPEC_NOTE.replace('aQM=', 'aQN=')],
    ['short signature', 'text\n\n\u2014 a AAAA\n'],
    ['empty name', 'text\n\n\u2014  AAAAAAA=\n'],
    ['two spaces', SPEC_NOTE.replace('foo U', 'foo  U')],
  ];
  for (const [what, note] of cases)
    it(what, () => expect(errCode(() => parseNote(note))).toBe('note_malformed'));
  it('invalid UTF-8', () =>
    expect(errCode(() => parseNote(Uint8Array.of(0x61, 0x0a, 0x0a, 0xff)))).toBe('note_malformed'));
  const vkeys = [
    'example.com/foo+530d903b+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k',
    'example.com/foo+530d903a+AukyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k',
    'example.com/foo+530D903A+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k',
    'example.com/foo+530d903a',
    'example.com/foo+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k+x',
    'example.com/bar+530d903a+AekyeRrm56hApGFkyQR4ZCbV54Id2LKaANYcrnKv3U2k',
  ];
  for (const v of vkeys)
    it(`vkey ${v}`, () => expect(errCode(() => parseVerifierKey(v))).toBe('note_bad_verifier_key'));
});

describe('properties: parsers throw only NoteError', () => {
  const mutate = fc
    .tuple(
      fc.nat(),
      fc.nat(),
      fc.string({ unit: 'binary', maxLength: 4 }),
      fc.constantFrom(SPEC_NOTE, GO_NOTE),
    )
    .map(([at, del, ins, base]) => {
      const i = at % (base.length + 1);
      return base.slice(0, i) + ins + base.slice(i + (del % 4));
    });
  const v = parseVerifierKey(SPEC_VKEY);
  const peter = parseVerifierKey(PETER);
  it('random and mutated notes', () => {
    fc.assert(
      fc.property(fc.oneof(fc.string({ unit: 'binary' }), mutate), (s) => {
        for (const input of [s, utf8(s)]) {
          try {
            const opened = openNote(input, [v, peter]);
            expect(opened.verified.length).toBeGreaterThan(0);
          } catch (e) {
            expect(e).toBeInstanceOf(NoteError);
          }
        }
      }),
      { numRuns: 1000 },
    );
  });
  it('random bytes', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 200 }), (b) => {
        try {
          parseNote(b);
        } catch (e) {
          expect(e).toBeInstanceOf(NoteError);
        }
      }),
      { numRuns: 500 },
    );
  });
  it('random verifier keys', () => {
    const mutated = fc
      .tuple(fc.nat(), fc.string({ maxLength: 3 }))
      .map(
        ([i, s]) =>
          SPEC_VKEY.slice(0, i % SPEC_VKEY.length) + s + SPEC_VKEY.slice((i % SPEC_VKEY.length) + 1),
      );
    fc.assert(
      fc.property(fc.oneof(fc.string(), mutated), (s) => {
        try {
          parseVerifierKey(s);
        } catch (e) {
          expect(e).toBeInstanceOf(NoteError);
        }
      }),
      { numRuns: 1000 },
    );
  });
});

describe('parseVerifierKey with "+" in the base64 key data', () => {
  it('parses every vkey formatVerifierKey produces, including those whose base64 holds "+"', async () => {
    const { formatVerifierKey, parseVerifierKey } = await import('../../src/log/note.ts');
    const { generateKeyPairSync } = await import('node:crypto');
    let withPlus = 0;
    for (let i = 0; i < 40; i++) {
      const k = generateKeyPairSync('ed25519').publicKey.export({ format: 'der', type: 'spki' }).subarray(12);
      const vkey = formatVerifierKey('log.example', new Uint8Array(k));
      if (vkey.split('+').length > 3) withPlus++;
      expect(parseVerifierKey(vkey).publicKey).toEqual(new Uint8Array(k));
    }
    expect(withPlus).toBeGreaterThan(0);
  });
});

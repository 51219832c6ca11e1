// RFC 8785 canonicaliser: the cyberphone/json-canonicalization vectors byte for byte, the guarded
// gaps of JSON.stringify, the strict canonical reader, and fast-check round trips.
import { readdirSync, readFileSync } from 'node:fs';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { toHex, utf8 } from '../../src/crypto/bytes.ts';
import { canonicalize, JcsError, jcs, parseCanonical } from '../../src/crypto/jcs.ts';

const dir = new URL('../vectors/jcs/', import.meta.url);

describe('JCS vectors (cyberphone/json-canonicalization testdata)', () => {
  const names = readdirSync(new URL('input/', dir));
  it('has the 6 vendored cases', () => expect(names.length).toBe(6));
  for (const name of names) {
    it(name, () => {
      const input = JSON.parse(readFileSync(new URL(`input/${name}`, dir), 'utf8'));
      const output = new Uint8Array(readFileSync(new URL(`output/${name}`, dir)));
      const outhex = readFileSync(new URL(`outhex/${name.replace('.json', '.txt')}`, dir), 'utf8').replace(
        /\s/g,
        '',
      );
      expect(toHex(jcs(input))).toBe(toHex(output));
      expect(toHex(jcs(input))).toBe(outhex.toLowerCase());
      expect(parseCanonical(output)).toEqual(input);
    });
  }
});

const code = (f: () => unknown): string => {
  try {
    f();
  } catch (e) {
    if (e instanceof JcsError) return e.code;
    throw e;
  }
  return 'no error';
};

describe('fail_ guarded gaps', () => {
  it('rejects non-finite numbers and bigint', () => {
    expect(code(() => jcs({ a: Number.NaN }))).toBe('jcs_non_finite_number');
    expect(code(() => jcs([Number.POSITIVE_INFINITY]))).toBe('jcs_non_finite_number');
    expect(code(() => jcs(-Infinity))).toBe('jcs_non_finite_number');
    expect(code(() => jcs(1n))).toBe('jcs_unsupported_type');
  });
  it('rejects lone surrogates in values and keys', () => {
    expect(code(() => jcs('\ud800'))).toBe('jcs_lone_surrogate');
    expect(code(() => jcs({ x: 'a\udc00b' }))).toBe('jcs_lone_surrogate');
    expect(code(() => jcs({ '\udbff': 1 }))).toBe('jcs_lone_surrogate');
    expect(canonicalize('\ud83d\ude02')).toBe('"\ud83d\ude02"');
  });
  it('rejects undefined, functions and symbols anywhere', () => {
    expect(code(() => jcs(undefined))).toBe('jcs_unsupported_type');
    expect(code(() => jcs({ a: undefined }))).toBe('jcs_unsupported_type');
    expect(code(() => jcs([undefined]))).toBe('jcs_unsupported_type');
    expect(code(() => jcs({ f: () => 1 }))).toBe('jcs_unsupported_type');
    expect(code(() => jcs(Symbol('s')))).toBe('jcs_unsupported_type');
    expect(code(() => jcs({ [Symbol('s')]: 1 }))).toBe('jcs_unsupported_type');
  });
  it('rejects toJSON and non-plain objects', () => {
    expect(code(() => jcs({ toJSON: () => 1 }))).toBe('jcs_to_json');
    expect(code(() => jcs(new Date(0)))).toBe('jcs_to_json');
    expect(code(() => jcs(new Map()))).toBe('jcs_non_plain_object');
    expect(code(() => jcs(new Uint8Array(2)))).toBe('jcs_non_plain_object');
    expect(code(() => jcs(new (class A {})()))).toBe('jcs_non_plain_object');
    expect(code(() => jcs(Object(1)))).toBe('jcs_non_plain_object');
    expect(code(() => jcs(new (class L extends Array {})()))).toBe('jcs_non_plain_object');
    expect(canonicalize(Object.assign(Object.create(null), { b: 1, a: 2 }))).toBe('{"a":2,"b":1}');
  });
  it('rejects holes, cycles and excessive depth', () => {
    // biome-ignore lint/suspicious/noSparseArray: the hole is the point
    expect(code(() => jcs([1, , 2]))).toBe('jcs_sparse_array');
    const o: Record<string, unknown> = {};
    o.self = o;
    expect(code(() => jcs(o))).toBe('jcs_cycle');
    let deep: unknown = 1;
    for (let i = 0; i < 300; i++) deep = [deep];
    expect(code(() => jcs(deep))).toBe('jcs_too_deep');
  });
  it('names the path of the offending value', () => {
    expect(() => jcs({ a: [0, { 'b/c': Number.NaN }] })).toThrow('at /a/1/b~1c');
  });
  it('-0 becomes 0; repeated shared (non-cyclic) references are fine', () => {
    expect(canonicalize({ z: -0 })).toBe('{"z":0}');
    const shared = { x: 1 };
    expect(canonicalize([shared, shared])).toBe('[{"x":1},{"x":1}]');
  });
  it('sorts by UTF-16 code units, not code points', () => {
    expect(canonicalize({ '\ufb33': 1, '\ud83d\ude02': 2 })).toBe('{"\ud83d\ude02":2,"\ufb33":1}');
  });
});

describe('fail_ parseCanonical', () => {
  const bad: [string, string | Uint8Array][] = [
    ['whitespace', '{ "a":1}'],
    ['unsorted', '{"b":1,"a":2}'],
    ['duplicate key', '{"a":1,"a":1}'],
    ['non-canonical number', '[1.0]'],
    ['needless escape', '["\\u0041"]'],
    ['escaped lone surrogate', '["\\ud800"]'],
    ['trailing newline', '{"a":1}\n'],
  ];
  for (const [what, input] of bad) {
    it(what, () => expect(code(() => parseCanonical(input))).toBe('jcs_not_canonical'));
  }
  it('not JSON / not UTF-8', () => {
    expect(code(() => parseCanonical('{'))).toBe('jcs_invalid_json');
    expect(code(() => parseCanonical('\ufeff{}'))).toBe('jcs_invalid_json');
    expect(code(() => parseCanonical(Uint8Array.of(0x22, 0xff, 0x22)))).toBe('jcs_invalid_json');
  });
  it('good_ canonical input parses', () => {
    expect(parseCanonical(utf8('{"a":[1,"€",null]}'))).toEqual({ a: [1, '€', null] });
  });
});

describe('properties', () => {
  const json = fc.jsonValue({ maxDepth: 6 });
  it('parse(jcs(x)) deep-equals x (with -0 read back as 0)', () => {
    fc.assert(
      fc.property(json, (x) => {
        const back = JSON.parse(new TextDecoder().decode(jcs(x)));
        expect(back).toEqual(JSON.parse(JSON.stringify(x)));
        expect(parseCanonical(jcs(x))).toEqual(back);
      }),
      { numRuns: 500 },
    );
  });
  it('jcs is idempotent and ignores member order', () => {
    fc.assert(
      fc.property(json, (x) => {
        const once = canonicalize(x);
        expect(canonicalize(JSON.parse(once))).toBe(once);
        const shuffled = JSON.parse(JSON.stringify(x), (_k, v) =>
          v && typeof v === 'object' && !Array.isArray(v)
            ? Object.fromEntries(Object.entries(v).reverse())
            : v,
        );
        expect(canonicalize(shuffled)).toBe(once);
      }),
      { numRuns: 500 },
    );
  });
  it('emits members in sorted order even where JS enumerates integer-like keys first', () => {
    // Sorting keys and calling JSON.stringify (the notes' shortcut) gets this wrong: JavaScript
    // objects always enumerate array-index keys ("0", "10") before other keys, whatever the insertion.
    const x = { '': 0, '!': 1, '0': false, '10': 2, a: 3 };
    expect(JSON.stringify(x)).toBe('{"0":false,"10":2,"":0,"!":1,"a":3}');
    expect(canonicalize(x)).toBe('{"":0,"!":1,"0":false,"10":2,"a":3}');
    fc.assert(
      fc.property(fc.dictionary(fc.string(), fc.nat()), (d) => {
        const keys = Object.keys(JSON.parse(canonicalize(d)) as object).sort();
        const out = canonicalize(d);
        expect(out).toBe(`{${keys.map((k) => `${JSON.stringify(k)}:${d[k]}`).join(',')}}`);
      }),
    );
  });
  it('random strings: only JcsError, and exactly for non-canonical text', () => {
    fc.assert(
      fc.property(
        fc.oneof(
          fc.string({ unit: 'binary' }),
          json.map((j) => JSON.stringify(j, null, 1)),
        ),
        (s) => {
          try {
            const v = parseCanonical(s);
            expect(canonicalize(v)).toBe(s);
          } catch (e) {
            expect(e).toBeInstanceOf(JcsError);
          }
        },
      ),
      { numRuns: 500 },
    );
  });
});

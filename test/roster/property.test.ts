// fast-check properties: random valid rosters round-trip through JCS and the schema and verify when
// signed by their root; random mutations of a signed roster never verify and throw only RosterError.
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { canonicalize, jcs, parseCanonical } from '../../src/crypto/jcs.ts';
import {
  buildGenesis,
  type Custodian,
  type Domain,
  epochEntry,
  nextVersion,
  parseRosterDoc,
  type RosterDoc,
  RosterError,
  rosterIdHex,
  type SignedRoster,
  verifyPinnedRoster,
  verifyRosterChain,
  verifyRosterUpdate,
} from '../../src/roster/index.ts';
import {
  b64,
  custodian,
  ed25519Public,
  genesis,
  landDomain,
  NOW,
  p256Pair,
  signed,
  xwingPublic,
} from './fixtures.ts';

const IDS = ['alice', 'bob', 'carol', 'dave', 'erin', 'frank'];
const POOL: Custodian[] = IDS.map((id) => custodian(id, 'org'));
const QUORUM = [0, 1, 2, 3, 4, 5].map((i) => xwingPublic(`pool:${i}`));
const DOMAIN_NAMES = ['land', 'census', 'tax'];
const TEXT_CHARS = [...'abcxyzAZ09 -_.,()ÄéõšžЖ日本'];

const text = fc.string({ unit: fc.constantFrom(...TEXT_CHARS), minLength: 1, maxLength: 24 });
const subset = <T>(xs: readonly T[], min = 1) => fc.subarray([...xs], { minLength: min });

const timePair = fc
  .tuple(fc.integer({ min: 0, max: 2_000_000_000 }), fc.integer({ min: 1, max: 1_000_000_000 }))
  .map(([a, d]) => [
    new Date(a * 1000).toISOString().replace('.000Z', 'Z'),
    new Date((a + d) * 1000).toISOString().replace('.000Z', 'Z'),
  ]);

const signingKey = (label: string) =>
  fc
    .boolean()
    .map((ed) =>
      ed
        ? { alg: 'ed25519' as const, publicKey: b64(ed25519Public(label)) }
        : { alg: 'ecdsa-p256' as const, publicKey: b64(p256Pair(label).publicKey) },
    );

let quorumNext = 0;
const nextQuorum = () => QUORUM[quorumNext++ % QUORUM.length]!;

/** A random valid roster document (genesis). */
const rosterArb = fc
  .record({
    custodians: subset(IDS),
    orgs: fc.array(fc.constantFrom('ria', 'mkm', 'rik'), { minLength: 6, maxLength: 6 }),
    times: timePair,
    rootSeed: fc.tuple(fc.integer({ min: 0, max: 63 }), fc.integer({ min: 1, max: 6 })),
    stations: fc.array(fc.tuple(text, text, signingKey('s0')), { maxLength: 1 }),
    auditors: fc.array(fc.tuple(text, signingKey('a0')), { maxLength: 1 }),
    domains: subset(DOMAIN_NAMES, 0),
    domainSeeds: fc.array(
      fc.record({
        members: fc.integer({ min: 1, max: 63 }),
        threshold: fc.integer({ min: 1, max: 6 }),
        minOrg: fc.integer({ min: 1, max: 3 }),
        epochs: fc.array(
          fc.record({ gap: fc.integer({ min: 1, max: 1000 }), retired: fc.option(fc.boolean()) }),
          {
            maxLength: 2,
          },
        ),
        xs: fc.uniqueArray(fc.integer({ min: 1, max: 255 }), { minLength: 6, maxLength: 6 }),
        policy: fc.record({
          coolOffSeconds: fc.integer({ min: 0, max: 86400 }),
          maxDeadlineSeconds: fc.integer({ min: 1, max: 86400 }),
          veto: fc.constantFrom('any' as const, 'none' as const),
          maxEpochAgeDays: fc.integer({ min: 1, max: 3650 }),
        }),
        homeStanza: fc.boolean(),
      }),
      { minLength: 3, maxLength: 3 },
    ),
    legalBases: fc.uniqueArray(fc.tuple(fc.constantFrom('EE-1', 'EE-2', 'x.y:z/1'), text), {
      maxLength: 3,
      selector: ([c]) => c,
    }),
    withJob: fc.boolean(),
  })
  .map((r): RosterDoc => {
    const custodians = r.custodians.map((id) => ({
      ...POOL[IDS.indexOf(id)]!,
      organisation: r.orgs[IDS.indexOf(id)]!,
    }));
    const orgOf = new Map(custodians.map((c) => [c.id, c.organisation]));
    const pick = (mask: number) => {
      const s = r.custodians.filter((_, i) => (mask >> i) & 1);
      return s.length > 0 ? s : [r.custodians[0]!];
    };
    const rootMembers = pick(r.rootSeed[0]);
    const domains: Domain[] = r.domains.map((name, di) => {
      const seed = r.domainSeeds[di]!;
      const members = pick(seed.members);
      const threshold = Math.min(seed.threshold, members.length);
      const orgs = new Set(members.map((m) => orgOf.get(m))).size;
      const minOrganisations = Math.min(seed.minOrg, orgs, threshold);
      let epoch = 0;
      const epochs =
        threshold < 2
          ? []
          : seed.epochs.map((e) => {
              epoch += e.gap;
              const base = landDomain(members, threshold, epoch, `${name}-${epoch}`).epochs[0]!;
              const q = epochEntry({
                epoch,
                keyCeremony: base.keyCeremony,
                quorumPublicKey: nextQuorum(),
                threshold,
                shares: [],
                createdAt: r.times[0]!,
              });
              return {
                ...base,
                quorumPublicKey: q.quorumPublicKey,
                keyId: q.keyId,
                shares: base.shares.map((s, i) => ({ ...s, x: seed.xs[i]! })),
                ...(e.retired === null ? {} : { retired: e.retired }),
              };
            });
      return {
        name,
        custodians: members,
        threshold,
        minOrganisations,
        policy: seed.policy,
        homeStanza: seed.homeStanza,
        epochs,
      };
    });
    return buildGenesis({
      issuedAt: r.times[0]!,
      expires: r.times[1]!,
      root: { custodians: rootMembers, threshold: Math.min(r.rootSeed[1], rootMembers.length) },
      custodians,
      stations: r.stations.map(([name, org, key], i) => ({
        id: `station-${i}`,
        name,
        organisation: org,
        signingKey: key,
      })),
      jobs: r.withJob
        ? [
            {
              id: 'job-0',
              name: 'Backup',
              signingKey: { alg: 'ed25519', publicKey: b64(ed25519Public('j0')) },
              domains: r.domains,
            },
          ]
        : [],
      auditors: r.auditors.map(([name, key], i) => ({ id: `auditor-${i}`, name, signingKey: key })),
      log: { origin: 'embassy.example/audit', key: b64(ed25519Public('log')) },
      legalBases: r.legalBases.map(([code, description]) => ({ code, description })),
      domains,
    });
  });

describe('random valid rosters', () => {
  it('round-trip through JCS and the schema, with a stable rosterId', () => {
    fc.assert(
      fc.property(rosterArb, (doc) => {
        const text = canonicalize(doc);
        const back = parseRosterDoc(JSON.parse(text));
        expect(back).toEqual(doc);
        expect(canonicalize(back)).toBe(text);
        expect(parseCanonical(jcs(doc))).toEqual(doc);
        expect(rosterIdHex(back)).toBe(rosterIdHex(doc));
      }),
      { numRuns: 150 },
    );
  });

  it('verify when signed by all of their root', async () => {
    await fc.assert(
      fc.asyncProperty(rosterArb, async (doc) => {
        const s = await signed(doc, [...doc.root.custodians]);
        const now = new Date(Date.parse(doc.expires) - 1000);
        expect(verifyRosterChain(rosterIdHex(doc), [s], now).current.rosterId).toBe(rosterIdHex(doc));
      }),
      { numRuns: 30 },
    );
  });
});

// ---- mutations ----

type Path = (string | number)[];

function paths(v: unknown, at: Path = [], out: Path[] = []): Path[] {
  out.push(at);
  if (Array.isArray(v)) {
    for (let i = 0; i < v.length; i++) paths(v[i], [...at, i], out);
  } else if (typeof v === 'object' && v !== null)
    for (const k of Object.keys(v)) paths((v as Record<string, unknown>)[k], [...at, k], out);
  return out;
}

const WEIRD: unknown[] = [
  null,
  true,
  0,
  -1,
  1.5,
  2 ** 53,
  Number.NaN,
  '',
  'x',
  '\ud800',
  'A'.repeat(300),
  [],
  {},
  { a: 1 },
  undefined,
];

type Mutation =
  | { kind: 'replace'; pick: number; value: unknown }
  | { kind: 'tweak'; pick: number; n: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'add'; pick: number; key: string; value: unknown }
  | { kind: 'dup'; pick: number };

const mutationArb: fc.Arbitrary<Mutation> = fc.oneof(
  fc.record({
    kind: fc.constant('replace' as const),
    pick: fc.nat(),
    value: fc.oneof(fc.constantFrom(...WEIRD), fc.jsonValue({ maxDepth: 2 })),
  }),
  fc.record({ kind: fc.constant('tweak' as const), pick: fc.nat(), n: fc.integer({ min: 1, max: 1000 }) }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({
    kind: fc.constant('add' as const),
    pick: fc.nat(),
    key: fc.constantFrom('__proto__', 'constructor', 'toJSON', 'extra', 'retired', 'previous'),
    value: fc.constantFrom(...WEIRD),
  }),
  fc.record({ kind: fc.constant('dup' as const), pick: fc.nat() }),
);

function get(root: unknown, path: Path): unknown {
  let v = root;
  for (const p of path) v = (v as Record<string | number, unknown>)[p];
  return v;
}

function tweak(v: unknown, n: number): unknown {
  if (typeof v === 'number') return v + (n % 2 === 0 ? n : -n);
  if (typeof v === 'boolean') return !v;
  if (typeof v === 'string') {
    if (v.length === 0) return 'a';
    const i = n % v.length;
    const c = v.charCodeAt(i);
    return v.slice(0, i) + String.fromCharCode(c === 0x41 ? 0x42 : 0x41) + v.slice(i + 1);
  }
  return v;
}

/** Applies a mutation to a deep copy; null when it does not change the JCS-visible value. */
function mutate(signedRoster: SignedRoster, m: Mutation): unknown {
  const copy = structuredClone(signedRoster) as unknown;
  const all = paths(copy);
  const path = all[m.pick % all.length]!;
  const parentPath = path.slice(0, -1);
  const key = path.at(-1);
  const parent = get(copy, parentPath) as Record<string | number, unknown> | unknown[];
  const target = get(copy, path);
  switch (m.kind) {
    case 'replace':
      if (key === undefined) return m.value;
      (parent as Record<string | number, unknown>)[key] = m.value;
      break;
    case 'tweak':
      if (key === undefined) return null;
      (parent as Record<string | number, unknown>)[key] = tweak(target, m.n);
      break;
    case 'delete':
      if (key === undefined) return null;
      if (Array.isArray(parent)) parent.splice(key as number, 1);
      else delete (parent as Record<string, unknown>)[key];
      break;
    case 'add':
      if (typeof target !== 'object' || target === null || Array.isArray(target)) return null;
      Object.defineProperty(target, m.key, {
        value: m.value,
        enumerable: true,
        configurable: true,
        writable: true,
      });
      break;
    case 'dup':
      if (!Array.isArray(target) || target.length === 0) return null;
      target.push(structuredClone(target[m.pick % target.length]));
      break;
  }
  try {
    if (canonicalize(copy) === canonicalize(signedRoster)) return null;
  } catch {
    // not JSON any more: certainly a change
  }
  return copy;
}

describe('random mutations of a signed roster', () => {
  it('never verify (genesis against its pin, v2 against v1) and throw only RosterError', async () => {
    const v1 = genesis();
    const s1 = await signed(v1, ['alice', 'bob', 'carol']);
    const t1 = verifyPinnedRoster(rosterIdHex(v1), s1, NOW);
    const v2 = nextVersion(v1, { issuedAt: '2026-02-01T00:00:00Z' });
    const s2 = await signed(v2, ['alice', 'bob']); // exactly the thresholds of both roots
    verifyRosterUpdate(t1, s2, NOW);
    const pin = rosterIdHex(v1);
    const codes = new Set<string>();
    fc.assert(
      fc.property(mutationArb, fc.boolean(), (m, second) => {
        const mutated = mutate(second ? s2 : s1, m);
        fc.pre(mutated !== null);
        let threw: unknown;
        try {
          if (second) verifyRosterUpdate(t1, mutated, NOW);
          else verifyRosterChain(pin, [mutated], NOW);
        } catch (e) {
          threw = e;
        }
        expect(threw).toBeInstanceOf(RosterError);
        codes.add((threw as RosterError).code);
      }),
      { numRuns: 400 },
    );
    // The mutations reach past the schema: the pin, the signatures and the semantic rules refuse too.
    for (const c of ['roster_malformed', 'roster_pin_mismatch', 'roster_bad_signature'])
      expect(codes).toContain(c);
  });
});

/**
 * Sample registry snapshots for the demo and benchmarks: a land register (CSV) and a business
 * register (JSON), realistic in shape, deterministic (seeded SHA-256 stream, not Math.random).
 */
import { createHash } from 'node:crypto';

class Stream {
  private buf = Buffer.alloc(0);
  private off = 0;
  private counter = 0;
  constructor(private readonly seed: string) {}
  next(n: number): number {
    if (this.off + 4 > this.buf.length) {
      this.buf = createHash('sha512')
        .update(`${this.seed}/${this.counter++}`)
        .digest();
      this.off = 0;
    }
    const v = this.buf.readUInt32BE(this.off);
    this.off += 4;
    return v % n;
  }
  pick<T>(xs: readonly T[]): T {
    return xs[this.next(xs.length)]!;
  }
}

const COUNTIES = [
  'Harju',
  'Tartu',
  'Ida-Viru',
  'Pärnu',
  'Lääne-Viru',
  'Viljandi',
  'Rapla',
  'Võru',
  'Saare',
  'Jõgeva',
];
const PLACES = [
  'Tallinn',
  'Tartu',
  'Narva',
  'Pärnu',
  'Rakvere',
  'Viljandi',
  'Rapla',
  'Võru',
  'Kuressaare',
  'Jõgeva',
];
const STREETS = [
  'Pikk',
  'Lai',
  'Vabaduse',
  'Tööstuse',
  'Kesk',
  'Pargi',
  'Kooli',
  'Mere',
  'Jaama',
  'Metsa',
  'Aia',
  'Rüütli',
];
const USES = ['residential', 'commercial', 'agricultural', 'forest', 'industrial', 'transport', 'protected'];
const FIRST = [
  'Mari',
  'Jaan',
  'Kati',
  'Andres',
  'Liis',
  'Toomas',
  'Kadri',
  'Peeter',
  'Anu',
  'Mihkel',
  'Eva',
  'Rein',
];
const LAST = [
  'Tamm',
  'Saar',
  'Sepp',
  'Mägi',
  'Kask',
  'Kukk',
  'Rebane',
  'Ilves',
  'Pärn',
  'Koppel',
  'Lepik',
  'Kuusk',
];
const FORMS = ['OÜ', 'AS', 'MTÜ', 'TÜ', 'SA'];
const WORDS = [
  'Balti',
  'Põhja',
  'Mets',
  'Andmed',
  'Ehitus',
  'Logistika',
  'Tarkvara',
  'Energia',
  'Agro',
  'Meri',
];
const ACTIVITIES = ['62011', '41201', '49411', '01111', '47111', '68201', '02201', '35111', '70221', '85599'];

const date = (r: Stream, from: number, span: number) =>
  new Date(Date.UTC(from + r.next(span), r.next(12), 1 + r.next(28))).toISOString().slice(0, 10);

/** Land parcels, one per line, semicolon-separated (about 105 bytes a row). */
export function landRegisterCsv(rows: number, seed = 'land'): Buffer {
  const r = new Stream(seed);
  const lines = [
    'parcel_id;cadastral_unit;county;municipality;address;area_m2;land_use;owner_type;owner;registered;encumbrances',
  ];
  for (let i = 0; i < rows; i++) {
    const county = r.next(COUNTIES.length);
    const legal = r.next(4) === 0;
    const owner = legal
      ? `${r.pick(WORDS)} ${r.pick(FORMS)} (${10000000 + r.next(9000000)})`
      : `${r.pick(FIRST)} ${r.pick(LAST)} (${3 + r.next(5)}${String(r.next(1e9)).padStart(9, '0')})`;
    lines.push(
      [
        `${String(i + 1).padStart(7, '0')}`,
        `${10000 + county * 1000 + r.next(999)}:${String(r.next(999)).padStart(3, '0')}:${String(r.next(9999)).padStart(4, '0')}`,
        COUNTIES[county],
        PLACES[county],
        `${r.pick(STREETS)} ${1 + r.next(120)}`,
        200 + r.next(250000),
        r.pick(USES),
        legal ? 'legal' : 'natural',
        owner,
        date(r, 1994, 32),
        r.next(5) === 0 ? 'mortgage' : r.next(7) === 0 ? 'servitude' : '',
      ].join(';'),
    );
  }
  return Buffer.from(`${lines.join('\n')}\n`);
}

/** Companies as a JSON document (about 330 bytes a company). */
export function businessRegisterJson(companies: number, seed = 'business'): Buffer {
  const r = new Stream(seed);
  const list = Array.from({ length: companies }, (_, i) => ({
    registryCode: String(10000000 + i * 7),
    name: `${r.pick(WORDS)} ${r.pick(WORDS)} ${r.pick(FORMS)}`,
    status: r.next(10) === 0 ? 'liquidated' : 'registered',
    founded: date(r, 1991, 35),
    address: {
      street: `${r.pick(STREETS)} ${1 + r.next(90)}`,
      city: r.pick(PLACES),
      postcode: String(10000 + r.next(89999)),
    },
    shareCapitalEur: 2500 + r.next(500) * 100,
    activity: r.pick(ACTIVITIES),
    board: Array.from({ length: 1 + r.next(3) }, () => `${r.pick(FIRST)} ${r.pick(LAST)}`),
    beneficialOwners: Array.from({ length: 1 + r.next(2) }, () => ({
      name: `${r.pick(FIRST)} ${r.pick(LAST)}`,
      sharePercent: 10 + r.next(90),
    })),
  }));
  return Buffer.from(
    `${JSON.stringify({ register: 'business', generated: '2026-11-27', companies: list }, null, 1)}\n`,
  );
}

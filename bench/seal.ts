/**
 * `npm run bench:seal`: seal and open a large file through the CLI (files on disk, as a user runs
 * them) side by side with age and `openssl speed`, printing MB/s, peak RSS and the ratio to age.
 *
 *   npm run bench:seal -- [--size-mib 1024] [--runs 3] [--rss-check-mib 4096]
 */
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { closeSync, mkdirSync, openSync, readFileSync, rmSync, writeSync } from 'node:fs';
import { availableParallelism, cpus } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { measure, median, table } from './measure.ts';

const { values } = parseArgs({
  options: {
    'size-mib': { type: 'string', default: '1024' },
    runs: { type: 'string', default: '3' },
    'rss-check-mib': { type: 'string', default: '0' },
    dir: { type: 'string', default: 'bench/.work' },
  },
});
const sizeMiB = Number(values['size-mib']);
const runs = Number(values.runs);
const dir = values.dir!;
const embassy = ['bin/embassy.mjs'];
mkdirSync(dir, { recursive: true });

function makeInput(path: string, mib: number) {
  // Pseudo-random, incompressible, cheap: SHA-256 in counter mode, 1 MiB at a time.
  const fd = openSync(path, 'w');
  const block = Buffer.alloc(1 << 20);
  for (let i = 0; i < mib; i++) {
    for (let off = 0; off < block.length; off += 32)
      createHash('sha256').update(`${i}/${off}`).digest().copy(block, off);
    writeSync(fd, block);
  }
  closeSync(fd);
}

const input = join(dir, 'input.bin');
process.stderr.write(`creating a ${sizeMiB} MiB input in ${dir}…\n`);
makeInput(input, sizeMiB);
execFileSync('node', [...embassy, 'keygen', '-o', join(dir, 'key.txt')].slice(0), { stdio: 'ignore' });
const pub = execFileSync('node', [...embassy, 'keygen', '-y', join(dir, 'key.txt')])
  .toString()
  .trim();
rmSync(join(dir, 'age.key'), { force: true });
execFileSync('age-keygen', ['-o', join(dir, 'age.key')], { stdio: 'ignore' });
const agePub = execFileSync('age-keygen', ['-y', join(dir, 'age.key')])
  .toString()
  .trim();
const bytes = sizeMiB * 1048576;

const node = process.execPath;
const cases: [string, () => Promise<import('./measure.ts').Measured>][] = [
  [
    'embassy seal (file → file)',
    () => measure(node, [...embassy, 'seal', '-r', pub, '-o', join(dir, 'out.emb'), input]),
  ],
  ['age -e (file → file)', () => measure('age', ['-e', '-r', agePub, '-o', join(dir, 'out.age'), input])],
  [
    'age -e + sync(1) of the output (file → file)',
    () =>
      measure('sh', [
        '-c',
        'age -e -r "$1" -o "$2" "$3" && sync "$2"',
        'sh',
        agePub,
        join(dir, 'out2.age'),
        input,
      ]),
  ],
  [
    'embassy open (file → file)',
    () =>
      measure(node, [
        ...embassy,
        'open',
        '-i',
        join(dir, 'key.txt'),
        '-o',
        join(dir, 'out.plain'),
        join(dir, 'out.emb'),
      ]),
  ],
  [
    'age -d (file → file)',
    () =>
      measure('age', [
        '-d',
        '-i',
        join(dir, 'age.key'),
        '-o',
        join(dir, 'out.ageplain'),
        join(dir, 'out.age'),
      ]),
  ],
  [
    'age -d + sync(1) of the output (file → file)',
    () =>
      measure('sh', [
        '-c',
        'age -d -i "$1" -o "$2" "$3" && sync "$2"',
        'sh',
        join(dir, 'age.key'),
        join(dir, 'out2.ageplain'),
        join(dir, 'out.age'),
      ]),
  ],
  ['embassy seal (file → /dev/null)', () => measure(node, [...embassy, 'seal', '-r', pub, input])],
  ['age -e (file → /dev/null)', () => measure('age', ['-e', '-r', agePub, input])],
  [
    'embassy open (file → /dev/null)',
    () => measure(node, [...embassy, 'open', '-i', join(dir, 'key.txt'), join(dir, 'out.emb')]),
  ],
  [
    'age -d (file → /dev/null)',
    () => measure('age', ['-d', '-i', join(dir, 'age.key'), join(dir, 'out.age')]),
  ],
];

const results = new Map<string, import('./measure.ts').Measured>();
for (const [name, f] of cases) {
  process.stderr.write(`${name}…\n`);
  results.set(name, await median(runs, f));
}
if (!readFileSync(join(dir, 'out.plain')).equals(readFileSync(input))) throw new Error('round trip mismatch');

const ssl = execFileSync('openssl', ['speed', '-evp', 'aes-256-gcm', '-bytes', '16384', '-seconds', '3'], {
  stdio: ['ignore', 'pipe', 'ignore'],
}).toString();
const sslKBs = Number(/AES-256-GCM\s+([\d.]+)k/.exec(ssl)?.[1] ?? Number.NaN);

const mbps = (s: number) => (bytes / 1e6 / s).toFixed(0);
const rows = cases.map(([name]) => {
  const r = results.get(name)!;
  const ref = results.get(name.replace(/^embassy seal/, 'age -e').replace(/^embassy open/, 'age -d'))!;
  const synced = !name.includes('(file → file)')
    ? undefined
    : results.get(
        name
          .replace(/^embassy seal \(file → file\)/, 'age -e + sync(1) of the output (file → file)')
          .replace(/^embassy open \(file → file\)/, 'age -d + sync(1) of the output (file → file)'),
      );
  const ratio = name.startsWith('embassy')
    ? `${(ref.seconds / r.seconds).toFixed(2)}× age${synced ? `, ${(synced.seconds / r.seconds).toFixed(2)}× age+sync` : ''}`
    : 'reference';
  return [name, r.seconds.toFixed(2), mbps(r.seconds), r.peakRssMiB.toFixed(0), ratio];
});
rows.push([
  'openssl speed -evp aes-256-gcm, 16 KiB blocks (1 core)',
  '–',
  (sslKBs / 1000).toFixed(0),
  '–',
  'AES ceiling',
]);

if (Number(values['rss-check-mib']) > 0) {
  const big = join(dir, 'big.bin');
  const mib = Number(values['rss-check-mib']);
  process.stderr.write(`peak RSS check with ${mib} MiB…\n`);
  makeInput(big, mib);
  const s = await measure(node, [...embassy, 'seal', '-r', pub, '-o', join(dir, 'big.emb'), big]);
  const o = await measure(node, [...embassy, 'open', '-i', join(dir, 'key.txt'), join(dir, 'big.emb')]);
  rows.push([
    `embassy seal, ${mib} MiB (file → file)`,
    s.seconds.toFixed(2),
    ((mib * 1.048576) / s.seconds).toFixed(0),
    s.peakRssMiB.toFixed(0),
    'RSS check',
  ]);
  rows.push([
    `embassy open, ${mib} MiB (file → /dev/null)`,
    o.seconds.toFixed(2),
    ((mib * 1.048576) / o.seconds).toFixed(0),
    o.peakRssMiB.toFixed(0),
    'RSS check',
  ]);
  rmSync(big);
  rmSync(join(dir, 'big.emb'));
}

const cpu = cpus()[0]?.model ?? 'unknown CPU';
process.stdout.write(
  `\nbench:seal — ${sizeMiB} MiB, median of ${runs} runs, ${new Date().toISOString().slice(0, 10)}, ` +
    `${availableParallelism()} cores (${cpu}), Node ${process.version}\n\n` +
    `${table(['operation', 'seconds', 'MB/s', 'peak RSS MiB', 'ratio'], rows)}\n\n` +
    'Ratio: age time ÷ embassy time for the same operation (> 1 is faster than age). ' +
    'embassy -o fsyncs the output before renaming it into place; age does not.\n',
);
rmSync(dir, { recursive: true, force: true });

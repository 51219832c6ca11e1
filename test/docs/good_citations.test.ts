// Citations point into the repository (docs/DECISIONS.md#d26): no file cites the design notes kept
// outside it, every `docs/DECISIONS.md#…` anchor exists, and every relative Markdown link in the docs
// resolves to a file. Reads files only.
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '../..');
const TEXT = /\.(ts|js|mjs|md)$/;

/** Every text file under `dir` (relative to the repository), skipping `skip` folders. */
function walk(dir: string, skip: string[] = []): string[] {
  const abs = join(ROOT, dir);
  if (!existsSync(abs)) return [];
  return readdirSync(abs, { withFileTypes: true, recursive: true })
    .filter((e) => e.isFile() && TEXT.test(e.name))
    .map((e) => relative(ROOT, join(e.parentPath, e.name)))
    .filter((f) => !skip.some((s) => f.startsWith(s)));
}

const read = (file: string) => readFileSync(join(ROOT, file), 'utf8');

/** Lines of `files` matching `re`, as `file:line: text`. */
function hits(files: string[], re: RegExp): string[] {
  return files.flatMap((f) =>
    read(f)
      .split('\n')
      .flatMap((line, i) => (re.test(line) ? [`${f}:${i + 1}: ${line.trim()}`] : [])),
  );
}

const CITING = [...walk('docs'), ...walk('src'), ...walk('hsm'), ...walk('ceremonies'), 'SECURITY.md'];
const ALL = [
  ...CITING,
  ...walk('test', ['test/vectors/']),
  ...walk('bench'),
  ...walk('scripts'),
  ...walk('bin'),
  'README.md',
];
const MARKDOWN = [...walk('docs').filter((f) => f.endsWith('.md')), 'README.md', 'SECURITY.md'];

/** Anchors defined in docs/DECISIONS.md by `<a id="…"></a>`. */
const ANCHORS = new Set([...read('docs/DECISIONS.md').matchAll(/<a id="([^"]+)"><\/a>/g)].map((m) => m[1]));

describe('citations point into the repository', () => {
  it('no file cites the design notes kept outside the repository', () => {
    expect(
      hits(CITING, /DESIGN (decision|flow|invariant)|DESIGN\.md|notes\/|notes §|notes trap|\.\.\/shared\//),
    ).toEqual([]);
  });

  it('docs/DECISIONS.md defines an anchor for every decision and invariant', () => {
    for (let n = 1; n <= 57; n++) expect(ANCHORS.has(`d${n}`), `d${n}`).toBe(true);
    for (let n = 1; n <= 8; n++) expect(ANCHORS.has(`i${n}`), `i${n}`).toBe(true);
  });

  it('every cited DECISIONS.md anchor exists', () => {
    const dangling = ALL.flatMap((f) =>
      [...read(f).matchAll(/DECISIONS\.md#([A-Za-z0-9_-]+)/g)]
        .map((m) => m[1]!)
        .filter((a) => !ANCHORS.has(a))
        .map((a) => `${f}: #${a}`),
    );
    expect(dangling).toEqual([]);
  });

  it('links inside docs/DECISIONS.md point at its own anchors', () => {
    const local = [...read('docs/DECISIONS.md').matchAll(/\]\(#([a-z]\d+)\)/g)].map((m) => m[1]!);
    expect(local.length).toBeGreaterThan(0);
    expect(local.filter((a) => !ANCHORS.has(a))).toEqual([]);
  });

  it('every relative Markdown link in docs/, README.md and SECURITY.md points at an existing file', () => {
    const broken = MARKDOWN.flatMap((f) =>
      [...read(f).matchAll(/\]\(([^)\s]+)\)/g)]
        .map((m) => m[1]!)
        .filter((target) => !/^([a-z]+:|#)/.test(target))
        .filter((target) => !existsSync(resolve(ROOT, dirname(f), target.split('#')[0]!)))
        .map((target) => `${f}: ${target}`),
    );
    expect(broken).toEqual([]);
  });

  it('every source or test file the Markdown names in backticks exists (the docs follow the tree)', () => {
    const missing = MARKDOWN.flatMap((f) =>
      [
        ...read(f).matchAll(
          /`((?:src|hsm|ceremonies|test|bench|scripts|bin)\/[\w./-]+\.(?:ts|js|mjs|md|json))`/g,
        ),
      ]
        .map((m) => m[1]!)
        .filter((path) => !path.includes('*') && !existsSync(join(ROOT, path)))
        .map((path) => `${f}: ${path}`),
    );
    expect(missing).toEqual([]);
  });
});

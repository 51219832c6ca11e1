#!/usr/bin/env node
// Import rules of the layered layout (docs/DECISIONS.md#d26 and README "Layout"), run by `npm run lint`.
//
// Layers, bottom up. A file may import its own layer and the layers below it, never one above:
//   pure      formats and rules: no I/O, importable by everyone
//   io        storage, files and the HSM
//   services  what the coordinator, the stations, the custodians, the jobs and the ceremonies do
//   shells    development deployments, the demo story, the command line and the web pages
//   test      tests and benchmarks: nothing under src/, hsm/ or ceremonies/ may import them
// A "folder" is a top-level module: src/<name>/, a file directly in src/ (src/errors.ts), hsm/ or
// ceremonies/. The import graph between folders must have no cycle, whatever the layers say.
// Every file checked must belong to a layer: a new top-level folder is added to LAYERS below.
//
// Checked: every .ts/.js/.mjs file under ROOTS except *.test.ts; static imports, `export … from`,
// dynamic `import('…')` with a literal specifier and `new URL('<module>.ts|js|mjs', import.meta.url)`
// (workers). Package imports are ignored. Type-only imports count: a type is part of the contract
// between layers.
//
// Why a script and not Biome: `noRestrictedImports` matches the specifier as written, so `../audit/x.ts`
// cannot be told apart by the folder it resolves to, and Biome has no folder-level cycle rule.
// Plain Node with no dependencies.
//
// Usage: node scripts/check-layers.mjs [ROOT]   (ROOT defaults to the repository; exit 1 on any finding)
// Output, one line per finding:
//   src/crypto/x.ts: imports src/audit/log.ts (layer pure may not import layer services)
//   folder cycle: src/audit -> src/coordinator -> src/audit (src/audit/a.ts imports …; …)
import { readdirSync, readFileSync, statSync } from 'node:fs';
import { dirname, join, relative, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

/** @typedef {{ t: 'word' | 'punct' | 'string', v: string, line: number }} Token */
/** @typedef {Map<string, Map<string, string>>} FolderGraph folder -> imported folder -> "a imports b" */

/** The one layer table. Entries are folders (or single files) relative to the repository root. */
export const LAYERS = [
  { name: 'pure', folders: ['src/crypto', 'src/log', 'src/roster', 'src/protocol', 'src/errors.ts'] },
  { name: 'io', folders: ['src/store', 'src/fs', 'hsm'] },
  {
    name: 'services',
    folders: [
      'src/archive',
      'src/audit',
      'src/coordinator',
      'src/witness',
      'src/station',
      'src/custodian',
      'src/backup',
      'src/jobs',
      'ceremonies',
    ],
  },
  { name: 'shells', folders: ['src/devkit', 'src/demo', 'src/cli', 'src/console'] },
  { name: 'test', folders: ['test', 'bench'] },
];

/** Trees whose files are checked. */
export const ROOTS = ['src', 'hsm', 'ceremonies'];

const SOURCE = /\.(ts|js|mjs)$/;
const SKIP = /\.test\.ts$/;

/**
 * The top-level module a repository-relative path belongs to: `src/audit/log.ts` → `src/audit`,
 * `src/errors.ts` → `src/errors.ts`, `hsm/pkcs11/x.ts` → `hsm`.
 * @example folderOf('src/audit/log.ts') // 'src/audit'
 * @param {string} path
 * @returns {string}
 */
export function folderOf(path) {
  const parts = path.split('/');
  if (parts[0] === 'src') return parts.length > 2 ? parts.slice(0, 2).join('/') : path;
  return /** @type {string} */ (parts[0]);
}

const REGEX_AFTER_WORD = new Set([
  'return',
  'typeof',
  'instanceof',
  'in',
  'of',
  'new',
  'delete',
  'void',
  'throw',
  'case',
  'do',
  'else',
  'yield',
  'await',
]);

/**
 * Splits JavaScript/TypeScript source into the tokens that matter for imports: words, punctuation and
 * string literals (comments, template literals and regular expressions are skipped, so an `import` in a
 * doc comment or a string is not an import).
 * @param {string} src
 * @returns {Token[]}
 */
export function tokenize(src) {
  /** @type {Token[]} */
  const out = [];
  /** @type {number[]} */
  const braces = []; // for each open `${`, the brace depth at which the template resumes
  let depth = 0;
  let line = 1;
  let i = 0;
  const prev = () => out[out.length - 1];
  const regexAllowed = () => {
    const p = prev();
    if (!p) return true;
    if (p.t === 'string') return false;
    if (p.t === 'word') return REGEX_AFTER_WORD.has(p.v);
    return !/^[)\]}]$/.test(p.v);
  };
  // Skips a template literal body from i (just after ` or }) to its end or to the next `${`.
  const template = () => {
    while (i < src.length) {
      const c = src.charAt(i);
      if (c === '\\') i += 2;
      else if (c === '`') {
        i++;
        out.push({ t: 'punct', v: '`', line });
        return;
      } else if (c === '$' && src.charAt(i + 1) === '{') {
        i += 2;
        braces.push(depth);
        depth++;
        out.push({ t: 'punct', v: '${', line });
        return;
      } else {
        if (c === '\n') line++;
        i++;
      }
    }
  };
  while (i < src.length) {
    const c = src.charAt(i);
    if (c === '\n') {
      line++;
      i++;
    } else if (/\s/.test(c)) i++;
    else if (c === '/' && src.charAt(i + 1) === '/') {
      while (i < src.length && src.charAt(i) !== '\n') i++;
    } else if (c === '/' && src.charAt(i + 1) === '*') {
      const end = src.indexOf('*/', i + 2);
      const stop = end < 0 ? src.length : end + 2;
      for (let k = i; k < stop; k++) if (src.charAt(k) === '\n') line++;
      i = stop;
    } else if (c === "'" || c === '"') {
      let v = '';
      i++;
      while (i < src.length && src.charAt(i) !== c && src.charAt(i) !== '\n') {
        if (src.charAt(i) === '\\') {
          v += src.charAt(i + 1);
          i += 2;
        } else v += src[i++];
      }
      i++;
      out.push({ t: 'string', v, line });
    } else if (c === '`') {
      i++;
      template();
    } else if (c === '/' && regexAllowed()) {
      let inClass = false;
      i++;
      while (i < src.length && src.charAt(i) !== '\n') {
        if (src.charAt(i) === '/' && !inClass) break;
        if (src.charAt(i) === '[') inClass = true;
        else if (src.charAt(i) === ']') inClass = false;
        i += src.charAt(i) === '\\' ? 2 : 1;
      }
      i++;
      while (i < src.length && /[a-z]/i.test(src.charAt(i))) i++;
      out.push({ t: 'punct', v: '/re/', line });
    } else if (/[A-Za-z_$]/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[\w$]/.test(src.charAt(j))) j++;
      out.push({ t: 'word', v: src.slice(i, j), line });
      i = j;
    } else if (/\d/.test(c)) {
      let j = i + 1;
      while (j < src.length && /[\w.]/.test(src.charAt(j))) j++;
      out.push({ t: 'word', v: src.slice(i, j), line });
      i = j;
    } else {
      i++;
      if (c === '{') depth++;
      else if (c === '}') {
        depth--;
        if (braces.length > 0 && braces[braces.length - 1] === depth) {
          braces.pop();
          template();
          continue;
        }
      }
      out.push({ t: 'punct', v: c, line });
    }
  }
  return out;
}

/**
 * The module specifiers a source file imports or re-exports, with their line numbers.
 * @example importsOf("import { a } from './a.ts';\nconst b = await import('./b.ts');")
 * // [{ spec: './a.ts', line: 1 }, { spec: './b.ts', line: 2 }]
 * @param {string} src
 * @returns {{ spec: string, line: number }[]}
 */
export function importsOf(src) {
  const tk = tokenize(src);
  /** @type {Token[]} */
  const found = [];
  /** @type {(k: number) => Token} */
  const at = (k) => tk[k] ?? { t: 'punct', v: '', line: 0 };
  /** @type {(k: number, t: Token['t'], v?: string) => boolean} */
  const is = (k, t, v) => at(k).t === t && (v === undefined || at(k).v === v);
  /**
   * From token k, the string after the next `from` that closes this statement (or undefined).
   * @param {number} k
   * @returns {Token | undefined}
   */
  const fromClause = (k) => {
    for (let d = 0; k < tk.length; k++) {
      const x = at(k);
      if (x.t === 'punct' && x.v === '{') d++;
      else if (x.t === 'punct' && x.v === '}') d--;
      else if (d === 0 && x.t === 'punct' && x.v === ';') return undefined;
      else if (d === 0 && x.t === 'word' && x.v === 'from' && is(k + 1, 'string')) return at(k + 1);
      else if (d === 0 && x.t === 'word' && (x.v === 'import' || x.v === 'export') && k > 0) return undefined;
    }
    return undefined;
  };
  for (let k = 0; k < tk.length; k++) {
    const x = at(k);
    if (x.t !== 'word' || is(k - 1, 'punct', '.')) continue;
    if (x.v === 'import') {
      if (is(k + 1, 'punct', '(') && is(k + 2, 'string')) found.push(at(k + 2));
      else if (is(k + 1, 'string')) found.push(at(k + 1));
      else if (!is(k + 1, 'punct', '.') && !is(k + 1, 'punct', '(')) {
        const s = fromClause(k + 1);
        if (s) found.push(s);
      }
    } else if (x.v === 'export') {
      const k1 = is(k + 1, 'word', 'type') ? k + 2 : k + 1;
      if (is(k1, 'punct', '{') || is(k1, 'punct', '*')) {
        const s = fromClause(k1);
        if (s) found.push(s);
      }
    } else if (x.v === 'new' && is(k + 1, 'word', 'URL') && is(k + 2, 'punct', '(') && is(k + 3, 'string')) {
      const code = SOURCE.test(at(k + 3).v); // a worker's module, not a data file next to the code
      if (code && is(k + 4, 'punct', ',') && is(k + 5, 'word', 'import') && is(k + 7, 'word', 'meta'))
        found.push(at(k + 3));
    }
  }
  return found.map((s) => ({ spec: s.v, line: s.line }));
}

/**
 * Every checked source file under `dir`, repository-relative.
 * @param {string} root
 * @param {string} dir
 * @param {string[]} acc
 */
function sourceFiles(root, dir, acc) {
  let names;
  try {
    names = readdirSync(join(root, dir)).sort();
  } catch {
    return acc;
  }
  for (const name of names) {
    if (name === 'node_modules' || name.startsWith('.')) continue;
    const rel = `${dir}/${name}`;
    if (statSync(join(root, rel)).isDirectory()) sourceFiles(root, rel, acc);
    else if (SOURCE.test(name) && !SKIP.test(name)) acc.push(rel);
  }
  return acc;
}

/**
 * Strongly connected components with more than one folder (Tarjan), each sorted, in sorted order.
 * @param {FolderGraph} graph
 * @returns {string[][]}
 */
function cycles(graph) {
  /** @type {Map<string, { index: number, low: number }>} */
  const seen = new Map();
  /** @type {string[]} */
  const stack = [];
  const on = new Set();
  /** @type {string[][]} */
  const comps = [];
  /** @param {string} v */
  const visit = (v) => {
    const node = { index: seen.size, low: seen.size };
    seen.set(v, node);
    stack.push(v);
    on.add(v);
    for (const w of [...(graph.get(v)?.keys() ?? [])].sort()) {
      const other = seen.get(w);
      if (!other) node.low = Math.min(node.low, visit(w));
      else if (on.has(w)) node.low = Math.min(node.low, other.index);
    }
    if (node.low === node.index) {
      const comp = stack.splice(stack.indexOf(v));
      for (const w of comp) on.delete(w);
      if (comp.length > 1) comps.push(comp.sort());
    }
    return node.low;
  };
  for (const v of [...graph.keys()].sort()) if (!seen.has(v)) visit(v);
  return comps.sort((a, b) => (String(a[0]) < String(b[0]) ? -1 : 1));
}

/**
 * The shortest cycle from `start` back to it inside one component: its folders and, for each step,
 * one import that makes it.
 * @param {FolderGraph} graph
 * @param {string[]} comp
 * @param {string} start
 * @returns {{ folders: string[], steps: string[] }}
 */
function shortestCycle(graph, comp, start) {
  /** @type {Map<string, string>} folder -> the folder it was reached from */
  const from = new Map();
  const queue = [start];
  for (let q = 0; q < queue.length; q++) {
    const v = /** @type {string} */ (queue[q]);
    for (const w of [...(graph.get(v)?.keys() ?? [])].sort()) {
      if (!comp.includes(w) || (w !== start && from.has(w))) continue;
      from.set(w, v);
      if (w !== start) queue.push(w);
      else {
        const folders = [start];
        for (let u = v; u !== start; u = from.get(u) ?? start) folders.unshift(u);
        folders.unshift(start);
        const steps = folders.slice(1).map((to, k) => graph.get(folders[k] ?? '')?.get(to) ?? '');
        return { folders, steps };
      }
    }
  }
  return { folders: [start], steps: [] };
}

/**
 * Checks the tree at `root` and returns one line per finding (empty when the layout holds).
 * @example checkLayers(process.cwd()) // []
 * @param {string} root
 * @returns {string[]}
 */
export function checkLayers(root) {
  /** @type {string[]} */
  const findings = [];
  /** @type {FolderGraph} */
  const graph = new Map();
  const files = ROOTS.flatMap((r) => sourceFiles(root, r, [])).sort();
  for (const file of files) {
    const folder = folderOf(file);
    const from = LAYERS.find((l) => l.folders.includes(folder));
    if (!from) {
      findings.push(`${file}: ${folder} is not in any layer (add it to LAYERS in scripts/check-layers.mjs)`);
      continue;
    }
    for (const { spec } of importsOf(readFileSync(join(root, file), 'utf8'))) {
      if (!spec.startsWith('.') && !spec.startsWith('/')) continue;
      const target = relative(root, resolve(root, dirname(file), spec))
        .split(sep)
        .join('/');
      if (target.startsWith('..')) {
        findings.push(`${file}: imports ${spec} (outside the repository)`);
        continue;
      }
      const to = folderOf(target);
      if (to === folder) continue;
      const layer = LAYERS.find((l) => l.folders.includes(to));
      if (!layer) {
        findings.push(`${file}: imports ${target} (${to} is not in any layer)`);
        continue;
      }
      if (LAYERS.indexOf(layer) > LAYERS.indexOf(from))
        findings.push(`${file}: imports ${target} (layer ${from.name} may not import layer ${layer.name})`);
      const edges = graph.get(folder) ?? new Map();
      if (!edges.has(to)) edges.set(to, `${file} imports ${target}`);
      graph.set(folder, edges);
    }
  }
  for (const comp of cycles(graph)) {
    const { folders, steps } = shortestCycle(graph, comp, /** @type {string} */ (comp[0]));
    const rest = comp.filter((f) => !folders.includes(f));
    const also = rest.length > 0 ? `; also in this cycle: ${rest.join(', ')}` : '';
    findings.push(`folder cycle: ${folders.join(' -> ')} (${steps.join('; ')}${also})`);
  }
  return findings;
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = resolve(process.argv[2] ?? join(dirname(fileURLToPath(import.meta.url)), '..'));
  const findings = checkLayers(root);
  for (const f of findings) process.stdout.write(`${f}\n`);
  if (findings.length > 0) {
    process.stderr.write(
      `check-layers: ${findings.length} finding(s); the layers are listed at the top of scripts/check-layers.mjs\n`,
    );
    process.exit(1);
  }
}

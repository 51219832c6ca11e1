// What `npm pack` ships (package.json "files"): the CLI (bin/ and the compiled dist/), docs/,
// README.md and SECURITY.md; never test/, so the crash-injection wrapper of the CLI
// (test/support/embassy-with-faults.ts) stays out of the package (docs/DECISIONS.md#d53).
// Spawns npm, so it lives outside test/layout/ (the unit tier allows no child process); it needs a
// build (dist/), which `npm ci` makes through the prepare script. --ignore-scripts: listing the files
// must not rebuild dist/ under other tests.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

function packedFiles(): string[] {
  const r = spawnSync('npm', ['pack', '--dry-run', '--json', '--ignore-scripts'], {
    cwd: root,
    encoding: 'utf8',
  });
  expect(r.status, r.stderr).toBe(0);
  const [pack] = JSON.parse(r.stdout) as { files: { path: string }[] }[];
  return pack!.files.map((f) => f.path);
}

it('good_pack_excludes_tests: the package holds the CLI and its build, and no test code', () => {
  const files = packedFiles();
  expect(files).toContain('bin/embassy.mjs');
  expect(files).toContain('dist/src/cli/main.js'); // what bin/embassy.mjs runs when src/ is absent
  expect(files).toContain('SECURITY.md');
  expect(files.filter((f) => /(^|\/)test\/|\.test\.[jt]s(\.map)?$/.test(f))).toEqual([]);
  expect(files.filter((f) => !/^(bin|dist|docs)\/|^(README|SECURITY)\.md$|^package\.json$/.test(f))).toEqual(
    [],
  );
});

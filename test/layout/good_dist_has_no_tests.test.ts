// `npm run build` (tsconfig.build.json) compiles no test code into dist/: no *.test.ts (the
// colocated middleware tests stay in the source tree) and nothing from test/ or bench/, which a
// module of the build would drag in by importing it. Follows the build's relative imports
// without compiling (seconds, not a build).
import { existsSync, readFileSync } from 'node:fs';
import { dirname, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { expect, it } from 'vitest';

const root = fileURLToPath(new URL('../..', import.meta.url));

/** The repository files the build compiles: its root files and every file they import, relative to the root. */
function buildInputs(): string[] {
  const config = ts.getParsedCommandLineOfConfigFile(resolve(root, 'tsconfig.build.json'), undefined, {
    ...ts.sys,
    onUnRecoverableConfigFileDiagnostic: (d) => {
      throw new Error(ts.flattenDiagnosticMessageText(d.messageText, '\n'));
    },
  });
  if (!config) throw new Error('tsconfig.build.json could not be read');
  const seen = new Set<string>();
  const queue = config.fileNames.map((f) => resolve(f));
  while (queue.length > 0) {
    const file = queue.pop()!;
    if (seen.has(file)) continue;
    seen.add(file);
    for (const { fileName } of ts.preProcessFile(readFileSync(file, 'utf8'), true, true).importedFiles) {
      if (!fileName.startsWith('.')) continue; // a package
      const target = resolve(dirname(file), fileName);
      const found = [target, target.replace(/\.js$/, '.ts')].find((p) => existsSync(p));
      if (found) queue.push(found);
    }
  }
  return [...seen].map((f) => relative(root, f));
}

it('the build compiles src/, hsm/ and ceremonies/ and no test code', () => {
  const inputs = buildInputs();
  expect(inputs).toContain('src/cli/main.ts');
  expect(inputs.filter((f) => /\.test\.ts$/.test(f))).toEqual([]);
  expect(inputs.filter((f) => !/^(src|hsm|ceremonies)\//.test(f))).toEqual([]);
});

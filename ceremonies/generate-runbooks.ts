/**
 * Writes ceremonies/runbooks/<name>.md from the definitions:
 * `node --import tsx ceremonies/generate-runbooks.ts`. test/ceremonies checks they are current.
 */
import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { listCeremonies, runbook } from './index.ts';

export const RUNBOOK_DIR = join(dirname(fileURLToPath(import.meta.url)), 'runbooks');

export function writeRunbooks(dir = RUNBOOK_DIR): string[] {
  mkdirSync(dir, { recursive: true });
  return listCeremonies().map((c) => {
    const path = join(dir, `${c.name}.md`);
    writeFileSync(path, runbook(c.name));
    return path;
  });
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) {
  for (const p of writeRunbooks()) process.stdout.write(`${p}\n`);
}

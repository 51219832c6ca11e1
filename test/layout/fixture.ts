// A throw-away source tree for the layer checker: write files, check, remove.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { checkLayers } from '../../scripts/check-layers.mjs';

/**
 * The findings of the layer checker on a tree made of `files` (repository-relative path → source).
 * @example checkTree({ 'src/crypto/a.ts': "import '../audit/b.ts';" })
 */
export function checkTree(files: Record<string, string>): string[] {
  const root = mkdtempSync(join(tmpdir(), 'layers-'));
  try {
    for (const [path, text] of Object.entries(files)) {
      mkdirSync(dirname(join(root, path)), { recursive: true });
      writeFileSync(join(root, path), text);
    }
    return checkLayers(root);
  } finally {
    rmSync(root, { recursive: true, force: true });
  }
}

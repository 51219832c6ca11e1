// Shared by the release-journal tests: throwaway directories removed after each test, and a release.
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach } from 'vitest';

/** A new temporary directory, removed after the current test. Call at module level to register the hook. */
export function tempDirs(prefix = 'embassy-release-'): () => string {
  const dirs: string[] = [];
  afterEach(() => {
    for (const d of dirs.splice(0)) rmSync(d, { recursive: true, force: true });
  });
  return () => {
    const d = mkdtempSync(join(tmpdir(), prefix));
    dirs.push(d);
    return d;
  };
}

/** A release of ceremony `ceremony` to recipient keys filled with `recipient`. */
export const release = (ceremony: number, recipient: number) => ({
  ceremony: new Uint8Array(32).fill(ceremony),
  recipientP256: new Uint8Array(65).fill(recipient),
  recipientXWing: new Uint8Array(1216).fill(recipient),
  domain: 'land',
  epoch: 1,
});

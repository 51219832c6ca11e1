#!/usr/bin/env node
// Runs the compiled CLI (dist/, built by `npm ci` through the prepare script) when it is at least
// as new as every source file; otherwise runs the TypeScript sources through tsx, so an edit is
// never shadowed by a stale build. The compiled path starts in ~0.1 s instead of ~0.6 s.
import { readdirSync, statSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const compiled = new URL('../dist/src/cli/main.js', import.meta.url);

/** @param {string} dir @returns {number} */
function newestSource(dir) {
  let newest = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = `${dir}/${e.name}`;
    if (e.isDirectory()) newest = Math.max(newest, newestSource(p));
    else if (/\.(ts|js|mjs)$/.test(e.name)) newest = Math.max(newest, statSync(p).mtimeMs);
  }
  return newest;
}

function builtIsFresh() {
  try {
    const built = statSync(compiled).mtimeMs;
    return ['src', 'hsm', 'ceremonies'].every((d) => {
      try {
        return newestSource(`${root}${d}`) <= built;
      } catch {
        return true; // folder absent
      }
    });
  } catch {
    return false;
  }
}

/** @type {{ runMain(argv: string[]): void }} */
let cli;
if (process.env.EMBASSY_FROM_SOURCE !== '1' && builtIsFresh()) {
  cli = await import(compiled.href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../src/cli/main.ts');
}
cli.runMain(process.argv.slice(2));

#!/usr/bin/env node
// Runs before `npm test` and `npm run demo` (pretest/predemo), so that on a fresh Debian/Ubuntu
// machine those two commands are the whole set-up: system packages (SoftHSM2, OpenSC, age),
// node_modules from the lockfile, the compiled CLI, and a running PostgreSQL for the store tests.
// Plain Node with no dependencies: it runs before node_modules exist.
import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync } from 'node:fs';

const root = new URL('..', import.meta.url).pathname;
const say = (line) => process.stderr.write(`setup: ${line}\n`);
const has = (cmd) => spawnSync('sh', ['-c', `command -v ${cmd}`], { stdio: 'ignore' }).status === 0;
const run = (cmd, args, opts = {}) => {
  const r = spawnSync(cmd, args, { stdio: 'inherit', cwd: root, ...opts });
  if (r.status !== 0) {
    say(`failed: ${cmd} ${args.join(' ')}`);
    process.exit(1);
  }
};

const packages = { 'softhsm2-util': 'softhsm2', 'pkcs11-tool': 'opensc', age: 'age', openssl: 'openssl' };
const missing = Object.entries(packages)
  .filter(([cmd]) => !has(cmd))
  .map(([, pkg]) => pkg);
if (missing.length > 0) {
  const cmd = `apt-get update && apt-get install -y ${missing.join(' ')}`;
  if (process.getuid?.() !== 0 || !has('apt-get')) {
    say(`missing system packages: ${missing.join(', ')}; install them with: sudo sh -c '${cmd}'`);
    process.exit(1);
  }
  say(`installing ${missing.join(', ')}`);
  run('sh', ['-c', cmd], { env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
}

if (!existsSync(`${root}node_modules/.package-lock.json`)) {
  say('installing node_modules (npm ci)');
  run('npm', ['ci']); // also builds dist/ through the prepare script
} else if (!existsSync(`${root}dist/src/cli/main.js`)) {
  run('npm', ['run', 'build', '--silent']);
}

// The store tests need PostgreSQL at 127.0.0.1:5432 (trust auth, database `test`).
if (process.env.npm_lifecycle_event === 'pretest' && has('pg_isready') && has('pg_ctlcluster')) {
  if (spawnSync('pg_isready', ['-h', '127.0.0.1', '-p', '5432', '-q']).status !== 0) {
    const versions = existsSync('/etc/postgresql') ? readdirSync('/etc/postgresql') : [];
    if (versions.length > 0) {
      say('starting PostgreSQL');
      spawnSync('pg_ctlcluster', ['--skip-systemctl-redirect', versions[0], 'main', 'start'], {
        stdio: 'inherit',
      });
    }
  }
}

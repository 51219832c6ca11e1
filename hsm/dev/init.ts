/**
 * Development tokens on SoftHSM2: `npm run hsm:init -- --data-dir DIR [--custodians N]`.
 *
 * Creates `DIR/softhsm2.conf` with its own token directory `DIR/tokens/` (never the system's), the
 * tokens `home`, `log`, `station`, `custodian-1` … `custodian-N` (N = 5 by default) with random PINs
 * in `DIR/dev-pins.json` (mode 0600, `{ "<label>": { "user": "…", "so": "…" } }`), and the home
 * key-encryption key in `home`. Running it again is harmless: existing tokens are kept (their PINs
 * must be in dev-pins.json), missing ones are created. The PINs are never printed.
 *
 * Library use (tests, the demo): `await initDevTokens({ dataDir })`, **before** this process loads
 * the PKCS#11 module for another data directory: SoftHSM2 reads `SOFTHSM2_CONF` at C_Initialize.
 */
import { spawnSync } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, existsSync, mkdirSync, readFileSync } from 'node:fs';
import { resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { writeDurablySync } from '../../src/fs/durable.ts';
import { ckrName, HsmError } from '../errors.ts';
import { openHome } from '../home.ts';
import { DEFAULT_MODULE, loadModule, P, type P11, reloadModule, tokenLabels } from '../pkcs11/module.ts';

export interface InitOptions {
  dataDir: string;
  /** Number of custodian tokens (default 5). */
  custodians?: number;
  /** SoftHSM2 module path (default `/usr/lib/softhsm/libsofthsm2.so`). */
  module?: string;
  /** Progress lines (default: none). Never receives a PIN. */
  log?: (line: string) => void;
}

export interface DevPins {
  [label: string]: { user: string; so: string };
}

export interface InitResult {
  dataDir: string;
  /** `DIR/softhsm2.conf`: export it as SOFTHSM2_CONF to use the tokens. */
  confPath: string;
  pinsPath: string;
  labels: string[];
  /** Labels created by this run (empty when everything existed). */
  created: string[];
  /** The current home KEK id. */
  homeKekId: string;
}

export const devTokenLabels = (custodians = 5): string[] => [
  'home',
  'log',
  'station',
  ...Array.from({ length: custodians }, (_, i) => `custodian-${i + 1}`),
];

const fail = (msg: string) => new HsmError('provisioning_failed', msg);

/** Makes sure softhsm2-util exists: installs it with apt-get when root, else says the command. */
export function ensureSoftHsm(log: (l: string) => void = () => {}): void {
  if (spawnSync('softhsm2-util', ['--version'], { stdio: 'ignore' }).status === 0) return;
  const cmd = 'apt-get update && apt-get install -y softhsm2 opensc';
  if (process.getuid?.() === 0 && spawnSync('apt-get', ['--version'], { stdio: 'ignore' }).status === 0) {
    log('softhsm2-util not found: installing softhsm2 and opensc with apt-get');
    const r = spawnSync('sh', ['-c', cmd], {
      stdio: 'inherit',
      env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' },
    });
    if (r.status === 0 && spawnSync('softhsm2-util', ['--version'], { stdio: 'ignore' }).status === 0) return;
    throw fail(`installing SoftHSM2 failed; run: ${cmd}`);
  }
  throw fail(`SoftHSM2 is not installed; run: sudo sh -c '${cmd}'`);
}

/** Initialises the first free SoftHSM2 slot as `label` with the given PINs, in this process. */
function createToken(p11: P11, label: string, pin: { user: string; so: string }): void {
  const free = p11
    .C_GetSlotList(true)
    .find((s) => (p11.C_GetTokenInfo(s).flags & P.CKF_TOKEN_INITIALIZED) === 0);
  if (!free) throw fail(`SoftHSM2 offers no free slot to create token "${label}"`);
  let session: Buffer | undefined;
  try {
    // labels are 32 bytes padded with blanks (pkcs11js would pad with NULs)
    p11.C_InitToken(free, pin.so, label.padEnd(32, ' '));
    session = p11.C_OpenSession(free, P.CKF_SERIAL_SESSION | P.CKF_RW_SESSION);
    p11.C_Login(session, P.CKU_SO, pin.so);
    p11.C_InitPIN(session, pin.user);
    p11.C_Logout(session);
  } catch (e) {
    throw fail(`creating token "${label}" failed: ${ckrName(e) ?? 'no return code'}`);
  } finally {
    if (session) p11.C_CloseSession(session);
  }
}

/** The PINs are the only way into the tokens: written durably, so a crash never loses them. */
function writePins(path: string, pins: DevPins) {
  writeDurablySync(path, `${JSON.stringify(pins, null, 2)}\n`, { mode: 0o600 });
}

const newPin = () => randomBytes(12).toString('base64url');

export async function initDevTokens(opts: InitOptions): Promise<InitResult> {
  const log = opts.log ?? (() => {});
  const custodians = opts.custodians ?? 5;
  if (!Number.isInteger(custodians) || custodians < 1 || custodians > 64)
    throw new HsmError('bad_argument', '--custodians must be an integer in 1..64');
  const module = opts.module ?? DEFAULT_MODULE;
  ensureSoftHsm(log);
  const dataDir = resolve(opts.dataDir);
  const tokenDir = resolve(dataDir, 'tokens');
  const confPath = resolve(dataDir, 'softhsm2.conf');
  const pinsPath = resolve(dataDir, 'dev-pins.json');
  mkdirSync(tokenDir, { recursive: true, mode: 0o700 });
  const conf = [
    '# data-embassy development tokens (npm run hsm:init); never the system token directory',
    `directories.tokendir = ${tokenDir}/`,
    'objectstore.backend = file',
    'log.level = ERROR',
    'slots.removable = false',
    'slots.mechanisms = ALL',
    'library.reset_on_fork = false',
    '',
  ].join('\n');
  if (existsSync(confPath)) {
    const have = readFileSync(confPath, 'utf8');
    if (!have.includes(`directories.tokendir = ${tokenDir}/`))
      throw fail(
        `${confPath} exists and points at another token directory; remove it or use another --data-dir`,
      );
  } else {
    writeDurablySync(confPath, conf, { mode: 0o600 });
  }

  let pins: DevPins = {};
  if (existsSync(pinsPath)) {
    try {
      pins = JSON.parse(readFileSync(pinsPath, 'utf8')) as DevPins;
    } catch {
      throw fail(`${pinsPath} is not valid JSON; fix or remove it (and DIR/tokens) to start over`);
    }
  }
  const labels = devTokenLabels(custodians);
  // Point SoftHSM2 at DIR and (re)initialise the module in this process: SoftHSM2 reads
  // SOFTHSM2_CONF and its token directory only at C_Initialize. Tokens are created in-process
  // (C_InitToken / C_InitPIN), so no PIN ever appears on a command line.
  const previous = process.env['SOFTHSM2_CONF'];
  process.env['SOFTHSM2_CONF'] = confPath;
  let p11: P11;
  try {
    reloadModule(module);
    p11 = loadModule(module).p11;
  } catch (e) {
    if (previous === undefined) delete process.env['SOFTHSM2_CONF'];
    else process.env['SOFTHSM2_CONF'] = previous;
    throw e;
  }
  const present = tokenLabels(p11);
  const orphan = present.filter((l) => !pins[l]);
  if (orphan.length)
    throw fail(
      `tokens ${orphan.map((l) => `"${l}"`).join(', ')} already exist in ${tokenDir} but their PINs are not in ${pinsPath}; remove ${tokenDir} to start over`,
    );
  const created: string[] = [];
  for (const label of labels) {
    if (present.includes(label)) continue;
    // write the PINs first, so that a crash never leaves a token whose PINs are lost
    pins[label] = pins[label] ?? { user: newPin(), so: newPin() };
    writePins(pinsPath, pins);
    createToken(p11, label, pins[label]);
    created.push(label);
    log(`created token "${label}"`);
  }
  if (!existsSync(pinsPath)) writePins(pinsPath, pins);
  chmodSync(pinsPath, 0o600);

  const home = await openHome({ label: 'home', pin: pins['home']!.user, module, create: true });
  const homeKekId = home.kekId;
  home.close();
  log(`home key-encryption key ${homeKekId}`);
  return { dataDir, confPath, pinsPath, labels, created, homeKekId };
}

function parseArgs(argv: string[]): { dataDir: string; custodians: number; module?: string } {
  let dataDir = process.env['EMBASSY_DATA_DIR'] ?? '.embassy';
  let custodians = 5;
  let module: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i]!;
    const [flag, inline] = a.includes('=')
      ? [a.slice(0, a.indexOf('=')), a.slice(a.indexOf('=') + 1)]
      : [a, undefined];
    const value = () => {
      const v = inline ?? argv[++i];
      if (v === undefined) throw new HsmError('bad_argument', `${flag} needs a value`);
      return v;
    };
    if (flag === '--data-dir') dataDir = value();
    else if (flag === '--custodians') custodians = Number(value());
    else if (flag === '--module') module = value();
    else
      throw new HsmError(
        'bad_argument',
        `unknown option ${a} (use --data-dir DIR [--custodians N] [--module PATH])`,
      );
  }
  return { dataDir, custodians, ...(module ? { module } : {}) };
}

async function main() {
  try {
    const args = parseArgs(process.argv.slice(2));
    const r = await initDevTokens({ ...args, log: (l) => process.stderr.write(`${l}\n`) });
    process.stdout.write(
      `${r.created.length ? `created ${r.created.length} token(s)` : 'all tokens already existed'} in ${r.dataDir}\n` +
        `tokens: ${r.labels.join(', ')}\n` +
        `development PINs: ${r.pinsPath} (mode 0600)\n` +
        `inspect: SOFTHSM2_CONF=${r.confPath} pkcs11-tool --module ${args.module ?? DEFAULT_MODULE} --list-slots\n` +
        `export SOFTHSM2_CONF=${r.confPath}\n`,
    );
  } catch (e) {
    process.stderr.write(`hsm:init: ${e instanceof Error ? e.message : String(e)}\n`);
    process.exit(1);
  }
}

if (process.argv[1] && import.meta.url === pathToFileURL(resolve(process.argv[1])).href) await main();

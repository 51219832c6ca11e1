/**
 * Where a token PIN comes from (docs/DECISIONS.md#d11), first match wins:
 *
 * 1. `--pin-file FILE`: either a single PIN (the whole file, one trailing newline ignored) or a JSON
 *    object mapping token labels to PINs (`{"custodian-1": "…"}` or `{"custodian-1": {"user": "…", "so": "…"}}`);
 *    a JSON map without the label falls through to the next source;
 * 2. `EMBASSY_PIN_<LABEL>` (label upper-cased, every non-alphanumeric character replaced by `_`);
 * 3. `EMBASSY_PIN`;
 * 4. `DIR/dev-pins.json`, only with `dev: true` and only when the module is SoftHSM2;
 * 5. a hidden prompt on a TTY (never echoed).
 *
 * For the security officer (`so: true`) the variables are `EMBASSY_SO_PIN_<LABEL>` and
 * `EMBASSY_SO_PIN`, and a label's `so` entry is used from a JSON map or the dev file.
 * A PIN is never logged and never put in an error message.
 *
 * @example
 * const { pin } = await resolvePin({ label: 'custodian-1', pinFile: args['pin-file'], dev: args.dev, dataDir });
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { HsmError } from './errors.ts';
import { isSoftHsmPath, resolveModulePath } from './pkcs11/module.ts';

export type PinSource = 'pin-file' | 'env-label' | 'env' | 'dev-file' | 'prompt';

export interface PinOptions {
  /** Token label. */
  label: string;
  /** `--pin-file FILE`. */
  pinFile?: string;
  /** `--dev`: allow `DIR/dev-pins.json` (SoftHSM2 only). */
  dev?: boolean;
  /** `--data-dir DIR` (for the dev file). */
  dataDir?: string;
  /** Module path, to check that it is SoftHSM2 before using the dev file. */
  module?: string;
  /** The security officer PIN instead of the user PIN. */
  so?: boolean;
  /** Environment (default `process.env`). */
  env?: Record<string, string | undefined>;
  /** Prompt when nothing else gives a PIN (default true; only happens on a TTY). */
  prompt?: boolean;
  /** Prompt input (default process.stdin) and output (default process.stderr). */
  input?: NodeJS.ReadableStream & { isTTY?: boolean; setRawMode?: (raw: boolean) => unknown };
  output?: NodeJS.WritableStream;
}

export interface ResolvedPin {
  pin: string;
  source: PinSource;
}

/** `EMBASSY_PIN_<LABEL>` for a label: `custodian-1` → `EMBASSY_PIN_CUSTODIAN_1`. */
export function pinEnvName(label: string, so = false): string {
  return `EMBASSY_${so ? 'SO_' : ''}PIN_${label.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;
}

function checkPin(pin: string, where: string): string {
  if (pin.length < 1 || pin.length > 255 || /[\r\n\0]/.test(pin))
    throw new HsmError('pin_unavailable', `the PIN from ${where} is empty, too long or has a line break`);
  return pin;
}

function fromMap(map: unknown, label: string, so: boolean): string | undefined {
  if (typeof map !== 'object' || map === null || Array.isArray(map)) return undefined;
  const v = (map as Record<string, unknown>)[label];
  if (typeof v === 'string') return so ? undefined : v;
  if (typeof v === 'object' && v !== null) {
    const p = (v as Record<string, unknown>)[so ? 'so' : 'user'];
    if (typeof p === 'string') return p;
  }
  return undefined;
}

function readPinFile(file: string, label: string, so: boolean): string | undefined {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    throw new HsmError('pin_unavailable', `cannot read the PIN file ${file}`);
  }
  if (text.trimStart().startsWith('{')) {
    let map: unknown;
    try {
      map = JSON.parse(text);
    } catch {
      throw new HsmError('pin_unavailable', `the PIN file ${file} starts with "{" but is not valid JSON`);
    }
    const pin = fromMap(map, label, so);
    return pin === undefined ? undefined : checkPin(pin, `PIN file ${file}`);
  }
  return checkPin(text.replace(/\r?\n$/, ''), `PIN file ${file}`);
}

/** Resolves a PIN from the sources above, or throws `pin_unavailable` naming the sources tried. */
export async function resolvePin(opts: PinOptions): Promise<ResolvedPin> {
  const so = opts.so === true;
  const env = opts.env ?? process.env;
  if (opts.pinFile) {
    const pin = readPinFile(opts.pinFile, opts.label, so);
    if (pin !== undefined) return { pin, source: 'pin-file' };
  }
  const byLabel = env[pinEnvName(opts.label, so)];
  if (byLabel) return { pin: checkPin(byLabel, pinEnvName(opts.label, so)), source: 'env-label' };
  const generic = env[so ? 'EMBASSY_SO_PIN' : 'EMBASSY_PIN'];
  if (generic) return { pin: checkPin(generic, so ? 'EMBASSY_SO_PIN' : 'EMBASSY_PIN'), source: 'env' };
  if (opts.dev) {
    const module = resolveModulePath(opts.module);
    if (!isSoftHsmPath(module))
      throw new HsmError(
        'pin_unavailable',
        `--dev PINs are only for SoftHSM2; the module ${module} is not SoftHSM2 (use --pin-file or EMBASSY_PIN)`,
      );
    if (!opts.dataDir) throw new HsmError('pin_unavailable', '--dev needs --data-dir to find dev-pins.json');
    const file = join(opts.dataDir, 'dev-pins.json');
    let map: unknown;
    try {
      map = JSON.parse(readFileSync(file, 'utf8'));
    } catch {
      throw new HsmError('pin_unavailable', `cannot read the development PIN file ${file}`);
    }
    const pin = fromMap(map, opts.label, so);
    if (pin !== undefined) return { pin: checkPin(pin, file), source: 'dev-file' };
  }
  const input = opts.input ?? process.stdin;
  if (opts.prompt !== false && input.isTTY) {
    const pin = await promptHidden(
      `${so ? 'Security officer PIN' : 'PIN'} for token "${opts.label}": `,
      input,
      opts.output ?? process.stderr,
    );
    return { pin: checkPin(pin, 'the prompt'), source: 'prompt' };
  }
  throw new HsmError(
    'pin_unavailable',
    `no PIN for token "${opts.label}": use --pin-file, ${pinEnvName(opts.label, so)}, ${so ? 'EMBASSY_SO_PIN' : 'EMBASSY_PIN'}${opts.dev ? '' : ', --dev (SoftHSM2)'} or run on a terminal`,
  );
}

/**
 * Reads a line from a TTY in raw mode without echoing it. Backspace edits, Ctrl-C / Ctrl-D abort.
 * Only a newline is written back to the output.
 */
export function promptHidden(
  question: string,
  input: NodeJS.ReadableStream & { setRawMode?: (raw: boolean) => unknown },
  output: NodeJS.WritableStream,
): Promise<string> {
  return new Promise((resolve, reject) => {
    output.write(question);
    let pin = '';
    const wasPaused = input.isPaused();
    input.setRawMode?.(true);
    input.resume();
    const done = (err?: HsmError) => {
      input.removeListener('data', onData);
      input.setRawMode?.(false);
      if (wasPaused) input.pause();
      output.write('\n');
      if (err) reject(err);
      else resolve(pin);
    };
    const onData = (chunk: Buffer | string) => {
      for (const ch of chunk.toString('utf8')) {
        if (ch === '\r' || ch === '\n') return done();
        if (ch === '\u0003' || ch === '\u0004')
          return done(new HsmError('pin_unavailable', 'PIN entry aborted'));
        if (ch === '\u007f' || ch === '\b') pin = pin.slice(0, -1);
        else pin += ch;
      }
    };
    input.on('data', onData);
  });
}

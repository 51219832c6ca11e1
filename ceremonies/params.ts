/** Parameter parsing for ceremony definitions: CLI strings or typed values, one clear error each. */
import { CeremonyError } from './types.ts';

const bad = (ceremony: string, m: string) => new CeremonyError('ceremony_bad_params', `${ceremony}: ${m}`);

export function str(c: string, raw: Record<string, unknown>, name: string): string | undefined {
  const v = raw[name];
  if (v === undefined || v === null || v === '') return undefined;
  if (typeof v !== 'string') throw bad(c, `--${name} must be text`);
  if (v.length > 256) throw bad(c, `--${name} is too long`);
  return v;
}

export function reqStr(c: string, raw: Record<string, unknown>, name: string): string {
  const v = str(c, raw, name);
  if (v === undefined) throw bad(c, `--${name} is required`);
  return v;
}

export function id(c: string, raw: Record<string, unknown>, name: string, required: true): string;
export function id(
  c: string,
  raw: Record<string, unknown>,
  name: string,
  required?: false,
): string | undefined;
export function id(
  c: string,
  raw: Record<string, unknown>,
  name: string,
  required = false,
): string | undefined {
  const v = required ? reqStr(c, raw, name) : str(c, raw, name);
  if (v !== undefined && !/^[a-z][a-z0-9-]{0,62}$/.test(v))
    throw bad(c, `--${name} must match [a-z][a-z0-9-]*`);
  return v;
}

export function int(
  c: string,
  raw: Record<string, unknown>,
  name: string,
  min: number,
  max: number,
): number | undefined {
  const v = raw[name];
  if (v === undefined || v === null || v === '') return undefined;
  const n = typeof v === 'number' ? v : typeof v === 'string' && /^\d+$/.test(v) ? Number(v) : Number.NaN;
  if (!Number.isSafeInteger(n) || n < min || n > max)
    throw bad(c, `--${name} must be an integer in ${min}..${max}`);
  return n;
}

export function ids(c: string, raw: Record<string, unknown>, name: string): string[] | undefined {
  const v = raw[name];
  if (v === undefined || v === null || v === '') return undefined;
  const list = Array.isArray(v) ? v : typeof v === 'string' ? v.split(',').map((s) => s.trim()) : null;
  if (!list?.every((x) => typeof x === 'string' && /^[a-z][a-z0-9-]{0,62}$/.test(x)))
    throw bad(c, `--${name} must be a comma-separated list of ids`);
  if (new Set(list).size !== list.length) throw bad(c, `--${name} names an id twice`);
  return list as string[];
}

export function bool(c: string, raw: Record<string, unknown>, name: string): boolean {
  const v = raw[name];
  if (v === undefined || v === null || v === '' || v === false || v === 'false') return false;
  if (v === true || v === 'true') return true;
  throw bad(c, `--${name} must be true or false`);
}

export { bad as paramError };

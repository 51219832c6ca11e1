/**
 * RFC 8785 JSON Canonicalization Scheme (JCS), guarded.
 *
 * Canonical form: no whitespace; object members sorted by the UTF-16 code units of their names
 * (JavaScript's default `sort()`); strings and numbers serialised exactly as ECMAScript's
 * `JSON.stringify` does; output encoded as UTF-8.
 *
 * `JSON.stringify` alone silently changes data it cannot represent. This module refuses it instead,
 * with a {@link JcsError}:
 * - non-finite numbers (`NaN`, `±Infinity`; `JSON.stringify` writes `null`) and `bigint`;
 * - strings (values or member names) with a lone UTF-16 surrogate (not I-JSON, no UTF-8 encoding);
 * - `undefined`, functions and symbols, anywhere (also as array elements or member values);
 * - objects with a `toJSON` member (`Date` included), objects whose prototype is neither
 *   `Object.prototype` nor `null` (class instances, `Map`, `Uint8Array`, boxed primitives …), symbol
 *   keys, sparse arrays, cycles, and nesting deeper than {@link JCS_MAX_DEPTH}.
 *
 * `-0` is written as `0` (as RFC 8785 requires). Numbers that are not safe integers are allowed, as
 * RFC 8785 allows them; schemas that need exact integers should carry them as decimal strings.
 *
 * @example
 * canonicalize({ b: [1, 'x'], a: -0 }) // '{"a":0,"b":[1,"x"]}'
 * jcs({ b: 1, a: 2 })                  // UTF-8 bytes of '{"a":2,"b":1}'
 * parseCanonical(jcs(x))               // deep-equals x; throws JcsError on any non-canonical input
 * @module
 */

import { EmbassyError } from '../errors.ts';

/** The JSON values this module accepts. */
export type JsonValue = null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** Error codes raised by this module. */
export type JcsErrorCode =
  | 'jcs_non_finite_number'
  | 'jcs_lone_surrogate'
  | 'jcs_unsupported_type'
  | 'jcs_to_json'
  | 'jcs_non_plain_object'
  | 'jcs_sparse_array'
  | 'jcs_cycle'
  | 'jcs_too_deep'
  | 'jcs_invalid_json'
  | 'jcs_not_canonical';

/** The only error this module throws. `path` is a JSON-pointer-like location (`/a/0`). */
export class JcsError extends EmbassyError<JcsErrorCode> {
  constructor(
    code: JcsErrorCode,
    message: string,
    readonly path = '',
  ) {
    super(code, path === '' ? message : `${message} at ${path}`);
  }
}

/** Maximum nesting of arrays and objects (keeps recursion far from the engine's stack limit). */
export const JCS_MAX_DEPTH = 256;

const LONE_SURROGATE = /[\uD800-\uDBFF](?![\uDC00-\uDFFF])|(?<![\uD800-\uDBFF])[\uDC00-\uDFFF]/;

/** True iff `s` has no lone surrogate (so it has a UTF-8 encoding). */
export const isWellFormedString = (s: string): boolean => !LONE_SURROGATE.test(s);

const ptr = (path: string, key: string | number): string =>
  `${path}/${String(key).replaceAll('~', '~0').replaceAll('/', '~1')}`;

function str(s: string, path: string): string {
  if (LONE_SURROGATE.test(s)) throw new JcsError('jcs_lone_surrogate', 'string has a lone surrogate', path);
  return JSON.stringify(s);
}

function write(v: unknown, path: string, stack: object[], out: string[]): void {
  switch (typeof v) {
    case 'string':
      out.push(str(v, path));
      return;
    case 'number':
      if (!Number.isFinite(v)) throw new JcsError('jcs_non_finite_number', `number ${v} is not finite`, path);
      out.push(JSON.stringify(v)); // ES2015 Number::toString; -0 → "0"
      return;
    case 'boolean':
      out.push(v ? 'true' : 'false');
      return;
    case 'object':
      break;
    default:
      throw new JcsError('jcs_unsupported_type', `${typeof v} is not a JSON value`, path);
  }
  if (v === null) {
    out.push('null');
    return;
  }
  if (stack.includes(v)) throw new JcsError('jcs_cycle', 'value is cyclic', path);
  if (stack.length >= JCS_MAX_DEPTH)
    throw new JcsError('jcs_too_deep', `nesting exceeds ${JCS_MAX_DEPTH}`, path);
  if (Array.isArray(v)) {
    if (Object.getPrototypeOf(v) !== Array.prototype)
      throw new JcsError('jcs_non_plain_object', 'array subclass is not plain JSON', path);
    stack.push(v);
    out.push('[');
    for (let i = 0; i < v.length; i++) {
      if (!(i in v)) throw new JcsError('jcs_sparse_array', 'array has a hole', ptr(path, i));
      if (i > 0) out.push(',');
      write(v[i], ptr(path, i), stack, out);
    }
    out.push(']');
    stack.pop();
    return;
  }
  const proto = Object.getPrototypeOf(v);
  if (proto !== Object.prototype && proto !== null) {
    const what =
      typeof (v as { toJSON?: unknown }).toJSON === 'function' ? 'jcs_to_json' : 'jcs_non_plain_object';
    throw new JcsError(what, `${v.constructor?.name ?? 'object'} is not a plain JSON object`, path);
  }
  if (Object.getOwnPropertySymbols(v).length > 0)
    throw new JcsError('jcs_unsupported_type', 'object has symbol keys', path);
  const obj = v as Record<string, unknown>;
  if (Object.hasOwn(obj, 'toJSON')) throw new JcsError('jcs_to_json', 'object has a toJSON member', path);
  const keys = Object.keys(obj).sort(); // UTF-16 code unit order, as RFC 8785 §3.2.3 requires
  stack.push(v);
  out.push('{');
  for (let i = 0; i < keys.length; i++) {
    const k = keys[i]!;
    const p = ptr(path, k);
    if (i > 0) out.push(',');
    out.push(str(k, p), ':');
    write(obj[k], p, stack, out);
  }
  out.push('}');
  stack.pop();
}

/**
 * The RFC 8785 canonical JSON text of `value`, as a string.
 * @throws {JcsError} if `value` is not plain, finite, well-formed JSON data (see the module notes).
 * @example canonicalize({ z: 'é', a: [true, null, 1e21] }) // '{"a":[true,null,1e+21],"z":"é"}'
 */
export function canonicalize(value: unknown): string {
  const out: string[] = [];
  write(value, '', [], out);
  return out.join('');
}

const encoder = new TextEncoder();
const decoder = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/**
 * The RFC 8785 canonical JSON bytes (UTF-8) of `value`: what gets hashed and signed.
 * @throws {JcsError} as {@link canonicalize}.
 * @example toHex(jcs({ b: 1, a: 'x' })) // '7b2261223a2278222c2262223a317d' ('{"a":"x","b":1}')
 */
export function jcs(value: unknown): Uint8Array {
  return encoder.encode(canonicalize(value));
}

/**
 * Parses JSON that must already be in canonical form, byte for byte: the strict reader for stored
 * entries and statements. Duplicate member names, whitespace, non-sorted members, escapes JCS would not
 * use, a byte-order mark, invalid UTF-8 or lone surrogates all fail, because re-canonicalising the
 * parsed value does not reproduce the input.
 * @throws {JcsError} `jcs_invalid_json` (not UTF-8 or not JSON) or `jcs_not_canonical`.
 * @example parseCanonical(utf8('{"a":1}')) // { a: 1 };  parseCanonical(utf8('{ "a":1}')) throws
 */
export function parseCanonical(input: Uint8Array | string): JsonValue {
  let text: string;
  if (typeof input === 'string') text = input;
  else {
    try {
      text = decoder.decode(input);
    } catch {
      throw new JcsError('jcs_invalid_json', 'input is not valid UTF-8');
    }
  }
  let value: JsonValue;
  try {
    value = JSON.parse(text) as JsonValue;
  } catch {
    throw new JcsError('jcs_invalid_json', 'input is not valid JSON');
  }
  let again: string;
  try {
    again = canonicalize(value);
  } catch (e) {
    if (e instanceof JcsError)
      throw new JcsError('jcs_not_canonical', `input is not canonical: ${e.message}`);
    throw e;
  }
  if (again !== text) throw new JcsError('jcs_not_canonical', 'input is not in RFC 8785 canonical form');
  return value;
}

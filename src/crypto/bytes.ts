/**
 * Byte helpers shared by every format: big-endian integers, length-prefixed fields,
 * constant-time comparison. Every concatenated field in a data-embassy format is length-prefixed
 * (docs/DECISIONS.md#d7), so no two different field lists can encode to the same bytes.
 *
 * @example
 * lp(utf8('land')) // Uint8Array [0, 4, 108, 97, 110, 100]
 */
import { timingSafeEqual } from 'node:crypto';

const encoder = new TextEncoder();

export const utf8 = (s: string): Uint8Array => encoder.encode(s);

export function concat(...parts: Uint8Array[]): Uint8Array {
  let n = 0;
  for (const p of parts) n += p.length;
  const out = new Uint8Array(n);
  let off = 0;
  for (const p of parts) {
    out.set(p, off);
    off += p.length;
  }
  return out;
}

export function u16(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffff) throw new RangeError(`u16 out of range: ${n}`);
  return Uint8Array.of(n >>> 8, n & 0xff);
}

export function u32(n: number): Uint8Array {
  if (!Number.isInteger(n) || n < 0 || n > 0xffffffff) throw new RangeError(`u32 out of range: ${n}`);
  const out = new Uint8Array(4);
  new DataView(out.buffer).setUint32(0, n);
  return out;
}

/** A field as `u16be(length) ‖ bytes`; strings are UTF-8. Fields longer than 65535 bytes are refused. */
export function lp(field: Uint8Array | string): Uint8Array {
  const b = typeof field === 'string' ? utf8(field) : field;
  return concat(u16(b.length), b);
}

/** `lp(f1) ‖ lp(f2) ‖ …`: the canonical encoding of a tuple of fields. */
export const fields = (...fs: (Uint8Array | string)[]): Uint8Array => concat(...fs.map(lp));

/** Constant-time equality for secrets and MACs; different lengths compare unequal. */
export function equalCt(a: Uint8Array, b: Uint8Array): boolean {
  return a.length === b.length && timingSafeEqual(a, b);
}

export const toHex = (b: Uint8Array): string => Buffer.from(b.buffer, b.byteOffset, b.length).toString('hex');
export const fromHex = (s: string): Uint8Array => new Uint8Array(Buffer.from(s, 'hex'));

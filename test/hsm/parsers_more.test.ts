import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { HsmError } from '../../hsm/errors.ts';
import { resolvePin } from '../../hsm/pins.ts';
import { unwrapOctetString } from '../../hsm/pkcs11/consts.ts';

const dir = mkdtempSync(join(tmpdir(), 'embassy-parsers-'));
afterAll(() => rmSync(dir, { recursive: true, force: true }));

describe('other parsers (fast-check)', () => {
  it('prop_ec_point_der: unwrapOctetString never throws and returns the content or the input', () => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (b) => {
        const buf = Buffer.from(b);
        const out = unwrapOctetString(buf);
        expect(out.length <= buf.length).toBe(true);
        if (out.length !== buf.length) expect(buf[0]).toBe(0x04);
      }),
      { numRuns: 5000 },
    );
    const point = Buffer.alloc(65, 4);
    expect(unwrapOctetString(Buffer.concat([Buffer.from([0x04, 0x41]), point]))).toEqual(point);
    expect(unwrapOctetString(Buffer.concat([Buffer.from([0x04, 0x81, 0x41]), point]))).toEqual(point);
  });

  it('prop_pin_file: any file content gives a PIN or pin_unavailable, and never echoes the content', async () => {
    const n = { i: 0 };
    await fc.assert(
      fc.asyncProperty(fc.oneof(fc.string({ maxLength: 300 }), fc.json({ maxDepth: 3 })), async (text) => {
        const f = join(dir, `pin-${n.i++}`);
        writeFileSync(f, text);
        try {
          const r = await resolvePin({ label: 'custodian-1', pinFile: f, env: {}, prompt: false });
          expect(['pin-file']).toContain(r.source);
          expect(r.pin.length).toBeGreaterThan(0);
          expect(/[\r\n\0]/.test(r.pin)).toBe(false);
        } catch (e) {
          expect(e).toBeInstanceOf(HsmError);
          expect((e as HsmError).code).toBe('pin_unavailable');
          if (text.trim().length >= 8) expect((e as HsmError).message).not.toContain(text.trim());
        }
      }),
      { numRuns: 500 },
    );
  });
});

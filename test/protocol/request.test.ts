/** Request signing: the payload binds method, path with query, body digest, time, nonce and principal. */
import { describe, expect, it } from 'vitest';
import { type RequestToSign, requestPayload, sha256Hex } from '../../src/protocol/request.ts';

const rosterId = new Uint8Array(32).fill(7);
const base: RequestToSign = {
  method: 'post',
  path: '/v1/ceremonies?x=1',
  body: new TextEncoder().encode('{"a":1}'),
  timestamp: '2026-01-01T00:00:00.000Z',
  nonce: '0'.repeat(32),
  principal: 'station-lux',
};
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

describe('requestPayload', () => {
  it('is deterministic and case-insensitive in the method', () => {
    expect(hex(requestPayload(base, rosterId))).toBe(
      hex(requestPayload({ ...base, method: 'POST' }, rosterId)),
    );
  });

  it('changes with every signed field and with the roster', () => {
    const p = hex(requestPayload(base, rosterId));
    const variants: Partial<RequestToSign>[] = [
      { method: 'GET' },
      { path: '/v1/ceremonies?x=2' },
      { body: new TextEncoder().encode('{"a":2}') },
      { timestamp: '2026-01-01T00:00:01.000Z' },
      { nonce: '1'.repeat(32) },
      { principal: 'station-two' },
    ];
    for (const v of variants)
      expect(hex(requestPayload({ ...base, ...v }, rosterId)), JSON.stringify(v)).not.toBe(p);
    expect(hex(requestPayload(base, new Uint8Array(32)))).not.toBe(p);
  });

  it('sha256Hex is lowercase hex of SHA-256', () => {
    expect(sha256Hex('')).toBe('e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855');
  });
});

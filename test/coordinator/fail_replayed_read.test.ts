import { randomBytes } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64Url } from '../../src/crypto/statement.ts';
import { decide, release } from '../../src/custodian/client.ts';
import { HEADER, requestPayload } from '../../src/protocol/request.ts';
import { requestUnlock } from '../../src/station/client.ts';
import { type TestWorld, testWorld } from './world.ts';

// The station's signed fetch of wrapped shares spends its nonce: a recorded request cannot be replayed.
describe('invariant 7: a replayed signed GET of the releases is refused', () => {
  let w: TestWorld;
  beforeAll(async () => {
    w = await testWorld('sqlite');
  });
  afterAll(async () => w?.cleanup());

  it('the same signed request twice: 200, then 409 replayed', async () => {
    const snap = await w.snapshot('land', new TextEncoder().encode('x'));
    const station = { id: 'station-lux', roster: w.roster, client: w.client('station-lux', w.fetch) };
    const { ceremony } = await requestUnlock(station, {
      domain: 'land',
      epoch: 1,
      snapshots: [snap],
      justification: { legalBasis: 'DRILL', caseReference: 'R-1', text: 'replay test' },
      ttlSeconds: 3600,
    });
    const ids = ['custodian-1', 'custodian-3', 'custodian-5'];
    const session = (id: string) => {
      const c = w.custodians.get(id)!;
      return { id, roster: w.roster, client: w.client(id, w.fetch), token: c.token, journal: c.journal };
    };
    for (const id of ids) await decide(session(id), ceremony.id, 'approve');
    for (const id of ids) await release(session(id), ceremony.id);
    const path = `/v1/ceremonies/${ceremony.id}/releases`;
    const timestamp = new Date().toISOString();
    const nonce = randomBytes(16).toString('hex');
    const payload = requestPayload(
      { method: 'GET', path, body: new Uint8Array(0), timestamp, nonce, principal: 'station-lux' },
      Buffer.from(w.rosterPin, 'hex'),
    );
    const headers = {
      [HEADER.principal]: 'station-lux',
      [HEADER.timestamp]: timestamp,
      [HEADER.nonce]: nonce,
      [HEADER.roster]: w.rosterPin,
      [HEADER.signature]: toBase64Url(await w.station.sign(payload)),
    };
    const first = await w.app.request(path, { headers });
    expect(first.status).toBe(200);
    expect(((await first.json()) as { releases: unknown[] }).releases).toHaveLength(3);
    const again = await w.app.request(path, { headers });
    expect(again.status).toBe(409);
    expect(await again.json()).toEqual({
      error: { code: 'replayed', message: 'this request was seen before (replayed nonce)' },
    });
  });
});

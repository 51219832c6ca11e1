import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { auditorChecks } from '../../src/audit/auditor.ts';
import { exportBundle } from '../../src/audit/bundle.ts';
import { appendEntry } from '../../src/audit/log.ts';
import { verifyBundle } from '../../src/audit/verify.ts';
import { decide } from '../../src/custodian/client.ts';
import { formatVerifierKey } from '../../src/log/note.ts';
import { recipientKeysHash, STATEMENT } from '../../src/protocol/statements.ts';
import { requestUnlock } from '../../src/station/client.ts';
import { type TestWorld, testWorld } from '../coordinator/world.ts';

// An unlock released below threshold, forged into the log (as a compromised coordinator could):
// the auditor's offline replay of the ceremony policy names the entry.
describe('audit verify replays ceremony policy', () => {
  let w: TestWorld;
  beforeAll(async () => {
    w = await testWorld('sqlite');
  });
  afterAll(async () => w?.cleanup());

  it('a release after one approval (threshold 3) is a finding that names the entry', async () => {
    const snap = await w.snapshot('land', new TextEncoder().encode('x'));
    const station = { id: 'station-lux', roster: w.roster, client: w.client('station-lux', w.fetch) };
    const { ceremony, keys } = await requestUnlock(station, {
      domain: 'land',
      epoch: 1,
      snapshots: [snap],
      justification: { legalBasis: 'DRILL', caseReference: 'D-1', text: 'drill' },
      ttlSeconds: 3600,
    });
    const c1 = w.custodians.get('custodian-1')!;
    const client = w.client('custodian-1', w.fetch);
    await decide(
      { id: 'custodian-1', roster: w.roster, client, token: c1.token, journal: c1.journal },
      ceremony.id,
      'approve',
    );
    // The forgery: a validly signed release statement logged while only one custodian approved.
    const forged = await client.statement(STATEMENT.release, {
      ceremonyId: ceremony.id,
      requestHash: ceremony.requestHash,
      recipientKeys: recipientKeysHash(keys.p256.publicKey, keys.xwing.publicKey),
      blobHash: '00'.repeat(32),
      createdAt: new Date().toISOString(),
    });
    const seq = await w.store.transaction(
      async (trx) =>
        (await appendEntry(trx, { kind: 'release', actor: forged.signer, statement: forged })).seq,
    );
    await w.coordinator.checkpoint();
    const report = verifyBundle(await exportBundle(w.store), {
      logKey: formatVerifierKey(
        w.roster.log.origin,
        new Uint8Array(Buffer.from(w.roster.log.key, 'base64url')),
      ),
      rosterPin: w.rosterPin,
      ...auditorChecks(),
    });
    const f = report.findings.find((x) => x.code === 'CEREMONY_POLICY_VIOLATED');
    expect(f?.seq).toBe(seq);
    expect(f?.message).toMatch(/release by custodian-1 while the ceremony was open \(1 of 3 approvals/);
    expect(report.ceremonies.find((c) => c.id === ceremony.id)?.policy).toBe('violated');
  });
});

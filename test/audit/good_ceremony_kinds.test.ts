/**
 * `audit verify` reports each ceremony by its kind with the checks that apply to it: station
 * ceremonies (key generation, policy change) by their signed transcript and the roster version they
 * published, never as open unlocks with an unchecked policy; a transcript that names a roster version
 * the bundle does not hold is a finding.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runCeremony } from '../../ceremonies/index.ts';
import { auditorChecks } from '../../src/audit/auditor.ts';
import { exportBundle } from '../../src/audit/bundle.ts';
import { appendEntry } from '../../src/audit/log.ts';
import { verifyBundle } from '../../src/audit/verify.ts';
import type { JsonValue } from '../../src/crypto/jcs.ts';
import { signStatement } from '../../src/crypto/statement.ts';
import { formatVerifierKey } from '../../src/log/note.ts';
import { rosterIdHex } from '../../src/roster/index.ts';
import { rehearsal } from '../ceremonies/helpers.ts';

let r: Awaited<ReturnType<typeof rehearsal>>;
beforeAll(async () => {
  r = await rehearsal();
}, 120_000);
afterAll(async () => r?.cleanup());

async function verify() {
  const roster = r.env.roster();
  const versions = await r.env.coordinator.rosterVersions();
  return verifyBundle(await exportBundle(r.env.store), {
    logKey: formatVerifierKey(roster.log.origin, new Uint8Array(Buffer.from(roster.log.key, 'base64url'))),
    rosterPin: rosterIdHex(versions[0]!.roster),
    ...auditorChecks(),
  });
}

describe('audit verify reports ceremonies by kind', () => {
  it('key generation and policy change: closed transcripts whose roster versions the bundle holds', async () => {
    const kg = await runCeremony('key-generation', {
      env: r.env,
      params: { domain: 'census', threshold: '2', custodians: 'custodian-1,custodian-3' },
    });
    const pc = await runCeremony('policy-change', {
      env: r.env,
      params: { domain: 'census', 'cool-off-seconds': '60' },
    });
    const report = await verify();
    expect(report.findings).toEqual([]);
    const byId = (id: string) => report.ceremonies.find((c) => c.id === id)!;
    expect(byId(kg.transcript.ceremonyId)).toMatchObject({
      kind: 'key generation',
      ceremony: 'key-generation',
      closed: true,
      closeReason: 'completed',
      checks: ['transcript', 'roster version published'],
      policy: 'ok',
    });
    expect(byId(pc.transcript.ceremonyId)).toMatchObject({
      kind: 'policy change',
      closed: true,
      checks: ['transcript', 'roster version published'],
      policy: 'ok',
    });
    expect(report.ceremonies.filter((c) => c.kind !== 'unlock' && !c.closed)).toEqual([]);
    expect(report.ceremonies.filter((c) => c.policy === 'unchecked')).toEqual([]);
  });

  it('a completed transcript naming a roster version the bundle does not hold is a finding', async () => {
    const id = 'cer-key-generation-forged';
    const body = {
      format: 'data-embassy/ceremony-transcript/v1',
      ceremonyId: id,
      ceremony: 'key-generation',
      status: 'completed',
      steps: [{ step: 'publish-roster', outcome: 'done', record: { rosterId: 'ab'.repeat(32) } }],
    };
    const statement = await signStatement(
      {
        type: 'ceremony-transcript',
        roster: r.env.coordinator.rosterId,
        signer: r.env.station.ref,
        body: body as unknown as JsonValue,
      },
      r.env.station.sign,
    );
    const seq = await r.env.store.transaction(
      async (trx) =>
        (
          await appendEntry(trx, {
            kind: 'ceremony-transcript',
            actor: r.env.station.ref,
            statement,
            data: { ceremonyId: id, ceremony: 'key-generation', status: 'completed' },
          })
        ).seq,
    );
    await r.env.coordinator.checkpoint();
    const report = await verify();
    const f = report.findings.find((x) => x.code === 'CEREMONY_TRANSCRIPT_BAD');
    expect(f?.seq).toBe(seq);
    expect(f?.message).toMatch(/which the bundle does not hold/);
    expect(report.ceremonies.find((c) => c.id === id)).toMatchObject({
      kind: 'key generation',
      policy: 'violated',
    });
  });
});

/** The statement registry and the branded ids: one entry per statement type, ids parsed once. */
import { describe, expect, it } from 'vitest';
import { CeremonyId, DomainId, PrincipalRef, SnapshotId } from '../../src/protocol/ids.ts';
import { STATEMENT, STATEMENTS } from '../../src/protocol/statements.ts';

describe('statement registry', () => {
  it('has one entry per statement type, each with its signer role', () => {
    expect(Object.keys(STATEMENTS).sort()).toEqual(Object.values(STATEMENT).sort());
    expect(STATEMENTS[STATEMENT.unlockRequest].signer).toBe('station');
    expect(STATEMENTS[STATEMENT.decision].signer).toBe('custodian');
    expect(STATEMENTS[STATEMENT.release].signer).toBe('custodian');
    expect(STATEMENTS[STATEMENT.close].signer).toBe('station');
    expect(STATEMENTS[STATEMENT.snapshot].signer).toBe('job');
  });

  it('bodies are strict and parse ids into their brands', () => {
    const close = {
      ceremonyId: `cer-${'a'.repeat(32)}`,
      requestHash: 'b'.repeat(64),
      outcome: 'done',
      createdAt: '2026-01-01T00:00:00Z',
    };
    const parsed = STATEMENTS[STATEMENT.close].body.parse(close);
    const id: CeremonyId = parsed.ceremonyId;
    expect(id).toBe(close.ceremonyId);
    expect(STATEMENTS[STATEMENT.close].body.safeParse({ ...close, extra: 1 }).success).toBe(false);
    expect(STATEMENTS[STATEMENT.close].body.safeParse({ ...close, ceremonyId: 'cer-1' }).success).toBe(false);
  });
});

describe('branded ids', () => {
  it('accept their format and refuse others', () => {
    expect(CeremonyId.safeParse(`cer-${'0'.repeat(32)}`).success).toBe(true);
    expect(CeremonyId.safeParse(`cer-${'0'.repeat(31)}`).success).toBe(false);
    expect(DomainId.safeParse('land').success).toBe(true);
    expect(DomainId.safeParse('Land').success).toBe(false);
    expect(SnapshotId.safeParse('land-1:2026').success).toBe(true);
    expect(SnapshotId.safeParse('../etc').success).toBe(false);
    expect(PrincipalRef.safeParse('custodian/custodian-1').success).toBe(true);
    expect(PrincipalRef.safeParse('custodian-1').success).toBe(false);
    expect(PrincipalRef.safeParse('root/x').success).toBe(false);
  });
});

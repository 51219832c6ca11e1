/** The statement registry and the branded ids: one entry per statement type, ids parsed once. */
import { describe, expect, it } from 'vitest';
import { isStatementType } from '../../src/crypto/statement.ts';
import { CeremonyId, DomainId, PrincipalRef, SnapshotId } from '../../src/protocol/ids.ts';
import { OTHER_STATEMENT, SIGNED_TYPES, STATEMENT, STATEMENTS } from '../../src/protocol/statements.ts';
import { ROSTER_STATEMENT_TYPE } from '../../src/roster/index.ts';

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

describe('the registry of signed types', () => {
  it('names every statement type once, each a valid type with a signer role and a spec in docs/', () => {
    const named = [
      ...Object.values(STATEMENT),
      ...Object.values(OTHER_STATEMENT),
      ROSTER_STATEMENT_TYPE,
      'http-request',
    ];
    expect(new Set(named).size).toBe(named.length);
    expect(Object.keys(SIGNED_TYPES).sort()).toEqual([...named].sort());
    for (const [type, { signer, spec }] of Object.entries(SIGNED_TYPES)) {
      expect(isStatementType(type), type).toBe(true);
      expect(signer).toMatch(/^(custodian|station|job|auditor|principal)$/);
      expect(spec).toMatch(/^docs\/[A-Z-]+\.md$/);
    }
  });

  it('gives the wire statements the signer role their body schema is registered with', () => {
    for (const [type, { signer }] of Object.entries(STATEMENTS))
      expect(SIGNED_TYPES[type]?.signer).toBe(signer);
  });
});

/** The unlock policy alone: its verdict, discriminated by state, from signed decisions only. */
import { describe, expect, it } from 'vitest';
import {
  checkDeadline,
  evaluateUnlock,
  PolicyError,
  type SignedDecision,
} from '../../src/protocol/policy.ts';
import type { Domain, RosterDoc } from '../../src/roster/index.ts';

const roster = {
  custodians: [
    { id: 'c1', organisation: 'A' },
    { id: 'c2', organisation: 'A' },
    { id: 'c3', organisation: 'B' },
    { id: 'c4', organisation: 'C' },
  ],
} as unknown as RosterDoc;
const domain = (policy: Partial<Domain['policy']> = {}) =>
  ({
    name: 'land',
    custodians: ['c1', 'c2', 'c3', 'c4'],
    threshold: 2,
    minOrganisations: 2,
    policy: { veto: 'any', coolOffSeconds: 60, maxDeadlineSeconds: 3600, ...policy },
  }) as unknown as Domain;
const request = { createdAt: '2026-01-01T00:00:00Z', deadline: '2026-01-01T01:00:00Z' };
const at = (s: number) => new Date(Date.parse(request.createdAt) + s * 1000);
const d = (custodian: string, decision: 'approve' | 'veto', s: number): SignedDecision => ({
  custodian,
  decision,
  createdAt: at(s).toISOString(),
});

describe('evaluateUnlock', () => {
  it('open until t approvals from K organisations; same-organisation approvals do not count twice', () => {
    const v = evaluateUnlock(
      domain(),
      roster,
      request,
      [d('c1', 'approve', 1), d('c2', 'approve', 2)],
      at(10),
    );
    expect(v).toEqual({ state: 'open', approvers: ['c1', 'c2'], organisations: ['A'] });
  });

  it('quorum starts the cool-off; releasable once it elapsed', () => {
    const ds = [d('c1', 'approve', 1), d('c3', 'approve', 5)];
    const cooling = evaluateUnlock(domain(), roster, request, ds, at(30));
    expect(cooling).toMatchObject({ state: 'cooling-off', quorumAt: at(5).toISOString() });
    if (cooling.state !== 'cooling-off') throw new Error('unreachable');
    expect(cooling.releaseAfter).toBe(at(65).toISOString());
    expect(evaluateUnlock(domain(), roster, request, ds, at(65)).state).toBe('releasable');
  });

  it('a veto wins, even during the cool-off, and names its custodian; with veto none it is ignored', () => {
    const ds = [d('c1', 'approve', 1), d('c3', 'approve', 5), d('c4', 'veto', 10)];
    expect(evaluateUnlock(domain(), roster, request, ds, at(100))).toMatchObject({
      state: 'vetoed',
      vetoedBy: 'c4',
      quorumAt: at(5).toISOString(),
    });
    expect(evaluateUnlock(domain({ veto: 'none' }), roster, request, ds, at(100)).state).toBe('releasable');
  });

  it('expired after the deadline; decisions signed after it do not count; the first decision counts', () => {
    expect(evaluateUnlock(domain(), roster, request, [], at(3601)).state).toBe('expired');
    const late = evaluateUnlock(
      domain(),
      roster,
      request,
      [d('c1', 'approve', 1), d('c3', 'approve', 3700)],
      at(10),
    );
    expect(late.approvers).toEqual(['c1']);
    const twice = evaluateUnlock(
      domain(),
      roster,
      request,
      [d('c1', 'veto', 1), d('c1', 'approve', 2)],
      at(10),
    );
    expect(twice).toMatchObject({ state: 'vetoed', approvers: [] });
  });

  it('refuses a decision by someone who is not a custodian of the domain', () => {
    expect(() => evaluateUnlock(domain(), roster, request, [d('mallory', 'approve', 1)], at(10))).toThrow(
      PolicyError,
    );
  });
});

describe('checkDeadline', () => {
  it('the deadline is after the request and within the domain maximum', () => {
    expect(() => checkDeadline(domain(), request.createdAt, request.deadline)).not.toThrow();
    expect(() => checkDeadline(domain(), request.createdAt, request.createdAt)).toThrow(/after the request/);
    expect(() => checkDeadline(domain(), request.createdAt, '2026-01-01T01:00:01Z')).toThrow(/3600 s/);
  });
});

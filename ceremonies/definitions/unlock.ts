/**
 * Unlock (docs/DECISIONS.md#f3, #d2) as a ceremony: the station opens a signed unlock request with
 * fresh recipient keys; custodians approve (signed, no share); each approving custodian's client
 * checks the quorum itself and only then lets the token release; the station checks every release,
 * combines, checks the key, restores the snapshots, and closes the request. Every completed unlock
 * exposes the whole epoch (docs/DECISIONS.md#d3), so the last step records that a rotation is due.
 * Drives src/station/client.ts and src/custodian/client.ts against the coordinator.
 */
import { createHash } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CeremonyKeys } from '../../hsm/index.ts';
import { zeroizeCeremonyKeys } from '../../hsm/index.ts';
import type { Statement } from '../../src/crypto/statement.ts';
import { decide, release } from '../../src/custodian/client.ts';
import { STATEMENT } from '../../src/protocol/statements.ts';
import type { CeremonyView } from '../../src/protocol/views.ts';
import { currentEpoch, domain as domainOf } from '../../src/roster/index.ts';
import { requestUnlock, unlockAndRestore } from '../../src/station/client.ts';
import type { AbortResult, Ceremony } from '../engine.ts';
import type { CeremonyEnv } from '../env.ts';
import { id, ids, int, paramError, str } from '../params.ts';
import { ALL_ROLES, type CeremonyDefinition, CeremonyError } from '../types.ts';

export interface UnlockParams {
  domain: string;
  epoch: number;
  snapshots: string[];
  legalBasis: string;
  caseReference: string;
  text: string;
  approvers?: string[];
  outDir?: string;
  ttlSeconds: number;
}

export const definition: CeremonyDefinition = {
  name: 'unlock',
  title: 'Unlock by quorum and restore',
  purpose:
    'Restores sealed snapshots of one domain with the shares of a quorum of custodians, each of whom approves a signed request and releases their share only to the recipient keys it names.',
  roles: ALL_ROLES,
  params: [
    { name: 'domain', description: 'the domain to unlock', required: true, example: 'land' },
    {
      name: 'snapshots',
      description: 'snapshot ids (default: every registered snapshot of the domain)',
      required: false,
    },
    {
      name: 'legal-basis',
      description: 'legal basis code from the roster (default: the first)',
      required: false,
      example: 'DRILL',
    },
    { name: 'case', description: 'case reference', required: false, example: 'drill-2026-11' },
    { name: 'justification', description: 'why, in words', required: false },
    {
      name: 'approvers',
      description: 'the custodians who approve (default: the first t present)',
      required: false,
    },
    { name: 'out', description: 'restore directory (default DIR/restored/<ceremony id>)', required: false },
  ],
  steps: [
    {
      id: 'open-request',
      title: 'The station opens a signed unlock request',
      actor: 'station',
      action:
        'The station makes fresh per-ceremony recipient keys (P-256 and X-Wing) and opens a signed request naming the domain, epoch, snapshots, legal basis, deadline and those keys.',
      inputs: ['domain, snapshots, justification'],
      preconditions: ['the snapshots are registered', 'the legal basis is in the roster'],
      signOffs: ['administrator', 'witness'],
      records: ['coordinator ceremony id', 'request hash', 'snapshots'],
      provides: ['recipient-keys'],
    },
    {
      id: 'approvals',
      title: 'Custodians approve (no share moves)',
      actor: 'custodians',
      action:
        'Each approving custodian checks the request against their pinned roster and signs an approval naming the request hash and the recipient keys.',
      inputs: ['the request'],
      preconditions: ['request open, deadline not passed'],
      signOffs: ['quorum', 'witness'],
      records: ['approvers', 'signed approvals'],
    },
    {
      id: 'releases',
      title: 'Each approver’s token releases its share to the station',
      actor: 'custodians',
      action:
        'Each approving custodian’s client checks the quorum of approvals, organisations, vetoes, cool-off and deadline itself, journals the release, and lets the token wrap the share to the named recipient keys.',
      inputs: ['approvals'],
      preconditions: ['quorum reached, cool-off elapsed'],
      signOffs: ['witness'],
      records: ['who released'],
    },
    {
      id: 'combine-and-restore',
      title: 'The station combines and restores',
      actor: 'station',
      action:
        'The station checks every release against the roster and the commitments, combines a threshold, checks the key against the quorum public key, restores every snapshot (complete files only), zeroises, and closes the request.',
      inputs: ['releases', 'sealed archives'],
      preconditions: ['releases from a threshold of custodians'],
      signOffs: ['administrator', 'witness'],
      records: ['restored files, sizes and SHA-256', 'who released'],
      uses: ['recipient-keys'],
    },
    {
      id: 'request-rotation',
      title: 'Schedule the rotation of the domain',
      actor: 'administrator',
      action:
        'The unlock exposed the whole epoch key to the station (decision 3): record that the domain must be rotated, and schedule the rotation ceremony.',
      inputs: [],
      preconditions: ['restore complete'],
      signOffs: ['administrator', 'witness'],
      records: ['rotation required for domain/epoch'],
    },
  ],
  onAbort:
    'the open request is closed as cancelled; no share was released after the abort; recipient keys are zeroised.',
};

const C = definition.name;

async function snapshotsOf(env: CeremonyEnv, domain: string) {
  return env.coordinator.snapshots(domain);
}

export const ceremony: Ceremony<UnlockParams> = {
  definition,
  parseParams(raw, env) {
    const domain = id(C, raw, 'domain', true);
    try {
      domainOf(env.roster(), domain);
    } catch {
      throw paramError(C, `no domain "${domain}" in the roster in force`);
    }
    const legal = str(C, raw, 'legal-basis') ?? str(C, raw, 'legalBasis') ?? env.roster().legalBases[0]?.code;
    if (!legal) throw paramError(C, 'the roster has no legal basis; give --legal-basis');
    const snaps = raw['snapshots'];
    const snapshots = Array.isArray(snaps)
      ? (snaps as string[])
      : typeof snaps === 'string' && snaps !== ''
        ? snaps.split(',').map((s) => s.trim())
        : [];
    const approvers = ids(C, raw, 'approvers');
    const outDir = str(C, raw, 'out') ?? str(C, raw, 'outDir');
    return {
      domain,
      epoch: int(C, raw, 'epoch', 0, 0xffffffff) ?? currentEpoch(env.roster(), domain).epoch,
      snapshots,
      legalBasis: legal,
      caseReference: str(C, raw, 'case') ?? str(C, raw, 'caseReference') ?? 'ceremony',
      text: str(C, raw, 'justification') ?? str(C, raw, 'text') ?? 'unlock ceremony',
      ...(approvers ? { approvers } : {}),
      ...(outDir ? { outDir } : {}),
      ttlSeconds: int(C, raw, 'ttlSeconds', 60, 366 * 86400) ?? 3600,
    };
  },
  paramsJson: (p) => ({ ...p }),
  actions: {
    async 'open-request'({ env, params, memory }) {
      const registered = await snapshotsOf(env, params.domain);
      const snapshots = params.snapshots.length ? params.snapshots : registered.map((s) => s.id);
      for (const s of snapshots)
        if (!registered.some((r) => r.id === s))
          throw new CeremonyError(
            'ceremony_precondition',
            `snapshot "${s}" is not registered for "${params.domain}"`,
          );
      if (snapshots.length === 0)
        throw new CeremonyError('ceremony_precondition', `no snapshot of "${params.domain}" to restore`);
      const { ceremony, keys } = await requestUnlock(
        { id: env.station.id, roster: env.roster(), client: env.client(env.station.id), now: env.now },
        {
          domain: params.domain,
          epoch: params.epoch,
          snapshots,
          justification: {
            legalBasis: params.legalBasis,
            caseReference: params.caseReference,
            text: params.text,
          },
          ttlSeconds: params.ttlSeconds,
        },
      );
      memory.set('recipient-keys', keys);
      return {
        record: {
          unlockCeremony: ceremony.id,
          requestHash: ceremony.requestHash,
          snapshots,
          deadline: ceremony.deadline,
        },
      };
    },
    async approvals({ env, params, recordOf }) {
      const open = recordOf('open-request')!;
      const d = domainOf(env.roster(), params.domain);
      const present = (params.approvers ?? d.custodians).filter((c) => !env.absent.has(c));
      const chosen = params.approvers ?? present.slice(0, d.threshold);
      let view: CeremonyView | undefined;
      for (const c of chosen) {
        view = await decide(
          {
            id: c,
            roster: env.roster(),
            client: env.client(c),
            token: await env.custodian(c),
            journal: env.journal(c),
            now: env.now,
          },
          open['unlockCeremony'] as string,
          'approve',
        );
      }
      const statements: Statement[] = (view?.decisions ?? []).map((x) => x.statement);
      return {
        record: { approvers: chosen, state: view?.state ?? 'pending' },
        statements,
        who: chosen.map((c) => `custodian/${c}`),
      };
    },
    async releases({ env, recordOf }) {
      const open = recordOf('open-request')!;
      const approvers = recordOf('approvals')!['approvers'] as string[];
      for (const c of approvers)
        await release(
          {
            id: c,
            roster: env.roster(),
            client: env.client(c),
            token: await env.custodian(c),
            journal: env.journal(c),
            now: env.now,
          },
          open['unlockCeremony'] as string,
        );
      return { record: { releasedBy: approvers }, who: approvers.map((c) => `custodian/${c}`) };
    },
    async 'combine-and-restore'({ env, params, memory, recordOf, ceremonyId }) {
      const open = recordOf('open-request')!;
      const keys = memory.get('recipient-keys') as CeremonyKeys;
      memory.delete('recipient-keys');
      const registered = await snapshotsOf(env, params.domain);
      const outDir = params.outDir ?? join(env.dataDir, 'restored', ceremonyId);
      const res = await unlockAndRestore(
        { id: env.station.id, roster: env.roster(), client: env.client(env.station.id), now: env.now },
        open['unlockCeremony'] as string,
        keys,
        (snap) => registered.find((r) => r.id === snap)!.location,
        outDir,
      );
      return {
        record: {
          outDir,
          files: res.files.map((f) => ({
            snapshot: f.snapshot,
            bytes: f.bytes,
            sha256: createHash('sha256').update(readFileSync(f.path)).digest('hex'),
          })),
          releasedBy: res.releasedBy,
        },
      };
    },
    async 'request-rotation'({ params }) {
      return {
        record: {
          rotationRequired: true,
          domain: params.domain,
          epoch: params.epoch,
          why: 'an unlock exposes the whole epoch key to the station (docs/DECISIONS.md#d3)',
          next: `embassy ceremony run rotation --domain ${params.domain}`,
        },
      };
    },
  },
  async abort({ env, memory, recordOf }): Promise<AbortResult> {
    const keys = memory.get('recipient-keys') as CeremonyKeys | undefined;
    if (keys) zeroizeCeremonyKeys(keys);
    memory.delete('recipient-keys');
    const open = recordOf('open-request');
    if (!open || recordOf('combine-and-restore'))
      return { cleanup: { requestClosed: false }, statements: [] };
    const station = env.client(env.station.id);
    try {
      const close = await station.statement(STATEMENT.close, {
        ceremonyId: open['unlockCeremony'] as string,
        requestHash: open['requestHash'] as string,
        outcome: 'cancelled',
        createdAt: env.now().toISOString(),
      });
      await station.post(`/v1/ceremonies/${open['unlockCeremony']}/close`, close);
      return { cleanup: { requestClosed: true, outcome: 'cancelled' }, statements: [close] };
    } catch (e) {
      return { cleanup: { requestClosed: false, error: (e as Error).message }, statements: [] };
    }
  },
};

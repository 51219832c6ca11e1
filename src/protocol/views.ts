/**
 * What the coordinator answers, as zod schemas: the routes declare them (so /openapi.json describes
 * the real responses) and clients type what they read with the inferred types. A view is served
 * data, not trusted data: a client checks a ceremony against its pinned roster (./check.ts) before
 * acting on it.
 *
 * @example
 * const view = await client.get<CeremonyView>(`/v1/ceremonies/${id}`);
 * const checked = checkCeremony(roster, view, new Date());
 */
import { z } from 'zod';
import type { JsonValue } from '../crypto/jcs.ts';
import { SignedRosterSchema } from '../roster/index.ts';
import { CeremonyId, DomainId, PrincipalRef, Rfc3339, Sha256Hex, SnapshotId } from './ids.ts';
import { SignedDecision, UnlockVerdict } from './policy.ts';

/**
 * Any JSON value: a statement body's members are checked by the statement type's schema
 * (./statements.ts), not here. Declared by hand because the OpenAPI generator cannot walk `z.json()`.
 */
const jsonValue = z
  .custom<JsonValue>()
  .meta({ type: ['object', 'array', 'string', 'number', 'boolean', 'null'] });

/** A signed statement as it travels (src/crypto/statement.ts); bodies are checked by type later. */
export const StatementView = z
  .strictObject({
    type: z.string(),
    roster: z.string(),
    signer: z.string(),
    body: z.record(z.string(), jsonValue),
    sig: z.string(),
  })
  .meta({ id: 'Statement' });
export type StatementView = z.infer<typeof StatementView>;

/** Every error: `{ "error": { "code", "message" } }` with its HTTP status. */
export const ErrorView = z
  .object({ error: z.object({ code: z.string(), message: z.string() }) })
  .meta({ id: 'Error' });

/** Open ceremonies are `open` or `quorum`; the others are closed. */
export const CeremonyState = z.enum(['open', 'quorum', 'done', 'vetoed', 'expired', 'cancelled']);
export type CeremonyState = z.infer<typeof CeremonyState>;

export const DecisionView = z.object({
  custodian: z.string(),
  decision: z.enum(['approve', 'veto']),
  statement: StatementView,
  /** When the coordinator recorded it. */
  at: Rfc3339,
});
export type DecisionView = z.infer<typeof DecisionView>;

export const CeremonyView = z
  .object({
    id: CeremonyId,
    kind: z.string(),
    domain: DomainId,
    epoch: z.number().int(),
    state: CeremonyState,
    station: z.string().nullable(),
    /** The station's signed unlock-request statement. */
    request: StatementView,
    requestHash: Sha256Hex,
    deadline: Rfc3339,
    quorumAt: Rfc3339.nullable(),
    releaseAfter: Rfc3339.nullable(),
    closedAt: Rfc3339.nullable(),
    closeReason: z.string().nullable(),
    decisions: z.array(DecisionView),
    /** Who released, not what: the wrapped shares go to the requesting station only. */
    releases: z.array(z.object({ custodian: z.string(), blobHash: Sha256Hex })),
    verdict: UnlockVerdict,
    /** The signed decisions the verdict was computed from. */
    verdictInputs: z.array(SignedDecision),
  })
  .meta({ id: 'Ceremony' });
export type CeremonyView = z.infer<typeof CeremonyView>;

/** A wrapped share with its signed release statement, as the requesting station fetches it. */
export const ReleaseView = z.object({ custodian: z.string(), blob: z.string(), statement: StatementView });
export type ReleaseView = z.infer<typeof ReleaseView>;

export const SnapshotView = z
  .object({
    id: SnapshotId,
    domain: DomainId,
    sealEpoch: z.number().int(),
    size: z.number().int(),
    digest: Sha256Hex,
    location: z.string(),
    sequence: z.number().int(),
    registeredBy: PrincipalRef,
    registeredAt: Rfc3339,
    /** The backup job's signed snapshot-registration statement. */
    statement: StatementView,
  })
  .meta({ id: 'Snapshot' });
export type SnapshotView = z.infer<typeof SnapshotView>;

/** Every signed roster version, oldest first; clients verify the chain from their pin. */
export const RosterChainView = z.object({
  rosterId: z.string(),
  version: z.number().int(),
  versions: z.array(SignedRosterSchema),
});
export type RosterChainView = z.infer<typeof RosterChainView>;

export const AuditEntryView = z.object({
  seq: z.number().int(),
  /** The entry's exact JCS text (its UTF-8 bytes are the leaf). */
  entry: z.string(),
  leafHash: Sha256Hex,
});

export const CheckpointView = z.object({
  size: z.number().int(),
  root: Sha256Hex,
  /** The signed note (C2SP tlog-checkpoint). */
  note: z.string(),
  createdAt: Rfc3339,
});

export const InclusionProofView = z.object({
  seq: z.number().int(),
  size: z.number().int(),
  leafHash: Sha256Hex,
  root: Sha256Hex,
  /** RFC 9162 audit path, leaf to root, hex. */
  proof: z.array(Sha256Hex),
});

export const ConsistencyProofView = z.object({
  size1: z.number().int(),
  size2: z.number().int(),
  root1: Sha256Hex,
  root2: Sha256Hex,
  proof: z.array(Sha256Hex),
});

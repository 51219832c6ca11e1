/**
 * The signed statements that drive the coordinator's ceremonies, in ONE registry: each type's body
 * schema and the roster role that may sign it. Each statement is signed by its actor
 * (src/crypto/statement.ts) and logged verbatim; the coordinator, the clients and the offline
 * auditor parse bodies through this registry, so all three accept exactly the same statements.
 *
 * @example
 * const spec = STATEMENTS[STATEMENT.decision]; // { signer: 'custodian', body: DecisionBody }
 * const body = spec.body.parse(statement.body); // a DecisionBody with a branded ceremonyId
 */
import { createHash } from 'node:crypto';
import { z } from 'zod';
import { CeremonyId, DomainId, Rfc3339, Sha256Hex, SnapshotId } from './ids.ts';

const b64url = (min: number, max = min) =>
  z
    .string()
    .regex(/^[A-Za-z0-9_-]+$/, 'must be unpadded base64url')
    .refine(
      (s) => {
        const n = Buffer.from(s, 'base64url').length;
        return n >= min && n <= max && Buffer.from(s, 'base64url').toString('base64url') === s;
      },
      `must encode ${min === max ? min : `${min}..${max}`} bytes`,
    );
const epoch = z.number().int().min(0).max(0xffffffff);

/** The statement types of the wire protocol. */
export const STATEMENT = {
  unlockRequest: 'unlock-request',
  decision: 'unlock-decision',
  release: 'share-release',
  close: 'ceremony-close',
  snapshot: 'snapshot-registration',
} as const;
export type StatementType = (typeof STATEMENT)[keyof typeof STATEMENT];

/** A station asks to unlock one domain epoch for some snapshots. */
export const UnlockRequestBody = z.strictObject({
  ceremonyId: CeremonyId,
  domain: DomainId,
  epoch,
  snapshots: z.array(SnapshotId).min(1).max(1000),
  justification: z.strictObject({
    legalBasis: z.string().min(1).max(64),
    caseReference: z.string().min(1).max(128),
    text: z.string().min(1).max(4000),
  }),
  /** The station's per-ceremony P-256 key (65 bytes): the in-token release layer. */
  recipientP256: b64url(65),
  /** The station's per-ceremony X-Wing key (1216 bytes): the post-quantum outer layer. */
  recipientXWing: b64url(1216),
  createdAt: Rfc3339,
  deadline: Rfc3339,
  nonce: z.string().regex(/^[0-9a-f]{32}$/),
});
export type UnlockRequestBody = z.infer<typeof UnlockRequestBody>;

/** Phase one of an unlock (docs/DECISIONS.md#d2): approve or veto, naming what is approved; no share. */
export const DecisionBody = z.strictObject({
  ceremonyId: CeremonyId,
  requestHash: Sha256Hex,
  decision: z.enum(['approve', 'veto']),
  /** SHA-256 of recipientP256 ‖ recipientXWing as named in the request. */
  recipientKeys: Sha256Hex,
  reason: z.string().min(1).max(2000).optional(),
  createdAt: Rfc3339,
});
export type DecisionBody = z.infer<typeof DecisionBody>;

/** Phase two: the release, signed over the blob's hash and both recipient keys. */
export const ReleaseBody = z.strictObject({
  ceremonyId: CeremonyId,
  requestHash: Sha256Hex,
  recipientKeys: Sha256Hex,
  blobHash: Sha256Hex,
  createdAt: Rfc3339,
});
export type ReleaseBody = z.infer<typeof ReleaseBody>;

/** The station closes its ceremony; closing deletes the wrapped shares. */
export const CloseBody = z.strictObject({
  ceremonyId: CeremonyId,
  requestHash: Sha256Hex,
  outcome: z.enum(['done', 'cancelled']),
  createdAt: Rfc3339,
});
export type CloseBody = z.infer<typeof CloseBody>;

/**
 * A backup job registers a sealed archive (docs/DECISIONS.md#d15): the manifest's hash and the body's
 * digest bind a restore to exactly these bytes, and both survive rewraps (which replace only the
 * header), so an archive is registered once.
 */
export const SnapshotBody = z.strictObject({
  id: SnapshotId,
  domain: DomainId,
  sealEpoch: epoch,
  /** The archive's size in bytes when registered (a rewrap changes the header's size). */
  size: z.number().int().min(0).max(Number.MAX_SAFE_INTEGER),
  /** SHA-256 of the manifest bytes, hex: what the maker signature names as `manifest`. */
  manifestHash: Sha256Hex,
  /** SHA-256 of every archive byte after the header (salt, commitment, chunks), hex (docs/FORMAT.md). */
  bodyDigest: Sha256Hex,
  location: z.string().min(1).max(1024),
  sequence: z.number().int().min(1).max(Number.MAX_SAFE_INTEGER),
  createdAt: Rfc3339,
});
export type SnapshotBody = z.infer<typeof SnapshotBody>;

/** Where a backup job writes a snapshot's signed registration: beside the archive (docs/DECISIONS.md#d36). */
export const registrationFile = (archivePath: string): string => `${archivePath}.reg`;

/** Roster roles that sign statements. */
export type SignerRole = 'custodian' | 'station' | 'job' | 'auditor';

/** Every statement type: its body schema and the one role that may sign it. */
export const STATEMENTS = {
  [STATEMENT.unlockRequest]: { signer: 'station', body: UnlockRequestBody },
  [STATEMENT.decision]: { signer: 'custodian', body: DecisionBody },
  [STATEMENT.release]: { signer: 'custodian', body: ReleaseBody },
  [STATEMENT.close]: { signer: 'station', body: CloseBody },
  [STATEMENT.snapshot]: { signer: 'job', body: SnapshotBody },
} as const satisfies Record<StatementType, { signer: SignerRole; body: z.ZodType }>;

/**
 * Signed statements made outside the coordinator's unlock flow: by the backup job inside an archive,
 * and by custodians and the station during ceremonies. Their bodies are specified where the table
 * below says and checked by the module that makes them; the names live here so that every signed type
 * is in one registry ({@link SIGNED_TYPES}).
 */
export const OTHER_STATEMENT = {
  maker: 'archive-maker',
  transcript: 'ceremony-transcript',
  acceptance: 'share-acceptance',
  releaseApproval: 'ceremony-release-approval',
  destruction: 'share-destruction',
  declaredLost: 'share-declared-lost',
  enrolment: 'custodian-enrolment',
  health: 'share-health',
  policyChangeApproval: 'policy-change-approval',
} as const;

/**
 * Every signed type of the project (decision 10 separates signatures by this type): who signs it and
 * where its body is specified. Request signatures (`http-request`) and roster signatures (`roster`)
 * are signed payloads of the same construction (src/protocol/request.ts, src/roster/sign.ts).
 */
export const SIGNED_TYPES: Readonly<Record<string, { signer: SignerRole | 'principal'; spec: string }>> = {
  'http-request': { signer: 'principal', spec: 'docs/API.md' },
  roster: { signer: 'custodian', spec: 'docs/ROSTER.md' },
  [STATEMENT.unlockRequest]: { signer: 'station', spec: 'docs/API.md' },
  [STATEMENT.decision]: { signer: 'custodian', spec: 'docs/API.md' },
  [STATEMENT.release]: { signer: 'custodian', spec: 'docs/API.md' },
  [STATEMENT.close]: { signer: 'station', spec: 'docs/API.md' },
  [STATEMENT.snapshot]: { signer: 'job', spec: 'docs/API.md' },
  [OTHER_STATEMENT.maker]: { signer: 'job', spec: 'docs/FORMAT.md' },
  [OTHER_STATEMENT.transcript]: { signer: 'station', spec: 'docs/CEREMONIES.md' },
  [OTHER_STATEMENT.acceptance]: { signer: 'custodian', spec: 'docs/CEREMONIES.md' },
  [OTHER_STATEMENT.releaseApproval]: { signer: 'custodian', spec: 'docs/CEREMONIES.md' },
  [OTHER_STATEMENT.destruction]: { signer: 'custodian', spec: 'docs/CEREMONIES.md' },
  [OTHER_STATEMENT.declaredLost]: { signer: 'station', spec: 'docs/CEREMONIES.md' },
  [OTHER_STATEMENT.enrolment]: { signer: 'custodian', spec: 'docs/CEREMONIES.md' },
  [OTHER_STATEMENT.health]: { signer: 'custodian', spec: 'docs/CEREMONIES.md' },
  [OTHER_STATEMENT.policyChangeApproval]: { signer: 'custodian', spec: 'docs/CEREMONIES.md' },
};

/** The parsed body of a statement of type `T`. */
export type BodyOf<T extends StatementType> = z.infer<(typeof STATEMENTS)[T]['body']>;

/** SHA-256(recipientP256 ‖ recipientXWing): what decisions and releases name. */
export const recipientKeysHash = (p256: Uint8Array, xwing: Uint8Array): string =>
  createHash('sha256').update(p256).update(xwing).digest('hex');

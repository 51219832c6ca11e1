/**
 * The station's side of an unlock (docs/DECISIONS.md#f3): open each custodian's release with the
 * ceremony's keys, check each share against its commitment (naming a cheating custodian), combine
 * t of them, and check the result against the domain's quorum public key — shamir-secret-sharing
 * returns garbage silently for wrong or too few shares, so that check is what makes it safe.
 *
 * @example
 * const quorum = await combineReleases({ keys, domain: 'land', epoch: 1, ceremony, threshold: 3,
 *   publicKey, releases });
 * await openArchive(src, sink, { identities: [quorum] });
 */
import { combine } from 'shamir-secret-sharing';
import { type CeremonyKeys, receiveRelease, type ShareCommitmentRecord } from '../../hsm/index.ts';
import { equalCt } from '../crypto/bytes.ts';
import { type Identity, identityFromSeed } from '../crypto/keys.ts';

export interface Release {
  custodian: string;
  envelope: Uint8Array;
  /** The commitment recorded for this custodian's share in the pinned roster. */
  commitment: ShareCommitmentRecord;
}

export interface CombineRequest {
  keys: CeremonyKeys;
  domain: string;
  epoch: number;
  /** 32-byte digest of the signed unlock request. */
  ceremony: Uint8Array;
  threshold: number;
  /** The epoch's quorum public key from the pinned roster. */
  publicKey: Uint8Array;
  releases: Release[];
}

export class UnlockError extends Error {
  constructor(
    readonly code: 'below_threshold' | 'bad_share' | 'wrong_key',
    message: string,
    readonly custodian?: string,
  ) {
    super(message);
  }
}

export async function combineReleases(req: CombineRequest): Promise<Identity> {
  const custodians = new Set(req.releases.map((r) => r.custodian));
  if (custodians.size < req.threshold) {
    throw new UnlockError(
      'below_threshold',
      `${custodians.size} distinct custodians released shares; the threshold is ${req.threshold}`,
    );
  }
  const shares: Uint8Array[] = [];
  try {
    for (const r of req.releases) {
      try {
        const share = await receiveRelease(req.keys, r.envelope, {
          domain: req.domain,
          epoch: req.epoch,
          ceremony: req.ceremony,
          custodian: r.custodian,
          commitment: r.commitment,
        });
        shares.push(new Uint8Array(share));
        share.fill(0);
      } catch (e) {
        throw new UnlockError('bad_share', (e as Error).message, r.custodian);
      }
      if (shares.length === req.threshold) break;
    }
    const seed = await combine(shares);
    const identity = identityFromSeed(seed);
    if (!equalCt(identity.publicKey, req.publicKey)) {
      seed.fill(0);
      throw new UnlockError(
        'wrong_key',
        'the combined shares do not give the quorum public key of this epoch',
      );
    }
    return identity;
  } finally {
    for (const s of shares) s.fill(0);
  }
}

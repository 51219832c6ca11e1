/**
 * The station's side of an unlock (docs/DECISIONS.md#f3): open each custodian's release with the
 * ceremony's keys, check each share against its commitment (naming every cheating custodian), combine
 * t of the good ones, and check the result against the domain's quorum public key — shamir-secret-sharing
 * returns garbage silently for wrong or too few shares, so that check is what makes it safe. One
 * cheater cannot stop an unlock that t honest custodians support.
 *
 * @example
 * const quorum = await combineReleases({ keys, domain: 'land', epoch: 1, ceremony, threshold: 3,
 *   publicKey, releases });
 * quorum.cheaters; // [{ custodian: 'custodian-4', reason: '…' }] when one release failed its check
 * await openArchive(src, sink, { identities: [quorum] });
 */
import { combine } from 'shamir-secret-sharing';
import { type CeremonyKeys, receiveRelease, type ShareCommitmentRecord } from '../../hsm/index.ts';
import { equalCt } from '../crypto/bytes.ts';
import { type Identity, identityFromSeed } from '../crypto/keys.ts';
import { EmbassyError } from '../errors.ts';

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

/** A release that failed its check: its envelope did not open for this ceremony, or its share did not
 * match the commitment the roster records for that custodian. */
export interface BadShare {
  custodian: string;
  reason: string;
}

/** The quorum identity, with the custodians whose shares made it and every one whose release failed. */
export interface Quorum extends Identity {
  combined: string[];
  cheaters: BadShare[];
}

export class UnlockError extends EmbassyError<'below_threshold' | 'bad_share' | 'wrong_key'> {
  constructor(
    code: 'below_threshold' | 'bad_share' | 'wrong_key',
    message: string,
    /** Every custodian whose release failed its check, in release order. */
    readonly cheaters: BadShare[] = [],
  ) {
    super(code, message);
    this.custodian = cheaters[0]?.custodian;
  }

  /** The first cheating custodian, if any. */
  readonly custodian: string | undefined;
}

/**
 * Checks EVERY release (so that every cheating custodian is named, not only the first), skips the bad
 * ones and combines the first `threshold` good shares, one per custodian. Refuses with `bad_share`
 * naming every cheater when fewer than `threshold` good shares remain.
 */
export async function combineReleases(req: CombineRequest): Promise<Quorum> {
  const custodians = new Set(req.releases.map((r) => r.custodian));
  if (custodians.size < req.threshold) {
    throw new UnlockError(
      'below_threshold',
      `${custodians.size} distinct custodians released shares; the threshold is ${req.threshold}`,
    );
  }
  const good = new Map<string, Uint8Array>();
  const cheaters: BadShare[] = [];
  try {
    for (const r of req.releases) {
      if (good.has(r.custodian)) continue;
      try {
        const share = await receiveRelease(req.keys, r.envelope, {
          domain: req.domain,
          epoch: req.epoch,
          ceremony: req.ceremony,
          custodian: r.custodian,
          commitment: r.commitment,
        });
        good.set(r.custodian, new Uint8Array(share));
        share.fill(0);
      } catch (e) {
        cheaters.push({ custodian: r.custodian, reason: (e as Error).message });
      }
    }
    if (good.size < req.threshold) {
      throw new UnlockError(
        'bad_share',
        `${good.size} good shares, the threshold is ${req.threshold}; bad releases from ${cheaters
          .map((c) => `"${c.custodian}" (${c.reason})`)
          .join(', ')}`,
        cheaters,
      );
    }
    const combined = [...good.keys()].slice(0, req.threshold);
    const seed = await combine(combined.map((c) => good.get(c)!));
    const identity = identityFromSeed(seed);
    if (!equalCt(identity.publicKey, req.publicKey)) {
      seed.fill(0);
      throw new UnlockError(
        'wrong_key',
        'the combined shares do not give the quorum public key of this epoch',
        cheaters,
      );
    }
    return { ...identity, combined, cheaters };
  } finally {
    for (const s of good.values()) s.fill(0);
  }
}

/**
 * The station's part of a domain key ceremony (docs/DECISIONS.md#f1): generate the epoch's X-Wing quorum
 * key, split its 32-byte seed t-of-n (shamir-secret-sharing), check that every t-subset combines
 * back to the public key (docs/DECISIONS.md#d8), commit to every share (salted SHA-256, never Feldman: see
 * notes), wrap each share for its custodian's token, precompute one-time health challenges
 * (docs/DECISIONS.md#d9), then zeroise the seed and the shares. Only public material leaves this function.
 *
 * @example
 * const split = await splitQuorumKey({ domain: 'land', epoch: 1, threshold: 3, custodians });
 * // each custodian's token then imports split.shares[i].envelope (src/custodian/accept.ts)
 */
import { createHash, randomBytes } from 'node:crypto';
import { combine, split } from 'shamir-secret-sharing';
import {
  commitShare,
  type HealthChallenge,
  precomputeHealthChallenges,
  type ShareCommitmentRecord,
  wrapShareForImport,
} from '../../hsm/index.ts';
import { equalCt, fields, u32 } from '../crypto/bytes.ts';
import { keyId as keyIdOf } from '../crypto/keys.ts';
import { xwingKeygen, xwingPublicKey } from '../crypto/xwing.ts';
import { EmbassyError } from '../errors.ts';

export interface ShareRecipient {
  /** Custodian id in the roster. */
  id: string;
  /** The custodian token's P-256 transport key (65 bytes), from the pinned roster. */
  transport: Uint8Array;
  /** The custodian's X-Wing key (1216 bytes), the outer layer of the import envelope. */
  xwing: Uint8Array;
}

export interface SplitShare {
  custodian: string;
  /** The Shamir x-coordinate (the share's last byte): public. */
  x: number;
  commitment: ShareCommitmentRecord;
  /** The import envelope for the custodian's token: the share, wrapped twice. */
  envelope: Uint8Array;
  health: HealthChallenge[];
}

export interface SplitResult {
  domain: string;
  epoch: number;
  keyCeremonyId: string;
  /** 32-byte digest binding the import envelopes to this ceremony. */
  ceremonyDigest: Uint8Array;
  threshold: number;
  publicKey: Uint8Array;
  keyId: Uint8Array;
  shares: SplitShare[];
  /** How many t-subsets were combined and checked against the public key before zeroising. */
  subsetsChecked: number;
}

export interface SplitRequest {
  domain: string;
  epoch: number;
  threshold: number;
  custodians: ShareRecipient[];
  keyCeremonyId?: string;
  /** One-time health challenges per share (default 8). */
  healthChallenges?: number;
  /**
   * Split this X-Wing seed instead of generating one (a rotation checks the rewrapped archives with
   * it before zeroising). The caller owns it and zeroises it; default: a fresh key.
   */
  seed?: Uint8Array;
}

export class KeyCeremonyError extends EmbassyError<'key_ceremony_failed'> {
  constructor(message: string) {
    super('key_ceremony_failed', message);
  }
}

export const keyCeremonyDigest = (domain: string, epoch: number, keyCeremonyId: string): Uint8Array =>
  new Uint8Array(
    createHash('sha256')
      .update(fields('data-embassy/v1/key-ceremony', domain, u32(epoch), keyCeremonyId))
      .digest(),
  );

/** All k-element subsets of [0, n). */
export function* subsets(n: number, k: number, start = 0, acc: number[] = []): Generator<number[]> {
  if (acc.length === k) {
    yield acc;
    return;
  }
  for (let i = start; i <= n - (k - acc.length); i++) yield* subsets(n, k, i + 1, [...acc, i]);
}

export async function splitQuorumKey(req: SplitRequest): Promise<SplitResult> {
  const n = req.custodians.length;
  if (req.threshold < 2 || req.threshold > n) {
    throw new KeyCeremonyError(`threshold must be between 2 and the number of custodians (${n})`);
  }
  if (new Set(req.custodians.map((c) => c.id)).size !== n)
    throw new KeyCeremonyError('custodians must be distinct');
  const keyCeremonyId =
    req.keyCeremonyId ?? `kc-${req.domain}-${req.epoch}-${randomBytes(6).toString('hex')}`;
  const ceremonyDigest = keyCeremonyDigest(req.domain, req.epoch, keyCeremonyId);
  const own = req.seed === undefined;
  const { seed, publicKey } = own ? xwingKeygen() : { seed: req.seed!, publicKey: xwingPublicKey(req.seed!) };
  const shares = await split(seed, n, req.threshold);
  try {
    let subsetsChecked = 0;
    for (const s of subsets(n, req.threshold)) {
      const combined = await combine(s.map((i) => shares[i]!));
      const ok = equalCt(xwingPublicKey(combined), publicKey);
      combined.fill(0);
      if (!ok) throw new KeyCeremonyError(`shares ${s.join(',')} do not combine to the quorum key`);
      subsetsChecked++;
    }
    const out: SplitShare[] = [];
    for (const [i, c] of req.custodians.entries()) {
      const share = shares[i]!;
      out.push({
        custodian: c.id,
        x: share[share.length - 1]!,
        commitment: commitShare(c.id, req.domain, req.epoch, keyCeremonyId, share),
        envelope: await wrapShareForImport({
          domain: req.domain,
          epoch: req.epoch,
          ceremony: ceremonyDigest,
          custodian: c.id,
          share,
          transport: c.transport,
          xwing: c.xwing,
        }),
        health: precomputeHealthChallenges(share, req.domain, req.epoch, req.healthChallenges ?? 8),
      });
    }
    return {
      domain: req.domain,
      epoch: req.epoch,
      keyCeremonyId,
      ceremonyDigest,
      threshold: req.threshold,
      publicKey,
      keyId: keyIdOf(publicKey),
      shares: out,
      subsetsChecked,
    };
  } finally {
    // Best effort in JavaScript (SECURITY.md): the seed and shares are overwritten before return.
    if (own) seed.fill(0);
    for (const s of shares) s.fill(0);
  }
}

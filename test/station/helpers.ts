import { type CeremonyKeys, type Custodian, createCeremonyKeys, openCustodian } from '../../hsm/index.ts';
import { type SplitResult, splitQuorumKey } from '../../src/station/key-ceremony.ts';
import type { Release } from '../../src/station/unlock.ts';
import { devTokens } from '../hsm/helpers.ts';

/** A domain's quorum key split among custodians on real SoftHSM2 tokens, for unlock tests. */
export interface CustodianQuorum {
  domain: string;
  epoch: number;
  custodians: Custodian[];
  split: SplitResult;
  /** Releases from the custodians at `ids` (0-based) for `ceremony`, wrapped to the station's `keys`. */
  release(ids: number[], ceremony: Uint8Array, keys?: CeremonyKeys): Promise<Release[]>;
  cleanup(): void;
}

/**
 * `n` custodian tokens, each set up and holding its share of a fresh `threshold`-of-`n` quorum key.
 *
 * @example
 * const q = await custodianQuorum(4, 3);
 * const releases = await q.release([0, 1, 2], ceremony, keys);
 */
export async function custodianQuorum(
  n: number,
  threshold: number,
  domain = 'census',
): Promise<CustodianQuorum> {
  const epoch = 1;
  const tokens = await devTokens(n);
  const custodians: Custodian[] = [];
  for (let i = 1; i <= n; i++) {
    const c = await openCustodian({ label: `custodian-${i}`, pin: tokens.pins[`custodian-${i}`]!.user });
    await c.setup();
    custodians.push(c);
  }
  const keys = await Promise.all(custodians.map(async (c) => ({ id: c.label, ...(await c.publicKeys()) })));
  const split = await splitQuorumKey({ domain, epoch, threshold, custodians: keys });
  for (const [i, s] of split.shares.entries()) {
    await custodians[i]!.importShare(s.envelope, { domain, epoch, ceremony: split.ceremonyDigest });
  }
  return {
    domain,
    epoch,
    custodians,
    split,
    async release(ids, ceremony, stationKeys = createCeremonyKeys()) {
      const out: Release[] = [];
      for (const i of ids) {
        const envelope = await custodians[i]!.releaseShare({
          domain,
          epoch,
          ceremony,
          recipientP256: stationKeys.p256.publicKey,
          recipientXWing: stationKeys.xwing.publicKey,
        });
        out.push({ custodian: custodians[i]!.label, envelope, commitment: split.shares[i]!.commitment });
      }
      return out;
    },
    cleanup() {
      for (const c of custodians) c.close();
      tokens.cleanup();
    },
  };
}

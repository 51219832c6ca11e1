/**
 * Invariants 1, 3 and 7 (docs/DECISIONS.md#i1, #i3, #i7) at the HTTP level, on SQLite and PostgreSQL, through the real Hono
 * app, real SoftHSM2 tokens and real databases.
 */
import { randomBytes } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { combine } from 'shamir-secret-sharing';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identityFromSeed } from '../../src/crypto/keys.ts';
import { decide, ReleaseRefused, release } from '../../src/custodian/client.ts';
import { recipientKeysHash } from '../../src/protocol/statements.ts';
import type { CeremonyView } from '../../src/protocol/views.ts';
import { findEpoch, quorumKey } from '../../src/roster/index.ts';
import { unlockAndRestore } from '../../src/station/client.ts';
import { combineReleases, UnlockError } from '../../src/station/unlock.ts';
import {
  auditKinds,
  type CapturedRequest,
  capture,
  ceremonyOf,
  clock,
  cloneKeys,
  custodianSession,
  dumpTables,
  expectError,
  fetchReleases,
  impostor,
  openCeremony,
  openReleases,
  rejects,
  send,
  stationSession,
  tokenRelease,
} from './helpers.ts';
import { DIALECTS, type TestWorld, testWorld } from './world.ts';

const QUORUM = ['custodian-1', 'custodian-3', 'custodian-5'];

/** Every textual and raw form a secret could take in a dump. */
function leaks(haystack: string, raw: Buffer[], secret: Uint8Array): string[] {
  const b = Buffer.from(secret);
  const found: string[] = [];
  const forms: [string, string][] = [
    ['hex', b.toString('hex')],
    ['HEX', b.toString('hex').toUpperCase()],
    ['base64', b.toString('base64')],
    ['base64 unpadded', b.toString('base64').replace(/=+$/, '')],
    ['base64url', b.toString('base64url')],
  ];
  for (const [name, f] of forms) if (haystack.includes(f)) found.push(name);
  for (const r of raw) if (r.indexOf(b) >= 0) found.push('raw');
  return found;
}

/** The dump decoded: every long base64url/base64/hex token as raw bytes (unaligned secrets inside blobs). */
function decodedTokens(dump: string): Buffer[] {
  const out: Buffer[] = [Buffer.from(dump, 'utf8'), Buffer.from(dump, 'latin1')];
  for (const m of dump.matchAll(/[0-9a-fA-F]{40,}/g))
    out.push(Buffer.from(m[0].slice(0, m[0].length & ~1), 'hex'));
  for (const m of dump.matchAll(/[A-Za-z0-9_+/-]{40,}={0,2}/g)) {
    out.push(Buffer.from(m[0].replace(/\+/g, '-').replace(/\//g, '_').replace(/=+$/, ''), 'base64url'));
  }
  return out;
}

describe.each(DIALECTS)('coordinator invariants (%s)', (dialect) => {
  let w: TestWorld;
  const c = clock();

  beforeAll(async () => {
    w = await testWorld(dialect, { now: c.now, coolOffSeconds: 0 });
  });
  afterAll(async () => w?.cleanup());

  const approve = async (id: string, who = QUORUM) => {
    for (const cu of who) await decide(custodianSession(w, cu, c.now), id, 'approve');
  };

  it('invariant 1: after a completed ceremony, a dump of every coordinator table holds no share, DEK or private key', async () => {
    // The DEK: sealArchive asks `random` for the DEK first.
    let dek: Uint8Array | undefined;
    const random = (n: number) => {
      const b = new Uint8Array(randomBytes(n));
      if (!dek) dek = b.slice();
      return b;
    };
    const data = Buffer.from('parcel;owner;area\n77-001;Saar;640\n'.repeat(500));
    const snapshot = await w.snapshot('land', data, { random });
    expect(dek?.length).toBe(32);
    const { ceremony, keys } = await openCeremony(w, { snapshot });
    const spare = cloneKeys(keys); // acting as a second station that holds the same ceremony keys
    await approve(ceremony.id);
    for (const cu of QUORUM) await release(custodianSession(w, cu, c.now), ceremony.id);

    // The shares, received before the station combines them; the seed, by combining.
    const view = await ceremonyOf(w, ceremony.id);
    const releases = await fetchReleases(w, ceremony.id);
    const shares = await openReleases(w, spare, view, releases);
    expect(shares).toHaveLength(3);
    const seed = await combine(shares);
    const epoch = findEpoch(w.roster, 'land', 1)!;
    expect(
      Buffer.from(identityFromSeed(seed).publicKey).equals(Buffer.from(quorumKey(epoch).publicKey)),
    ).toBe(true);
    const secrets: [string, Uint8Array][] = [
      ['DEK', dek!],
      ['quorum seed', seed],
      ['station P-256 private key', spare.p256.secretKey],
      ['station X-Wing seed', spare.xwing.seed],
      ...shares.flatMap((s, i): [string, Uint8Array][] => [
        [`share ${i}`, s],
        [`share ${i} value`, s.subarray(0, 32)],
      ]),
    ];
    const check = async (when: string) => {
      const dump = await dumpTables(w.store);
      const raw = decodedTokens(dump);
      if (dialect === 'sqlite') {
        for (const f of ['embassy.sqlite', 'embassy.sqlite-wal']) {
          const p = join(w.dataDir, f);
          if (existsSync(p)) raw.push(readFileSync(p));
        }
      }
      for (const [name, s] of secrets) expect(leaks(dump, raw, s), `${name} ${when}`).toEqual([]);
      // The search can fail: a planted secret is found in every form.
      const planted = `${dump}\n${Buffer.from(dek!).toString('base64url')}`;
      expect(leaks(planted, decodedTokens(planted), dek!)).toContain('base64url');
      expect(leaks('', [Buffer.concat([Buffer.from('xx'), Buffer.from(seed)])], seed)).toEqual(['raw']);
    };
    await check('while the releases are held');

    const out = join(w.dataDir, 'inv1');
    const res = await unlockAndRestore(stationSession(w), ceremony.id, keys, (s) => join(w.archives, s), out);
    expect(readFileSync(join(out, snapshot)).equals(data)).toBe(true);
    expect(res.firstByteMs).toBeGreaterThan(0);
    expect((await ceremonyOf(w, ceremony.id)).state).toBe('done');
    await check('after the ceremony closed');
  });

  it('invariant 3: below threshold the station cannot open', async () => {
    const { ceremony, keys } = await openCeremony(w);
    await approve(ceremony.id, ['custodian-1', 'custodian-3']);
    const v = await ceremonyOf(w, ceremony.id);
    expect(v.state).toBe('open');
    expect(v.verdict.state).toBe('open');
    // The custodian's client keeps the share in the token; the coordinator refuses a forced release.
    await expect(release(custodianSession(w, 'custodian-1', c.now), ceremony.id)).rejects.toBeInstanceOf(
      ReleaseRefused,
    );
    await rejects(tokenRelease(w, 'custodian-1', v), 409, 'wrong_state');
    expect(await fetchReleases(w, ceremony.id)).toEqual([]);

    // Even with two shares in hand (quorum reached, only two released) the station cannot open.
    await approve(ceremony.id, ['custodian-5']);
    const spare = cloneKeys(keys);
    for (const cu of ['custodian-1', 'custodian-3'])
      await release(custodianSession(w, cu, c.now), ceremony.id);
    const two = await fetchReleases(w, ceremony.id);
    expect(two).toHaveLength(2);
    await expect(
      unlockAndRestore(
        stationSession(w),
        ceremony.id,
        cloneKeys(spare),
        (s) => join(w.archives, s),
        join(w.dataDir, 'inv3'),
      ),
    ).rejects.toMatchObject({ code: 'below_threshold' });
    expect(existsSync(join(w.dataDir, 'inv3'))).toBe(false);
    // Lying about the threshold does not help: two shares combine to a key that is not the quorum key.
    const epoch = findEpoch(w.roster, 'land', 1)!;
    const view = await ceremonyOf(w, ceremony.id);
    const releases = await openReleases(w, cloneKeys(spare), view, two);
    const wrong = await combine(releases);
    expect(
      Buffer.from(identityFromSeed(wrong).publicKey).equals(Buffer.from(quorumKey(epoch).publicKey)),
    ).toBe(false);
    const err = await combineReleases({
      keys: cloneKeys(spare),
      domain: 'land',
      epoch: 1,
      ceremony: new Uint8Array(Buffer.from(view.requestHash, 'hex')),
      threshold: 2,
      publicKey: quorumKey(epoch).publicKey,
      releases: two.map((r) => {
        const sh = epoch.shares.find((s) => s.custodian === r.custodian)!;
        return {
          custodian: r.custodian,
          envelope: new Uint8Array(Buffer.from(r.blob, 'base64url')),
          commitment: {
            custodian: r.custodian,
            keyCeremonyId: epoch.keyCeremony,
            salt: new Uint8Array(Buffer.from(sh.salt, 'base64url')),
            commitment: new Uint8Array(Buffer.from(sh.commitment, 'hex')),
          },
        };
      }),
    }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnlockError);
    expect((err as UnlockError).code).toBe('wrong_key');
  });

  it('invariant 7: a replayed approval (same request bytes and headers) is refused with 409 replayed and changes nothing', async () => {
    const { ceremony } = await openCeremony(w);
    const s = custodianSession(w, 'custodian-1', c.now);
    const view = await ceremonyOf(w, ceremony.id);
    const statement = await s.client.statement('unlock-decision', {
      ceremonyId: ceremony.id,
      requestHash: view.requestHash,
      decision: 'approve',
      recipientKeys: recipientKeysOf(view),
      createdAt: c.now().toISOString(),
    });
    const req = await capture(w, 'custodian-1', 'POST', `/v1/ceremonies/${ceremony.id}/decisions`, statement);
    expect((await send(w, req)).status).toBe(201);
    const before = { view: await ceremonyOf(w, ceremony.id), log: (await auditKinds(w)).length };
    for (let i = 0; i < 3; i++) await expectError(await send(w, req), 409, 'replayed');
    const after = { view: await ceremonyOf(w, ceremony.id), log: (await auditKinds(w)).length };
    expect(after.view.decisions).toEqual(before.view.decisions);
    expect(after.log).toBe(before.log);
    // The same signed statement under a fresh request signature is a duplicate, not a second vote.
    await rejects(s.client.post(`/v1/ceremonies/${ceremony.id}/decisions`, statement), 409, 'conflict');
    expect((await ceremonyOf(w, ceremony.id)).decisions).toHaveLength(1);
  });

  it('invariant 7: a forged or wrong-key signature is refused with 401 bad_signature', async () => {
    const { ceremony } = await openCeremony(w);
    const view = await ceremonyOf(w, ceremony.id);
    const s = custodianSession(w, 'custodian-3', c.now);
    const statement = await s.client.statement('unlock-decision', {
      ceremonyId: ceremony.id,
      requestHash: view.requestHash,
      decision: 'approve',
      recipientKeys: recipientKeysOf(view),
      createdAt: c.now().toISOString(),
    });
    const path = `/v1/ceremonies/${ceremony.id}/decisions`;
    const good = await capture(w, 'custodian-3', 'POST', path, statement);
    const tamper = (t: {
      headers?: Record<string, string>;
      body?: string;
      url?: string;
    }): CapturedRequest => ({
      url: t.url ?? good.url,
      init: {
        ...good.init,
        headers: { ...good.init.headers, ...t.headers },
        ...(t.body !== undefined ? { body: t.body } : {}),
      },
    });
    // A flipped signature byte.
    const sig = Buffer.from(good.init.headers['embassy-signature']!, 'base64url');
    sig[5]! ^= 1;
    await expectError(
      await send(w, tamper({ headers: { 'embassy-signature': sig.toString('base64url') } })),
      401,
      'bad_signature',
    );
    // The body changed after signing (approve → veto).
    const vetoBody = JSON.stringify({
      ...statement,
      body: { ...(statement.body as Record<string, unknown>), decision: 'veto', reason: 'x' },
    });
    await expectError(await send(w, tamper({ body: vetoBody })), 401, 'bad_signature');
    // Another path than the one signed.
    const other = await openCeremony(w);
    await expectError(
      await send(
        w,
        tamper({ url: `http://coordinator.invalid/v1/ceremonies/${other.ceremony.id}/decisions` }),
      ),
      401,
      'bad_signature',
    );
    // Another principal's name on custodian-3's signature.
    await expectError(
      await send(w, tamper({ headers: { 'embassy-principal': 'custodian-4' } })),
      401,
      'bad_signature',
    );
    // Signed with a key the roster does not hold for this principal.
    await rejects(
      impostor(w, 'custodian-3', 'custodian/custodian-3').post(path, statement),
      401,
      'bad_signature',
    );
    await rejects(
      impostor(w, 'station-lux', 'station/station-lux').post(`/v1/ceremonies/${ceremony.id}/close`, {}),
      401,
      'bad_signature',
    );
    // A valid request signature carrying a statement whose own signature is forged.
    const forged = { ...statement, sig: Buffer.from(randomBytes(64)).toString('base64url') };
    await rejects(s.client.post(path, forged), 401, 'bad_signature');
    // A statement signed by someone else, posted by custodian-3.
    const c4 = custodianSession(w, 'custodian-4', c.now);
    const theirs = await c4.client.statement('unlock-decision', statement.body);
    await rejects(s.client.post(path, theirs), 403, 'forbidden');
    expect((await ceremonyOf(w, ceremony.id)).decisions).toEqual([]);
    // And the untouched request still works.
    expect((await send(w, good)).status).toBe(201);
  });

  it('invariant 7: an unregistered station is refused', async () => {
    const snap = await w.snapshot('land', Buffer.from('x;y\n'));
    const rogue = impostor(w, 'station-rogue', 'station/station-rogue');
    const st = stationSession(w).client;
    const body = {
      ceremonyId: `cer-${randomBytes(16).toString('hex')}`,
      domain: 'land',
      epoch: 1,
      snapshots: [snap],
      justification: { legalBasis: 'DRILL', caseReference: 'X-1', text: 'rogue' },
      recipientP256: Buffer.alloc(65, 4).toString('base64url'),
      recipientXWing: Buffer.alloc(1216, 7).toString('base64url'),
      createdAt: c.now().toISOString(),
      deadline: new Date(c.now().getTime() + 3600_000).toISOString(),
      nonce: randomBytes(16).toString('hex'),
    };
    await rejects(
      rogue.post('/v1/ceremonies', await rogue.statement('unlock-request', body)),
      401,
      'unauthenticated',
    );
    // A registered principal that is not a station cannot open one either.
    const cu = w.client('custodian-2', w.fetch);
    await rejects(cu.post('/v1/ceremonies', await cu.statement('unlock-request', body)), 403, 'forbidden');
    // Nor can the station sign as a station the roster does not hold.
    await rejects(
      st.post('/v1/ceremonies', {
        ...(await st.statement('unlock-request', body)),
        signer: 'station/station-rogue',
      }),
      403,
      'forbidden',
    );
    expect(
      (
        await w.client('auditor-1', w.fetch).get<{ ceremonies: CeremonyView[] }>('/v1/ceremonies')
      ).ceremonies.map((x) => x.id),
    ).not.toContain(body.ceremonyId);
  });

  it("invariant 7: a share released to ceremony A's recipient is useless to ceremony B", async () => {
    const a = await openCeremony(w);
    const b = await openCeremony(w);
    await approve(a.ceremony.id);
    await approve(b.ceremony.id);
    await release(custodianSession(w, 'custodian-1', c.now), a.ceremony.id);
    const viewA = await ceremonyOf(w, a.ceremony.id);
    const viewB = await ceremonyOf(w, b.ceremony.id);
    const [relA] = await fetchReleases(w, a.ceremony.id);
    // B's keys cannot open A's release, and A's keys cannot pass it off as B's.
    await expect(openReleases(w, cloneKeys(b.keys), viewB, [relA!])).rejects.toThrow();
    await expect(
      openReleases(w, cloneKeys(a.keys), viewA, [relA!], Buffer.from(viewB.requestHash, 'hex')),
    ).rejects.toMatchObject({
      code: 'envelope_mismatch',
    });
    // A custodian who re-posts A's blob as its B release is named by the station, which opens nothing.
    await tokenRelease(w, 'custodian-1', viewB, new Uint8Array(Buffer.from(relA!.blob, 'base64url')));
    for (const cu of ['custodian-3', 'custodian-5'])
      await release(custodianSession(w, cu, c.now), b.ceremony.id);
    const out = join(w.dataDir, 'inv7-ab');
    const err = await unlockAndRestore(
      stationSession(w),
      b.ceremony.id,
      b.keys,
      (s) => join(w.archives, s),
      out,
    ).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(UnlockError);
    expect(err).toMatchObject({ code: 'bad_share', custodian: 'custodian-1' });
    expect(existsSync(join(out, b.snapshot))).toBe(false);
  });

  it('invariant 7: an expired ceremony releases nothing (releases refused, releases deleted on close)', async () => {
    const { ceremony } = await openCeremony(w, { ttlSeconds: 600 });
    await approve(ceremony.id);
    await release(custodianSession(w, 'custodian-1', c.now), ceremony.id);
    expect(await fetchReleases(w, ceremony.id)).toHaveLength(1);
    c.advance(601);
    try {
      expect((await ceremonyOf(w, ceremony.id)).state).toBe('expired');
      await expect(release(custodianSession(w, 'custodian-3', c.now), ceremony.id)).rejects.toBeInstanceOf(
        ReleaseRefused,
      );
      const view = await ceremonyOf(w, ceremony.id);
      await rejects(tokenRelease(w, 'custodian-3', view), 409, 'wrong_state');
      await rejects(fetchReleases(w, ceremony.id), 409, 'wrong_state');
      // The refused release closed the ceremony for good: state recorded, wrapped shares deleted.
      const row = await w.store.db
        .selectFrom('ceremonies')
        .selectAll()
        .where('id', '=', ceremony.id)
        .executeTakeFirstOrThrow();
      expect(row.state).toBe('expired');
      const left = await w.store.db
        .selectFrom('releases')
        .selectAll()
        .where('ceremony_id', '=', ceremony.id)
        .execute();
      expect(left).toEqual([]);
      const close = (await auditKinds(w)).filter(
        (e) => e.kind === 'ceremony-close' && e.data?.ceremonyId === ceremony.id,
      );
      expect(close).toHaveLength(1);
      expect(close[0]!.data).toMatchObject({ outcome: 'expired', releasesDeleted: 1 });
      expect(await w.coordinator.sweep()).toBe(0);
    } finally {
      c.advance(-601);
    }
  });

  it('invariant 7: the expiry sweep closes a ceremony nobody touches and deletes its releases', async () => {
    const { ceremony } = await openCeremony(w, { ttlSeconds: 600 });
    await approve(ceremony.id);
    await release(custodianSession(w, 'custodian-5', c.now), ceremony.id);
    c.advance(601);
    try {
      expect(await w.coordinator.sweep()).toBeGreaterThanOrEqual(1);
      const left = await w.store.db
        .selectFrom('releases')
        .selectAll()
        .where('ceremony_id', '=', ceremony.id)
        .execute();
      expect(left).toEqual([]);
      expect((await ceremonyOf(w, ceremony.id)).state).toBe('expired');
    } finally {
      c.advance(-601);
    }
  });

  it('invariant 7: a vetoed ceremony releases nothing (releases refused, releases deleted on close)', async () => {
    const { ceremony } = await openCeremony(w);
    await approve(ceremony.id);
    await release(custodianSession(w, 'custodian-1', c.now), ceremony.id);
    await decide(custodianSession(w, 'custodian-2', c.now), ceremony.id, 'veto', 'no legal basis for this');
    const v = await ceremonyOf(w, ceremony.id);
    expect(v.state).toBe('vetoed');
    expect(v.releases).toEqual([]);
    await expect(release(custodianSession(w, 'custodian-3', c.now), ceremony.id)).rejects.toBeInstanceOf(
      ReleaseRefused,
    );
    await rejects(tokenRelease(w, 'custodian-3', v), 409, 'wrong_state');
    await rejects(fetchReleases(w, ceremony.id), 409, 'wrong_state');
    await rejects(
      decide(custodianSession(w, 'custodian-4', c.now), ceremony.id, 'approve'),
      409,
      'wrong_state',
    );
    const left = await w.store.db
      .selectFrom('releases')
      .selectAll()
      .where('ceremony_id', '=', ceremony.id)
      .execute();
    expect(left).toEqual([]);
    const close = (await auditKinds(w)).filter(
      (e) => e.kind === 'ceremony-close' && e.data?.ceremonyId === ceremony.id,
    );
    expect(close.map((e) => e.data)).toEqual([
      { ceremonyId: ceremony.id, outcome: 'vetoed', releasesDeleted: 1, vetoedBy: 'custodian-2' },
    ]);
  });
});

function recipientKeysOf(view: CeremonyView): string {
  const body = view.request.body as { recipientP256: string; recipientXWing: string };
  return recipientKeysHash(
    Buffer.from(body.recipientP256, 'base64url'),
    Buffer.from(body.recipientXWing, 'base64url'),
  );
}

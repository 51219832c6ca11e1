/**
 * Helpers for the coordinator's HTTP tests: sessions for custodians and the station, a ceremony
 * opener, capture of exact signed requests (to replay or tamper with them byte for byte), error
 * assertions and a dump of every coordinator table.
 */
import { generateKeyPairSync, sign as nodeSign } from 'node:crypto';
import { expect } from 'vitest';
import { type CeremonyKeys, receiveRelease } from '../../hsm/index.ts';
import { fromBase64Url, toBase64Url } from '../../src/crypto/statement.ts';
import type { CustodianSession } from '../../src/custodian/client.ts';
import { CoordinatorClient, type Fetch } from '../../src/protocol/client.ts';
import { sha256Hex } from '../../src/protocol/request.ts';
import { recipientKeysHash, STATEMENT, type UnlockRequestBody } from '../../src/protocol/statements.ts';
import type { CeremonyView } from '../../src/protocol/views.ts';
import { findEpoch } from '../../src/roster/index.ts';
import type { StationSession } from '../../src/station/client.ts';
import { requestUnlock } from '../../src/station/client.ts';
import type { Store } from '../../src/store/index.ts';
import type { TestWorld } from './world.ts';

export const JUSTIFICATION = {
  legalBasis: 'DRILL',
  caseReference: 'RIA-2026-0099',
  text: 'scheduled recovery drill',
};

export function custodianSession(w: TestWorld, id: string, now?: () => Date): CustodianSession {
  const c = w.custodians.get(id)!;
  return {
    id,
    roster: w.roster,
    client: w.client(id, w.fetch),
    token: c.token,
    journal: c.journal,
    now: now ?? (() => w.coordinator.clock),
  };
}

export function stationSession(w: TestWorld, id = 'station-lux'): StationSession {
  return { id, roster: w.roster, client: w.client(id, w.fetch), now: () => w.coordinator.clock };
}

/** Opens an unlock ceremony for `domain` over one fresh snapshot. */
export async function openCeremony(
  w: TestWorld,
  opts: { domain?: string; data?: Uint8Array; ttlSeconds?: number; station?: string; snapshot?: string } = {},
) {
  const domain = opts.domain ?? 'land';
  const snapshot = opts.snapshot ?? (await w.snapshot(domain, opts.data ?? Buffer.from('a;b;c\n1;2;3\n')));
  const { ceremony, keys } = await requestUnlock(stationSession(w, opts.station), {
    domain,
    epoch: 1,
    snapshots: [snapshot],
    justification: JUSTIFICATION,
    ttlSeconds: opts.ttlSeconds ?? 3600,
  });
  return { ceremony, keys, snapshot };
}

export interface CapturedRequest {
  url: string;
  init: RequestInit & { headers: Record<string, string>; body?: string };
}

/**
 * The exact request a principal's client would send (signed headers and body bytes), without
 * sending it: replay it with {@link send}, or tamper with a copy.
 */
export async function capture(
  w: TestWorld,
  principal: string,
  method: 'GET' | 'POST',
  path: string,
  body?: unknown,
  makeClient: (fetch: Fetch) => CoordinatorClient = (fetch) => w.client(principal, fetch),
): Promise<CapturedRequest> {
  let captured: CapturedRequest | undefined;
  const c = makeClient(async (url, init) => {
    captured = { url, init: init as CapturedRequest['init'] };
    return new Response('{}', { status: 200, headers: { 'content-type': 'application/json' } });
  });
  if (method === 'POST') await c.post(path, body);
  else await c.get(path, true);
  return captured!;
}

export const send = (w: TestWorld, r: CapturedRequest) =>
  w.app.request(r.url, { ...r.init, headers: { ...r.init.headers } });

/** A client that claims to be `principal` but signs with a key the roster does not know. */
export function impostor(
  w: TestWorld,
  principal: string,
  signer: string,
  fetch: Fetch = w.fetch,
): CoordinatorClient {
  const k = generateKeyPairSync('ed25519');
  return new CoordinatorClient({
    baseUrl: 'http://coordinator.invalid',
    principal,
    signer,
    rosterId: w.rosterPin,
    sign: async (p) => new Uint8Array(nodeSign(null, p, k.privateKey)),
    fetch,
  });
}

/** Asserts an error answer: status, `{ error: { code, message } }`, and no stack trace. */
export async function expectError(res: Response, status: number, code?: string) {
  const text = await res.text();
  expect(res.status, text).toBe(status);
  expect(res.headers.get('content-type') ?? '').toMatch(/^application\/json/);
  const body = JSON.parse(text) as { error: { code: string; message: string } };
  expect(Object.keys(body)).toEqual(['error']);
  expect(Object.keys(body.error).sort()).toEqual(['code', 'message']);
  expect(typeof body.error.message).toBe('string');
  if (code) expect(body.error.code, body.error.message).toBe(code);
  expect(text).not.toMatch(/\n\s+at |\.ts:\d+|node_modules|Error:/);
  return body.error;
}

/** Expects a CoordinatorError (thrown by the client) with this status and code. */
export async function rejects(p: Promise<unknown>, status: number, code: string) {
  await expect(p).rejects.toMatchObject({ status, code });
}

export const TABLES = [
  'roster_versions',
  'snapshots',
  'ceremonies',
  'approvals',
  'releases',
  'nonces',
  'log_head',
  'audit_entries',
  'audit_nodes',
  'audit_checkpoints',
  'refused_auth',
  'refused_auth_counters',
] as const;

/** Every row of every coordinator table, as one string (JSON per row). */
export async function dumpTables(store: Store): Promise<string> {
  const parts: string[] = [];
  for (const t of TABLES) {
    const rows = await store.db
      .selectFrom(t as never)
      .selectAll()
      .execute();
    for (const r of rows) parts.push(`${t}: ${JSON.stringify(r)}`);
  }
  return parts.join('\n');
}

export async function ceremonyOf(w: TestWorld, id: string): Promise<CeremonyView> {
  return w.client('auditor-1', w.fetch).get<CeremonyView>(`/v1/ceremonies/${id}`);
}

export async function auditKinds(w: TestWorld): Promise<{ kind: string; data?: Record<string, unknown> }[]> {
  const { entries } = await w
    .client('auditor-1', w.fetch)
    .get<{ entries: { entry: string }[] }>('/v1/audit/entries?from=0&to=100000');
  return entries.map((e) => JSON.parse(e.entry));
}

/** The release a custodian's token makes for a ceremony, posted without the client's own checks. */
export async function tokenRelease(
  w: TestWorld,
  custodianId: string,
  view: CeremonyView,
  blob?: Uint8Array,
): Promise<CeremonyView> {
  const body = view.request.body as UnlockRequestBody;
  const p256 = fromBase64Url(body.recipientP256)!;
  const xwing = fromBase64Url(body.recipientXWing)!;
  const b =
    blob ??
    (await w.custodians.get(custodianId)!.token.releaseShare({
      domain: body.domain,
      epoch: body.epoch,
      ceremony: Buffer.from(view.requestHash, 'hex'),
      custodian: custodianId,
      recipientP256: p256,
      recipientXWing: xwing,
    }));
  const client = w.client(custodianId, w.fetch);
  const statement = await client.statement(STATEMENT.release, {
    ceremonyId: view.id,
    requestHash: view.requestHash,
    recipientKeys: recipientKeysHash(p256, xwing),
    blobHash: sha256Hex(b),
    createdAt: w.coordinator.clock.toISOString(),
  });
  return client.post<CeremonyView>(`/v1/ceremonies/${view.id}/releases`, { statement, blob: toBase64Url(b) });
}

export interface FetchedRelease {
  custodian: string;
  blob: string;
}

export async function fetchReleases(w: TestWorld, id: string, station = 'station-lux') {
  const { releases } = await w
    .client(station, w.fetch)
    .get<{ releases: FetchedRelease[] }>(`/v1/ceremonies/${id}/releases`, true);
  return releases;
}

/** Opens releases with ceremony keys, as a station would before combining: the plaintext shares. */
export async function openReleases(
  w: TestWorld,
  keys: CeremonyKeys,
  view: CeremonyView,
  releases: FetchedRelease[],
  ceremonyDigest = Buffer.from(view.requestHash, 'hex'),
): Promise<Uint8Array[]> {
  const body = view.request.body as UnlockRequestBody;
  const epoch = findEpoch(w.roster, body.domain, body.epoch)!;
  const out: Uint8Array[] = [];
  for (const r of releases) {
    const share = epoch.shares.find((s) => s.custodian === r.custodian)!;
    out.push(
      await receiveRelease(keys, fromBase64Url(r.blob)!, {
        domain: body.domain,
        epoch: body.epoch,
        ceremony: ceremonyDigest,
        custodian: r.custodian,
        commitment: {
          custodian: r.custodian,
          keyCeremonyId: epoch.keyCeremony,
          salt: new Uint8Array(Buffer.from(share.salt, 'base64url')),
          commitment: new Uint8Array(Buffer.from(share.commitment, 'hex')),
        },
      }),
    );
  }
  return out;
}

export const cloneKeys = (k: CeremonyKeys): CeremonyKeys => ({
  p256: { secretKey: k.p256.secretKey.slice(), publicKey: k.p256.publicKey.slice() },
  xwing: { seed: k.xwing.seed.slice(), publicKey: k.xwing.publicKey.slice() },
});

/** A mutable clock for worlds that need to move time. */
export function clock(start = Date.now()) {
  let t = start;
  return {
    now: () => new Date(t),
    advance(seconds: number) {
      t += seconds * 1000;
    },
  };
}

/**
 * Two coordinator processes on one PostgreSQL schema race decisions and releases on the same
 * ceremonies (issue 4 §1): nothing is double-counted, a veto is never skipped, nothing is released
 * twice, and the audit log agrees with the tables. Real child processes, each with its own store.
 */
import { spawn } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { toBase64Url } from '../../src/crypto/statement.ts';
import { decide } from '../../src/custodian/client.ts';
import { sha256Hex } from '../../src/protocol/request.ts';
import { recipientKeysHash, STATEMENT } from '../../src/protocol/statements.ts';
import type { CeremonyView } from '../../src/protocol/views.ts';
import {
  auditKinds,
  type CapturedRequest,
  capture,
  ceremonyOf,
  custodianSession,
  openCeremony,
} from './helpers.ts';
import { type TestWorld, testWorld } from './world.ts';

const CHILD = fileURLToPath(new URL('./race_child.ts', import.meta.url));

interface Tagged extends CapturedRequest {
  tag: string;
}
interface Result {
  tag: string;
  status: number;
  code: string | null;
}

function runChild(args: string[]): { ready: Promise<void>; done: Promise<Result[]> } {
  const p = spawn(process.execPath, ['--import', 'tsx', CHILD, ...args], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let out = '';
  let err = '';
  let onReady: () => void;
  const ready = new Promise<void>((r) => {
    onReady = r;
  });
  p.stdout.on('data', (d: Buffer) => {
    out += d.toString();
    if (out.startsWith('ready\n')) onReady();
  });
  p.stderr.on('data', (d: Buffer) => {
    err += d.toString();
  });
  const done = new Promise<Result[]>((resolve, reject) => {
    p.on('exit', (code) => {
      if (code !== 0) return reject(new Error(`child exited ${code}: ${err}`));
      resolve(JSON.parse(out.split('\n')[1]!) as Result[]);
    });
  });
  return { ready, done };
}

const shuffle = <T>(a: T[]) => {
  for (let i = a.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [a[i], a[j]] = [a[j]!, a[i]!];
  }
  return a;
};

describe('two coordinator processes on one PostgreSQL', () => {
  let w: TestWorld;

  beforeAll(async () => {
    w = await testWorld('postgres', { coolOffSeconds: 0 });
  });
  afterAll(async () => w?.cleanup());

  const decision = async (v: CeremonyView, who: string, kind: 'approve' | 'veto') => {
    const b = v.request.body as { recipientP256: string; recipientXWing: string };
    return w.client(who, w.fetch).statement(STATEMENT.decision, {
      ceremonyId: v.id,
      requestHash: v.requestHash,
      decision: kind,
      recipientKeys: recipientKeysHash(
        Buffer.from(b.recipientP256, 'base64url'),
        Buffer.from(b.recipientXWing, 'base64url'),
      ),
      ...(kind === 'veto' ? { reason: 'stop' } : {}),
      createdAt: new Date().toISOString(),
    });
  };
  const releaseBody = async (v: CeremonyView, who: string) => {
    const b = v.request.body as { recipientP256: string; recipientXWing: string; domain: string };
    const p256 = Buffer.from(b.recipientP256, 'base64url');
    const xwing = Buffer.from(b.recipientXWing, 'base64url');
    const blob = await w.custodians.get(who)!.token.releaseShare({
      domain: b.domain,
      epoch: 1,
      ceremony: Buffer.from(v.requestHash, 'hex'),
      custodian: who,
      recipientP256: p256,
      recipientXWing: xwing,
    });
    const statement = await w.client(who, w.fetch).statement(STATEMENT.release, {
      ceremonyId: v.id,
      requestHash: v.requestHash,
      recipientKeys: recipientKeysHash(p256, xwing),
      blobHash: sha256Hex(blob),
      createdAt: new Date().toISOString(),
    });
    return { statement, blob: toBase64Url(blob) };
  };

  it('racing approvals, releases and a veto never double-count, skip the veto or release twice', async () => {
    // A: five custodians approve, each sent to both processes (distinct nonces; custodian-5's identical bytes).
    const a = (await openCeremony(w)).ceremony;
    // B: releasable; three releases race a veto in both processes.
    const b = (await openCeremony(w)).ceremony;
    // C: releasable; three releases, each sent to both processes.
    const c = (await openCeremony(w)).ceremony;
    for (const id of [b.id, c.id])
      for (const cu of ['custodian-1', 'custodian-3', 'custodian-5'])
        await decide(custodianSession(w, cu), id, 'approve');
    const vb = await ceremonyOf(w, b.id);
    const vc = await ceremonyOf(w, c.id);

    const lists: [Tagged[], Tagged[]] = [[], []];
    const both = async (tag: string, principal: string, path: string, body: unknown) => {
      for (const l of lists) l.push({ tag, ...(await capture(w, principal, 'POST', path, body)) });
    };
    for (const cu of ['custodian-1', 'custodian-2', 'custodian-3', 'custodian-4'])
      await both(`A:approve:${cu}`, cu, `/v1/ceremonies/${a.id}/decisions`, await decision(a, cu, 'approve'));
    const same = await capture(
      w,
      'custodian-5',
      'POST',
      `/v1/ceremonies/${a.id}/decisions`,
      await decision(a, 'custodian-5', 'approve'),
    );
    for (const l of lists) l.push({ tag: 'A:approve:custodian-5', ...same });
    for (const cu of ['custodian-1', 'custodian-3', 'custodian-5']) {
      await both(`B:release:${cu}`, cu, `/v1/ceremonies/${b.id}/releases`, await releaseBody(vb, cu));
      await both(`C:release:${cu}`, cu, `/v1/ceremonies/${c.id}/releases`, await releaseBody(vc, cu));
    }
    await both(
      'B:veto:custodian-2',
      'custodian-2',
      `/v1/ceremonies/${b.id}/decisions`,
      await decision(vb, 'custodian-2', 'veto'),
    );

    const go = join(w.dataDir, 'go');
    const children = lists.map((l, i) => {
      const f = join(w.dataDir, `requests-${i}.json`);
      writeFileSync(f, JSON.stringify(shuffle(l)));
      return runChild([w.schema!, w.rosterPin, f, go]);
    });
    await Promise.all(children.map((ch) => ch.ready));
    writeFileSync(go, '');
    const results = (await Promise.all(children.map((ch) => ch.done))).flat();
    expect(results).toHaveLength(lists[0].length * 2);
    const by = (tag: string) => results.filter((r) => r.tag === tag);
    for (const r of results) expect([201, 409], JSON.stringify(r)).toContain(r.status);

    // A: every approval counted exactly once, one quorum.
    for (const cu of ['custodian-1', 'custodian-2', 'custodian-3', 'custodian-4', 'custodian-5']) {
      const rs = by(`A:approve:${cu}`);
      expect(
        rs.filter((r) => r.status === 201),
        cu,
      ).toHaveLength(1);
      expect(rs.filter((r) => r.status === 409).map((r) => r.code)).toEqual([
        cu === 'custodian-5' ? 'replayed' : 'conflict',
      ]);
    }
    const va = await ceremonyOf(w, a.id);
    expect(va.decisions).toHaveLength(5);
    expect(va.state).toBe('quorum');

    // B: the veto landed exactly once and closed it; no release survives it.
    expect(by('B:veto:custodian-2').filter((r) => r.status === 201)).toHaveLength(1);
    const vb2 = await ceremonyOf(w, b.id);
    expect(vb2.state).toBe('vetoed');
    expect(vb2.releases).toEqual([]);
    const left = await w.store.db
      .selectFrom('releases')
      .selectAll()
      .where('ceremony_id', '=', b.id)
      .execute();
    expect(left).toEqual([]);
    for (const cu of ['custodian-1', 'custodian-3', 'custodian-5']) {
      const rs = by(`B:release:${cu}`);
      expect(rs.filter((r) => r.status === 201).length, cu).toBeLessThanOrEqual(1);
      for (const r of rs.filter((x) => x.status === 409))
        expect(['conflict', 'wrong_state']).toContain(r.code);
    }

    // C: each custodian released exactly once.
    const vc2 = await ceremonyOf(w, c.id);
    expect(vc2.releases.map((r) => r.custodian).sort()).toEqual([
      'custodian-1',
      'custodian-3',
      'custodian-5',
    ]);
    for (const cu of ['custodian-1', 'custodian-3', 'custodian-5'])
      expect(
        by(`C:release:${cu}`).filter((r) => r.status === 201),
        cu,
      ).toHaveLength(1);

    // The audit log agrees with the tables.
    const log = await auditKinds(w);
    const of = (id: string) =>
      log.filter(
        (e) =>
          e.data?.ceremonyId === id ||
          (e as { statement?: { body?: { ceremonyId?: string } } }).statement?.body?.ceremonyId === id,
      );
    const kindsA = of(a.id).map((e) => e.kind);
    expect(kindsA.filter((k) => k === 'approval')).toHaveLength(5);
    expect(kindsA.filter((k) => k === 'quorum')).toHaveLength(1);
    const kindsB = of(b.id).map((e) => e.kind);
    expect(kindsB.filter((k) => k === 'veto')).toHaveLength(1);
    expect(kindsB.filter((k) => k === 'ceremony-close')).toHaveLength(1);
    expect(kindsB.lastIndexOf('release')).toBeLessThan(kindsB.indexOf('ceremony-close'));
    const closeB = of(b.id).find((e) => e.kind === 'ceremony-close')!;
    expect(closeB.data?.releasesDeleted).toBe(kindsB.filter((k) => k === 'release').length);
    expect(of(c.id).filter((e) => e.kind === 'release')).toHaveLength(3);
  });
});
